"""`lacak bench board`: with many boards open and a steady load of scans, how long a changed row
takes from the scan's acceptance to every open board, and what the web process costs.

The parts run as production runs them, each its own process (`lacak web`, `lacak relay`,
`lacak project board`, a private nats-server), so the web process's CPU is its own. The load
comes from another process; the boards and the timed probes from this one.
"""

import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx

from services.cluster import Cluster
from services.console import progress
from services.custody.batches import Batches
from services.custody.election import Elections
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan, register_plan
from services.demo.bench.common import bench_token, percentile, scratch
from services.demo.serang import kabupaten_serang
from services.demo.simulation import scan_body
from services.messaging.server import EmbeddedNats, free_port, stop_process
from services.settings import Settings
from services.wilayah import Wilayah, kecamatan_of

PROBE_TIMEOUT = 10.0  # seconds a probe waits for its row on every board


def row_marker(kecamatan: str) -> str:
    """What a board stream carries when the kecamatan's row changes: the row's element id."""
    return 'id="kecamatan-' + kecamatan.replace(".", "") + '"'


def exited(pid: int) -> bool:
    """Has the process ended (a zombie not yet waited for, or gone)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def log_tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"({error})"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(settings: Settings, serang: Wilayah) -> None:
    """Master data, the election and the kit plan's batches, as a demo's first start makes them."""
    batches = Batches(settings.store)
    try:
        MasterData(batches).import_file(settings.election, "tps.csv", tps_csv(serang), "bench")
        Elections(batches).declare(settings.election, "Pemilu 2024", date(2024, 2, 14), "bench")
        register_plan(batches, serang, lambda done, total: progress("Mendaftarkan", done, total))
    finally:
        batches.close()


@contextmanager
def stack(
    settings: Settings, env: dict[str, str], log_dir: Path, planned: int, headers: dict[str, str]
) -> Iterator[subprocess.Popen]:
    """`lacak web`, `lacak relay` and `lacak project board`, each its own process, once the
    board shows all `planned` batches; yields the web's."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in (
            ("relay", ["relay"]),
            ("project", ["project", "board"]),
            ("web", ["web"]),
        ):
            log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (the child writes to it)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "services", *args], stdout=log, stderr=log, env=env
                )
            )
        web = processes[-1]
        deadline = time.monotonic() + 180
        while True:  # until the board shows every batch: the relay and projection caught up
            try:
                board = httpx.get(
                    f"http://127.0.0.1:{settings.port}/api/v1/board", timeout=2, headers=headers
                )
                if board.json()["kabupaten"]["planned"] == planned:
                    break
            except httpx.HTTPError:
                pass
            if web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the board did not catch up; see {log_dir}")
            time.sleep(0.3)
        yield web
    finally:
        for process in processes:
            stop_process(process)


def load(
    base_url: str, labels: list[str], rate: float, seconds: float, done, headers: dict[str, str]
) -> None:
    """Dispatch scans at a steady `rate` per second for `seconds` (run in its own process);
    `done[0]` counts the scans accepted, `done[1]` those that failed."""

    async def post(client: httpx.AsyncClient, label: str) -> None:
        try:
            response = await client.post(
                "/api/v1/scans", json=scan_body(label, "dispatch", "36.04")
            )
            response.raise_for_status()
        except httpx.HTTPError:
            with done.get_lock():
                done[1] += 1
        else:
            with done.get_lock():
                done[0] += 1

    async def run() -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(
            base_url=base_url, timeout=30, limits=limits, headers=headers
        ) as client:
            start = time.perf_counter()
            pending: set[asyncio.Task] = set()
            for n, label in enumerate(labels):
                due = start + n / rate
                if due - start > seconds:
                    break
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                task = asyncio.create_task(post(client, label))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)

    asyncio.run(run())


