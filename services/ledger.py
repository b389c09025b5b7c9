"""The ledger: every event hash-chained in notification order, with checkpoints an auditor keeps.

Each event's bytes are those the event store holds (the one codec's JSON), as the relay publishes
them. The chain links them: chain[p] = SHA-256(chain[previous] || p as 8 bytes || bytes[p]), from
32 zero bytes; each event's own hash, SHA-256(bytes[p]), tells a moved event from a changed one.
The ledger projection keeps (position, hash, chain) as the events flow through the stream, and a
checkpoint (position, chain) every `CHECKPOINT_EVERY` events. `verify` recomputes it all from the
event store, or from an export file, and names the first position that differs.
"""

import asyncio
import bisect
import hashlib
import itertools
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import msgspec
import psycopg
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

import events
from services import tracking
from services.settings import Settings
from services.viewdb import ViewDatabase

GENESIS = bytes(32)
LedgerRow = tuple[int, bytes, bytes]  # position, event hash, chain
CHECKPOINT_EVERY = 10_000
CHECKPOINT_SUBJECT = "lacak.ledger.checkpoint"
CHECKPOINT_STREAM = "LACAK_LEDGER"
MAX_POSITION = 2**63 - 1  # a notification id: a signed 64-bit integer in SQLite and PostgreSQL


def chained(
    entries: Iterable[tuple[int, bytes]], previous: bytes = GENESIS
) -> Iterator[tuple[int, bytes, bytes]]:
    """(position, canonical bytes) -> (position, event hash, chain)."""
    sha256 = hashlib.sha256
    for position, data in entries:
        previous = sha256(previous + position.to_bytes(8, "big") + data).digest()
        yield position, sha256(data).digest(), previous


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """What an auditor keeps: the chain at a position. Change any event up to it, and it fails."""

    position: int
    chain: str  # hex
    recorded_at: datetime


class CheckpointFile(msgspec.Struct, frozen=True, kw_only=True):
    algorithm: str = "sha256-chain-v1"
    source: str  # where the checkpoints came from
    checkpoints: list[Checkpoint]


FindingKind = Literal["changed", "removed", "inserted", "reordered", "checkpoint", "extra"]


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    kind: FindingKind
    position: int
    detail: str


def first_difference(
    expected: Sequence[tuple[int, bytes]], actual: Sequence[tuple[int, bytes]]
) -> Finding | None:
    """Compare (position, event hash) as the ledger saw them with what is there now."""
    for i in range(min(len(expected), len(actual))):
        (p_exp, h_exp), (p_act, h_act) = expected[i], actual[i]
        if (p_exp, h_exp) == (p_act, h_act):
            continue
        next_exp = expected[i + 1] if i + 1 < len(expected) else None
        next_act = actual[i + 1] if i + 1 < len(actual) else None
        if p_exp < p_act:
            return Finding(kind="removed", position=p_exp, detail="peristiwa ini hilang")
        if p_act < p_exp:
            return Finding(kind="inserted", position=p_act, detail="peristiwa ini disisipkan")
        if next_exp and next_act and (h_act, next_act[1]) == (next_exp[1], h_exp):
            return Finding(
                kind="reordered",
                position=p_exp,
                detail=f"ditukar dengan posisi {next_exp[0]}",
            )
        if next_exp and h_act == next_exp[1]:  # the rest moved up a position
            return Finding(
                kind="removed", position=p_exp, detail="peristiwa ini hilang, sisanya digeser"
            )
        if next_act and next_act[1] == h_exp:  # the rest moved down a position
            return Finding(
                kind="inserted", position=p_act, detail="peristiwa disisipkan, sisanya digeser"
            )
        return Finding(kind="changed", position=p_exp, detail="isi peristiwa ini diubah")
    if len(actual) < len(expected):
        return Finding(
            kind="removed", position=expected[len(actual)][0], detail="peristiwa ini hilang"
        )
    return None


