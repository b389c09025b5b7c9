"""Who may do what: accounts, roles, location scopes, scanner devices and sessions.

The decisions are pure: what a role may do (`CAPABILITIES`), where a scope reaches (`within`),
whether an officer may scan at a place (`scan_refusal`). The `Accounts` application records
accounts, devices and every login as events in a store of its own (their credentials' hashes
stay out of the custody store, its exports and its observers). Sessions and the count of recent
failed logins are working state in the same database, not events: losing them only means
logging in again.
"""

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent
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
    UserChanged,
    UserCreated,
    decode_access,
    encode_access,
)
from services.batches import NullTranscoder, retry_setup
from services.board import Level, areas_of, level_of
from services.domain import DomainError
from services.settings import Settings
from services.viewdb import PostgresViews, SqliteViews, ViewDatabase

Capability = Literal["view", "scan", "handle", "correct", "audit", "admin"]
ROLES: tuple[Role, ...] = ("admin", "gudang", "ppk", "pps", "kpps", "monitor", "auditor", "bawaslu")
ROLE_NAMES: dict[Role, str] = {
    "admin": "Admin",
    "gudang": "Petugas gudang",
    "ppk": "PPK",
    "pps": "PPS",
    "kpps": "KPPS",
    "monitor": "Monitor KPU",
    "auditor": "Auditor",
    "bawaslu": "Pengawas Bawaslu",
}
# view: the board, queues, timelines and logs of their scope; scan: record custody changes;
# handle: acknowledge and resolve anomalies; correct: void and correct scans, withdraw batches;
# audit: verify the ledger, exports; admin: accounts and devices.
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    "admin": frozenset(("view", "scan", "handle", "correct", "audit", "admin")),
    "gudang": frozenset(("view", "scan")),
    "ppk": frozenset(("view", "scan")),
    "pps": frozenset(("view", "scan")),
    "kpps": frozenset(("view", "scan")),
    "monitor": frozenset(("view", "handle", "correct", "audit")),
    "auditor": frozenset(("view", "audit")),
    "bawaslu": frozenset(("view", "audit")),
}
CAPABILITY_NAMES: dict[Capability, str] = {
    "view": "melihat papan",
    "scan": "memindai",
    "handle": "menangani anomali",
    "correct": "membatalkan atau mengoreksi pindai",
    "audit": "mengaudit dan mengekspor",
    "admin": "mengelola akun dan perangkat",
}
# Where each officer scans: the gudang of the kabupaten, a PPK, a PPS, a TPS. Admins anywhere.
SCAN_LEVEL: dict[Role, Level] = {"gudang": "kabupaten", "ppk": "kecamatan", "pps": "desa",
                                 "kpps": "tps"}  # fmt: skip

SCOPE_PATTERN = re.compile(r"^(|\d{2}|\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?|\d{13})$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,39}$")
MIN_PASSWORD = 10
SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 5  # failed logins of one username within `LOCK_WINDOW` lock it for that long
MAX_ADDRESS_FAILURES = 20  # failed logins from one address within `LOCK_WINDOW` lock the address
LOCK_WINDOW = timedelta(minutes=15)
NAMESPACE = uuid5(NAMESPACE_URL, "https://lacak.example/accounts")


class AccessError(DomainError):
    """Refused: the account, device or input is not allowed (a 400, or 403/409 as the web says)."""


class LoginRefused(AccessError):
    def __init__(self, message: str, locked: bool = False):
        super().__init__(message)
        self.locked = locked


class UserExistsError(AccessError):
    def __init__(self, username: str):
        super().__init__(f"Nama pengguna {username!r} sudah dipakai.")


class UnknownUserError(AccessError):
    def __init__(self, username: str):
        super().__init__(f"Tidak ada pengguna {username!r}.")


class UnknownDeviceError(AccessError):
    def __init__(self, device: str):
        super().__init__(f"Tidak ada perangkat {device!r}.")


# --- Scopes ----------------------------------------------------------------------------------


