"""`verify`: the custody store, or an export, recomputed and compared with the ledger and with
the signed checkpoints; it names the first position that differs.

Two structures are recomputed over each event's bytes (those the store holds, the one codec's
JSON, as the relay publishes them), in notification order. The Merkle tree of RFC 9162
(`services/audit/merkle.py`) is what the signed checkpoints vouch for: its root at each
checkpoint's size must be the signed one. The hash chain, chain[p] = SHA-256(chain[previous] ||
p as 8 bytes || bytes[p]) from 32 zero bytes, is compared with the ledger view's once per block
and names the first event that differs; each event's leaf hash, SHA-256(0x00 || bytes[p]),
tells a moved event from a changed one.
"""

import bisect
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal, Protocol

import msgspec

import events
from services import bahasa
from services.audit.merkle import Frontier, leaf_hash
from services.audit.note import Checkpoint

GENESIS = bytes(32)
LedgerRow = tuple[int, bytes, bytes]  # position, event hash, chain


def chained(
    entries: Iterable[tuple[int, bytes]], previous: bytes = GENESIS
) -> Iterator[tuple[int, bytes, bytes]]:
    """(position, canonical bytes) -> (position, leaf hash, chain)."""
    for position, data in entries:
        leaf = leaf_hash(data)
        previous = link(previous, position, leaf)
        yield position, leaf, previous


def link(previous: bytes, position: int, leaf: bytes) -> bytes:
    """The chain at `position`: the one before it, the position, and the event's leaf hash (so
    each event's bytes are hashed once, for the tree and the chain alike)."""
    return hashlib.sha256(previous + position.to_bytes(8, "big") + leaf).digest()


class CheckpointFile(msgspec.Struct, frozen=True, kw_only=True):
    """What an auditor keeps: the signed checkpoints (C2SP notes) and the log's key."""

    algorithm: str = "rfc9162-sha256+ed25519"
    source: str  # where the checkpoints came from
    log_key: str | None = None  # the ledger's verifier key, as published
    checkpoints: list[str]  # signed notes, with the cosignatures they had


FindingKind = Literal[
    "changed", "removed", "inserted", "reordered", "checkpoint", "extra", "ledger", "unsigned"
]


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
            return Finding(kind="removed", position=p_exp, detail=bahasa.FINDINGS["removed"])
        if p_act < p_exp:
            return Finding(kind="inserted", position=p_act, detail=bahasa.FINDINGS["inserted"])
        if next_exp and next_act and (h_act, next_act[1]) == (next_exp[1], h_exp):
            return Finding(
                kind="reordered",
                position=p_exp,
                detail=bahasa.FINDINGS["reordered"].format(position=next_exp[0]),
            )
        if next_exp and h_act == next_exp[1]:  # the rest moved up a position
            return Finding(
                kind="removed", position=p_exp, detail=bahasa.FINDINGS["removed_shifted"]
            )
        if next_act and next_act[1] == h_exp:  # the rest moved down a position
            return Finding(
                kind="inserted", position=p_act, detail=bahasa.FINDINGS["inserted_shifted"]
            )
        return Finding(kind="changed", position=p_exp, detail=bahasa.FINDINGS["changed"])
    if len(actual) < len(expected):
        return Finding(
            kind="removed", position=expected[len(actual)][0], detail=bahasa.FINDINGS["removed"]
        )
    return None


def checkpoint_findings(
    trees: dict[int, tuple[bytes, int]], checkpoints: Iterable[Checkpoint]
) -> list[Finding]:
    """Every signed checkpoint the recomputed tree does not reach: its size has no event, or
    the root or the last position at its size is not the signed one. `trees` holds the root and
    the last position at each size recomputed."""
    findings = []
    for checkpoint in checkpoints:
        tree = trees.get(checkpoint.size)
        if tree is None:
            detail = bahasa.FINDINGS["checkpoint_gone"].format(size=checkpoint.size)
        elif tree != (checkpoint.root, checkpoint.position):
            detail = bahasa.FINDINGS["checkpoint_differs"].format(size=checkpoint.size)
        else:
            continue
        findings.append(Finding(kind="checkpoint", position=checkpoint.position, detail=detail))
    return findings


