"""Sessions and the count of recent failed logins: working state beside the accounts' events,
not events themselves (losing it only means logging in again), kept in a database of its own."""

import secrets
from datetime import datetime, timedelta

import msgspec

from services.accounts.roles import token_hash
from services.views.database import ViewDatabase

SESSION_LIFETIME = timedelta(hours=12)
LOCK_WINDOW = timedelta(minutes=15)  # failed logins count this long

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS lacak_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS lacak_name_failures (
        username TEXT NOT NULL,
        address TEXT NOT NULL,
        failed_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS lacak_name_failures_by_name ON lacak_name_failures "
    "(username, failed_at)",
    """CREATE TABLE IF NOT EXISTS lacak_address_failures (
        address TEXT NOT NULL,
        failed_at TEXT NOT NULL)""",
)


class Session(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    csrf: str  # the token every form and htmx request of this session sends back
    expires_at: datetime


class Sessions:
    """Live sessions, kept by the SHA-256 of their token; failed logins by name and address."""

    def __init__(self, db: ViewDatabase):
        self.db = db
        db.create(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def start(self, username: str, address: str, now: datetime) -> tuple[str, Session]:
        """A new session's token (the cookie) and the session; the name's failures from this
        address are cleared (not those from elsewhere: they show an attack) and what has run out
        is swept away."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(username=username, csrf=csrf, expires_at=now + SESSION_LIFETIME)
        with self.db.transaction() as cursor:
            cursor.execute(
                "DELETE FROM lacak_name_failures WHERE username = ? AND address = ?",
                (username, address),
            )
            for table in ("lacak_name_failures", "lacak_address_failures"):
                cursor.execute(
                    f"DELETE FROM {table} WHERE failed_at < ?", ((now - LOCK_WINDOW).isoformat(),)
                )
            cursor.execute("DELETE FROM lacak_sessions WHERE expires_at < ?", (now.isoformat(),))
            cursor.execute(
                "INSERT INTO lacak_sessions (token_hash, username, csrf, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    token_hash(token),
                    username,
                    csrf,
                    now.isoformat(),
                    session.expires_at.isoformat(),
                ),
            )
        return token, session

    def get(self, token: str) -> Session | None:
        """The session of a cookie's token, expired or not; None if there is none."""
        rows = self.db.query(
            "SELECT username, csrf, expires_at FROM lacak_sessions WHERE token_hash = ?",
            (token_hash(token),),
        )
        if not rows:
            return None
        username, csrf, expires_at = rows[0]
        return Session(username=username, csrf=csrf, expires_at=datetime.fromisoformat(expires_at))

    def end(self, token: str) -> list[str]:
        """End the session of a token; the username it belonged to, if it was live."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "DELETE FROM lacak_sessions WHERE token_hash = ? RETURNING username",
                (token_hash(token),),
            )
            return [username for (username,) in cursor.fetchall()]

    def end_all_of(self, username: str) -> None:
        with self.db.transaction() as cursor:
            cursor.execute("DELETE FROM lacak_sessions WHERE username = ?", (username,))

    def failed(self, username: str, address: str, now: datetime, counts_for_name: bool) -> None:
        """A failed login from `address`; it counts against the name unless the name was
        already locked there (a locked name's attempts do not prolong its lock)."""
        with self.db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO lacak_address_failures (address, failed_at) VALUES (?, ?)",
                (address, now.isoformat()),
            )
            if counts_for_name:
                cursor.execute(
                    "INSERT INTO lacak_name_failures (username, address, failed_at) "
                    "VALUES (?, ?, ?)",
                    (username, address, now.isoformat()),
                )

    def failures(
        self, now: datetime, username: str | None = None, address: str | None = None
    ) -> int:
        """Failed logins within the window: of a name (from any address, or from `address`), or
        from an address (of any name)."""
        since = (now - LOCK_WINDOW).isoformat()
        if username is None:
            [(n,)] = self.db.query(
                "SELECT count(*) FROM lacak_address_failures WHERE address = ? AND failed_at > ?",
                (address, since),
            )
            return n
        sql = "SELECT count(*) FROM lacak_name_failures WHERE username = ? AND failed_at > ?"
        params: list[str] = [username, since]
        if address is not None:
            sql += " AND address = ?"
            params.append(address)
        [(n,)] = self.db.query(sql, params)
        return n

    def last_failure(self, username: str) -> datetime | None:
        [(last,)] = self.db.query(
            "SELECT MAX(failed_at) FROM lacak_name_failures WHERE username = ?", (username,)
        )
        return datetime.fromisoformat(last) if last else None

    def names_failing(self, now: datetime, at_least: int) -> list[tuple[str, int, int]]:
        """(name, failed logins, addresses they came from) of each name with at least that many
        failures within the window, most first."""
        rows = self.db.query(
            "SELECT username, count(*), count(DISTINCT address) FROM lacak_name_failures "
            "WHERE failed_at > ? GROUP BY username HAVING count(*) >= ? ORDER BY 2 DESC, 1",
            ((now - LOCK_WINDOW).isoformat(), at_least),
        )
        return [(name, n, addresses) for name, n, addresses in rows]