def ancestry(code: str) -> tuple[str, ...]:
    """Every area a wilayah or TPS code lies in, itself included, from its province down:
    `36.04.05` -> (`36`, `36.04`, `36.04.05`); a TPS adds its desa's line and itself."""
    if "." not in code and len(code) == 13:
        return (code[:2], *areas_of(code))
    parts = code.split(".")
    return tuple(".".join(parts[: n + 1]) for n in range(len(parts)))


def within(scope: str, code: str) -> bool:
    """Does `scope` ("" national, a province, kabupaten, kecamatan, desa or TPS) reach `code`?"""
    return not scope or scope in ancestry(code)


def level_of_code(code: str) -> Level | Literal["provinsi"]:
    """The board's `level_of`, and a province's two digits (a scope) as a level of its own."""
    return "provinsi" if "." not in code and len(code) != 13 else level_of(code)


def scan_refusal(role: Role, scope: str, location: str) -> str | None:
    """Why an officer may not scan at `location`, or None: inside their scope, and at the level
    their role works at (the gudang, a PPK, a PPS, a TPS)."""
    if "scan" not in CAPABILITIES[role]:
        return f"Peran {ROLE_NAMES[role]} tidak boleh memindai."
    if not within(scope, location):
        return f"Lokasi {location} di luar wilayah tugas Anda ({scope})."
    level = SCAN_LEVEL.get(role)
    if level is not None and level_of_code(location) != level:
        return f"{ROLE_NAMES[role]} memindai di tingkat {level}, bukan di {location}."
    return None


def check_scope(scope: str) -> str:
    scope = scope.strip()
    if not SCOPE_PATTERN.match(scope):
        raise AccessError(
            f"Wilayah {scope!r} tidak sah: kosong (nasional), kode provinsi (36), kabupaten "
            "(36.04), kecamatan (36.04.05), desa (36.04.05.2001) atau TPS (13 angka)."
        )
    return scope


# --- State, folded from events -----------------------------------------------------------------


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


def user_from(events: Iterable[AccessEvent]) -> User | None:
    user: User | None = None
    for event in events:
        match event:
            case UserCreated():
                user = User(username=event.username, name=event.name, role=event.role,
                            scope=event.scope, password_hash=event.password_hash,
                            version=event.originator_version)  # fmt: skip
            case UserChanged() if user is not None:
                user = msgspec.structs.replace(user, role=event.role, scope=event.scope,
                                               active=event.active,
                                               version=event.originator_version)  # fmt: skip
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
                device = Device(device=event.device, name=event.name, username=event.username,
                                scope=event.scope, token_hash=event.token_hash,
                                issued_at=event.recorded_at, issued_by=event.by,
                                version=event.originator_version)  # fmt: skip
            case DeviceRevoked() if device is not None:
                device = msgspec.structs.replace(
                    device, revoked=True, version=event.originator_version
                )
    return device


def user_id(username: str) -> UUID:
    return uuid5(NAMESPACE, f"user:{username}")


def device_id(device: str) -> UUID:
    return uuid5(NAMESPACE, f"device:{device}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_of_token(token: str) -> str:
    """A device token is `<device>.<secret>`: the device is found without a search."""
    return token.partition(".")[0]


# --- The application ---------------------------------------------------------------------------


class AccessMapper(Mapper[UUID]):
    """Stores an access event as the bytes of its codec, keyed by its class topic."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(type(domain_event)),
            state=encode_access(domain_event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode_access(stored_event.state)


SESSION_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS lacak_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS lacak_login_failures (
        username TEXT NOT NULL,
        failed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS lacak_address_failures (
        address TEXT NOT NULL,
        failed_at TEXT NOT NULL)""",
)