class Board:
    """One open board: its stream, and when each probe's row reached it."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.seen: dict[str, float] = {}  # marker -> arrival time of the row after it was armed
        self.armed: str | None = None

    async def watch(self, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        async with client.stream("GET", "/board/stream", timeout=None) as stream:
            async for line in stream.aiter_lines():
                if stop.is_set():
                    return
                if not self.ready.is_set() and 'id="total"' in line:
                    self.ready.set()  # the opening rows have passed
                elif self.armed and self.armed in line and self.armed not in self.seen:
                    self.seen[self.armed] = time.perf_counter()


async def measure(
    base_url: str, clients: int, probes: list[tuple[str, str]], headers: dict[str, str]
) -> tuple[list[float], list[float], int]:
    """Open `clients` boards, then post each probe receipt and time its row on every board."""
    boards = [Board() for _ in range(clients)]
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=clients + 8)
    every: list[float] = []  # delay to each board
    slowest: list[float] = []  # delay to the last board, per probe
    missed = 0
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, limits=limits, headers=headers
    ) as client:
        watchers = [asyncio.create_task(board.watch(client, stop)) for board in boards]
        await asyncio.wait_for(asyncio.gather(*(b.ready.wait() for b in boards)), 60)
        for label, kecamatan in probes:
            marker = row_marker(kecamatan)
            for board in boards:
                board.armed, board.seen = marker, {}
            body = scan_body(label, "receive", kecamatan)
            (await client.post("/api/v1/scans", json=body)).raise_for_status()
            accepted = time.perf_counter()
            deadline = accepted + PROBE_TIMEOUT
            while time.perf_counter() < deadline and any(marker not in b.seen for b in boards):
                await asyncio.sleep(0.005)
            delays = [b.seen[marker] - accepted for b in boards if marker in b.seen]
            missed += clients - len(delays)
            every += delays
            if len(delays) == clients:
                slowest.append(max(delays))
            await asyncio.sleep(0.2)  # let coalesced pushes of this probe pass
        stop.set()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return every, slowest, missed


@contextmanager
def single_stack(
    serang: Wilayah, planned: int
) -> Iterator[tuple[str, dict[str, tuple[int, Path]], dict[str, str]]]:
    """A private nats-server and one web, relay and board projector on the settings' store;
    yields the web's URL, its pid and log, and a scanner's headers."""
    with tempfile.TemporaryDirectory(prefix="lacak-bench-board-") as tmp:
        root = Path(tmp)
        with EmbeddedNats(root / "nats") as nats_server:
            port = free_port()
            env = os.environ | {
                "LACAK_DATA_DIR": str(root / "lacak"),
                "LACAK_NATS_URL": nats_server.url,
                "LACAK_PORT": str(port),
            }
            settings = Settings.from_env(env)
            settings.make_folders()
            print("Registering Kabupaten Serang's batches ...", file=sys.stderr)
            prepare(settings, serang)
            headers = bench_token(settings)
            print("Starting web, relay and projection; the board catches up ...", file=sys.stderr)
            with stack(settings, env, root, planned, headers) as web:
                yield f"http://127.0.0.1:{port}", {"web": (web.pid, root / "web.log")}, headers


@contextmanager
def cluster_stack(
    serang: Wilayah, planned: int, replicas: int
) -> Iterator[tuple[str, dict[str, tuple[int, Path]], dict[str, str]]]:
    """`lacak cluster` on the settings' PostgreSQL (a schema of its own, dropped after): three
    NATS nodes, `replicas` web replicas behind the round-robin front, the relay and every
    projector; yields the front's URL, each web replica's pid and log, and a scanner's headers."""
    with scratch("lacak bench board --replicas") as settings:
        port = free_port()
        cluster = Cluster(settings, settings.data_dir / "cluster", replicas, port)
        stop = threading.Event()
        try:
            cluster.start_nodes()
            live = settings.replace(nats_url=cluster.nats_url, stream_replicas=3)
            print("Registering Kabupaten Serang's batches ...", file=sys.stderr)
            prepare(live, serang)
            headers = bench_token(live)
            cluster.start_parts()
            front = threading.Thread(target=serve_front, args=(cluster, stop), daemon=True)
            front.start()
            base_url = f"http://127.0.0.1:{port}"
            print(f"{replicas} web replicas, the board catches up ...", file=sys.stderr)
            caught_up(base_url, planned, headers, cluster.logs)
            webs = {
                p.name: (p.pid, cluster.logs / f"{p.name}.log")
                for p in cluster.parts
                if p.name.startswith("web")
            }
            yield base_url, webs, headers
        finally:
            stop.set()
            cluster.stop()


