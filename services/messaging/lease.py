"""One runner of each part at a time: a second `lacak project board` (or relay) waits as a hot
standby and takes over within seconds when the first dies, instead of both taking the same
durable consumer from each other.

The lease is a lock the database or the file system drops by itself when its holder dies: a
PostgreSQL advisory lock on a connection of its own (named after the schema too, so two Lacaks
in one database do not share one), or, on SQLite, an exclusive `flock` on a file beside the
store. The holder checks it every `CHECK_SECONDS`; a holder whose lock went with its connection
stops its work and stands by again.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import psycopg

from services.messaging.nats import Outage, sleep_or_stop
from services.settings import Settings
from services.store.application import STORE_DOWN

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
# The lease's connection notices a dead peer in seconds, not TCP's two hours: keepalives on both
# ends (the server drops the lock of a holder whose host is gone) and a cap on unanswered
# sends, so a holder cut off from PostgreSQL learns it lost the lease and stops its work.
ALIVE = {
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": 5000,
    "options": "-c tcp_keepalives_idle=2 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3",
}

Work = Callable[[Settings, asyncio.Event], Awaitable[None]]


class Lease:
    def __init__(self, settings: Settings, name: str):
        self.settings, self.name = settings, name
        self.connection: psycopg.Connection | None = None
        self.file: IO[bytes] | None = None

    @property
    def key(self) -> int:
        """The advisory lock's key: the part and the schema, as a signed 64-bit integer."""
        scope = f"lacak:{self.settings.store.get('POSTGRES_SCHEMA', '')}:{self.name}"
        return int.from_bytes(hashlib.sha256(scope.encode()).digest()[:8], "big", signed=True)

    def take(self) -> bool:
        """Take the lease if it is free (STORE_DOWN when PostgreSQL does not answer)."""
        if not self.settings.postgres:
            path = Path(self.settings.data_dir) / f"{self.name}.lease"
            path.parent.mkdir(parents=True, exist_ok=True)
            file = path.open("ab")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                return False
            self.file = file
            return True
        connection = psycopg.connect(self.settings.postgres_conninfo, autocommit=True, **ALIVE)
        try:
            [(taken,)] = connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (self.key,)
            ).fetchall()
        except BaseException:
            connection.close()
            raise
        if taken:
            self.connection = connection
        else:
            connection.close()
        return bool(taken)

    def held(self) -> bool:
        """Whether the lock is still ours: on PostgreSQL, whether its connection still answers
        (the lock ends with it)."""
        if self.file is not None:
            return True
        if self.connection is None:
            return False
        try:
            self.connection.execute("SELECT 1")  # at most `ALIVE`'s seconds on a dead link
            return True
        except psycopg.Error:
            return False

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the file drops the flock
            self.file = None
        if self.connection is not None:
            with contextlib.suppress(psycopg.Error):
                self.connection.close()
            self.connection = None


def leased(name: str, work: Work) -> Work:
    """`work` run only while this process holds the part's lease; standing by otherwise."""

    async def run(settings: Settings, stop: asyncio.Event) -> None:
        lease = Lease(settings, name)
        outage = Outage(name)
        try:
            while not stop.is_set():
                if not await standing_by(lease, outage, stop):
                    return
                log.warning("%s: holds the lease; running", name)
                running = asyncio.Event()
                watch = asyncio.create_task(watching(lease, stop, running))
                try:
                    await work(settings, running)
                finally:
                    watch.cancel()
                    await asyncio.gather(watch, return_exceptions=True)
                    await asyncio.to_thread(lease.release)
                if not stop.is_set():
                    log.warning("%s: lost the lease; standing by", name)
        finally:
            lease.release()

    return run


async def standing_by(lease: Lease, outage: Outage, stop: asyncio.Event) -> bool:
    """Until the lease is taken (True) or `stop` (False); says once that another holds it."""
    said = False
    while not stop.is_set():
        try:
            if await asyncio.to_thread(lease.take):
                outage.back("the store")
                return True
        except STORE_DOWN as error:
            outage.lost("the store", error)
        else:
            if not said:
                log.warning("%s: another process holds the lease; standing by", lease.name)
                said = True
        if await sleep_or_stop(stop, CHECK_SECONDS):
            break
    return False


async def watching(lease: Lease, stop: asyncio.Event, running: asyncio.Event) -> None:
    """Set `running` (the work's stop) at `stop`, or as soon as the lease is no longer held."""
    while not await sleep_or_stop(stop, CHECK_SECONDS):
        if not await asyncio.to_thread(lease.held):
            break
    running.set()
