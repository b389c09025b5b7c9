"""A store's notification log read straight from its table: the fastest way through millions of
rows, and what an auditor with a copy of the database would do. The relay reads it through the
library (`NotificationLog`), in order, without opening the application."""

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path
from uuid import UUID

import psycopg
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.utils import Environment

from services.settings import Settings
from services.store.application import retry_setup
from services.store.mapper import MAPPER_ENV, MsgspecMapper

CUSTODY = "Batches"  # the custody store's application name: table `batches_events`, ids `Batches:n`
ACCOUNTS = "Accounts"  # the accounts' store: table `accounts_events`, or its own SQLite file
MAX_POSITION = 2**63 - 1  # a notification id: a signed 64-bit integer in SQLite and PostgreSQL


class NotificationLog:
    """An application's notification log and mapper, opened without the application."""

    def __init__(self, store: Mapping[str, str], app_name: str = CUSTODY):
        self.factory = InfrastructureFactory.construct(
            Environment(app_name, {**MAPPER_ENV, **store})
        )
        self.recorder: ApplicationRecorder = retry_setup(self.factory.application_recorder)
        self.mapper = self.factory.mapper()
        assert isinstance(self.mapper, MsgspecMapper)

    def close(self) -> None:
        self.factory.close()


def sqlite_file(store: Mapping[str, str], app: str = CUSTODY) -> Path:
    """The SQLite file of an application's store: the accounts' lies beside the custody one."""
    path = Path(store["SQLITE_DBNAME"])
    return path if app == CUSTODY else path.with_name(f"{app.lower()}.sqlite")


def read_store(
    settings: Settings,
    batch: int = 5000,
    upto: int | None = None,
    app: str = CUSTODY,
    after: int = 0,
    module: str = "",
) -> Iterator[tuple[int, bytes]]:
    """(notification id, stored bytes) of the custody store (or `app`'s) in order (PostgreSQL
    sends `batch` rows at a time); only after position `after` and up to `upto`, if given, and
    only events of the classes of `module` (`events.findings`), if given: the database skips
    the rest by their topic, never read nor decoded here."""
    last = MAX_POSITION if upto is None else upto
    kinds, topics = (" AND topic LIKE {}", [f"{module}:%"]) if module else ("", [])
    if settings.postgres:
        with psycopg.connect(settings.postgres_conninfo) as connection:
            if app != CUSTODY and not has_table(connection, f"{app.lower()}_events"):
                return  # no account made yet
            with connection.cursor(name="store_read") as cursor:
                cursor.itersize = batch
                cursor.execute(
                    f"SELECT notification_id, state FROM {app.lower()}_events "
                    f"WHERE notification_id > %s AND notification_id <= %s"
                    f"{kinds.format('%s')} ORDER BY 1",
                    (after, last, *topics),
                )
                for position, state in cursor:
                    yield position, bytes(state)
        return
    path = sqlite_file(settings.store, app)
    if not path.exists():  # the accounts' store before its first account
        return
    # A generator left unfinished is closed wherever it is collected: any thread may close it.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        # Row by row: as fast as fetchmany of a thousand here, and faster than of five thousand.
        yield from connection.execute(
            "SELECT rowid, CAST(state AS BLOB) FROM stored_events "
            f"WHERE rowid > ? AND rowid <= ?{kinds.format('?')} ORDER BY rowid",
            (after, last, *topics),
        )
    finally:
        connection.close()


def stored_at(settings: Settings, position: int) -> list[tuple[int, bytes]]:
    """The event at one notification id, as stored: one row, or none."""
    return stored_where(settings, ("notification_id = %s", position), ("rowid = ?", position))


def stored_of(settings: Settings, originator_id: UUID) -> list[tuple[int, bytes]]:
    """(notification id, stored bytes) of one aggregate's events, oldest first."""
    # eventsourcing keeps a UUID as its 32 hex digits in SQLite
    return stored_where(
        settings,
        ("originator_id = %s ORDER BY originator_version", originator_id),
        ("originator_id = ? ORDER BY originator_version", originator_id.hex),
    )


def stored_where(
    settings: Settings, postgres: tuple[str, object], sqlite: tuple[str, object]
) -> list[tuple[int, bytes]]:
    """(notification id, stored bytes) of the rows a condition picks: (SQL, its one value)
    for each store."""
    if settings.postgres:
        with psycopg.connect(settings.postgres_conninfo) as connection:
            rows = connection.execute(
                "SELECT notification_id, state FROM batches_events WHERE " + postgres[0],
                (postgres[1],),
            ).fetchall()
    else:
        path = Path(settings.store["SQLITE_DBNAME"])
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            rows = connection.execute(
                "SELECT rowid, CAST(state AS BLOB) FROM stored_events WHERE " + sqlite[0],
                (sqlite[1],),
            ).fetchall()
    return [(position, bytes(state)) for position, state in rows]


def count_store(settings: Settings, app: str = CUSTODY) -> int:
    """How many events the custody store (or `app`'s) holds (for a progress bar)."""
    return store_figure(settings, app, "count(*)", "count(*)")


def last_stored(settings: Settings, app: str = CUSTODY) -> int:
    """The last notification id in the custody store, or `app`'s (0 when it is empty)."""
    return store_figure(
        settings, app, "COALESCE(MAX(notification_id), 0)", "COALESCE(MAX(rowid), 0)"
    )


def store_figure(settings: Settings, app: str, postgres: str, sqlite: str) -> int:
    """One aggregate (SQL for each store) over `app`'s events; 0 when its table or file is not
    there yet (the accounts' store before its first account)."""
    if settings.postgres:
        table = f"{app.lower()}_events"
        with psycopg.connect(settings.postgres_conninfo) as connection:
            if app != CUSTODY and not has_table(connection, table):
                return 0
            return connection.execute(f"SELECT {postgres} FROM {table}").fetchone()[0]
    path = sqlite_file(settings.store, app)
    if not path.exists():
        return 0
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        return connection.execute(f"SELECT {sqlite} FROM stored_events").fetchone()[0]


def store_answers(settings: Settings) -> None:
    """Ask PostgreSQL for one row (psycopg.OperationalError when it does not answer); a SQLite
    file is on this machine and needs no asking."""
    if settings.postgres:
        with psycopg.connect(settings.postgres_conninfo, connect_timeout=3) as connection:
            connection.execute("SELECT 1")


def has_table(connection: psycopg.Connection, table: str) -> bool:
    """Whether the table is there yet (in the schema the connection's search path names)."""
    [(found,)] = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchall()
    return found


def first_after(settings: Settings, position: int, app: str = CUSTODY) -> tuple[int, bytes] | None:
    """The first event stored after `position` (None: none yet): how long ago it was recorded
    is how far behind a reader at `position` is."""
    rows = read_store(settings, batch=1, after=position, app=app)
    try:
        return next(iter(rows), None)
    finally:
        rows.close()  # type: ignore[attr-defined]
