"""The whole Kabupaten Serang scenario, recorded once in SQLite for every test that needs it."""

import shutil
import time
from pathlib import Path

import msgspec
import pytest

from services.custody.batches import Batches, BatchPlan
from services.demo.scenario import Injected, record_scenario
from services.settings import Settings


class RecordedSerang(msgspec.Struct, frozen=True, kw_only=True):
    store: Path  # the SQLite event store file, closed
    plans: list[BatchPlan]
    injected: Injected
    seconds: float  # how long the recording took

    def copy_to(self, settings: Settings) -> None:
        """A test's own copy of the recorded store, where its settings look for it."""
        target = Path(settings.store["SQLITE_DBNAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            source = self.store.with_name(self.store.name + suffix)
            if source.exists():
                shutil.copyfile(source, target.with_name(target.name + suffix))


@pytest.fixture(scope="session")
def serang_sqlite(tmp_path_factory: pytest.TempPathFactory) -> RecordedSerang:
    """Import, kit plan, every journey and the H-1 check, recorded once (about a minute)."""
    settings = Settings.from_env({"LACAK_DATA_DIR": str(tmp_path_factory.mktemp("serang"))})
    settings.make_folders()
    started = time.perf_counter()
    batches = Batches(settings.store)
    _, plans, injected = record_scenario(batches)
    batches.close()
    return RecordedSerang(
        store=Path(settings.store["SQLITE_DBNAME"]),
        plans=plans,
        injected=injected,
        seconds=time.perf_counter() - started,
    )
