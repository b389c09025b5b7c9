"""`lacak demo` as a person runs it: it starts, serves the board, and stops cleanly."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.messaging.server import free_port


def monitor_session(port: int, accounts_file: Path) -> httpx.Cookies:
    """Log in as the demo's monitor, with the password the demo wrote (and printed)."""
    logins = {
        row.split("\t")[0]: row.split("\t") for row in accounts_file.read_text().split("\n") if row
    }
    _, username, password, _ = logins["monitor"]
    answer = httpx.post(
        f"http://127.0.0.1:{port}/masuk",
        timeout=5,
        data={"username": username, "password": password},
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
            except (httpx.HTTPError, FileNotFoundError):
                pass
            time.sleep(0.5)
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
