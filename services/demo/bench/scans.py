"""`lacak bench scans`: scans per second through the device API, and scan-to-board delay.

It starts `lacak demo` in its own process on a fresh data folder (so the load generator does not
share the server's interpreter), then measures from outside, as a device and a board would.
"""

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from services.accounts.application import open_accounts
from services.custody.plan import kit_plan
from services.demo.serang import kabupaten_serang
from services.demo.simulation import scan_body
from services.messaging.server import free_port
from services.settings import Settings
from services.wilayah import kecamatan_of


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_token(settings: Settings) -> dict[str, str]:
    """Headers with a scanner token of a `bench` admin: the benchmarks post as devices do."""
    accounts = open_accounts(settings)
    try:
        if accounts.user("bench") is None:
            accounts.create_user("bench", "Benchmark", "admin", "", secrets.token_urlsafe(16))
        _, token = accounts.issue_device("bench", "bench", "", by="bench")
    finally:
        accounts.close()
    return {"authorization": f"Bearer {token}"}


async def throughput(
    base_url: str, count: int, concurrency: int, headers: dict[str, str]
) -> tuple[float, list[float]]:
    """Dispatch scans of distinct boxes from `concurrency` clients; scans/s and latencies."""
    serang = kabupaten_serang()
    labels = [plan.label for plan in kit_plan(serang)][:count]
    queue: asyncio.Queue[str] = asyncio.Queue()
    for label in labels:
        queue.put_nowait(label)
    latencies: list[float] = []

    async def device(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            label = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/scans", json=scan_body(label, "dispatch", "36.04")
            )
            response.raise_for_status()
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, limits=limits, headers=headers
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(device(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(labels) / elapsed, latencies


async def board_delay(base_url: str, samples: int, headers: dict[str, str]) -> list[float]:
    """Post one receipt at a time and time it until its kecamatan row arrives on the stream."""
    serang = kabupaten_serang()
    first_label = {}
    for plan in kit_plan(serang):
        first_label.setdefault(plan.destination, plan.label)
    delays: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as client:
        async with client.stream("GET", "/board/stream") as stream:
            lines = stream.aiter_lines()
            async for line in lines:  # the stream opens with every row: let that pass
                if line.startswith("data: ") and 'id="total"' in line:
                    break
            for tps in serang.tps[-samples:]:
                kecamatan = kecamatan_of(tps.code)
                row = 'id="kecamatan-' + kecamatan.replace(".", "") + '"'
                body = scan_body(first_label[tps.code], "receive", kecamatan)
                started = time.perf_counter()
                (await client.post("/api/v1/scans", json=body)).raise_for_status()
                async for line in lines:
                    if line.startswith("data: ") and row in line:
                        break
                delays.append(time.perf_counter() - started)
                async for line in lines:  # the rest of this message, then let the stream settle
                    if not line:
                        break
                await asyncio.sleep(0.05)
    return delays


def start_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`lacak demo` once its board shows every batch; and headers to use its API with."""
    log = open(data_dir / "demo.log", "wb")  # noqa: SIM115 (the child writes to it until stopped)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services",
            "demo",
            "--data-dir",
            str(data_dir / "lacak"),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=log,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 120
    headers: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            if not headers and (data_dir / "lacak" / "akun-demo.txt").exists():  # accounts made
                headers = bench_token(
                    Settings.from_env({"LACAK_DATA_DIR": str(data_dir / "lacak")})
                )
            board = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/board", timeout=2, headers=headers
            ).json()
            if board["kabupaten"]["planned"] == len(kit_plan(kabupaten_serang())):
                return process, headers
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"lacak demo exited; see {data_dir / 'demo.log'}")
        time.sleep(0.5)
    process.terminate()
    raise TimeoutError("lacak demo was not ready in 120 s")


def bench_scans(count: int, concurrency: int, samples: int) -> None:
    with tempfile.TemporaryDirectory(prefix="lacak-bench-") as tmp:
        port = free_port()
        print("Starting lacak demo (SQLite, private nats-server) ...", file=sys.stderr)
        demo, headers = start_demo(Path(tmp), port)
        base_url = f"http://127.0.0.1:{port}"
        try:
            rate, latencies = asyncio.run(throughput(base_url, count, concurrency, headers))
            delays = asyncio.run(board_delay(base_url, samples, headers))
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    ms = 1000
    print(f"scans through POST /api/v1/scans: {count} from {concurrency} clients")
    print(f"  throughput       {rate:8.1f} scans/s")
    print(f"  latency p50      {statistics.median(latencies) * ms:8.1f} ms")
    print(f"  latency p99      {percentile(latencies, 0.99) * ms:8.1f} ms")
    print(f"scan to board row (SSE), {samples} receipts one at a time:")
    print(f"  delay p50        {statistics.median(delays) * ms:8.1f} ms")
    print(f"  delay p99        {percentile(delays, 0.99) * ms:8.1f} ms")
    print(f"  delay max        {max(delays) * ms:8.1f} ms")