class Session(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    csrf: str  # the token every form and htmx request of this session sends back
    expires_at: datetime


class Accounts(Application[UUID]):
    """Accounts, devices and logins, on the record; sessions beside them."""

    name = "Accounts"
    env = {  # noqa: RUF012 (the library reads this class attribute)
        "MAPPER_TOPIC": get_topic(AccessMapper),
        "TRANSCODER_TOPIC": get_topic(NullTranscoder),
    }

    def __init__(
        self,
        env: Mapping[str, str],
        sessions: ViewDatabase,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        hasher: PasswordHasher | None = None,
    ):
        retry_setup(lambda: super(Accounts, self).__init__(dict(env)))
        self.sessions = sessions
        self.clock = clock
        self.hasher = hasher or password_hasher()
        sessions.create(SESSION_SCHEMA)
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        # One login at a time in a process: a count of failures and the failure it adds stay
        # together, and argon2's 19 MiB is spent once, however many attempts arrive at once.
        self._login = threading.Lock()

    def close(self) -> None:
        super().close()
        self.sessions.close()

    def _record(self, *events: AccessEvent) -> None:
        self.recorder.insert_events([self.mapper.to_stored_event(e) for e in events])

    def _events(self, originator: UUID) -> list[AccessEvent]:
        return [self.mapper.to_domain_event(s) for s in self.recorder.select_events(originator)]

    # Users

    def user(self, username: str) -> User | None:
        return user_from(self._events(user_id(username)))

    def users(self) -> list[User]:
        created = self.recorder.select_notifications(1, 1_000_000, topics=[get_topic(UserCreated)])
        found = (self.user(decode_access(n.state).username) for n in created)
        return sorted((u for u in found if u is not None), key=lambda u: u.username)

    def create_user(
        self, username: str, name: str, role: Role, scope: str, password: str, by: str = ""
    ) -> User:
        username = username.strip().lower()
        if not USERNAME_PATTERN.match(username):
            raise AccessError(
                "Nama pengguna: 3-40 huruf kecil, angka, titik, garis bawah atau tanda hubung."
            )
        if role not in ROLES:
            raise AccessError(f"Peran {role!r} tidak dikenal.")
        check_password(password)
        if self.user(username) is not None:
            raise UserExistsError(username)
        event = UserCreated(originator_id=user_id(username), originator_version=1,
                            recorded_at=self.clock(), by=by, username=username,
                            name=name.strip() or username, role=role, scope=check_scope(scope),
                            password_hash=self.hasher.hash(password))  # fmt: skip
        self._record(event)
        return user_from([event])  # type: ignore[return-value]

    def change_user(self, username: str, role: Role, scope: str, active: bool, by: str) -> User:
        user = self._existing(username)
        if role not in ROLES:
            raise AccessError(f"Peran {role!r} tidak dikenal.")
        self._record(UserChanged(originator_id=user_id(username),
                                 originator_version=user.version + 1, recorded_at=self.clock(),
                                 by=by, username=username, role=role, scope=check_scope(scope),
                                 active=active))  # fmt: skip
        if not active:
            self.end_sessions_of(username)
        return self._existing(username)

    def set_password(self, username: str, password: str, by: str) -> None:
        user = self._existing(username)
        check_password(password)
        self._record(PasswordChanged(originator_id=user_id(username),
                                     originator_version=user.version + 1,
                                     recorded_at=self.clock(), by=by, username=username,
                                     password_hash=self.hasher.hash(password)))  # fmt: skip
        self.end_sessions_of(username)

    def _existing(self, username: str) -> User:
        user = self.user(username)
        if user is None:
            raise UnknownUserError(username)
        return user

    # Logins and sessions

    def login(self, username: str, password: str, address: str) -> tuple[str, Session]:
        """A new session's token and the session, or LoginRefused; either way, on the record
        (except from an address locked for its failures: one client cannot flood the record)."""
        with self._login:
            return self._login_now(username.strip().lower()[:64], password, address)

    def _login_now(self, username: str, password: str, address: str) -> tuple[str, Session]:
        now = self.clock()
        if self.recent_failures(username, now, address=address) >= MAX_ADDRESS_FAILURES:
            raise LoginRefused(
                "Terlalu banyak percobaan gagal dari alamat ini. Coba lagi dalam "
                f"{int(LOCK_WINDOW.total_seconds() // 60)} menit.",
                locked=True,
            )
        if self.recent_failures(username, now) >= MAX_FAILURES:
            self._failed(username, address, "locked", now)
            raise LoginRefused(
                f"Terlalu banyak percobaan gagal. Coba lagi dalam "
                f"{int(LOCK_WINDOW.total_seconds() // 60)} menit.",
                locked=True,
            )
        user = self.user(username)
        if user is None:
            self._verify(self._dummy_hash, password)  # the same time as a known name takes
            self._failed(username, address, "unknown_user", now)
            raise LoginRefused("Nama pengguna atau kata sandi salah.")
        if not self._verify(user.password_hash, password):
            self._failed(username, address, "wrong_password", now)
            raise LoginRefused("Nama pengguna atau kata sandi salah.")
        if not user.active:
            self._failed(username, address, "inactive", now)
            raise LoginRefused("Akun ini dinonaktifkan. Hubungi admin.")
        self._record(LoginSucceeded(originator_id=uuid4(), originator_version=1, recorded_at=now,
                                    by=username, username=username, address=address))  # fmt: skip
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(username=username, csrf=csrf, expires_at=now + SESSION_LIFETIME)
        with self.sessions.transaction() as cursor:
            cursor.execute("DELETE FROM lacak_login_failures WHERE username = ?", (username,))
            cursor.execute(
                "DELETE FROM lacak_address_failures WHERE failed_at < ?",
                ((now - LOCK_WINDOW).isoformat(),),
            )
            cursor.execute("DELETE FROM lacak_sessions WHERE expires_at < ?", (now.isoformat(),))
            cursor.execute(
                "INSERT INTO lacak_sessions (token_hash, username, csrf, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_hash(token), username, csrf, now.isoformat(),
                 session.expires_at.isoformat()),
            )  # fmt: skip
        return token, session

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _failed(self, username: str, address: str, reason: Any, now: datetime) -> None:
        self._record(LoginFailed(originator_id=uuid4(), originator_version=1, recorded_at=now,
                                 username=username, address=address, reason=reason))  # fmt: skip
        with self.sessions.transaction() as cursor:
            cursor.execute(
                "INSERT INTO lacak_address_failures (address, failed_at) VALUES (?, ?)",
                (address, now.isoformat()),
            )
            if reason != "locked":
                cursor.execute(
                    "INSERT INTO lacak_login_failures (username, failed_at) VALUES (?, ?)",
                    (username, now.isoformat()),
                )

    def recent_failures(self, username: str, now: datetime, address: str | None = None) -> int:
        """Failed logins of the username (or, given one, from the address) within the window."""
        since = (now - LOCK_WINDOW).isoformat()
        if address is not None:
            [(n,)] = self.sessions.query(
                "SELECT count(*) FROM lacak_address_failures WHERE address = ? AND failed_at > ?",
                (address, since),
            )
            return n
        [(n,)] = self.sessions.query(
            "SELECT count(*) FROM lacak_login_failures WHERE username = ? AND failed_at > ?",
            (username, since),
        )
        return n

    def session(self, token: str) -> Session | None:
        """The live session of a cookie's token; None if there is none or it has expired."""
        rows = self.sessions.query(
            "SELECT username, csrf, expires_at FROM lacak_sessions WHERE token_hash = ?",
            (token_hash(token),),
        )
        if not rows:
            return None
        username, csrf, expires_at = rows[0]
        session = Session(
            username=username, csrf=csrf, expires_at=datetime.fromisoformat(expires_at)
        )
        if session.expires_at <= self.clock():
            self.logout(token, expired=True)
            return None
        return session

    def logout(self, token: str, expired: bool = False) -> None:
        with self.sessions.transaction() as cursor:
            cursor.execute(
                "DELETE FROM lacak_sessions WHERE token_hash = ? RETURNING username",
                (token_hash(token),),
            )
            ended = cursor.fetchall()
        for (username,) in ended:
            self._record(LoggedOut(originator_id=uuid4(), originator_version=1,
                                   recorded_at=self.clock(), by=username, username=username,
                                   expired=expired))  # fmt: skip

    def end_sessions_of(self, username: str) -> None:
        with self.sessions.transaction() as cursor:
            cursor.execute("DELETE FROM lacak_sessions WHERE username = ?", (username,))

    # Devices

    def device(self, device: str) -> Device | None:
        return device_from(self._events(device_id(device)))

    def devices(self) -> list[Device]:
        issued = self.recorder.select_notifications(1, 1_000_000, topics=[get_topic(DeviceIssued)])
        found = (self.device(decode_access(n.state).device) for n in issued)
        return sorted((d for d in found if d is not None), key=lambda d: d.issued_at)

    def issue_device(self, name: str, username: str, scope: str, by: str) -> tuple[Device, str]:
        """A new device for a user, within the user's scope; its token, shown only now."""
        user = self._existing(username)
        scope = check_scope(scope) or user.scope
        if not within(user.scope, scope):
            raise AccessError(
                f"Wilayah perangkat {scope} di luar wilayah {username} ({user.scope})."
            )
        name = name.strip()[:80] or "perangkat"
        device = secrets.token_hex(4)
        token = f"{device}.{secrets.token_urlsafe(32)}"
        event = DeviceIssued(originator_id=device_id(device), originator_version=1,
                             recorded_at=self.clock(), by=by, device=device, name=name,
                             username=username, scope=scope,
                             token_hash=token_hash(token))  # fmt: skip
        self._record(event)
        return device_from([event]), token  # type: ignore[return-value]

    def revoke_device(self, device: str, by: str, reason: str = "") -> Device:
        found = self.device(device)
        if found is None:
            raise UnknownDeviceError(device)
        if not found.revoked:
            self._record(DeviceRevoked(originator_id=device_id(device),
                                       originator_version=found.version + 1,
                                       recorded_at=self.clock(), by=by, device=device,
                                       reason=reason.strip()[:200]))  # fmt: skip
        return self.device(device)  # type: ignore[return-value]

    def device_for_token(self, token: str) -> Device | None:
        """The live (not revoked) device a token belongs to, or None."""
        device = self.device(device_of_token(token))
        if device is None or device.revoked:
            return None
        if not hmac.compare_digest(device.token_hash, token_hash(token)):
            return None
        return device

    # The record

    def access_log(self, limit: int = 200) -> list[AccessEvent]:
        """The latest access events, newest first."""
        last = self.recorder.max_notification_id() or 0
        start = max(1, last - limit + 1)
        notifications = self.recorder.select_notifications(start, limit)
        return [decode_access(n.state) for n in reversed(notifications)]


def password_hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended minimum (19 MiB, two passes, one lane): a login costs
    tens of milliseconds on a small server instead of the library default's third of a second,
    and a stolen hash still costs an attacker 19 MiB a guess."""
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"Kata sandi paling sedikit {MIN_PASSWORD} karakter.")
    if len(password) > 256:
        raise AccessError("Kata sandi terlalu panjang (paling banyak 256 karakter).")


def accounts_store(store: Mapping[str, str]) -> dict[str, str]:
    """The accounts' event store beside the custody store: its own SQLite file, or its own
    `accounts_events` table in the same PostgreSQL database."""
    if "SQLITE_DBNAME" in store:
        path = Path(store["SQLITE_DBNAME"]).with_name("accounts.sqlite")
        return {**store, "SQLITE_DBNAME": str(path)}
    return dict(store)


def open_accounts(settings: Settings) -> Accounts:
    """The accounts of the settings' store, with their sessions in the same database."""
    store = accounts_store(settings.store)
    if settings.postgres:
        return Accounts(store, PostgresViews(settings.postgres_conninfo, max_size=4))
    return Accounts(store, SqliteViews(Path(store["SQLITE_DBNAME"])))
