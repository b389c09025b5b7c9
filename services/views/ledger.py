"""The ledger projection: every event's bytes as the stream delivers them, in notification order,
as leaves of an RFC 9162 Merkle tree and links of a hash chain, with a signed checkpoint at least
every `CHECKPOINT_EVERY` events or `CHECKPOINT_SECONDS` seconds, published to their own stream for
auditors and witnesses to keep.

The tree is what the checkpoints sign; the chain lets `verify` name the first event that differs
from what the ledger saw. Both live in the views database, which whoever controls the database
can rewrite: what holds against them is the signed checkpoints outside it (the `LACAK_LEDGER`
stream, the auditors' files, the witnesses' cosignatures), which the key alone can make.
"""

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.audit.chain import GENESIS, LedgerRow, link
from services.audit.merkle import TILE_LEVEL, Frontier, leaf_hash
from services.audit.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    cosigned_by,
    parse_checkpoint,
    sign_checkpoint,
    signature_data,
    signature_line,
)
from services.messaging.nats import connect_once
from services.store.notifications import MAX_POSITION
from services.views.database import Cursor, ViewDatabase
from services.views.projection import Changed, Projection

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 1_000
CHECKPOINT_SECONDS = 10.0
CHECKPOINT_SUBJECT = "lacak.ledger.checkpoint"
COSIGNATURE_SUBJECT = "lacak.ledger.cosignature"
ACCESS_SUBJECT = "lacak.ledger.akses.checkpoint"  # the access log's checkpoints
CHECKPOINT_STREAM = "LACAK_LEDGER"


