"""The accounts' application: users, scanner devices and every login, on a record of their own.

Their events live in a store apart from the custody store: they carry credentials' hashes,
which no export or observer should see. Sessions and the lockout count are working state in
`Sessions`; a login reads and writes both.
"""

import hmac
import ipaddress
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.utils import get_topic

from events.accounts import (
    AccessEvent,
    DeviceIssued,
    DeviceRevoked,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    Role,
    SubscriptionAdded,
    SubscriptionEnded,
    UserChanged,
    UserCreated,
)
from services import bahasa
from services.accounts.roles import (
    CAPABILITIES,
    ROLE_NAMES,
    AssignmentRefused,
    Device,
    Known,
    LoginRefused,
    SubscriptionNotYours,
    UnknownDeviceError,
    UnknownSubscriptionError,
    UnknownUserError,
    User,
    UserExistsError,
    check_assignment,
    check_password,
    check_role,
    check_scope,
    check_username,
    device_from,
    device_id,
    device_of_token,
    outside_scope,
    subscription_id,
    token_hash,
    user_from,
    user_id,
)
from services.accounts.sessions import LOCK_WINDOW, Session, Sessions
from services.notices.rules import Subscription, check_subscription
from services.notices.subscriptions import subscription_of, subscriptions_from
from services.settings import Settings
from services.store.application import StoreApplication
from services.store.notifications import ACCOUNTS, sqlite_file
from services.views.database import PostgresViews, SqliteViews
from services.wilayah import within

MAX_FAILURES = 5  # failed logins of a name from one address within `LOCK_WINDOW` lock it there
MAX_ADDRESS_FAILURES = 20  # failed logins from one address within `LOCK_WINDOW` lock the address
UNDER_ATTACK = 20  # failed logins of a name from anywhere within `LOCK_WINDOW`: it is attacked,
ATTACKED_NAME_PAUSE = timedelta(seconds=2)  # and its password is checked at most this often
NAME_LOCKS = 64  # a name's login takes one of these, and its address one of as many more
HASHING_AT_ONCE = 2
MAX_SUBSCRIPTIONS = 20  # active subscriptions an account may have


