"""Events of who may do what: accounts, scanner devices, and every login, failed or not.

They live in their own event store (the `Accounts` application), apart from the custody events:
they carry credentials' hashes, which no export or observer should see. Auditors read them,
without the hashes, on the access log. Module path and class names are stored as topics: never
rename, add a new class instead.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

Role = Literal["admin", "gudang", "ppk", "pps", "kpps", "monitor", "auditor", "bawaslu"]
LoginFailure = Literal["unknown_user", "wrong_password", "inactive", "locked"]


class AccountEvent(msgspec.Struct, frozen=True, tag=True, kw_only=True):
    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    by: str = ""  # the username who did it; "" for the command line on the server


class UserCreated(AccountEvent, frozen=True, kw_only=True):
    username: str
    name: str
    role: Role
    scope: str  # wilayah code the user acts in: "" national, "36" a province, "36.04" ...
    password_hash: str  # argon2id, never shown


class UserChanged(AccountEvent, frozen=True, kw_only=True):
    """An admin's change of role, scope or whether the account may log in."""

    username: str
    role: Role
    scope: str
    active: bool


class PasswordChanged(AccountEvent, frozen=True, kw_only=True):
    username: str
    password_hash: str


class DeviceIssued(AccountEvent, frozen=True, kw_only=True):
    """A scanner's API token, bound to a user and a scope (within the user's)."""

    device: str  # short id, printed on the device's sticker
    name: str
    username: str
    scope: str
    token_hash: str  # SHA-256 of the token, hex; the token itself is shown once
    expires_at: datetime | None = None  # the token stops working then; None: until revoked


class DeviceRevoked(AccountEvent, frozen=True, kw_only=True):
    device: str
    reason: str = ""


class LoginSucceeded(AccountEvent, frozen=True, kw_only=True):
    username: str
    address: str  # the client's IP address


class LoginFailed(AccountEvent, frozen=True, kw_only=True):
    username: str  # as typed
    address: str
    reason: LoginFailure


class LoggedOut(AccountEvent, frozen=True, kw_only=True):
    username: str
    expired: bool = False  # the session ran out rather than the user leaving


# What a subscription asks to hear of: a new anomaly, one open longer than an hour, a finding
# filed, KPU's acknowledgement or answer to one, its closing, one past its due time, a gudang
# receipt that differs from its delivery note.
NoticeKind = Literal[
    "anomali",
    "anomali_lama",
    "temuan",
    "temuan_dijawab",
    "temuan_ditutup",
    "temuan_lewat",
    "selisih_gudang",
]
Channel = Literal["halaman", "webhook", "email"]  # the notices page, a signed POST, an e-mail


class SubscriptionAdded(AccountEvent, frozen=True, kw_only=True):
    """A person asks for notices of some kinds in an area (within their scope), on a channel."""

    subscription: str  # short id
    username: str
    kinds: list[NoticeKind]
    area: str  # wilayah code; "" the whole country
    channel: Channel
    target: str = ""  # the webhook's URL or the e-mail address; "" for the notices page
    secret: str = ""  # the webhook's HMAC key, shown once; never on the access log


class SubscriptionEnded(AccountEvent, frozen=True, kw_only=True):
    subscription: str


AccessEvent = (
    UserCreated
    | UserChanged
    | PasswordChanged
    | DeviceIssued
    | DeviceRevoked
    | LoginSucceeded
    | LoginFailed
    | LoggedOut
    | SubscriptionAdded
    | SubscriptionEnded
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AccessEvent)


def encode_access(event: AccessEvent) -> bytes:
    return _encoder.encode(event)


def decode_access(data: bytes) -> AccessEvent:
    return _decoder.decode(data)
