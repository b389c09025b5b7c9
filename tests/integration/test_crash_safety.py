"""SIGKILL the relay and the projector while scans pour in: nothing lost, nothing counted twice."""

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time

import msgspec
import pytest

from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.messaging.server import stop_process
from services.settings import Settings
from services.views.board.view import BoardView
from services.views.database import open_views
from tests.data import REGISTERED, SERANG
from tests.integration.counting import count_from_event_store, count_notifications
from tests.integration.test_relay_and_board import board_counts, scans_for, stream_message_ids

SCANS = 1200
TPS = 60


class Part:
    """One production process (`lacak relay`, `lacak project board`), killed and restarted."""

    def __init__(self, args: list[str], env: dict[str, str], log_path):
        self.args = [sys.executable, "-m", "services", *args]
        self.env = env
        self.log = open(log_path, "ab")  # noqa: SIM115 (kept open across restarts)
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, env=self.env, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.log.close()


@pytest.fixture
def parts(store_env: dict[str, str], tmp_path):
    env = {**os.environ, **store_env}
    running = [
        Part(["relay"], env, tmp_path / "relay.log"),
        Part(["project", "board"], env, tmp_path / "board.log"),
    ]
    yield running
    for part in running:
        part.stop()


def test_sigkilled_relay_and_projector_lose_nothing_and_count_nothing_twice(
    settings: Settings, parts: list[Part]
):
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=SERANG.tps[:TPS]))
    batches.register(plans, at=REGISTERED)
    scans = scans_for([p.label for p in plans], SCANS, seed=11)
    for part in parts:
        part.start()

    def send_scans() -> None:
        for scan in scans:
            batches.scan(scan)
            time.sleep(0.005)

    sender = threading.Thread(target=send_scans)
    sender.start()
    rng = random.Random(5)
    while sender.is_alive():
        time.sleep(rng.uniform(0.2, 0.6))
        part = rng.choice(parts)
        part.kill()
        time.sleep(rng.uniform(0.0, 0.2))
        part.start()
    sender.join()
    assert all(part.kills >= 3 for part in parts), [part.kills for part in parts]

    views = open_views(settings)
    board = BoardView(views)
    board.setup()  # the projector, just restarted, may not have made its tables yet
    expected = count_from_event_store(batches.recorder)
    stored = count_notifications(batches.recorder)
    deadline = time.monotonic() + 90
    while board.applied() < stored and time.monotonic() < deadline:
        time.sleep(0.2)
    assert board.applied() == stored  # each event applied once: none lost, none twice
    assert board_counts(board) == expected
    assert sum(row[1] for row in expected.values()) > 0
    everything = [f"Batches:{n}" for n in range(1, batches.recorder.max_notification_id() + 1)]
    ids = asyncio.run(stream_message_ids(settings.nats_url))
    while len(ids) < len(everything) and time.monotonic() < deadline:  # late scans that
        time.sleep(0.2)  # changed no count may still be on their way to the stream
        ids = asyncio.run(stream_message_ids(settings.nats_url))
    assert ids == everything
    views.close()
    batches.close()
