"""The ledger projection: the hash chain of every event as the stream delivers it, with a
checkpoint every `CHECKPOINT_EVERY` events, published to their own stream for auditors to keep."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import msgspec
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.audit.chain import GENESIS, Checkpoint, LedgerRow, chained
from services.store.notifications import MAX_POSITION
from services.views.database import Cursor, ViewDatabase
from services.views.projection import Changed, Projection

CHECKPOINT_EVERY = 10_000
CHECKPOINT_SUBJECT = "lacak.ledger.checkpoint"
CHECKPOINT_STREAM = "LACAK_LEDGER"


SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ledger_entries (
        position BIGINT PRIMARY KEY,
        event_hash BYTEA NOT NULL,
        chain BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger_checkpoints (
        position BIGINT PRIMARY KEY,
        chain TEXT NOT NULL,
        recorded_at TEXT NOT NULL)""",
)


class LedgerView(Projection):
    """The ledger projection: hashes the stream's bytes as they come, in notification order."""

    name = "ledger"
    schema = SCHEMA
    tables = ("ledger_entries", "ledger_checkpoints")

    def __init__(
        self,
        db: ViewDatabase,
        checkpoint_every: int = CHECKPOINT_EVERY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        super().__init__(db)
        self.checkpoint_every = checkpoint_every
        self.clock = clock

    @staticmethod
    def decode(data: bytes) -> bytes:
        """The ledger hashes the message's bytes as they are."""
        return data

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, bytes]]) -> set[str]:
        """Chain the fresh events on from the last one chained; a checkpoint at the first
        position of each new block of `checkpoint_every`."""
        cursor.execute("SELECT position, chain FROM ledger_entries ORDER BY position DESC LIMIT 1")
        row = cursor.fetchone()
        after, previous = (row[0], bytes(row[1])) if row else (0, GENESIS)
        entries = list(chained(fresh, previous))
        cursor.executemany(
            "INSERT INTO ledger_entries (position, event_hash, chain) VALUES (?, ?, ?)", entries
        )
        at = self.clock().isoformat()
        checkpoints = first_per_block(
            [(p, c.hex(), at) for p, _, c in entries], after, self.checkpoint_every
        )
        if checkpoints:
            cursor.executemany(
                "INSERT INTO ledger_checkpoints (position, chain, recorded_at) VALUES (?, ?, ?)",
                checkpoints,
            )
        return set()

    def checkpoints_in(self, after: int, upto: int) -> list[Checkpoint]:
        """The checkpoints made for positions after `after`, up to `upto`."""
        rows = self.db.query(
            "SELECT position, chain, recorded_at FROM ledger_checkpoints "
            "WHERE position > ? AND position <= ? ORDER BY position",
            (after, upto),
        )
        return [
            Checkpoint(position=p, chain=c, recorded_at=datetime.fromisoformat(at))
            for p, c, at in rows
        ]

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint made, in order."""
        return self.checkpoints_in(0, MAX_POSITION)

    def entries(self) -> list[LedgerRow]:
        """(position, event hash, chain) as the ledger recorded them."""
        rows = self.db.query(
            "SELECT position, event_hash, chain FROM ledger_entries ORDER BY position"
        )
        return [(p, bytes(h), bytes(c)) for p, h, c in rows]

    def last_in(self, start: int, stop: int) -> tuple[int, bytes] | None:
        """The last position in [start, stop) with its chain (see `Ledger`)."""
        rows = self.db.query(
            "SELECT position, chain FROM ledger_entries WHERE position >= ? AND position < ? "
            "ORDER BY position DESC LIMIT 1",
            (start, stop),
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def rows_after(self, position: int, limit: int) -> list[LedgerRow]:
        """Up to `limit` rows past `position`, in order (see `Ledger`)."""
        rows = self.db.query(
            "SELECT position, event_hash, chain FROM ledger_entries WHERE position > ? "
            "ORDER BY position LIMIT ?",
            (position, limit),
        )
        return [(p, bytes(h), bytes(c)) for p, h, c in rows]

    def last_position(self) -> int:
        """The last position chained (0: none yet)."""
        [(last,)] = self.db.query("SELECT COALESCE(MAX(position), 0) FROM ledger_entries")
        return last


def first_per_block(
    candidates: list[tuple[int, str, str]], after: int, every: int
) -> list[tuple[int, str, str]]:
    """One checkpoint per block of `every` positions: the first position past `after` in it."""
    chosen, block = [], after // every
    for candidate in candidates:
        if candidate[0] // every > block:
            block = candidate[0] // every
            chosen.append(candidate)
    return chosen


async def ensure_checkpoint_stream(nc: Client, replicas: int = 1) -> None:
    """The checkpoints' own stream: kept apart from the events, so a copy survives either."""
    js = nc.jetstream()
    try:
        await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=CHECKPOINT_STREAM,
                subjects=[CHECKPOINT_SUBJECT],
                storage=StorageType.FILE,
                num_replicas=replicas,
            )
        )


def checkpoint_publisher(
    view: LedgerView, replicas: int = 1
) -> Callable[[Client, Changed], Awaitable[None]]:
    """After the ledger commits, publish the checkpoints it made to the checkpoint stream (each
    once: a republish carries the same message id)."""

    async def publish(nc: Client, changed: Changed) -> None:
        made = await asyncio.to_thread(view.checkpoints_in, changed.after, changed.upto)
        if not made:
            return
        await ensure_checkpoint_stream(nc, replicas)
        js = nc.jetstream()
        for checkpoint in made:
            await js.publish(
                CHECKPOINT_SUBJECT,
                msgspec.json.encode(checkpoint),
                stream=CHECKPOINT_STREAM,
                headers={"Nats-Msg-Id": f"ledger:{checkpoint.position}"},
            )

    return publish


async def stream_checkpoints(nc: Client) -> list[Checkpoint] | None:
    """Every checkpoint in the checkpoint stream, in order; None when there is no such stream."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        return None
    checkpoints = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(CHECKPOINT_STREAM, sequence)
        checkpoints.append(msgspec.json.decode(message.data, type=Checkpoint))
    return sorted(checkpoints, key=lambda c: c.position)