def canonical(data: bytes) -> bytes:
    """The codec's bytes of a stored event today (they differ from the stored ones for an event
    written before a field was added). A ledger made while the relay re-encoded events hashed
    these: `verify` tries them where the stored bytes do not match."""
    return events.encode(events.decode(data))


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
    """The chain and the tree recomputed from the events, with the tree's root and last position
    kept at each checkpoint's size."""

    def __init__(self, wanted: set[int], block: int, progress: Callable[[int], None] | None):
        self.wanted, self.block, self.progress = wanted, block, progress
        self.chain, self.events, self.position = GENESIS, 0, 0
        self.frontier = Frontier()
        self.trees: dict[int, tuple[bytes, int]] = {}

    def saved(self) -> tuple[bytes, int, int, Frontier]:
        frontier = Frontier(self.frontier.size, self.frontier.hashes)
        return self.chain, self.events, self.position, frontier

    def restore(self, saved: tuple[bytes, int, int, Frontier]) -> None:
        self.chain, self.events, self.position, self.frontier = saved

    def grow(self, position: int, leaf: bytes) -> None:
        """Add one leaf to the tree; keep its root where a checkpoint wants it."""
        frontier = self.frontier
        frontier.append(leaf)
        if frontier.size in self.wanted:
            self.trees[frontier.size] = (frontier.root(), position)

    def chain_block(
        self, first: tuple[int, bytes], rows: Iterator[tuple[int, bytes]]
    ) -> tuple[list[tuple[int, bytes]], tuple[int, bytes] | None]:
        """Chain `first` and the rows after it in its block, each a leaf of the tree too; those
        rows, and the next block's first row. The hot loop of `verify`: written out by hand."""
        sha256, wanted, trees, frontier = hashlib.sha256, self.wanted, self.trees, self.frontier
        hashes, size = frontier.hashes, frontier.size
        stop = (first[0] // self.block + 1) * self.block
        held, chain, following = [], self.chain, None
        for row in itertools.chain((first,), rows):
            position, data = row
            if position >= stop:
                following = row
                break
            held.append(row)
            leaf = sha256(b"\x00" + data).digest()
            chain = sha256(chain + position.to_bytes(8, "big") + leaf).digest()
            hashes.append(leaf)  # Frontier.append, inline
            merging = size
            while merging & 1:
                right = hashes.pop()
                hashes[-1] = sha256(b"\x01" + hashes[-1] + right).digest()
                merging >>= 1
            size += 1
            if size in wanted:
                frontier.size = size
                trees[size] = (frontier.root(), position)
        frontier.size = size
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
            leaf = leaf_hash(data)
            chain = link(self.chain, position, leaf)
            row = expected[n] if n < len(expected) else None
            if row is not None and row[0] == position and row[2] != chain:
                again = leaf_hash(canonical_or_same(data))
                if link(self.chain, position, again) == row[2]:  # older code's bytes, same event
                    leaf, chain, data = (
                        again,
                        link(self.chain, position, again),
                        canonical_or_same(data),
                    )
            self.chain, self.position = chain, position
            self.events += 1
            self.grow(position, leaf)
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
    size: int = 0  # of the recomputed tree
    root: str = ""  # its root, hex
    findings: list[Finding]
    checkpoints_checked: int
    signed_upto: int = 0  # the last position a signed checkpoint that checks vouches for
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
    """Recompute the tree and the chain over `actual` (position, bytes); compare the chain with
    the ledger's, the tree with every signed checkpoint (their signatures checked before:
    `services.audit.anchor`); name the first difference and every checkpoint that fails.

    The chain is cumulative: where it equals the ledger's at a position, every event up to there
    is as the ledger saw it. So the chains are compared at the end of each block of `block`
    positions, and only a block where they differ is compared event by event to name the first
    difference. Reading the whole ledger to compare every position would cost more than the
    hashing itself."""
    source = RecordedLedger(ledger) if isinstance(ledger, Sequence) else ledger
    recomputed = Recomputation({c.size for c in checkpoints}, block, progress)
    rows = iter(actual)
    following = next(rows, None)
    difference: Finding | None = None
    while following is not None:
        if source is None or difference is not None:  # go on, for the checkpoints and head
            _, following = recomputed.chain_block(following, rows)
            continue
        matched = recomputed.saved()
        start = following[0] // block * block
        held, after = recomputed.chain_block(following, rows)
        ours = (recomputed.position, recomputed.chain)
        if source.last_in(start, start + block) == ours:
            following = after
            continue
        recomputed.restore(matched)
        rows = itertools.chain(held[1:], (after,) if after else (), rows)
        difference, rows = recomputed.compare_block(held[0], rows, source)
        following = next(rows, None)
    if (
        source is not None
        and difference is None
        and (left := source.rows_after(recomputed.position, 1))
    ):
        # the ledger goes on past the last event
        difference = Finding(kind="removed", position=left[0][0], detail=bahasa.FINDINGS["removed"])
    findings = [difference] if difference else []
    failed = checkpoint_findings(recomputed.trees, checkpoints)
    findings += failed
    failed_at = {f.position for f in failed}
    good = [c.position for c in checkpoints if c.position not in failed_at]
    return Report(
        events=recomputed.events,
        last_position=recomputed.position,
        head=recomputed.chain.hex(),
        size=recomputed.frontier.size,
        root=recomputed.frontier.root().hex(),
        findings=findings,
        checkpoints_checked=len(checkpoints),
        signed_upto=max(good, default=0),
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
            detail=bahasa.FINDINGS["extra"],
        )
    known = {h for _, h, _ in expected}
    hashes = []
    for position, data in actual:
        event_hash = leaf_hash(data)
        if event_hash not in known:
            event_hash = leaf_hash(canonical_or_same(data))
        hashes.append((position, event_hash))
    found = first_difference([(p, h) for p, h, _ in expected], hashes)
    return found or Finding(
        kind="changed", position=expected[0][0], detail=bahasa.FINDINGS["changed"]
    )
