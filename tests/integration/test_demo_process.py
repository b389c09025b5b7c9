"""`lacak demo` as a person runs it: it starts, serves the board, and stops cleanly."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.demo.simulation import simulate
from services.messaging.server import free_port
from tests.data import ONE_TPS, REGISTERED
from tests.web.signin import login_token_of


def monitor_session(port: int, accounts_file: Path) -> httpx.Cookies:
    """Log in as the demo's monitor, with the password the demo wrote (and printed)."""
    logins = {
        row.split("\t")[0]: row.split("\t") for row in accounts_file.read_text().split("\n") if row
    }
    _, username, password, _ = logins["monitor"]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as browser:
        token = login_token_of(browser.get("/masuk").text)
        answer = browser.post(
            "/masuk", data={"username": username, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
        return answer.cookies


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_the_demo_serves_the_seeded_board_and_stops_its_nats_server_on_a_signal(
    tmp_path, stop_signal
):
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services",
            "demo",
            "--data-dir",
            str(tmp_path / "lacak"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        planned = -1
        # 5 kotak suara, a bundle of bilik and one of tinta a TPS; the SIGINT run stops as soon as
        # the board answers (the seeded board is the SIGTERM run's to wait for)
        seeded = 4_425 * 7 if stop_signal == signal.SIGTERM else None
        cookies = None
        while planned != seeded and not (seeded is None and planned >= 0):
            assert time.monotonic() < deadline, "the demo board never showed the seeded boxes"
            assert demo.poll() is None, "the demo exited"
            try:
                cookies = cookies or monitor_session(port, tmp_path / "lacak" / "akun-demo.txt")
                board = httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/board", timeout=2, cookies=cookies
                ).json()
                planned = board["kabupaten"]["planned"]
                deadline_of_h1 = datetime.fromisoformat(board["deadline"])
            except (httpx.HTTPError, FileNotFoundError):
                pass
            time.sleep(0.5)
        # Bawaslu's three findings of the demo: two open; the monitor's notices tell of all three
        while stop_signal == signal.SIGTERM:
            assert time.monotonic() < deadline, "the demo's findings never reached the board"
            board = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/board", timeout=2, cookies=cookies
            ).json()
            notices = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/notices", timeout=2, cookies=cookies
            ).json()
            if board["kabupaten"]["findings"]["open"] == 2 and len(notices) == 3:
                break
            time.sleep(0.5)
        # the demo's calendar: voting a week after its first start, so nothing is late yet
        now = datetime.now(UTC)
        assert now + timedelta(days=5) < deadline_of_h1 < now + timedelta(days=8)
        assert board["kabupaten"]["at_risk"] == 0
        [nats_server] = children_of(demo.pid)
        with httpx.stream(
            "GET", f"http://127.0.0.1:{port}/board/stream", timeout=10, cookies=cookies
        ) as stream:
            next(stream.iter_lines())  # a browser is watching while the demo is stopped
            started = time.monotonic()
            demo.send_signal(stop_signal)
            demo.wait(timeout=15)
        print(f"\ndemo stopped {time.monotonic() - started:.1f} s after {stop_signal.name}")
    finally:
        if demo.poll() is None:
            demo.kill()
    time.sleep(0.5)
    assert subprocess.run(["kill", "-0", str(nats_server)], capture_output=True).returncode != 0


@contextmanager
def running_demo(
    data_dir: Path, port: int, log: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`lacak demo` as a terminal starts it: its own process group, its output to `log` (not a
    terminal), once it has printed its accounts; its whole group killed if still there after."""
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "services", "demo", "--data-dir", str(data_dir),
             "--port", str(port), *options],
            stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while b"Ctrl-C" not in log.read_bytes():
            assert time.monotonic() < deadline and demo.poll() is None, log.read_text()
            time.sleep(0.2)
        yield demo
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


def ctrl_c(demo: subprocess.Popen[bytes]) -> int:
    """SIGINT to the demo's whole process group, as a terminal's Ctrl-C sends it."""
    os.killpg(demo.pid, signal.SIGINT)
    return demo.wait(timeout=30)


def test_a_restarted_demo_registers_nothing_and_stops_quietly_in_the_middle_of_its_simulation(
    tmp_path,
):
    data, first, second = tmp_path / "lacak", tmp_path / "first.log", tmp_path / "second.log"
    with running_demo(data, free_port(), first) as demo:
        assert ctrl_c(demo) == 0
    said = first.read_text()
    assert "30.975 kiriman terdaftar" in said and "Mendaftarkan kiriman: 30.975/30.975" in said
    port = free_port()
    with running_demo(data, port, second, "--simulate", "--speed", "200") as demo:
        deadline, packed, cookies = time.monotonic() + 60, 0, None
        while packed < 20:  # the simulation is under way
            assert time.monotonic() < deadline, "the simulation recorded nothing"
            time.sleep(0.5)
            try:
                cookies = cookies or monitor_session(port, data / "akun-demo.txt")
                board = httpx.get(f"http://127.0.0.1:{port}/api/v1/board", cookies=cookies)
                packed = board.json()["kabupaten"]["packed"]
            except httpx.TransportError:  # not listening yet
                pass
        assert ctrl_c(demo) == 0
    said = second.read_text()
    assert "Mendaftarkan" not in said and "terdaftar" not in said  # nothing was registered
    assert "\r" not in first.read_text() + said  # no progress bar drawn into a file
    assert not [line for line in said.splitlines() if line.startswith(("WARNING", "ERROR"))], said
    assert "Traceback" not in said


async def test_the_simulation_takes_boxes_all_the_way_to_their_tps_through_the_api(live_lacak):
    plans = kit_plan(ONE_TPS)
    batches = Batches(live_lacak.settings.store, wilayah=ONE_TPS)
    batches.register(plans, at=REGISTERED)
    batches.close()
    token = live_lacak.api.headers["authorization"].removeprefix("Bearer ")
    await simulate(live_lacak.base_url, ONE_TPS, 500, asyncio.Event(), token)
    deadline = time.monotonic() + 30
    while True:
        board = live_lacak.api.get(f"/api/v1/board?area={ONE_TPS.tps[0].code}").json()
        if board["tps"]["delivered"] == len(plans) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert board["tps"]["delivered"] == len(plans)  # every box of the TPS is there
    history = live_lacak.api.get(f"/api/v1/batches/{plans[0].label}/timeline").json()
    assert [e["event"] for e in history["entries"]][:3] == [
        "BatchRegistered",
        "BatchPacked",
        "BatchSealed",
    ]
    assert all(e["who"] for e in history["entries"][1:])  # every scan names its officer