TABLES = ("entries", "nodes", "tree", "checkpoints", "cosignatures")
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS {p}_entries (
        position BIGINT PRIMARY KEY,
        leaf_index BIGINT NOT NULL UNIQUE,
        event_hash BYTEA NOT NULL,
        chain BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}_nodes (
        level INTEGER NOT NULL,
        node_index BIGINT NOT NULL,
        hash BYTEA NOT NULL,
        PRIMARY KEY (level, node_index))""",
    """CREATE TABLE IF NOT EXISTS {p}_tree (
        id INTEGER PRIMARY KEY,
        frontier BYTEA NOT NULL,
        chain BYTEA NOT NULL,
        signed_size BIGINT NOT NULL,
        signed_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}_checkpoints (
        size BIGINT PRIMARY KEY,
        position BIGINT NOT NULL,
        recorded_at TEXT NOT NULL,
        note TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS {p}_cosignatures (
        size BIGINT NOT NULL,
        witness TEXT NOT NULL,
        verifier TEXT NOT NULL,
        line TEXT NOT NULL,
        cosigned_at BIGINT NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (size, witness))""",
)


class TreeState:
    """Where the ledger stands: the tree's frontier, the chain's head, the last signed size."""

    def __init__(self, frontier: Frontier, chain: bytes, signed_size: int, signed_at: datetime):
        self.frontier, self.chain = frontier, chain
        self.signed_size, self.signed_at = signed_size, signed_at


class LedgerView(Projection):
    """The ledger projection: hashes the stream's bytes as they come, in notification order.

    With a `signer` (the ledger process's) it signs checkpoints; without one (the web's) it
    only reads."""

    name = "ledger"
    version = 3  # 1: the hash chain alone, unsigned; 2: cosignatures published by the web
    prefix: ClassVar[str] = "ledger"  # of its tables' names
    subject: ClassVar[str] = CHECKPOINT_SUBJECT  # where its checkpoints are published
    schema = tuple(statement.format(p="ledger") for statement in SCHEMA)
    tables = tuple(f"ledger_{table}" for table in TABLES)

    def __init__(
        self,
        db: ViewDatabase,
        signer: Signer | None = None,
        origin: str = "lacak",
        checkpoint_every: int = CHECKPOINT_EVERY,
        checkpoint_seconds: float = CHECKPOINT_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        super().__init__(db)
        self.signer, self.origin = signer, origin
        self.checkpoint_every, self.checkpoint_seconds = checkpoint_every, checkpoint_seconds
        self.clock = clock

    @staticmethod
    def decode(data: bytes) -> bytes:
        """The ledger hashes the message's bytes as they are."""
        return data

    def state(self, cursor: Cursor) -> TreeState:
        """The tree's state, its row locked until the transaction ends."""
        cursor.execute(
            f"INSERT INTO {self.prefix}_tree (id, frontier, chain, signed_size, signed_at) "
            "VALUES (1, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING",
            (Frontier().encode(), GENESIS, datetime.min.replace(tzinfo=UTC).isoformat()),
        )
        cursor.execute(
            f"UPDATE {self.prefix}_tree SET id = id WHERE id = 1 "
            "RETURNING frontier, chain, signed_size, signed_at"
        )
        frontier, chain, signed_size, signed_at = cursor.fetchone()
        state = TreeState(
            Frontier.decode(bytes(frontier)),
            bytes(chain),
            signed_size,
            datetime.fromisoformat(signed_at),
        )
        if state.signed_size > state.frontier.size:  # a row changed by hand: sign again now
            log.error(
                "ledger: signed size %d is past the tree's %d; signing from here",
                state.signed_size,
                state.frontier.size,
            )
            state.signed_size, state.signed_at = 0, datetime.min.replace(tzinfo=UTC)
        return state

    def save(self, cursor: Cursor, state: TreeState) -> None:
        cursor.execute(
            f"UPDATE {self.prefix}_tree SET frontier = ?, chain = ?, signed_size = ?, "
            "signed_at = ? WHERE id = 1",
            (state.frontier.encode(), state.chain, state.signed_size, state.signed_at.isoformat()),
        )

    def write(self, cursor: Cursor, fresh: Sequence[tuple[int, bytes]]) -> set[str]:
        """Add the fresh events to the tree and the chain; sign a checkpoint where one is due."""
        state = self.state(cursor)
        frontier, chain = state.frontier, state.chain
        entries, nodes, signed = [], [], []
        now = self.clock()
        for position, data in fresh:
            leaf = leaf_hash(data)
            chain = link(chain, position, leaf)
            entries.append((position, frontier.size, leaf, chain))
            for level, index, hashed in frontier.append(leaf):
                if level >= TILE_LEVEL:
                    nodes.append((level, index, hashed))
            if self.signer and frontier.size - state.signed_size >= self.checkpoint_every:
                signed.append(self.sign(state, frontier, position, now))
        state.chain = chain
        if self.due(state, now):
            signed.append(self.sign(state, frontier, fresh[-1][0], now))
        cursor.executemany(
            f"INSERT INTO {self.prefix}_entries (position, leaf_index, event_hash, chain) "
            "VALUES (?, ?, ?, ?)",
            entries,
        )
        if nodes:
            cursor.executemany(
                f"INSERT INTO {self.prefix}_nodes (level, node_index, hash) VALUES (?, ?, ?)", nodes
            )
        self.insert_checkpoints(cursor, signed)
        self.save(cursor, state)
        return set()

    def due(self, state: TreeState, now: datetime) -> bool:
        """Whether events wait past the last checkpoint longer than `checkpoint_seconds`."""
        return (
            self.signer is not None
            and state.frontier.size > state.signed_size
            and (now - state.signed_at).total_seconds() >= self.checkpoint_seconds
        )

    def sign(
        self, state: TreeState, frontier: Frontier, position: int, now: datetime
    ) -> Checkpoint:
        assert self.signer is not None
        state.signed_size, state.signed_at = frontier.size, now
        return sign_checkpoint(
            self.signer, self.origin, frontier.size, frontier.root(), position, now
        )

    def insert_checkpoints(self, cursor: Cursor, made: Sequence[Checkpoint]) -> None:
        if made:
            cursor.executemany(
                f"INSERT INTO {self.prefix}_checkpoints (size, position, recorded_at, note) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
                [(c.size, c.position, c.time.isoformat(), c.note) for c in made],
            )

    def sign_if_due(self) -> Checkpoint | None:
        """A checkpoint of the events that have waited `checkpoint_seconds` unsigned: the
        ledger's clock, so a quiet hour leaves no tail unsigned."""
        with self.db.transaction() as cursor:
            state = self.state(cursor)
            now = self.clock()
            if not self.due(state, now):
                return None
            cursor.execute(f"SELECT MAX(position) FROM {self.prefix}_entries")
            (position,) = cursor.fetchone()
            if position is None:  # rows gone from under the tree: nothing honest to sign
                log.error("ledger: the tree has %d leaves and no rows", state.frontier.size)
                return None
            made = self.sign(state, state.frontier, position, now)
            self.insert_checkpoints(cursor, [made])
            self.save(cursor, state)
        return made

    # Reading: the checkpoints, the tree for proofs, the rows for `verify`.

    def checkpoints_in(self, after: int, upto: int) -> list[Checkpoint]:
        """The checkpoints signed for positions after `after`, up to `upto`, with the
        cosignatures they have."""
        rows = self.db.query(
            f"SELECT note FROM {self.prefix}_checkpoints WHERE position > ? AND position <= ? "
            "ORDER BY size",
            (after, upto),
        )
        return self.cosigned([parse_checkpoint(note) for (note,) in rows])

    def cosigned(self, checkpoints: list[Checkpoint]) -> list[Checkpoint]:
        if not checkpoints:
            return checkpoints
        rows = self.db.query(
            f"SELECT size, line FROM {self.prefix}_cosignatures WHERE size >= ? AND size <= ? "
            "ORDER BY witness",
            (checkpoints[0].size, checkpoints[-1].size),
        )
        lines: dict[int, list[str]] = {}
        for size, line in rows:
            lines.setdefault(size, []).append(line)
        return [c.with_signatures(lines.get(c.size, ())) for c in checkpoints]

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint signed, in order."""
        return self.checkpoints_in(0, MAX_POSITION)

    def recent(self, limit: int) -> tuple[list[Checkpoint], int]:
        """The newest `limit` checkpoints, newest first, and how many there are."""
        rows = self.db.query(
            f"SELECT note FROM {self.prefix}_checkpoints ORDER BY size DESC LIMIT ?", (limit,)
        )
        [(count,)] = self.db.query(f"SELECT COUNT(*) FROM {self.prefix}_checkpoints")
        return self.cosigned([parse_checkpoint(n) for (n,) in rows][::-1])[::-1], count

    def checkpoints_above(self, size: int) -> list[Checkpoint]:
        """The checkpoints of trees bigger than `size`, in order, as signed."""
        rows = self.db.query(
            f"SELECT note FROM {self.prefix}_checkpoints WHERE size > ? ORDER BY size", (size,)
        )
        return [parse_checkpoint(note) for (note,) in rows]

    def latest(self) -> Checkpoint | None:
        rows = self.db.query(
            f"SELECT note FROM {self.prefix}_checkpoints ORDER BY size DESC LIMIT 1"
        )
        return self.cosigned([parse_checkpoint(rows[0][0])])[0] if rows else None

    def checkpoint_at(self, size: int) -> Checkpoint | None:
        rows = self.db.query(f"SELECT note FROM {self.prefix}_checkpoints WHERE size = ?", (size,))
        return self.cosigned([parse_checkpoint(rows[0][0])])[0] if rows else None

    def add_cosignature(self, line: str, witness: Verifier, size: int) -> Checkpoint:
        """A witness's cosignature of the checkpoint of `size`, kept once it checks (the
        ledger's clock publishes it: `unpublished_cosignatures`); the checkpoint with it."""
        checkpoint = self.checkpoint_at(size)
        if checkpoint is None:
            raise NoteError(f"tidak ada titik periksa berukuran {size}")
        alone = msgspec.structs.replace(checkpoint, signatures=(line,))
        at = cosigned_by(alone, witness)
        data = signature_data(line, witness.name)
        if at is None or data is None:
            raise NoteError(f"kosignatur {witness.name} tidak sah untuk ukuran {size}")
        line = signature_line(witness.name, data)  # one line, as the format writes it
        with self.db.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.prefix}_cosignatures "
                "(size, witness, verifier, line, cosigned_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (size, witness) DO NOTHING",
                (size, witness.name, str(witness), line, at),
            )
        return checkpoint.with_signatures([line])

    def unpublished_cosignatures(self) -> list[tuple[int, str, str]]:
        """(size, witness, line) of the cosignatures not yet on the stream, oldest tree first."""
        rows = self.db.query(
            f"SELECT size, witness, line FROM {self.prefix}_cosignatures WHERE published = 0 "
            "ORDER BY size, witness"
        )
        return [(size, witness, line) for size, witness, line in rows]

    def mark_published(self, size: int, witness: str) -> None:
        with self.db.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.prefix}_cosignatures SET published = 1 "
                "WHERE size = ? AND witness = ?",
                (size, witness),
            )

    def witnesses(self) -> list[tuple[str, str, int, int]]:
        """Each witness: its verifier key, the largest size it cosigned, and when (Unix time)."""
        rows = self.db.query(
            "SELECT witness, verifier, MAX(size), MAX(cosigned_at) "
            f"FROM {self.prefix}_cosignatures GROUP BY witness, verifier ORDER BY witness"
        )
        return [(w, v, size, at) for w, v, size, at in rows]

    def size(self) -> int:
        """The number of leaves in the tree."""
        rows = self.db.query(f"SELECT frontier FROM {self.prefix}_tree WHERE id = 1")
        return Frontier.decode(bytes(rows[0][0])).size if rows else 0

    def leaves(self, start: int, stop: int) -> list[bytes]:
        rows = self.db.query(
            f"SELECT event_hash FROM {self.prefix}_entries "
            "WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
            (start, stop),
        )
        return [bytes(h) for (h,) in rows]

    def node(self, level: int, index: int) -> bytes:
        rows = self.db.query(
            f"SELECT hash FROM {self.prefix}_nodes WHERE level = ? AND node_index = ?",
            (level, index),
        )
        if not rows:
            raise LookupError(f"node {level}/{index} is not in the ledger")
        return bytes(rows[0][0])

    def leaf_at(self, position: int) -> tuple[int, bytes] | None:
        """The leaf index and hash of the event at `position`."""
        rows = self.db.query(
            f"SELECT leaf_index, event_hash FROM {self.prefix}_entries WHERE position = ?",
            (position,),
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def last_in(self, start: int, stop: int) -> tuple[int, bytes] | None:
        """The last position in [start, stop) with its chain (see `Ledger`)."""
        rows = self.db.query(
            f"SELECT position, chain FROM {self.prefix}_entries "
            "WHERE position >= ? AND position < ? ORDER BY position DESC LIMIT 1",
            (start, stop),
        )
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def rows_after(self, position: int, limit: int) -> list[LedgerRow]:
        """Up to `limit` rows past `position`, in order (see `Ledger`)."""
        rows = self.db.query(
            f"SELECT position, event_hash, chain FROM {self.prefix}_entries WHERE position > ? "
            "ORDER BY position LIMIT ?",
            (position, limit),
        )
        return [(p, bytes(h), bytes(c)) for p, h, c in rows]

    def last_position(self) -> int:
        """The last position chained (0: none yet)."""
        [(last,)] = self.db.query(f"SELECT COALESCE(MAX(position), 0) FROM {self.prefix}_entries")
        return last


class AccessLedgerView(LedgerView):
    """The access log's ledger (`services/audit/access.py`): the same tree, chain and signed
    checkpoints, over the accounts' events without their credentials, in tables of its own."""

    name = "akses"
    version = 1
    prefix = "akses"
    subject = ACCESS_SUBJECT
    schema = tuple(statement.format(p="akses") for statement in SCHEMA)
    tables = tuple(f"akses_{table}" for table in TABLES)


async def ensure_checkpoint_stream(nc: Client, replicas: int = 1) -> None:
    """The checkpoints' own stream: kept apart from the events, so a copy survives either."""
    js = nc.jetstream()
    subjects = [CHECKPOINT_SUBJECT, COSIGNATURE_SUBJECT, ACCESS_SUBJECT]
    try:
        info = await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=CHECKPOINT_STREAM,
                subjects=subjects,
                storage=StorageType.FILE,
                num_replicas=replicas,
            )
        )
        return
    if sorted(info.config.subjects or []) != sorted(subjects):  # a stream of an older Lacak
        info.config.subjects = subjects
        await js.update_stream(info.config)


