"""The access log on a signed ledger of its own: logins, failed logins, logouts, accounts and
devices, so `/akses` holds against whoever controls the database as the custody log does.

The accounts' events carry credentials' hashes and are not relayed through NATS, so the ledger
process reads their store itself, every `POLL_SECONDS`, and hashes each event's public bytes:
its stored JSON with `password_hash` and `token_hash` each replaced by its SHA-256, keys sorted.
An auditor checks the log without ever being given a credential's hash, and a credential swapped
in the store is found like any other change. Its checkpoints are signed by the ledger's key under
the origin `<ledger origin>/akses` and published beside the custody ledger's (`ACCESS_SUBJECT`
on the `LACAK_LEDGER` stream); witnesses cosign the custody ledger only.
"""

import asyncio
import hashlib
import logging
from collections.abc import Iterator

import msgspec

from services.messaging.nats import RateLimitedLog, sleep_or_stop
from services.settings import Settings
from services.store.notifications import ACCOUNTS, read_store
from services.views.ledger import LedgerView

log = logging.getLogger(__name__)

CREDENTIALS = ("password_hash", "token_hash", "secret")  # a webhook's HMAC key too
ORIGIN_SUFFIX = "/akses"
POLL_SECONDS = 1.0
READ_AT_ONCE = 1000


def public_bytes(state: bytes) -> bytes:
    """An access event's stored JSON with each credential's hash replaced by its SHA-256, keys
    sorted: a password or a device token swapped in the store changes the leaf, and the log
    still gives nobody the argon2 hash or the token's own hash."""
    event = msgspec.json.decode(state)
    for key in CREDENTIALS:
        if isinstance(event.get(key), str):
            event[key] = "sha256:" + hashlib.sha256(event[key].encode()).hexdigest()
    return msgspec.json.encode(event, order="sorted")


def read_access(
    settings: Settings, upto: int | None = None, after: int = 0
) -> Iterator[tuple[int, bytes]]:
    """(notification id, public bytes) of the accounts' store, in order."""
    for position, state in read_store(settings, upto=upto, app=ACCOUNTS, after=after):
        yield position, public_bytes(state)


def access_origin(settings: Settings) -> str:
    return settings.ledger_origin + ORIGIN_SUFFIX


def take_new(settings: Settings, ledger: LedgerView) -> int:
    """Hash the access events recorded since the ledger's last, a thousand per transaction;
    how many there were."""
    taken = 0
    while True:
        after = ledger.position()
        fresh = []
        for row in read_access(settings, after=after):
            fresh.append(row)
            if len(fresh) == READ_AT_ONCE:
                break
        if not fresh:
            return taken
        ledger.apply(fresh, fresh[-1][0])
        taken += len(fresh)


async def follow_accounts(settings: Settings, ledger: LedgerView, stop: asyncio.Event) -> None:
    """Keep the access ledger up with the accounts' store until `stop`; its clock (in
    `services.processes`) signs and publishes. A store that does not answer is said once a
    half-minute and tried again."""
    quiet = RateLimitedLog()
    while True:
        try:
            await asyncio.to_thread(take_new, settings, ledger)
        except Exception as error:  # the store away: the next round reads again
            quiet.warning("access ledger: %s", error or type(error).__name__)
        if await sleep_or_stop(stop, POLL_SECONDS):
            return