def serve_front(cluster: Cluster, stop: threading.Event) -> None:
    """The cluster's round-robin front, in a thread of its own until `stop`."""

    async def run() -> None:
        done = asyncio.Event()
        serving = asyncio.create_task(cluster.serve_front(done))
        while not stop.is_set():
            await asyncio.sleep(0.2)
        done.set()
        await serving

    asyncio.run(run())


def caught_up(base_url: str, planned: int, headers: dict[str, str], logs: Path) -> None:
    """Until the board shows all `planned` batches (through the front)."""
    deadline = time.monotonic() + 300
    while True:
        try:
            board = httpx.get(f"{base_url}/api/v1/board", timeout=5, headers=headers)
            if board.status_code == 200 and board.json()["kabupaten"]["planned"] == planned:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the board did not catch up; see {logs}")
        time.sleep(0.5)


def bench_board(clients: int, rate: float, probes: int, replicas: int = 1) -> None:
    """With `replicas` > 1: on the distributed stack (`lacak cluster`) and PostgreSQL."""
    serang = kabupaten_serang()
    plans = kit_plan(serang)
    probe_kecamatan = serang.kecamatan[-1].code  # probes here; the load everywhere else
    probe_plans = [p for p in plans if kecamatan_of(p.destination) == probe_kecamatan]
    load_labels = [p.label for p in plans if kecamatan_of(p.destination) != probe_kecamatan]
    stack_of = (
        cluster_stack(serang, len(plans), replicas)
        if replicas > 1
        else single_stack(serang, len(plans))
    )
    with stack_of as (base_url, webs, headers):
        seconds = probes * 0.35 + 30  # long enough to outlast the probes
        spawn = multiprocessing.get_context("spawn")
        done = spawn.Array("l", 2)
        generator = spawn.Process(
            target=load,
            args=(base_url, load_labels, rate, seconds, done, headers),
            daemon=True,
        )
        print(
            f"{clients} boards open, {rate:.0f} scans/s of load, {probes} probes ...",
            file=sys.stderr,
        )
        generator.start()
        time.sleep(3)  # the load reaches its pace
        cpu_before = {name: cpu_seconds(pid) for name, (pid, _) in webs.items()}
        wall_before = time.perf_counter()
        accepted_before = done[0]
        probe_list = [(p.label, probe_kecamatan) for p in probe_plans[:probes]]
        every, slowest, missed = asyncio.run(measure(base_url, clients, probe_list, headers))
        wall = time.perf_counter() - wall_before
        cpu = {
            name: (cpu_seconds(pid) - cpu_before[name]) / wall for name, (pid, _) in webs.items()
        }
        # a replica that died takes no load and shows no CPU: say so, with its last words
        gone = {name: log_tail(log) for name, (pid, log) in webs.items() if exited(pid)}
        load_rate = (done[0] - accepted_before) / wall
        generator.terminate()
        generator.join(10)
    ms = 1000
    where = f", {replicas} web replicas on PostgreSQL and 3 NATS nodes" if replicas > 1 else ""
    print(
        f"board delay: {clients} open boards (SSE), {rate:.0f} scans/s of load, "
        f"{probes} probes{where}"
    )
    print("  from a scan accepted (201) to its changed row on a board:")
    print(f"  to each board  p50 {statistics.median(every) * ms:8.1f} ms")
    print(f"                 p99 {percentile(every, 0.99) * ms:8.1f} ms")
    if slowest:
        print(f"  to every board p50 {statistics.median(slowest) * ms:8.1f} ms")
        print(f"                 p99 {percentile(slowest, 0.99) * ms:8.1f} ms")
    print(f"  rows not seen within {PROBE_TIMEOUT:.0f} s: {missed}")
    print(f"  load achieved: {load_rate:.0f} scans/s accepted, {done[1]} failed")
    for name, used in cpu.items():
        print(f"  {name} process CPU: {used:.2f} cores (user + system, while measuring)")
    for name, tail in gone.items():
        print(f"  {name} EXITED during the run; the end of its log:\n{tail}")
