"""`lacak bench verify` and `lacak bench replay`: auditors' work on a whole kabupaten's history.

The history is the full Kab. Serang scenario (about 262,000 events) recorded into a fresh SQLite
event store; the timings cover only the work measured, not the recording.
"""

import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.audit.anchor import anchor
from services.audit.chain import verify
from services.audit.merkle import (
    TILE_LEVEL,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_inclusion,
)
from services.audit.note import Signer, parse_checkpoint
from services.audit.replay import decoded, replay_store
from services.console import progress
from services.custody.batches import Batches
from services.demo.scenario import record_scenario
from services.settings import Settings
from services.store.notifications import read_store
from services.views.database import open_views
from services.views.ledger import LedgerView


@contextmanager
def recorded_history() -> Iterator[Settings]:
    """A fresh SQLite store holding the whole Kab. Serang scenario."""
    with tempfile.TemporaryDirectory(prefix="lacak-bench-audit-") as tmp:
        settings = Settings.from_env({"LACAK_DATA_DIR": str(Path(tmp) / "lacak")})
        settings.make_folders()
        batches = Batches(settings.store)
        try:
            record_scenario(batches, lambda done, total: progress("Merekam", done, total))
        finally:
            batches.close()
        yield settings


def build_ledger(ledger: LedgerView, stored: list[tuple[int, bytes]]) -> float:
    """Apply the stored events in the projection's chunks; the seconds it took."""
    started = time.perf_counter()
    for start in range(0, len(stored), 5000):
        chunk = stored[start : start + 5000]  # the bytes as stored: what the relay publishes
        ledger.apply(chunk, stream_sequence=chunk[-1][0])
    return time.perf_counter() - started


def bench_verify() -> None:
    with recorded_history() as settings:
        stored = list(read_store(settings))
        print("Building the ledger, as the projection would ...", file=sys.stderr)
        plain_views = open_views(settings.replace(views_db=settings.data_dir / "plain.sqlite"))
        plain = LedgerView(plain_views)  # no key: the tree and chain alone
        plain.setup()
        plain_seconds = build_ledger(plain, stored)
        plain_views.close()
        views = open_views(settings)
        signer = Signer.generate(settings.ledger_origin)
        ledger = LedgerView(views, signer, settings.ledger_origin)  # a checkpoint per 1,000
        ledger.setup()
        signed_seconds = build_ledger(ledger, stored)
        ledger.checkpoint_seconds = 0.0  # the clock's checkpoint of the tail, as 10 s later
        ledger.sign_if_due()
        notes = [parse_checkpoint(c.note) for c in ledger.checkpoints()]

        started = time.perf_counter()
        anchored = anchor(notes, signer.verifier)
        report = verify(read_store(settings), ledger, anchored.checkpoints)
        seconds = time.perf_counter() - started

        started = time.perf_counter()
        raw = sum(1 for _ in read_store(settings))
        read_seconds = time.perf_counter() - started
        views.close()
    assert report.intact and not anchored.findings, (report.findings, anchored.findings)
    assert report.signed_upto == report.last_position
    print(
        f"verify: {report.events:,} events from the SQLite event store, "
        f"{len(anchored.checkpoints)} signed checkpoints (Ed25519, every 1,000 events)"
    )
    print(
        f"  signatures, tree and chain checked, ledger compared: "
        f"{report.events / seconds:10,.0f} events/s ({seconds:.2f} s)"
    )
    print(
        f"  reading the store alone:                              "
        f"{raw / read_seconds:10,.0f} events/s ({read_seconds:.2f} s)"
    )
    print(
        f"ledger projection (tree, chain, rows; SQLite views):   "
        f"{len(stored) / plain_seconds:10,.0f} events/s unsigned, "
        f"{len(stored) / signed_seconds:,.0f} events/s signing"
    )


def bench_proof(size: int, probes: int = 1000) -> None:
    """Inclusion and consistency proofs read from a ledger of `size` leaves (SQLite views): the
    tree is built straight into the ledger's tables from synthetic leaves, as the projection
    would have left them."""
    with tempfile.TemporaryDirectory(prefix="lacak-bench-proof-") as tmp:
        settings = Settings.from_env({"LACAK_DATA_DIR": str(Path(tmp) / "lacak")})
        settings.make_folders()
        views = open_views(settings)
        ledger = LedgerView(views)
        ledger.setup()
        frontier, started = Frontier(), time.perf_counter()
        for start in range(0, size, 100_000):
            entries, nodes = [], []
            for index in range(start, min(size, start + 100_000)):
                leaf = leaf_hash(index.to_bytes(8, "big"))
                entries.append((index + 1, index, leaf, leaf))
                nodes += [n for n in frontier.append(leaf) if n[0] >= TILE_LEVEL]
            with views.transaction() as cursor:
                cursor.executemany(
                    "INSERT INTO ledger_entries (position, leaf_index, event_hash, chain) "
                    "VALUES (?, ?, ?, ?)",
                    entries,
                )
                cursor.executemany(
                    "INSERT INTO ledger_nodes (level, node_index, hash) VALUES (?, ?, ?)", nodes
                )
            progress("Membangun pohon", min(size, start + 100_000), size)
        built = time.perf_counter() - started
        root, rng = frontier.root(), random.Random(9162)
        timings = []
        for _ in range(probes):
            index = rng.randrange(size)
            started = time.perf_counter()
            path = inclusion_proof(ledger, index, size)
            timings.append(time.perf_counter() - started)
            assert verify_inclusion(leaf_hash(index.to_bytes(8, "big")), index, size, path, root)
        consistency = []
        for _ in range(probes // 10):
            old = rng.randrange(1, size)
            started = time.perf_counter()
            consistency_proof(ledger, old, size)
            consistency.append(time.perf_counter() - started)
        views.close()
    timings.sort()
    consistency.sort()
    print(f"proof: a ledger of {size:,} leaves (built in {built:.0f} s), {probes} random leaves")
    print(
        f"  inclusion proof read from the views: p50 {1000 * timings[len(timings) // 2]:.2f} ms, "
        f"p99 {1000 * timings[int(len(timings) * 0.99)]:.2f} ms, "
        f"max {1000 * timings[-1]:.2f} ms ({len(path)} hashes)"
    )
    print(
        f"  consistency proof to the whole tree: p50 "
        f"{1000 * consistency[len(consistency) // 2]:.2f} ms, max {1000 * consistency[-1]:.2f} ms"
    )


def bench_replay() -> None:
    with recorded_history() as settings:
        started = time.perf_counter()
        raw = sum(1 for _ in decoded(read_store(settings)))
        raw_seconds = time.perf_counter() - started
        started = time.perf_counter()
        board, moment = replay_store(settings)
        replay_seconds = time.perf_counter() - started
        planned = board.area("36.04").planned
    raw_rate, replay_rate = raw / raw_seconds, moment.events / replay_seconds
    print(
        f"replay: {moment.events:,} events from the SQLite event store into the board "
        f"({planned:,} batches planned)"
    )
    print(f"  read and decode alone:   {raw_rate:10,.0f} events/s ({raw_seconds:.2f} s)")
    print(
        f"  replayed into the board: {replay_rate:10,.0f} events/s ({replay_seconds:.2f} s), "
        f"{100 * replay_rate / raw_rate:.0f}% of the raw rate"
    )
