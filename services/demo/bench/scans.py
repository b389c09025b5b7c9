"""`lacak bench scans`: scans per second through the device API, against the in-process rate.

On a fresh store (SQLite in a temporary folder, or a schema of its own on the settings'
PostgreSQL) with Kabupaten Serang's kit registered, it first times `Batches.scan` called in this
process on one thread: what the application does with no HTTP at all. Then it starts `lacak web`
with `--workers` processes and a private nats-server, and a load generator in a process of its
own (`load.py`) posts dispatches of distinct boxes from 16, 64 and 256 clients at once (or queues
of 1,000 scans, `--queue`). Every answer must be a 201: each one means the scan was committed.
"""

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from services.cluster import until_ready
from services.console import Refused
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.demo.bench.common import bench_store, bench_token, percentile
from services.demo.bench.load import Load, Result
from services.messaging.server import EmbeddedNats, die_with_parent, free_port
from services.settings import Settings
from services.wilayah import Wilayah

QUEUE_SIZE = 1000  # scans in one queue upload: the API's most
IN_PROCESS_SCANS = 2000


class Measured(msgspec.Struct, frozen=True):
    """One load: how many scans, how fast, how long each request waited."""

    what: str
    scans: int
    per_second: float
    p50_ms: float
    p99_ms: float
    failed: int  # answers other than 201, and requests a broken connection never answered


def measured(what: str, scans: int, elapsed: float, latencies: list[float], failed: int):
    return Measured(
        what=what,
        scans=scans,
        per_second=scans / elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        failed=failed,
    )


def seeded(settings: Settings) -> tuple[Wilayah, list[str]]:
    """Kabupaten Serang's master data and kit plan in the fresh store; the labels, in order."""
    from services.custody.plan import kit_plan
    from services.demo.seed import seed_demo

    settings.make_folders()
    wilayah, _, _ = seed_demo(settings, settings.data_dir, simulate=False)
    assert isinstance(wilayah, Wilayah)  # a fresh store: one kabupaten, its tree
    return wilayah, [plan.label for plan in kit_plan(wilayah)]


def dispatch(label: str, n: int) -> dict[str, object]:
    """A dispatch of the box from the gudang, as a device sends it."""
    return {
        "scan_id": f"bench-{n}-{label}",
        "label": label,
        "action": "dispatch",
        "location": label[:2] + "." + label[2:4],
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def in_process(settings: Settings, wilayah: Wilayah, labels: list[str]) -> Measured:
    """`Batches.scan` called here on one thread, scan after scan, each its own commit."""
    batches = Batches(settings.store, wilayah=wilayah)
    latencies = []
    try:
        started = time.perf_counter()
        for n, label in enumerate(labels):
            scan = msgspec.convert(dispatch(label, n), Scan)
            begun = time.perf_counter()
            batches.scan(scan)
            latencies.append(time.perf_counter() - begun)
        elapsed = time.perf_counter() - started
    finally:
        batches.close()
    return measured("in process, 1 thread", len(labels), elapsed, latencies, 0)


def start_web(
    settings: Settings, nats_url: str, workers: int, log: Path, **extra: str
) -> tuple[subprocess.Popen, int]:
    """`lacak web --workers` on a free port (with `extra` settings) once it answers; the
    process and its port."""
    port = free_port()
    env = {
        **os.environ,
        **settings.store,
        "LACAK_DATA_DIR": str(settings.data_dir),
        "LACAK_NATS_URL": nats_url,
        "LACAK_PORT": str(port),
        "LACAK_HOST": "127.0.0.1",
        **extra,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services", "web", "--workers", str(workers)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )
    said = until_ready(f"http://127.0.0.1:{port}/healthz", 60)
    if said is not None:
        process.kill()
        raise RuntimeError(f"lacak web did not start ({said}); see {log}")
    return process, port


def generate(port: int, path: str, headers: dict[str, str], bodies: list[bytes], clients: int):
    """Run the load generator in its own process; its result."""
    load = Load("127.0.0.1", [port], path, headers, bodies, clients)
    answer = subprocess.run(
        [sys.executable, "-m", "services.demo.bench.load"],
        input=msgspec.msgpack.encode(load),
        capture_output=True,
        check=True,
    )
    return msgspec.msgpack.decode(answer.stdout, type=Result)


def over_http(
    port: int, headers: dict[str, str], labels: list[str], clients: int, queue: bool, start: int
) -> Measured:
    encode = msgspec.json.encode
    if queue:
        scans = [dispatch(label, start + n) for n, label in enumerate(labels)]
        bodies = [encode(scans[i : i + QUEUE_SIZE]) for i in range(0, len(scans), QUEUE_SIZE)]
        path, per_request = "/api/v1/scans/queue", QUEUE_SIZE
    else:
        bodies = [encode(dispatch(label, start + n)) for n, label in enumerate(labels)]
        path, per_request = "/api/v1/scans", 1
    result = generate(port, path, headers, bodies, clients)
    failed = len(bodies) - result.statuses.get(201, 0)
    if result.errors or failed:
        print(f"  ! {failed} not 201: {result.statuses} {result.errors}", file=sys.stderr)
    what = f"HTTP, {clients} clients" + (f", queues of {per_request}" if queue else "")
    return measured(what, len(labels), result.elapsed, result.latencies, failed)


def bench_scans(
    store: str, workers: int, clients: list[int], count: int, queue: bool
) -> list[Measured]:
    """The whole run; its rows, printed as they come."""
    with bench_store(store, "lacak bench scans") as settings:
        name = "PostgreSQL" if settings.postgres else "SQLite"
        print(f"Menyiapkan {name}: Kabupaten Serang dan rencana kitnya ...", file=sys.stderr)
        wilayah, labels = seeded(settings)
        per_load = count if not queue else max(QUEUE_SIZE, count - count % QUEUE_SIZE)
        needed = IN_PROCESS_SCANS + per_load * len(clients)
        if needed > len(labels):
            raise Refused(f"--count terlalu besar: perlu {needed:,} kotak, ada {len(labels):,}")
        rows = [in_process(settings, wilayah, labels[:IN_PROCESS_SCANS])]
        print_row(rows[0])
        headers = bench_token(settings)
        nats = EmbeddedNats(settings.data_dir / "nats", port=free_port())
        nats.start()
        web = None
        try:
            web, port = start_web(settings, nats.url, workers, settings.data_dir / "web.log")
            start = IN_PROCESS_SCANS
            for n in clients:
                rows.append(
                    over_http(port, headers, labels[start : start + per_load], n, queue, start)
                )
                print_row(rows[-1])
                start += per_load
        finally:
            if web is not None:
                web.terminate()
                web.wait(30)
            nats.stop()
    return rows


def print_row(row: Measured) -> None:
    print(
        f"  {row.what:<32} {row.scans:>7,} scans {row.per_second:>8,.0f}/s "
        f"p50 {row.p50_ms:7.1f} ms  p99 {row.p99_ms:7.1f} ms"
        + (f"  GAGAL {row.failed:,}" if row.failed else ""),
        flush=True,
    )


def print_summary(rows: list[Measured], store: str, workers: int) -> None:
    base, best = rows[0], max(rows[1:], key=lambda row: row.per_second)
    print(
        f"{store}, {workers} web process(es): best HTTP {best.per_second:,.0f} scans/s = "
        f"{best.per_second / base.per_second:.0%} of the in-process rate "
        f"({base.per_second:,.0f}/s)"
    )
