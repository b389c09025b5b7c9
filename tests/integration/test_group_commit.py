"""Group commit on both stores: scans arriving together share one transaction, and yet each is
stored once, answered only after its commit, and decided again alone when another process saved
its batch first."""

import asyncio
import os
import signal
import subprocess
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import events
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.commit import Pending
from services.custody.errors import ConflictError, UnknownLabelError
from services.custody.plan import kit_plan
from services.demo.bench.common import bench_token
from services.demo.bench.faults import bench_wilayah
from services.demo.bench.scans import start_web
from services.demo.seed import seed_demo
from services.demo.simulation import scan_body
from services.messaging.server import stop_process
from services.settings import Settings
from services.store.notifications import read_store
from tests.data import ONE_TPS_PLANS, REGISTERED, SERANG


def dispatch(label: str, scan_id: str | None = None) -> Scan:
    return Scan(
        scan_id=scan_id or str(uuid.uuid4()),
        label=label,
        action="dispatch",
        location="36.04",
        occurred_at=datetime.now(UTC),
    )


NOT_A_SCAN = (events.AnomalyRaised, events.ScanVoided)  # they name a scan, they record none


def recorded_scan(event: object) -> str:
    """The scan id an event records ("" for none)."""
    return "" if isinstance(event, NOT_A_SCAN) else getattr(event, "scan_id", "")


def first_versions(history: list) -> dict[str, int]:
    """The version of the event that recorded each scan."""
    return {recorded_scan(e): e.originator_version for e in history if recorded_scan(e)}


def stored_scan_ids(settings: Settings) -> list[str]:
    """The scan id of every event in the store that records a scan, in store order."""
    return [s for _, state in read_store(settings) if (s := recorded_scan(events.decode(state)))]