def counted_address(address: str) -> str:
    """The address a login counts against: an IPv4 address itself, an IPv6 address its /64 (one
    household or device gets a whole /64, so its addresses are one client)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "testclient", or a name a proxy gave
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


class Accounts(StoreApplication):
    """Accounts, devices and logins, on the record; `sessions` beside them."""

    name = "Accounts"

    def __init__(
        self,
        env: Mapping[str, str],
        sessions: Sessions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHasher | None = None,
    ):
        super().__init__(env)
        self.sessions = sessions
        self.clock = clock
        self.hasher = hasher or password_hasher()
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        # A login takes its name's lock, so the name's count of failures and the failure it adds
        # stay together; logins of other names go on meanwhile. A few hash at a time, however
        # many attempts arrive at once, so argon2's memory stays bounded.
        self._stripes = [threading.Lock() for _ in range(NAME_LOCKS)]
        self._address_stripes = [threading.Lock() for _ in range(NAME_LOCKS)]
        self._hashing = threading.BoundedSemaphore(HASHING_AT_ONCE)
        self.changes = 0  # what this process has recorded: a cache of principals starts again

    def close(self) -> None:
        super().close()
        self.sessions.close()

    def append(self, *new_events: Any) -> None:
        super().append(*new_events)
        self.changes += 1

    # Users

    def user(self, username: str) -> User | None:
        return user_from(self.stream_of(user_id(username)))

    def users(self) -> list[User]:
        created = self.recorder.select_notifications(1, 1_000_000, topics=[get_topic(UserCreated)])
        found = (self.user(self.mapper.to_domain_event(n).username) for n in created)
        return sorted((u for u in found if u is not None), key=lambda u: u.username)

    def create_user(
        self,
        username: str,
        name: str,
        role: Role,
        scope: str,
        password: str,
        by: str = "",
        known: Known | None = None,
    ) -> User:
        """A new account; `known` says which scopes the master data has (unchecked without)."""
        username = check_username(username)
        role = check_role(role)
        scope = check_scope(scope)
        check_assignment(role, scope, known)
        check_password(password)
        if self.user(username) is not None:
            raise UserExistsError(username)
        event = UserCreated(
            originator_id=user_id(username),
            originator_version=1,
            recorded_at=self.clock(),
            by=by,
            username=username,
            name=name.strip() or username,
            role=role,
            scope=scope,
            password_hash=self._hash(password),
        )
        self.append(event)
        return user_from([event])  # type: ignore[return-value]

    def change_user(
        self,
        username: str,
        role: Role,
        scope: str,
        active: bool,
        by: str,
        known: Known | None = None,
    ) -> User:
        user = self._existing(username)
        role = check_role(role)
        scope = check_scope(scope)
        check_assignment(role, scope, known)
        self.append(
            UserChanged(
                originator_id=user_id(username),
                originator_version=user.version + 1,
                recorded_at=self.clock(),
                by=by,
                username=username,
                role=role,
                scope=scope,
                active=active,
            )
        )
        if not active:
            self.sessions.end_all_of(username)
        return self._existing(username)

    def set_password(self, username: str, password: str, by: str) -> None:
        user = self._existing(username)
        check_password(password)
        self.append(
            PasswordChanged(
                originator_id=user_id(username),
                originator_version=user.version + 1,
                recorded_at=self.clock(),
                by=by,
                username=username,
                password_hash=self._hash(password),
            )
        )
        self.sessions.end_all_of(username)

    def _existing(self, username: str) -> User:
        user = self.user(username)
        if user is None:
            raise UnknownUserError(username)
        return user

    # Logins and sessions

    def login(self, username: str, password: str, address: str) -> tuple[str, Session]:
        """A new session's token and the session, or LoginRefused; either way, on the record
        (except from an address locked for its failures, or for a name under attack tried too
        soon again: one client cannot flood the record)."""
        username, address = username.strip().lower()[:64], counted_address(address)
        # A name's and an address's counts are read and their failure written under their
        # locks (the address's first, always): logins sent at once from one address cannot all
        # pass its check before any failure is written. Within this process; see the README.
        with (
            self._address_stripes[hash(address) % NAME_LOCKS],
            self._stripes[hash(username) % NAME_LOCKS],
        ):
            return self._login_now(username, password, address)

    def _login_now(self, username: str, password: str, address: str) -> tuple[str, Session]:
        now = self.clock()
        minutes = int(LOCK_WINDOW.total_seconds() // 60)
        if self.sessions.failures(now, address=address) >= MAX_ADDRESS_FAILURES:
            raise LoginRefused(bahasa.ADDRESS_LOCKED.format(minutes=minutes), locked=True)
        if self.sessions.failures(now, username=username, address=address) >= MAX_FAILURES:
            self._failed(username, address, "locked", now)
            raise LoginRefused(bahasa.NAME_LOCKED.format(minutes=minutes), locked=True)
        if (
            self.sessions.failures(now, username=username) >= UNDER_ATTACK
            and self.sessions.failures(now, username=username, address=address) > 0
        ):  # under attack, and this address has failed for it: one try at a time
            last = self.sessions.last_failure(username)
            if last is not None and now - last < ATTACKED_NAME_PAUSE:
                raise LoginRefused(bahasa.NAME_UNDER_ATTACK, locked=True)
        user = self.user(username)
        if user is None:
            self._verify(self._dummy_hash, password)  # the same time as a known name takes
            self._failed(username, address, "unknown_user", now)
            raise LoginRefused(bahasa.WRONG_LOGIN)
        if not self._verify(user.password_hash, password):
            self._failed(username, address, "wrong_password", now)
            raise LoginRefused(bahasa.WRONG_LOGIN)
        if not user.active:
            self._failed(username, address, "inactive", now)
            raise LoginRefused(bahasa.ACCOUNT_INACTIVE)
        self.append(
            LoginSucceeded(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=now,
                by=username,
                username=username,
                address=address,
            )
        )
        return self.sessions.start(username, address, now)

    def names_under_attack(self) -> list[tuple[str, int, int]]:
        """(name, failed logins, addresses) of each name tried and failed at least
        `UNDER_ATTACK` times within the lock window: what `/akses` warns of."""
        return self.sessions.names_failing(self.clock(), UNDER_ATTACK)

    def _hash(self, password: str) -> str:
        with self._hashing:  # a new password costs what a check costs
            return self.hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            with self._hashing:  # argon2's 19 MiB, spent by a few at a time
                return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _failed(self, username: str, address: str, reason: Any, now: datetime) -> None:
        self.append(
            LoginFailed(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=now,
                username=username,
                address=address,
                reason=reason,
            )
        )
        self.sessions.failed(username, address, now, counts_for_name=reason != "locked")

    def session(self, token: str) -> Session | None:
        """The live session of a cookie's token; None if there is none or it has expired."""
        session = self.sessions.get(token)
        if session is not None and session.expires_at <= self.clock():
            self.logout(token, expired=True)
            return None
        return session

    def logout(self, token: str, expired: bool = False) -> None:
        for username in self.sessions.end(token):
            self.append(
                LoggedOut(
                    originator_id=uuid4(),
                    originator_version=1,
                    recorded_at=self.clock(),
                    by=username,
                    username=username,
                    expired=expired,
                )
            )

    # Devices

    def device(self, device: str) -> Device | None:
        return device_from(self.stream_of(device_id(device)))

    def devices(self) -> list[Device]:
        issued = self.recorder.select_notifications(1, 1_000_000, topics=[get_topic(DeviceIssued)])
        found = (self.device(self.mapper.to_domain_event(n).device) for n in issued)
        return sorted((d for d in found if d is not None), key=lambda d: d.issued_at)

    def issue_device(
        self,
        name: str,
        username: str,
        scope: str,
        by: str,
        known: Known | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[Device, str]:
        """A new device for a user, within the user's scope; its token, shown only now. A
        token may say when it stops working (`expires_at`)."""
        user = self._existing(username)
        scope = check_scope(scope) or user.scope
        if scope and known is not None and not known(scope):
            raise AssignmentRefused(bahasa.UNKNOWN_SCOPE.format(scope=scope))
        if not within(user.scope, scope):
            raise AssignmentRefused(
                bahasa.DEVICE_OUTSIDE_USER.format(
                    scope=scope, username=username, user_scope=user.scope
                )
            )
        name = name.strip()[:80] or "perangkat"
        device = secrets.token_hex(4)
        token = f"{device}.{secrets.token_urlsafe(32)}"
        event = DeviceIssued(
            originator_id=device_id(device),
            originator_version=1,
            recorded_at=self.clock(),
            by=by,
            device=device,
            name=name,
            username=username,
            scope=scope,
            token_hash=token_hash(token),
            expires_at=expires_at,
        )
        self.append(event)
        return device_from([event]), token  # type: ignore[return-value]

    def revoke_device(self, device: str, by: str, reason: str = "") -> Device:
        found = self.device(device)
        if found is None:
            raise UnknownDeviceError(device)
        if not found.revoked:
            self.append(
                DeviceRevoked(
                    originator_id=device_id(device),
                    originator_version=found.version + 1,
                    recorded_at=self.clock(),
                    by=by,
                    device=device,
                    reason=reason.strip()[:200],
                )
            )
        return self.device(device)  # type: ignore[return-value]

    def device_for_token(self, token: str) -> Device | None:
        """The live device a token belongs to (not revoked, not expired), or None."""
        device = self.device(device_of_token(token))
        if device is None or device.revoked:
            return None
        if device.expires_at is not None and device.expires_at <= self.clock():
            return None
        if not hmac.compare_digest(device.token_hash, token_hash(token)):
            return None
        return device

    # Subscriptions to notices

    def subscriptions(self, username: str | None = None) -> list[Subscription]:
        """Everyone's subscriptions (or one account's), ended ones too, oldest first."""
        added = self.recorder.select_notifications(
            1, 1_000_000, topics=[get_topic(SubscriptionAdded)]
        )
        found = []
        for notification in added:
            event = self.mapper.to_domain_event(notification)
            if username is None or event.username == username:
                found += self.stream_of(event.originator_id)
        return subscriptions_from(found)

    def subscribe(
        self,
        username: str,
        kinds: list[str],
        area: str,
        channel: str,
        target: str,
        by: str,
        known: Known | None = None,
    ) -> tuple[Subscription, str]:
        """A new subscription of an account, in its scope; a webhook's signing key, shown only
        now (else "")."""
        user = self._existing(username)
        wanted = check_subscription(kinds, channel, target)
        if channel == "webhook" and "audit" not in CAPABILITIES[user.role]:
            # the server POSTs wherever a webhook points: only those who audit may aim it
            raise AssignmentRefused(bahasa.WEBHOOK_ROLES.format(role=ROLE_NAMES[user.role]))
        area = check_scope(area) if area.strip() else user.scope
        if area and known is not None and not known(area):
            raise AssignmentRefused(bahasa.UNKNOWN_SCOPE.format(scope=area))
        refusal = outside_scope(user.scope, area)
        if refusal is not None:
            raise AssignmentRefused(refusal)
        if sum(s.active for s in self.subscriptions(username)) >= MAX_SUBSCRIPTIONS:
            raise AssignmentRefused(bahasa.SUBSCRIPTION_TOO_MANY.format(most=MAX_SUBSCRIPTIONS))
        number = secrets.token_hex(4)
        secret = "whsec_" + secrets.token_urlsafe(24) if channel == "webhook" else ""
        event = SubscriptionAdded(
            originator_id=subscription_id(number),
            originator_version=1,
            recorded_at=self.clock(),
            by=by,
            subscription=number,
            username=username,
            kinds=wanted,
            area=area,
            channel=channel,  # type: ignore[arg-type]  (checked above)
            target=target.strip() if channel != "halaman" else "",  # the page needs none
            secret=secret,
        )
        self.append(event)
        return subscription_of(event), secret

    def end_subscription(self, number: str, by: str, admin: bool = False) -> Subscription:
        """End a subscription: its own account's act, or an admin's."""
        events = self.stream_of(subscription_id(number))
        if not events:
            raise UnknownSubscriptionError(number)
        [found] = subscriptions_from(events)
        if found.username != by and not admin:
            raise SubscriptionNotYours(number)
        if found.active:
            self.append(
                SubscriptionEnded(
                    originator_id=subscription_id(number),
                    originator_version=len(events) + 1,
                    recorded_at=self.clock(),
                    by=by,
                    subscription=number,
                )
            )
        return msgspec.structs.replace(found, active=False)

    # The record

    def access_log(self, limit: int = 200) -> list[AccessEvent]:
        """The latest access events, newest first."""
        last = self.recorder.max_notification_id() or 0
        start = max(1, last - limit + 1)
        notifications = self.recorder.select_notifications(start, limit)
        return [self.mapper.to_domain_event(n) for n in reversed(notifications)]


def password_hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended minimum (19 MiB, two passes, one lane): a login costs
    tens of milliseconds on a small server instead of the library default's third of a second,
    and a stolen hash still costs an attacker 19 MiB a guess."""
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def accounts_store(store: Mapping[str, str]) -> dict[str, str]:
    """The accounts' event store beside the custody store: its own SQLite file, or its own
    `accounts_events` table in the same PostgreSQL database."""
    if "SQLITE_DBNAME" in store:
        return {**store, "SQLITE_DBNAME": str(sqlite_file(store, ACCOUNTS))}
    return dict(store)


def open_accounts(settings: Settings) -> Accounts:
    """The accounts of the settings' store, with their sessions in the same database."""
    store = accounts_store(settings.store)
    if settings.postgres:
        return Accounts(store, Sessions(PostgresViews(settings.postgres_conninfo, max_size=4)))
    return Accounts(store, Sessions(SqliteViews(Path(store["SQLITE_DBNAME"]))))
