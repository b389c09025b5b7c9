"""`lacak bench verify` and `lacak bench replay`: auditors' work on a whole kabupaten's history.

The history is the full Kab. Serang scenario (about 262,000 events) recorded into a fresh SQLite
event store; the timings cover only the work measured, not the recording.
"""

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.audit.chain import verify
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


def bench_verify() -> None:
    with recorded_history() as settings:
        views = open_views(settings)
        ledger = LedgerView(views)
        ledger.setup()
        print("Building the ledger, as the projection would ...", file=sys.stderr)
        stored = list(read_store(settings))
        for start in range(0, len(stored), 5000):
            chunk = stored[start : start + 5000]  # the bytes as stored: what the relay publishes
            ledger.apply(chunk, stream_sequence=chunk[-1][0])
        checkpoints = ledger.checkpoints()

        started = time.perf_counter()
        report = verify(read_store(settings), ledger, checkpoints)
        seconds = time.perf_counter() - started

        started = time.perf_counter()
        raw = sum(1 for _ in read_store(settings))
        read_seconds = time.perf_counter() - started
        views.close()
    assert report.intact, report.findings
    print(
        f"verify: {report.events:,} events from the SQLite event store, "
        f"{len(checkpoints)} checkpoints"
    )
    print(
        f"  with the ledger read and compared: {report.events / seconds:10,.0f} events/s "
        f"({seconds:.2f} s)"
    )
    print(
        f"  reading the store alone:           {raw / read_seconds:10,.0f} events/s "
        f"({read_seconds:.2f} s)"
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