async def publish_checkpoints(
    nc: Client, made: Sequence[Checkpoint], replicas: int = 1, view: type[LedgerView] = LedgerView
) -> None:
    """Each checkpoint's signed note on the checkpoint stream under its log's subject, once (a
    republish carries the same message id)."""
    if not made:
        return
    await ensure_checkpoint_stream(nc, replicas)
    js = nc.jetstream()
    for checkpoint in made:
        await js.publish(
            view.subject,
            checkpoint.note.encode(),
            stream=CHECKPOINT_STREAM,
            headers={"Nats-Msg-Id": f"{view.prefix}:{checkpoint.size}"},
        )


async def publish_cosignature(nc: Client, size: int, line: str, replicas: int = 1) -> None:
    await ensure_checkpoint_stream(nc, replicas)
    await nc.jetstream().publish(
        COSIGNATURE_SUBJECT,
        f"{size}\n{line}".encode(),
        stream=CHECKPOINT_STREAM,
        headers={"Nats-Msg-Id": f"cosignature:{size}:{hashlib.sha256(line.encode()).hexdigest()}"},
    )


def checkpoint_publisher(
    view: LedgerView, replicas: int = 1
) -> Callable[[Client, Changed], Awaitable[None]]:
    """After the ledger commits, publish the checkpoints it signed to the checkpoint stream."""

    async def publish(nc: Client, changed: Changed) -> None:
        made = await asyncio.to_thread(view.checkpoints_in, changed.after, changed.upto)
        await publish_checkpoints(nc, made, replicas, type(view))

    return publish


