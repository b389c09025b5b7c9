"""What every application on an event store shares: the msgspec mapper, a setup that survives a
race with another process, and appending events without the library's per-event checks."""

import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from uuid import UUID

import psycopg
import psycopg_pool
from eventsourcing.application import Application
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from services.store.mapper import MAPPER_ENV

SETUP_ATTEMPTS = 10
STREAMS_AT_ONCE = 500  # originators in one query (SQLite takes at most 32,766 parameters)
# What a store that does not answer raises (a terminated backend, a server restarting, a full
# pool): a long-running part waits and tries again, a command says so and exits 1.
STORE_DOWN = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    OperationalError,
    InterfaceError,
)
T = TypeVar("T")


def retry_setup(construct: Callable[[], T]) -> T:
    """Run table creation again when another process creates the same tables at the same moment.

    PostgreSQL answers concurrent `CREATE ... IF NOT EXISTS` of one table or type with a
    transient error ("tuple concurrently updated", a duplicate type name).
    """
    for _ in range(SETUP_ATTEMPTS - 1):
        try:
            return construct()
        except (InternalError, IntegrityError, ProgrammingError):
            time.sleep(0.1 + random.random() * 0.2)
    return construct()


class StoreApplication(Application[UUID]):
    """An eventsourcing application whose events are msgspec Structs (see `MsgspecMapper`)."""

    env = MAPPER_ENV

    def __init__(self, env: Mapping[str, str] | None = None):
        retry_setup(
            lambda: super(StoreApplication, self).__init__(dict(env) if env is not None else None)
        )

    def append(self, *new_events: Any) -> None:
        """Append events in one transaction (IntegrityError if a version is taken).

        What `Application.save` does for these applications (no snapshots, cache or policies),
        without its per-event `isinstance` against a runtime protocol, which costs about 80 µs
        an event on Python 3.11: a fifth of a whole kabupaten's recording.
        """
        if not new_events:
            return
        stored = [self.mapper.to_stored_event(e) for e in new_events]
        if isinstance(self.recorder, PostgresApplicationRecorder):
            self._insert_postgres(stored)
        else:
            self.recorder.insert_events(stored)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def _insert_postgres(self, stored: list[StoredEvent]) -> None:
        """The library's insert in one round trip: lock the table (so notification ids are in
        commit order, as the relay needs), insert, commit, pipelined; a taken version raises
        IntegrityError. Its NOTIFY is left out: nothing here listens (the relay reads the
        table). A third less time than the library's two round trips, inside the lock that
        every web process's commit waits for."""
        recorder = self.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        datastore = recorder.datastore
        table = SQL("{}.{}").format(
            Identifier(datastore.schema), Identifier(recorder.events_table_name)
        )
        ids_type = "text" if datastore.originator_id_type == "text" else "uuid"  # the table's
        columns = (
            [e.originator_id for e in stored],
            [e.originator_version for e in stored],
            [e.topic for e in stored],
            [e.state for e in stored],
        )
        with datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.cursor() as cursor:
                    cursor.execute("BEGIN")
                    if datastore.lock_timeout:
                        cursor.execute(f"SET LOCAL lock_timeout = '{int(datastore.lock_timeout)}s'")
                    cursor.execute(SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
                    cursor.execute(
                        SQL(
                            "INSERT INTO {} (originator_id, originator_version, topic, state) "
                            "SELECT * FROM unnest(%s::{}[], %s::int[], %s::text[], %s::bytea[])"
                        ).format(table, SQL(ids_type)),
                        columns,
                        prepare=True,
                    )
                    cursor.execute("COMMIT")
                    pipeline.sync()
            except psycopg.Error:
                # After a failed pipeline (a taken version, most often), psycopg may believe
                # the INSERT prepared when the server never kept it, and the next insert on
                # this connection fails with "prepared statement _pg3_n does not exist": close
                # it (ending its transaction); the pool opens a fresh one.
                conn.close()
                raise

    def stream_of(self, originator_id: UUID) -> list[Any]:
        """Every event of one originator, oldest first."""
        return list(self.events.get(originator_id))

    def streams_of(self, originator_ids: Iterable[UUID]) -> dict[UUID, list[Any]]:
        """Every event of each originator, oldest first, in one query a few hundred at a time
        (the library asks once per originator); an originator with none is left out."""
        ids = list(originator_ids)
        found: dict[UUID, list[Any]] = {}
        for start in range(0, len(ids), STREAMS_AT_ONCE):
            for stored in self._select_streams(ids[start : start + STREAMS_AT_ONCE]):
                event = self.mapper.to_domain_event(stored)
                found.setdefault(stored.originator_id, []).append(event)
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's reads
    def _select_streams(self, ids: list[UUID]) -> list[StoredEvent]:
        recorder = self.recorder
        if isinstance(recorder, PostgresAggregateRecorder):
            statement = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(statement, (ids,), prepare=True)
                rows = cursor.fetchall()
            return [
                StoredEvent(
                    r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])
                )
                for r in rows
            ]
        assert isinstance(recorder, SQLiteAggregateRecorder)
        statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE originator_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY originator_id, originator_version"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [i.hex for i in ids])
            return [StoredEvent(UUID(r[0]), r[1], r[2], r[3]) for r in cursor.fetchall()]

    def last_version(self, originator_id: UUID) -> int:
        """The version of the originator's last event (0: it has none)."""
        last = next(iter(self.events.get(originator_id, desc=True, limit=1)), None)
        return last.originator_version if last else 0
