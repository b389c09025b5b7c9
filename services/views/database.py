"""The database that holds the views: a SQLite file (embedded) or PostgreSQL (production)."""

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from psycopg_pool import ConnectionPool

from services.settings import Settings

SETUP_LOCK = 0x4C4143414B  # "LACAK"
IN_CHUNK = 500  # values an `IN (...)` takes at once: well under any database's parameter limit


def chunked_in(values: Iterable[str]) -> Iterator[tuple[str, list[str]]]:
    """The values, sorted, as (`?, ?, ...`, the values) for one `IN (...)` query each."""
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        yield ", ".join("?" * len(chunk)), chunk


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class ViewDatabase(Protocol):
    def transaction(self) -> Any:
        """A context manager giving a cursor; commits on exit, rolls back on error."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

    def create(self, statements: Sequence[str]) -> None:
        """Create tables; safe while another process creates the same ones."""

    def setup_transaction(self) -> Any:
        """`transaction`, in turn with every other that changes tables' shapes."""

    def close(self) -> None: ...


WAL_ATTEMPTS = 100


def wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode. On a new file, processes starting together (web, projections)
    race to convert it, and SQLite answers the loser "database is locked" at once, without its
    busy timeout: try again a little later."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.05)


class SqliteViews:
    """One connection per thread on a WAL file: readers never block the projector."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[tuple[sqlite3.Connection, threading.Lock]] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")
            wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.in_use = threading.Lock()
            with self._lock:
                self._all.append((conn, self._local.in_use))
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        conn = self._connection()
        cursor = conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._connection()
        # A query left running in a worker thread when the app stops (its awaiting task was
        # cancelled, the thread was not) must end before `close()` closes its connection:
        # sqlite3 closing a connection another thread is reading crashes the process.
        with self._local.in_use:
            return conn.execute(sql, params).fetchall()

    def create(self, statements: Sequence[str]) -> None:
        with self.transaction() as cursor:  # BEGIN IMMEDIATE already serialises writers
            for statement in statements:
                cursor.execute(statement)

    def setup_transaction(self) -> Any:
        """A transaction that changes tables' shapes: BEGIN IMMEDIATE serialises them."""
        return self.transaction()

    def close(self) -> None:
        with self._lock:
            for conn, in_use in self._all:
                with in_use:
                    conn.close()
            self._all.clear()


class _PostgresCursor:
    """Lets the views write one SQL dialect: `?` placeholders become psycopg's `%s`."""

    def __init__(self, cursor: Any):
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def fetchone(self) -> Any:
        return self._cursor.fetchone()


class PostgresViews:
    def __init__(self, conninfo: str, max_size: int = 8):
        # Each connection is checked as it is lent: one terminated by the server (a restart, an
        # operator's sweep) is replaced, not handed to a request that would fail on it.
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            open=True,
            check=ConnectionPool.check_connection,
        )

    @contextmanager
    def transaction(self) -> Iterator[_PostgresCursor]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PostgresCursor(cursor)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._pool.connection() as conn:
            return conn.execute(sql.replace("?", "%s"), params).fetchall()

    def create(self, statements: Sequence[str]) -> None:
        # Concurrent CREATE ... IF NOT EXISTS can fail in PostgreSQL: take turns.
        with self.setup_transaction() as cursor:
            for statement in statements:
                cursor.execute(statement)

    @contextmanager
    def setup_transaction(self) -> Iterator[_PostgresCursor]:
        """A transaction that changes tables' shapes, taking its turn with every other (web
        replicas and projectors starting at once would deadlock on the catalog otherwise)."""
        with self.transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            yield cursor

    def close(self) -> None:
        self._pool.close()


def open_views(settings: Settings) -> ViewDatabase:
    if settings.postgres:
        return PostgresViews(settings.postgres_conninfo)
    return SqliteViews(settings.views_db)


def beside_the_store(settings: Settings) -> ViewDatabase:
    """The database of what is kept beside the event store, not in it (evidence photos,
    citizens' contacts): the store's own SQLite file, or its PostgreSQL database. Unlike the
    views, it is not rebuilt from events: every web replica finds the same rows."""
    if settings.postgres:
        return PostgresViews(settings.postgres_conninfo, max_size=2)
    return SqliteViews(Path(settings.store["SQLITE_DBNAME"]))