class StreamMessage(msgspec.Struct, frozen=True):
    seq: int
    subject: str
    data: bytes


async def stream_messages(nc: Client, count: int) -> list[StreamMessage]:
    """Every message of the checkpoint stream, through an ordered push consumer: one stream of
    deliveries, not a round trip each."""
    if count == 0:
        return []
    got: list[StreamMessage] = []
    done = asyncio.Event()

    async def take(message: Msg) -> None:
        got.append(StreamMessage(message.metadata.sequence.stream, message.subject, message.data))
        if message.metadata.num_pending == 0:
            done.set()

    subscription = await nc.jetstream().subscribe(
        f"{CHECKPOINT_SUBJECT.rsplit('.', 1)[0]}.>",
        stream=CHECKPOINT_STREAM,
        cb=take,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.ALL,
    )
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await subscription.unsubscribe()
    return got


async def last_published(nc: Client, subject: str = CHECKPOINT_SUBJECT) -> Checkpoint | None:
    """The last checkpoint of a log in the stream (None: none yet, or not one)."""
    try:
        message = await nc.jetstream().get_last_msg(CHECKPOINT_STREAM, subject)
    except NotFoundError:
        return None
    try:
        return parse_checkpoint(message.data.decode("utf-8", errors="replace"))
    except NoteError:
        return None