def test_concurrent_scans_of_one_label_from_two_processes_are_each_stored_once(
    settings: Settings,
):
    """Two applications (two web processes) on one store, eight threads each, all scanning the
    same box, every scan sent twice: each scan answered is stored once, at the version its answer
    says, the box's versions run without a gap, and a scan refused for the contention (a 409:
    the device sends it again) is not stored unless a later send was answered."""
    first = Batches(settings.store, wilayah=SERANG)
    second = Batches(settings.store, wilayah=SERANG)
    try:
        first.register(ONE_TPS_PLANS, at=REGISTERED)
        label = ONE_TPS_PLANS[0].label
        scans = [dispatch(label) for _ in range(64)]
        answers: dict[str, int] = {}
        lock = threading.Lock()

        def send(app: Batches, mine: list[Scan]) -> None:
            for scan in mine + mine:  # every one retried
                try:
                    result = app.scan(scan)
                except ConflictError:
                    continue
                with lock:
                    assert answers.setdefault(scan.scan_id, result.version) == result.version

        threads = [
            threading.Thread(target=send, args=(second if n % 2 else first, scans[n::16]))
            for n in range(16)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        history = first.history(label)
        assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
        assert first_versions(history) == answers
        assert sorted(stored_scan_ids(settings)) == sorted(answers)
        assert len(answers) > len(scans) // 2
        assert first.queue.commands > first.queue.groups  # some shared a commit
    finally:
        first.close()
        second.close()


class Ticking:
    """A clock that moves a second each time it is read: which decision made an event shows."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_a_conflict_inside_a_group_decides_again_only_its_own_command(settings: Settings):
    clock = Ticking()
    mine = Batches(settings.store, wilayah=SERANG, clock=clock)
    other = Batches(settings.store, wilayah=SERANG)  # another web process
    try:
        mine.register(ONE_TPS_PLANS, at=REGISTERED)
        x, y, z = (plan.label for plan in ONE_TPS_PLANS[:3])
        for label in (x, y, z):  # this process now holds their states
            mine.scan(dispatch(label))
        other.scan(dispatch(x))  # ... and is behind on x
        group = [Pending([dispatch(label)], 1) for label in (x, y, z)]

        mine.queue.commit(group)

        answers = [item.future.result() for item in group]
        assert mine.redecided == 1
        times = {label: mine.history(label)[-1].recorded_at for label in (x, y, z)}
        assert times[y] < times[z] < times[x]  # x alone decided again, after the others
        assert [a[0].version for a in answers] == [4, 3, 3]  # x: registered, two dispatches
    finally:
        mine.close()
        other.close()


def test_a_refused_command_fails_alone_and_the_rest_of_its_group_is_kept(settings: Settings):
    batches = Batches(settings.store, wilayah=SERANG)
    try:
        batches.register(ONE_TPS_PLANS[:-1], at=REGISTERED)
        unknown = ONE_TPS_PLANS[-1].label  # never registered
        good = [dispatch(plan.label) for plan in ONE_TPS_PLANS[:2]]
        group = [
            Pending([good[0]], 1),
            Pending([dispatch(ONE_TPS_PLANS[2].label), dispatch(unknown)], 2),  # all or none
            Pending([good[1]], 1),
        ]

        batches.queue.commit(group)

        with pytest.raises(UnknownLabelError):
            group[1].future.result()
        assert [item.future.result()[0].scan_id for item in (group[0], group[2])] == [
            s.scan_id for s in good
        ]
        assert sorted(stored_scan_ids(settings)) == sorted(s.scan_id for s in good)
        assert len(batches.history(ONE_TPS_PLANS[2].label)) == 1  # registered, nothing more
    finally:
        batches.close()


WEB_TPS = 40


@contextmanager
def two_web_processes(store_env: dict[str, str], tmp_path, **extra: str):
    """`lacak web --workers 2` on a store seeded with the first TPS of Kab. Serang; yields its
    URL, a scanner's headers, the labels and the parent's pid."""
    settings = Settings.from_env(store_env)
    settings.make_folders()
    tree = bench_wilayah(WEB_TPS)
    seed_demo(settings, settings.data_dir, simulate=False, tree=tree)
    headers = bench_token(settings)
    web, port = start_web(settings, settings.nats_url, 2, tmp_path / "web.log", **extra)
    try:
        yield f"http://127.0.0.1:{port}", headers, [p.label for p in kit_plan(tree)], web.pid
    finally:
        stop_process(web)


def test_sigkill_of_a_web_process_in_the_middle_of_a_group_loses_no_acknowledged_scan(
    store_env: dict[str, str], tmp_path
):
    """Two web processes wait 200 ms to gather each group; one is SIGKILLed while scans pour
    in. Devices retry by scan id until answered: every scan answered 201 is stored, once."""
    settings = Settings.from_env(store_env)
    with two_web_processes(store_env, tmp_path, LACAK_COMMIT_WAIT_MS="200") as running:
        url, headers, labels, parent = running
        workers = [int(p) for p in subprocess.check_output(["pgrep", "-P", str(parent)]).split()]
        acknowledged, killed = asyncio.run(pour(url, headers, labels, workers[0]))
    assert killed, "the worker was not killed while scans were in flight"
    stored = stored_scan_ids(settings)
    assert len(stored) == len(set(stored))  # none twice
    assert acknowledged <= set(stored)  # none lost
    assert len(acknowledged) == len(labels)  # every scan answered in the end


def test_lacak_web_workers_set_in_the_environment_starts_workers_that_serve(
    store_env: dict[str, str], tmp_path
):
    """deploy/lacak.env.example sets LACAK_WEB_WORKERS=2: each worker inherited it and, as a
    parent again, failed to bind the address, restarted every second and never served."""
    with two_web_processes(store_env, tmp_path, LACAK_WEB_WORKERS="2") as running:
        url, headers, _, parent = running
        assert httpx.get(f"{url}/api/v1/board", headers=headers).status_code == 200
        workers = subprocess.check_output(["pgrep", "-P", str(parent)]).split()
    assert len(workers) == 2
    assert "exited" not in (tmp_path / "web.log").read_text()


def test_concurrent_posts_on_one_box_through_two_web_processes_are_each_stored_once(
    store_env: dict[str, str], tmp_path
):
    """48 devices post at once to one box through two web processes, each retrying a 409:
    every 201 is stored once, at the version its answer gave, and the versions run on."""
    settings = Settings.from_env(store_env)
    with two_web_processes(store_env, tmp_path) as (url, headers, labels, _):
        answers = asyncio.run(one_box(url, headers, labels[0], 48))
    batches = Batches(settings.store)
    try:
        history = batches.history(labels[0])
    finally:
        batches.close()
    assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
    assert first_versions(history) == answers and len(answers) == 48


async def one_box(url: str, headers: dict[str, str], label: str, devices: int) -> dict[str, int]:
    """Each device posts one scan of the box, again after a 409, until it is answered 201;
    the version each answer gave, by scan id."""
    answers: dict[str, int] = {}

    async def device(n: int) -> None:
        body = scan_body(label, "receive", "36.04.05") | {"scan_id": f"one-box-{n}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
            while True:
                answer = await client.post("/api/v1/scans", json=body)
                assert answer.status_code in (201, 409), answer.text
                if answer.status_code == 201:
                    answers[body["scan_id"]] = answer.json()["version"]
                    return

    await asyncio.gather(*(device(n) for n in range(devices)))
    return answers


async def pour(
    base_url: str, headers: dict[str, str], labels: list[str], victim: int
) -> tuple[set[str], bool]:
    """Post one dispatch per label from 32 devices, retrying each until it is answered 201;
    SIGKILL `victim` once 40 scans are acknowledged. The acknowledged scan ids."""
    todo = iter(labels)
    acknowledged: set[str] = set()
    killed = False

    async def device() -> None:
        nonlocal killed
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
            for label in todo:
                body = scan_body(label, "dispatch", "36.04") | {"scan_id": f"kill-{label}"}
                while True:
                    try:
                        answer = await client.post("/api/v1/scans", json=body)
                    except httpx.TransportError:  # the process died under it: again
                        await asyncio.sleep(0.1)
                        continue
                    assert answer.status_code in (201, 409), answer.text
                    if answer.status_code == 201:
                        acknowledged.add(body["scan_id"])
                        break
                    await asyncio.sleep(0.1)
                if len(acknowledged) >= 40 and not killed:
                    killed = True
                    os.kill(victim, signal.SIGKILL)

    await asyncio.gather(*(device() for _ in range(32)))
    return acknowledged, killed
