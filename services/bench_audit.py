"""`lacak bench verify` (and `replay`): auditors' work on a whole kabupaten's history.

The history is the full Kab. Serang scenario (about 262,000 events) recorded into a fresh SQLite
event store; the timings cover only the work measured, not the recording.
"""

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.batches import Batches
from services.cli import progress
from services.ledger import LedgerView, canonical, read_store, verify
from services.scenario import record_scenario
from services.settings import Settings
from services.viewdb import open_views


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
            chunk = [(p, canonical(data)) for p, data in stored[start : start + 5000]]
            ledger.apply(chunk, stream_sequence=chunk[-1][0])
        checkpoints = ledger.checkpoints()

        started = time.perf_counter()
        expected = ledger.entries()
        report = verify(read_store(settings), expected, checkpoints)
        seconds = time.perf_counter() - started

        started = time.perf_counter()
        raw = sum(1 for _ in read_store(settings))
        read_seconds = time.perf_counter() - started
        views.close()
    assert report.intact, report.findings
    print(f"verify: {report.events:,} events from the SQLite event store, "
          f"{len(checkpoints)} checkpoints")  # fmt: skip
    print(f"  with the ledger read and compared: {report.events / seconds:10,.0f} events/s "
          f"({seconds:.2f} s)")  # fmt: skip
    print(f"  reading the store alone:           {raw / read_seconds:10,.0f} events/s "
          f"({read_seconds:.2f} s)")  # fmt: skip