async def fetch_checkpoints(
    url: str, timeout: float = 5.0, subject: str = CHECKPOINT_SUBJECT
) -> list[Checkpoint] | None:
    """`stream_checkpoints` over a connection of its own (NatsError or OSError when NATS does
    not answer)."""
    nc = await connect_once(url, timeout)
    try:
        return await stream_checkpoints(nc, subject)
    finally:
        await nc.close()


async def stream_checkpoints(
    nc: Client, subject: str = CHECKPOINT_SUBJECT
) -> list[Checkpoint] | None:
    """Every checkpoint of one log (the custody ledger's, or the access log's: `subject`) in
    the checkpoint stream with the cosignatures published for it, in order of size; None when
    there is no such stream. Messages that are no checkpoint are skipped with a warning: the
    signatures are what `verify` checks. Witnesses cosign the custody ledger only."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(CHECKPOINT_STREAM)
    except NotFoundError:
        return None
    wanted = {subject, COSIGNATURE_SUBJECT} if subject == CHECKPOINT_SUBJECT else {subject}
    notes: dict[tuple[int, str], Checkpoint] = {}  # two trees of one size stay two
    cosignatures: dict[int, list[str]] = {}
    for message in await stream_messages(nc, info.state.messages):
        text = message.data.decode("utf-8", errors="replace")
        if message.subject not in wanted:
            continue  # another log's
        try:
            if message.subject == COSIGNATURE_SUBJECT:
                size, line = text.split("\n", 1)
                cosignatures.setdefault(int(size), []).append(line)
                continue
            checkpoint = parse_checkpoint(text)
        except (NoteError, ValueError):
            log.warning("%s message %d is no checkpoint", CHECKPOINT_STREAM, message.seq)
            continue
        key = (checkpoint.size, checkpoint.text)
        known = notes.get(key)
        notes[key] = known.with_signatures(checkpoint.signatures) if known else checkpoint
    kept = [c.with_signatures(cosignatures.get(c.size, ())) for c in notes.values()]
    return sorted(kept, key=lambda c: c.size)
