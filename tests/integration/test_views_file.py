"""The views' SQLite file, opened by several processes at once, as `lacak demo` and a
production node start their web and projections together."""

import multiprocessing
from pathlib import Path

from services.views.database import SqliteViews


def open_views_file(path: str, start) -> None:
    start.wait(10)  # all at the same moment
    views = SqliteViews(Path(path))
    views.create(["CREATE TABLE IF NOT EXISTS t (x INTEGER)"])
    views.close()


def test_processes_opening_a_new_views_file_together_all_start(tmp_path: Path):
    """Converting a new file to WAL, the losers of the race were told "database is locked"
    at once (a projection then stopped the whole demo); this failed in its first rounds."""
    fork = multiprocessing.get_context("fork")
    for round_ in range(30):
        path, start = str(tmp_path / f"views-{round_}.sqlite"), fork.Barrier(6)
        processes = [fork.Process(target=open_views_file, args=(path, start)) for _ in range(6)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        assert [p.exitcode for p in processes] == [0] * 6, f"round {round_}"
