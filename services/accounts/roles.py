"""Who may do what, decided purely: a role's capabilities, where a scope reaches, whether an
officer may scan at a place, and the account and device states folded from their events."""

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from events.accounts import (
    AccessEvent,
    DeviceIssued,
    DeviceRevoked,
    PasswordChanged,
    Role,
    UserChanged,
    UserCreated,
)
from services import bahasa
from services.errors import DomainError
from services.wilayah import LEVELS, Level, level_of, within

Capability = Literal["view", "scan", "stock", "supervise", "handle", "correct", "audit", "admin"]
ROLES: tuple[Role, ...] = ("admin", "gudang", "ppk", "pps", "kpps", "monitor", "auditor", "bawaslu")
ROLE_NAMES: dict[Role, str] = bahasa.ROLE_NAMES  # type: ignore[assignment]
# view: the board, queues, timelines and logs of their scope; scan: record custody changes;
# stock: record the gudang's work before packing (deliveries, sortir-lipat, destruction);
# supervise: file Bawaslu's findings and citizens' reports, and close them once answered;
# handle: acknowledge and resolve anomalies; correct: void and correct scans, withdraw batches;
# audit: verify the ledger, exports; admin: accounts and devices.
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    "admin": frozenset(
        ("view", "scan", "stock", "supervise", "handle", "correct", "audit", "admin")
    ),
    "gudang": frozenset(("view", "scan", "stock")),
    "ppk": frozenset(("view", "scan")),
    "pps": frozenset(("view", "scan")),
    "kpps": frozenset(("view", "scan")),
    "monitor": frozenset(("view", "handle", "correct", "audit")),
    "auditor": frozenset(("view", "audit")),
    "bawaslu": frozenset(("view", "supervise", "audit")),
}
CAPABILITY_NAMES: dict[Capability, str] = bahasa.CAPABILITY_NAMES  # type: ignore[assignment]
# Where each officer scans: the gudang of the kabupaten, a PPK, a PPS, a TPS. Admins anywhere.
SCAN_LEVEL: dict[Role, Level] = {
    "gudang": "kabupaten",
    "ppk": "kecamatan",
    "pps": "desa",
    "kpps": "tps",
}