def checkpoint_findings(
    chains: dict[int, bytes], checkpoints: Iterable[Checkpoint]
) -> list[Finding]:
    """Every checkpoint whose chain the recomputed events no longer reach."""
    findings = []
    for checkpoint in checkpoints:
        chain = chains.get(checkpoint.position)
        if chain is None:
            findings.append(
                Finding(
                    kind="checkpoint",
                    position=checkpoint.position,
                    detail="posisi titik periksa tidak ada lagi",
                )
            )
        elif chain.hex() != checkpoint.chain:
            findings.append(
                Finding(
                    kind="checkpoint",
                    position=checkpoint.position,
                    detail="rantai hash tidak cocok dengan titik periksa",
                )
            )
    return findings


# The event store, read directly: the fastest way through millions of rows, and what an auditor
# with a copy of the database would do.


def read_store(
    settings: Settings, batch: int = 5000, upto: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(notification id, stored bytes) in order, straight from the event store's table (PostgreSQL
    sends `batch` rows at a time); only up to position `upto`, if given."""
    last = MAX_POSITION if upto is None else upto
    if settings.postgres:
        with psycopg.connect(settings.postgres_conninfo) as connection:
            with connection.cursor(name="ledger_read") as cursor:
                cursor.itersize = batch
                cursor.execute(
                    "SELECT notification_id, state FROM batches_events "
                    "WHERE notification_id <= %s ORDER BY 1",
                    (last,),
                )
                for position, state in cursor:
                    yield position, bytes(state)
        return
    path = Path(settings.store["SQLITE_DBNAME"])
    # A generator left unfinished is closed wherever it is collected: any thread may close it.
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        # Row by row: as fast as fetchmany of a thousand here, and faster than of five thousand.
        yield from connection.execute(
            "SELECT rowid, CAST(state AS BLOB) FROM stored_events WHERE rowid <= ? ORDER BY rowid",
            (last,),
        )
    finally:
        connection.close()


def count_store(settings: Settings) -> int:
    """How many events the store holds (for a progress bar)."""
    if settings.postgres:
        with psycopg.connect(settings.postgres_conninfo) as connection:
            return connection.execute("SELECT count(*) FROM batches_events").fetchone()[0]
    path = Path(settings.store["SQLITE_DBNAME"])
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM stored_events").fetchone()[0]


def canonical(data: bytes) -> bytes:
    """The codec's bytes of a stored event today (they differ from the stored ones for an event
    written before a field was added). A ledger made while the relay re-encoded events hashed
    these: `verify` tries them where the stored bytes do not match."""
    return events.encode(events.decode(data))


class LedgerEntry(msgspec.Struct, frozen=True, array_like=True):
    position: int
    event_hash: str
    chain: str


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


class LedgerView:
    """The ledger projection: hashes the stream's bytes as they come, in notification order."""

    name = "ledger"

    def __init__(
        self,
        db: ViewDatabase,
        checkpoint_every: int = CHECKPOINT_EVERY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self.db = db
        self.checkpoint_every = checkpoint_every
        self.clock = clock

    @staticmethod
    def decode(data: bytes) -> bytes:
        """The ledger hashes the message's bytes as they are."""
        return data

    def setup(self) -> None:
        self.db.create((tracking.SCHEMA, *SCHEMA))
        with self.db.transaction() as cursor:
            tracking.start(cursor, self.name)

    def stream_sequence(self) -> int:
        return tracking.stream_sequence(self.db, self.name)

    def apply(self, notifications: Sequence[tuple[int, bytes]], stream_sequence: int) -> set[str]:
        """Chain the notifications past the stored position; the checkpoints made (positions)."""
        with self.db.transaction() as cursor:
            position = tracking.lock_position(cursor, self.name)
            fresh = [(p, data) for p, data in notifications if p > position]
            made: set[str] = set()
            if fresh:
                cursor.execute("SELECT chain FROM ledger_entries WHERE position = ?", (position,))
                row = cursor.fetchone()
                previous = bytes(row[0]) if row else GENESIS
                entries = list(chained(fresh, previous))
                cursor.executemany(
                    "INSERT INTO ledger_entries (position, event_hash, chain) VALUES (?, ?, ?)",
                    entries,
                )
                at = self.clock().isoformat()
                checkpoints = first_per_block(
                    [(p, c.hex(), at) for p, _, c in entries], position, self.checkpoint_every
                )
                if checkpoints:
                    cursor.executemany(
                        "INSERT INTO ledger_checkpoints (position, chain, recorded_at) "
                        "VALUES (?, ?, ?)",
                        checkpoints,
                    )
                    made = {str(p) for p, _, _ in checkpoints}
                position = entries[-1][0]
            tracking.save_position(cursor, self.name, position, stream_sequence, len(fresh))
        return made

    def checkpoint(self, position: int) -> Checkpoint:
        [(chain, at)] = self.db.query(
            "SELECT chain, recorded_at FROM ledger_checkpoints WHERE position = ?", (position,)
        )
        return Checkpoint(position=position, chain=chain, recorded_at=datetime.fromisoformat(at))

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.db.query(
            "SELECT position, chain, recorded_at FROM ledger_checkpoints ORDER BY position"
        )
        return [
            Checkpoint(position=p, chain=c, recorded_at=datetime.fromisoformat(at))
            for p, c, at in rows
        ]

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

    def applied(self) -> int:
        return tracking.applied(self.db, self.name)

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


BLOCK = 4096  # positions: verify compares its chain with the ledger's once per block of them


class Ledger(Protocol):
    """What `verify` reads of a ledger: its chain at a block's end, and rows where chains part."""

    def last_in(self, start: int, stop: int) -> tuple[int, bytes] | None:
        """The last position in [start, stop) with its chain; None if it has none there."""
        ...

    def rows_after(self, position: int, limit: int) -> list[LedgerRow]:
        """Up to `limit` rows past `position` (0: from the first), in order."""
        ...


class RecordedLedger:
    """Ledger rows held in memory: an export file's claims, or a test's."""

    def __init__(self, rows: Sequence[LedgerRow]):
        self.rows = rows
        self.positions = [p for p, _, _ in rows]
        self.index = {p: i for i, p in enumerate(self.positions)}

    def last_in(self, start: int, stop: int) -> tuple[int, bytes] | None:
        i = bisect.bisect_left(self.positions, stop) - 1
        if i < 0 or self.positions[i] < start:
            return None
        return self.positions[i], self.rows[i][2]

    def rows_after(self, position: int, limit: int) -> list[LedgerRow]:
        first = self.index[position] + 1 if position in self.index else 0
        return list(self.rows[first : first + limit])


class Recomputation:
    """The chain recomputed from the events, with the chain kept at each checkpoint's position."""

    def __init__(self, wanted: set[int], block: int, progress: Callable[[int], None] | None):
        self.wanted, self.block, self.progress = wanted, block, progress
        self.chain, self.events, self.position = GENESIS, 0, 0
        self.chains: dict[int, bytes] = {}

    def chain_block(
        self, first: tuple[int, bytes], rows: Iterator[tuple[int, bytes]]
    ) -> tuple[list[tuple[int, bytes]], tuple[int, bytes] | None]:
        """Chain `first` and the rows after it in its block; those rows, and the next block's
        first row."""
        sha256, wanted, chains = hashlib.sha256, self.wanted, self.chains
        stop = (first[0] // self.block + 1) * self.block
        held, chain, following = [first], self.chain, None
        position, data = first
        chain = sha256(chain + position.to_bytes(8, "big") + data).digest()
        if position in wanted:
            chains[position] = chain
        for row in rows:
            position, data = row
            if position >= stop:
                following = row
                break
            held.append(row)
            chain = sha256(chain + position.to_bytes(8, "big") + data).digest()
            if position in wanted:
                chains[position] = chain
        self.chain, self.position = chain, held[-1][0]
        self.events += len(held)
        if self.progress is not None:
            self.progress(self.events)
        return held, following

    def compare_block(
        self, first: tuple[int, bytes], rows: Iterator[tuple[int, bytes]], ledger: Ledger
    ) -> tuple[Finding | None, Iterator[tuple[int, bytes]]]:
        """Chain `first` and the rest of its block event by event against the ledger's rows, up
        to the first difference; that difference, and the rows still to chain.

        A stored event that differs from the ledger only in bytes (written by older code) is
        taken in the codec's bytes when those chain to the ledger's value."""
        sha256, wanted, chains = hashlib.sha256, self.wanted, self.chains
        stop = (first[0] // self.block + 1) * self.block
        expected = ledger.rows_after(self.position, self.block + 4)
        more = len(expected) == self.block + 4
        n, row_read = 0, first
        while row_read is not None:
            position, data = row_read
            if position >= stop:  # the block is as the ledger has it
                return None, itertools.chain((row_read,), rows)
            if more and n + 4 > len(expected):
                page = ledger.rows_after(expected[-1][0], self.block)
                expected, more = expected + page, len(page) == self.block
            prefix = self.chain + position.to_bytes(8, "big")
            chain = sha256(prefix + data).digest()
            row = expected[n] if n < len(expected) else None
            if row is not None and row[0] == position and row[2] != chain:
                again = sha256(prefix + canonical_or_same(data)).digest()
                if again == row[2]:  # stored by older code: the same event in the codec's bytes
                    chain = again
            self.chain, self.position = chain, position
            self.events += 1
            if position in wanted:
                chains[position] = chain
            if row is None or row[0] != position or row[2] != chain:
                window = [(position, data), *itertools.islice(rows, 3)]
                return classify(expected[n : n + 4], window), itertools.chain(window[1:], rows)
            n += 1
            row_read = next(rows, None)
        return None, rows


class Report(msgspec.Struct, kw_only=True):
    events: int
    last_position: int
    head: str  # the chain at the last position, hex
    findings: list[Finding]
    checkpoints_checked: int
    compared_with_ledger: bool

    @property
    def intact(self) -> bool:
        return not self.findings


def verify(
    actual: Iterable[tuple[int, bytes]],
    ledger: Ledger | Sequence[LedgerRow] | None,
    checkpoints: Sequence[Checkpoint],
    progress: Callable[[int], None] | None = None,
    block: int = BLOCK,
) -> Report:
    """Chain `actual` (position, bytes) and compare it with the ledger's chain and every
    checkpoint; name the first difference and every failed checkpoint.

    The chain is cumulative: where it equals the ledger's at a position, every event up to there
    is as the ledger saw it. So the chains are compared at the end of each block of `block`
    positions, and only a block where they differ is compared event by event to name the first
    difference. Reading the whole ledger to compare every position would cost more than the
    hashing itself."""
    source = RecordedLedger(ledger) if isinstance(ledger, Sequence) else ledger
    recomputed = Recomputation({c.position for c in checkpoints}, block, progress)
    rows = iter(actual)
    following = next(rows, None)
    difference: Finding | None = None
    while following is not None:
        if source is None or difference is not None:  # chain on, for the checkpoints and head
            _, following = recomputed.chain_block(following, rows)
            continue
        matched = recomputed.chain, recomputed.events, recomputed.position
        start = following[0] // block * block
        held, after = recomputed.chain_block(following, rows)
        ours = (recomputed.position, recomputed.chain)
        if source.last_in(start, start + block) == ours:
            following = after
            continue
        recomputed.chain, recomputed.events, recomputed.position = matched
        rows = itertools.chain(held[1:], (after,) if after else (), rows)
        difference, rows = recomputed.compare_block(held[0], rows, source)
        following = next(rows, None)
    if (
        source is not None
        and difference is None
        and (left := source.rows_after(recomputed.position, 1))
    ):
        # the ledger goes on past the last event
        difference = Finding(kind="removed", position=left[0][0], detail="peristiwa ini hilang")
    findings = [difference] if difference else []
    findings += checkpoint_findings(recomputed.chains, checkpoints)
    return Report(
        events=recomputed.events,
        last_position=recomputed.position,
        head=recomputed.chain.hex(),
        findings=findings,
        checkpoints_checked=len(checkpoints),
        compared_with_ledger=ledger is not None,
    )


class LedgerAsOf:
    """A live ledger as it stood at `position`: the rows it chains while a check runs are not
    asked for. With the store read up to the same position (`verify_live`), both sides hold
    the same events however many scans arrive meanwhile."""

    def __init__(self, ledger: Ledger, position: int):
        self.ledger = ledger
        self.position = position

    def last_in(self, start: int, stop: int) -> tuple[int, bytes] | None:
        stop = min(stop, self.position + 1)
        return self.ledger.last_in(start, stop) if start < stop else None

    def rows_after(self, position: int, limit: int) -> list[LedgerRow]:
        return [row for row in self.ledger.rows_after(position, limit) if row[0] <= self.position]


def verify_live(
    settings: Settings,
    ledger: LedgerView,
    checkpoints: Sequence[Checkpoint] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """`verify` the event store against the ledger as it stands now (its own checkpoints unless
    some are given): events recorded since are left for the next check, not taken for
    removed or inserted ones."""
    if checkpoints is None:
        checkpoints = ledger.checkpoints()  # before the position: none of them lies past it
    upto = ledger.last_position()
    return verify(read_store(settings, upto=upto), LedgerAsOf(ledger, upto), checkpoints, progress)


def canonical_or_same(data: bytes) -> bytes:
    """The codec's bytes of stored bytes; bytes that are no event at all stay as they are."""
    try:
        return canonical(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return data


def classify(expected: Sequence[LedgerRow], actual: Sequence[tuple[int, bytes]]) -> Finding:
    """What happened at the first position where the chains part: a few events either side."""
    if not expected:
        return Finding(
            kind="extra",
            position=actual[0][0],
            detail="sesudah posisi terakhir buku besar (belum tercatat, atau disisipkan)",
        )
    known = {h for _, h, _ in expected}
    hashes = []
    for position, data in actual:
        event_hash = hashlib.sha256(data).digest()
        if event_hash not in known:
            event_hash = hashlib.sha256(canonical_or_same(data)).digest()
        hashes.append((position, event_hash))
    found = first_difference([(p, h) for p, h, _ in expected], hashes)
    return found or Finding(
        kind="changed", position=expected[0][0], detail="isi peristiwa ini diubah"
    )


class ExportLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an export file: the event's bytes as stored, with its ledger hashes."""

    position: int
    event_hash: str
    chain: str
    event: msgspec.Raw


def export_lines(stored: Iterable[tuple[int, bytes]]) -> Iterator[bytes]:
    """JSON lines of the event store: each event's bytes as stored (and as the ledger hashed
    them), with its hash and chain. Bytes that are no JSON at all (a row overwritten by hand)
    go in as a JSON string, which no longer matches: `verify` names the position."""
    encoder = msgspec.json.Encoder()
    entries = [(position, as_json(data)) for position, data in stored]
    for (position, data), (_, event_hash, chain) in zip(entries, chained(entries), strict=True):
        line = ExportLine(
            position=position,
            event_hash=event_hash.hex(),
            chain=chain.hex(),
            event=msgspec.Raw(data),
        )
        yield encoder.encode(line) + b"\n"


def as_json(data: bytes) -> bytes:
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError:
        return msgspec.json.encode(data.decode("utf-8", errors="replace"))
    return data


def read_export(path: Path) -> tuple[list[tuple[int, bytes]], list[LedgerRow]]:
    """An export file as (position, event bytes) to recompute and the ledger rows it claims."""
    decoder = msgspec.json.Decoder(ExportLine)
    actual, claimed = [], []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entry = decoder.decode(line)
                claimed.append(
                    (entry.position, bytes.fromhex(entry.event_hash), bytes.fromhex(entry.chain))
                )
            except (msgspec.DecodeError, ValueError) as error:
                raise ValueError(f"baris {number}: {error}") from None
            actual.append((entry.position, bytes(entry.event)))
    return actual, claimed


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
) -> Callable[[Client, set[str]], Awaitable[None]]:
    """After the ledger commits checkpoints, publish each to the checkpoint stream (once)."""

    async def publish(nc: Client, positions: set[str]) -> None:
        await ensure_checkpoint_stream(nc, replicas)
        js = nc.jetstream()
        for position in sorted(positions, key=int):
            checkpoint = await asyncio.to_thread(view.checkpoint, int(position))
            await js.publish(
                CHECKPOINT_SUBJECT,
                msgspec.json.encode(checkpoint),
                stream=CHECKPOINT_STREAM,
                headers={"Nats-Msg-Id": f"ledger:{position}"},
            )

    return publish


async def stream_checkpoints(nc: Client) -> list[Checkpoint]:
    """Every checkpoint in the checkpoint stream, in order."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        return []
    checkpoints = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(CHECKPOINT_STREAM, sequence)
        checkpoints.append(msgspec.json.decode(message.data, type=Checkpoint))
    return sorted(checkpoints, key=lambda c: c.position)