SCOPE_PATTERN = re.compile(r"^(|\d{2}|\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?|\d{13})$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MAX_DEVICE_DAYS = 3650  # a scanner's token works at most this long, if it is to end at all
MIN_PASSWORD = 10
MAX_PASSWORD = 256
NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.example/accounts")


class AccessError(DomainError):
    """Refused: the account, device or input is not allowed (a 400, or 403/409 as the web says)."""


class LoginRefused(AccessError):
    def __init__(self, message: str, locked: bool = False):
        super().__init__(message)
        self.locked = locked


class AssignmentRefused(AccessError):
    """A role given a scope it cannot work in, or a place the master data does not know."""


class UserExistsError(AccessError):
    def __init__(self, username: str):
        super().__init__(bahasa.USER_EXISTS.format(username=username))


class UnknownUserError(AccessError):
    def __init__(self, username: str):
        super().__init__(bahasa.UNKNOWN_USER.format(username=username))


class UnknownDeviceError(AccessError):
    def __init__(self, device: str):
        super().__init__(bahasa.UNKNOWN_DEVICE.format(device=device))


class UnknownSubscriptionError(AccessError):
    def __init__(self, number: str):
        super().__init__(bahasa.SUBSCRIPTION_UNKNOWN.format(subscription=number))


class SubscriptionNotYours(AccessError):
    def __init__(self, number: str):
        super().__init__(bahasa.SUBSCRIPTION_NOT_YOURS.format(subscription=number))


def scan_refusal(role: Role, scope: str, location: str) -> str | None:
    """Why an officer may not scan at `location`, or None: inside their scope, and at the level
    their role works at (the gudang, a PPK, a PPS, a TPS)."""
    if "scan" not in CAPABILITIES[role]:
        return bahasa.ROLE_MAY_NOT.format(
            role=ROLE_NAMES[role], capability=CAPABILITY_NAMES["scan"]
        )
    refusal = outside_scope(scope, location)
    if refusal is not None:
        return refusal
    level = SCAN_LEVEL.get(role)
    if level is not None and level_of(location) != level:
        return bahasa.WRONG_SCAN_LEVEL.format(
            role=ROLE_NAMES[role], level=bahasa.LEVEL_NAMES[level], location=location
        )
    return None


def outside_scope(scope: str, location: str) -> str | None:
    """Why `location` is out of a scope's reach, or None."""
    if within(scope, location):
        return None
    return bahasa.OUTSIDE_SCOPE.format(location=location, scope=scope)


Known = Callable[[str], bool]  # is this wilayah code in the master data?


def assignment_refusal(role: Role, scope: str, known: Known | None = None) -> str | None:
    """Why an account of `role` may not be given `scope`, or None. An officer works at one
    level (the gudang, a PPK, a PPS, a TPS): their scope must name a place of that level or an
    area above it, never the nation; and a scope must be a place the master data knows."""
    level = SCAN_LEVEL.get(role)
    if level is not None:
        if not scope:
            return bahasa.OFFICER_NEEDS_SCOPE.format(
                role=ROLE_NAMES[role], level=bahasa.LEVEL_NAMES[level]
            )
        if LEVELS.index(level_of(scope)) > LEVELS.index(level):
            return bahasa.SCOPE_BELOW_LEVEL.format(
                role=ROLE_NAMES[role], level=bahasa.LEVEL_NAMES[level], scope=scope
            )
    if scope and known is not None and not known(scope):
        return bahasa.UNKNOWN_SCOPE.format(scope=scope)
    return None


def check_assignment(role: Role, scope: str, known: Known | None = None) -> None:
    refusal = assignment_refusal(role, scope, known)
    if refusal is not None:
        raise AssignmentRefused(refusal)


def device_days(typed: str) -> int | None:
    """How many days a token is to work, as typed (empty: until revoked), or AccessError."""
    typed = typed.strip()
    if not typed:
        return None
    if not (typed.isascii() and typed.isdigit()) or not 1 <= int(typed) <= MAX_DEVICE_DAYS:
        raise AccessError(bahasa.BAD_DEVICE_DAYS.format(most=MAX_DEVICE_DAYS))
    return int(typed)


def check_scope(scope: str) -> str:
    scope = scope.strip()
    if not SCOPE_PATTERN.match(scope):
        raise AccessError(bahasa.BAD_SCOPE.format(scope=scope))
    return scope


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise AccessError(bahasa.UNKNOWN_ROLE.format(role=role))
    return role  # type: ignore[return-value]


def check_username(username: str) -> str:
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccessError(bahasa.BAD_USERNAME)
    return username


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccessError(bahasa.PASSWORD_TOO_SHORT.format(length=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise AccessError(bahasa.PASSWORD_TOO_LONG)


class User(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    name: str
    role: Role
    scope: str
    active: bool = True
    password_hash: str = ""
    version: int = 0

    def may(self, capability: Capability) -> bool:
        return self.active and capability in CAPABILITIES[self.role]


class Device(msgspec.Struct, frozen=True, kw_only=True):
    device: str
    name: str
    username: str
    scope: str
    token_hash: str
    issued_at: datetime
    issued_by: str
    revoked: bool = False
    version: int = 0
    expires_at: datetime | None = None  # the token stops working then (None: when revoked)


def user_from(events: Iterable[AccessEvent]) -> User | None:
    user: User | None = None
    for event in events:
        match event:
            case UserCreated():
                user = User(
                    username=event.username,
                    name=event.name,
                    role=event.role,
                    scope=event.scope,
                    password_hash=event.password_hash,
                    version=event.originator_version,
                )
            case UserChanged() if user is not None:
                user = msgspec.structs.replace(
                    user,
                    role=event.role,
                    scope=event.scope,
                    active=event.active,
                    version=event.originator_version,
                )
            case PasswordChanged() if user is not None:
                user = msgspec.structs.replace(
                    user, password_hash=event.password_hash, version=event.originator_version
                )
    return user


def device_from(events: Iterable[AccessEvent]) -> Device | None:
    device: Device | None = None
    for event in events:
        match event:
            case DeviceIssued():
                device = Device(
                    device=event.device,
                    name=event.name,
                    username=event.username,
                    scope=event.scope,
                    token_hash=event.token_hash,
                    issued_at=event.recorded_at,
                    issued_by=event.by,
                    expires_at=event.expires_at,
                    version=event.originator_version,
                )
            case DeviceRevoked() if device is not None:
                device = msgspec.structs.replace(
                    device, revoked=True, version=event.originator_version
                )
    return device


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE, f"user:{username}")


def device_id(device: str) -> UUID:
    return uuid5(NAMESPACE, f"device:{device}")


def subscription_id(number: str) -> UUID:
    return uuid5(NAMESPACE, f"subscription:{number}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_of_token(token: str) -> str:
    """A device token is `<device>.<secret>`: the device is found without a search."""
    return token.partition(".")[0]
