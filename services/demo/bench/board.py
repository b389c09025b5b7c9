"""`lacak bench board`: with many boards open and a steady load of scans, how long a changed row
takes from the scan's acceptance to every open board, and what the web process costs.

The parts run as production runs them, each its own process (`lacak web`, `lacak relay`,
`lacak project board`, a private nats-server), so the web process's CPU is its own. The load
comes from the generator of `lacak bench scans` in its own process, at a steady rate; the boards
and the timed probes from this one. Boards, probes and load spread their connections over the web
replicas in turn, as a load balancer does (not through `lacak cluster`'s Python front, whose CPU
is no part of what is measured). Boards and load speak plain HTTP over asyncio streams: on two
cores, what measures must cost far less than what is measured.
"""

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import msgspec

from services.cluster import Cluster
from services.console import progress
from services.custody.batches import Batches
from services.custody.election import Elections
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import kit_plan, register_plan
from services.demo.bench.common import (
    bench_store,
    bench_token,
    percentile,
    scratch,
    stack_env,
)
from services.demo.bench.load import Load, Result
from services.demo.serang import kabupaten_serang
from services.demo.simulation import scan_body
from services.messaging.server import EmbeddedNats, die_with_parent, free_port, stop_process
from services.settings import Settings
from services.wilayah import Wilayah, kecamatan_of, route_of

PROBE_TIMEOUT = 10.0  # seconds a probe waits for its row on every board
LOAD_CLIENTS = 64  # connections the load may hold at once


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


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle so far (Linux /proc/stat)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / os.sysconf("SC_CLK_TCK")


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
    board shows all `planned` batches; yields them, the web's last."""
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
        yield processes
    finally:
        for process in processes:
            stop_process(process)


def start_load(
    ports: list[int],
    destinations: list[tuple[str, str]],
    rate: float,
    seconds: float,
    headers: dict[str, str],
) -> subprocess.Popen[bytes]:
    """The load generator at `rate` scans a second for at most `seconds` (SIGTERM ends it
    sooner), in its own process: the boxes go the way they do, round by round, each dispatched
    from the gudang, received at its PPK, dispatched from there and received at its PPS."""
    rounds = (("dispatch", 1), ("receive", 2), ("dispatch", 2), ("receive", 3))
    scans = [
        (label, action, route_of(tps)[depth])
        for action, depth in rounds
        for label, tps in destinations
    ]
    encode = msgspec.json.encode
    bodies = [encode(scan_body(*scan)) for scan in scans[: int(rate * seconds)]]
    load = Load("127.0.0.1", ports, "/api/v1/scans", headers, bodies, LOAD_CLIENTS, rate)
    generator = subprocess.Popen(
        [sys.executable, "-m", "services.demo.bench.load"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        preexec_fn=die_with_parent,
    )
    assert generator.stdin is not None
    generator.stdin.write(msgspec.msgpack.encode(load))
    generator.stdin.close()
    return generator


class Board:
    """One open board on a plain connection, and when the armed row reached it."""

    def __init__(self, port: int, request: bytes) -> None:
        self.port, self.request = port, request
        self.ready = asyncio.Event()
        self.seen: dict[bytes, float] = {}  # marker -> arrival of the row after it was armed
        self.armed: bytes | None = None

    async def watch(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(self.request)
            tail = b""  # a marker may straddle two reads
            while data := await reader.read(65536):
                window = tail + data
                if not self.ready.is_set():
                    if b'id="total"' in window:
                        self.ready.set()  # the opening rows have passed
                elif (
                    (armed := self.armed)
                    and armed not in self.seen
                    # only a marker that ends in the new bytes: one in the tail was read before
                    and window.find(armed, max(0, len(tail) - len(armed) + 1)) >= 0
                ):
                    self.seen[armed] = time.perf_counter()
                tail = window[-64:]
            raise ConnectionError(f"a board's stream ended (port {self.port})")
        finally:
            writer.close()


async def post_until_accepted(client: httpx.AsyncClient, body: dict, attempts: int = 5) -> None:
    """Post a scan, again on a broken connection as a device does (the same scan_id: stored
    once)."""
    for attempt in range(attempts):
        try:
            (await client.post("/api/v1/scans", json=body)).raise_for_status()
            return
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.1)


async def measure(
    ports: list[int], clients: int, probes: list[tuple[str, str]], headers: dict[str, str]
) -> tuple[list[float], list[float], int]:
    """Open `clients` boards over the ports in turn, then post each probe receipt and time its
    row on every board."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET /board/stream HTTP/1.1\r\nhost: 127.0.0.1\r\n{head}\r\n".encode()
    boards = [Board(ports[n % len(ports)], request) for n in range(clients)]
    every: list[float] = []  # delay to each board
    slowest: list[float] = []  # delay to the last board, per probe
    missed = 0
    watchers = [asyncio.create_task(board.watch()) for board in boards]
    try:
        ready = asyncio.gather(*(b.ready.wait() for b in boards))
        done, _ = await asyncio.wait([ready, *watchers], timeout=60, return_when="FIRST_COMPLETED")
        if ready not in done:
            ended = [w for w in done if w is not ready]
            raise RuntimeError(f"the boards did not open: {ended[0].exception() if ended else ''}")
        clients_of = [
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=headers)
            for port in ports
        ]
        for n, (label, kecamatan) in enumerate(probes):
            marker = row_marker(kecamatan).encode()
            for board in boards:
                board.armed, board.seen = marker, {}
            body = scan_body(label, "receive", kecamatan)
            await post_until_accepted(clients_of[n % len(ports)], body)
            accepted = time.perf_counter()
            deadline = accepted + PROBE_TIMEOUT
            while time.perf_counter() < deadline and any(marker not in b.seen for b in boards):
                if broken := [w for w in watchers if w.done()]:
                    raise RuntimeError(f"a board's stream broke: {broken[0].exception()!r}")
                await asyncio.sleep(0.005)
            delays = [b.seen[marker] - accepted for b in boards if marker in b.seen]
            missed += clients - len(delays)
            every += delays
            if len(delays) == clients:
                slowest.append(max(delays))
            await asyncio.sleep(0.2)  # let coalesced pushes of this probe pass
        for client in clients_of:
            await client.aclose()
    finally:
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return every, slowest, missed


@contextmanager
def single_stack(
    serang: Wilayah, planned: int
) -> Iterator[tuple[list[int], dict[str, tuple[int, Path]], dict[str, str]]]:
    """A private nats-server and one web, relay and board projector on a fresh store of the
    settings' kind (SQLite in a folder, PostgreSQL in a schema of its own); yields the web's
    port, its pid and log, and a scanner's headers."""
    with bench_store("", "lacak bench board") as settings:
        root = settings.data_dir
        with EmbeddedNats(root / "nats") as nats_server:
            port = free_port()
            env = stack_env(settings, nats_server.url, port)
            settings = settings.replace(nats_url=nats_server.url, port=port)
            settings.make_folders()
            print("Registering Kabupaten Serang's batches ...", file=sys.stderr)
            prepare(settings, serang)
            headers = bench_token(settings)
            print("Starting web, relay and projection; the board catches up ...", file=sys.stderr)
            with stack(settings, env, root, planned, headers) as (relay, project, web):
                others = {"relay": relay.pid, "project-board": project.pid}
                others["nats"] = nats_server.process.pid
                yield [port], {"web": (web.pid, root / "web.log")}, others, headers


@contextmanager
def cluster_stack(
    serang: Wilayah, planned: int, replicas: int
) -> Iterator[tuple[list[int], dict[str, tuple[int, Path]], dict[str, str]]]:
    """`lacak cluster` on the settings' PostgreSQL (a schema of its own, dropped after): three
    NATS nodes, `replicas` web replicas, the relay and every projector; yields the replicas'
    ports, each one's pid and log, and a scanner's headers. On a failure the cluster's logs are
    kept and their folder said."""
    with scratch("lacak bench board --replicas") as settings:
        cluster = Cluster(settings, settings.data_dir / "cluster", replicas, free_port())
        try:
            cluster.start_nodes()
            live = settings.replace(nats_url=cluster.nats_url, stream_replicas=3)
            print("Registering Kabupaten Serang's batches ...", file=sys.stderr)
            prepare(live, serang)
            headers = bench_token(live)
            cluster.start_parts()
            print(f"{replicas} web replicas, the board catches up ...", file=sys.stderr)
            for port in cluster.web_ports:
                caught_up(f"http://127.0.0.1:{port}", planned, headers, cluster.logs)
            webs = {
                p.name: (p.pid, cluster.logs / f"{p.name}.log")
                for p in cluster.parts
                if p.name.startswith("web") and p.pid is not None
            }
            others = {p.name: p.pid for p in cluster.parts if p.name not in webs and p.pid}
            others |= {f"nats-{n + 1}": node.process.pid for n, node in enumerate(cluster.nodes)}
            yield cluster.web_ports, webs, others, headers
        except BaseException:
            kept = Path(tempfile.mkdtemp(prefix="lacak-bench-board-logs-"))
            shutil.copytree(cluster.logs, kept, dirs_exist_ok=True)
            print(f"The cluster's logs are kept in {kept}", file=sys.stderr)
            raise
        finally:
            cluster.stop()


def caught_up(base_url: str, planned: int, headers: dict[str, str], logs: Path) -> None:
    """Until the board shows all `planned` batches."""
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
    load_plans = [
        (p.label, p.destination) for p in plans if kecamatan_of(p.destination) != probe_kecamatan
    ]
    stack_of = (
        cluster_stack(serang, len(plans), replicas)
        if replicas > 1
        else single_stack(serang, len(plans))
    )
    with stack_of as (ports, webs, others, headers):
        seconds = 600.0  # more than the boards' opening and the probes take: stopped after them
        print(
            f"{clients} boards open, {rate:.0f} scans/s of load, {probes} probes ...",
            file=sys.stderr,
        )
        generator = start_load(ports, load_plans, rate, seconds, headers)
        try:
            time.sleep(3)  # the load reaches its pace
            pids = {name: pid for name, (pid, _) in webs.items()} | others
            pids |= {"load generator": generator.pid, "boards and probes": os.getpid()}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            machine_before = machine_busy()
            wall_before, since = time.perf_counter(), time.monotonic()
            probe_list = [(p.label, probe_kecamatan) for p in probe_plans[:probes]]
            every, slowest, missed = asyncio.run(measure(ports, clients, probe_list, headers))
            wall, until = time.perf_counter() - wall_before, time.monotonic()
            cpu = {
                name: (cpu_seconds(pid) - cpu_before[name]) / wall
                for name, pid in pids.items()
                if not exited(pid)
            }
            machine = (machine_busy() - machine_before) / wall
            # a replica that died takes no load and shows no CPU: say so, with its last words
            gone = {name: log_tail(log) for name, (pid, log) in webs.items() if exited(pid)}
            generator.terminate()  # it answers with what it has measured
            assert generator.stdout is not None
            output = generator.stdout.read()
        finally:
            generator.kill()
    result = msgspec.msgpack.decode(output, type=Result)
    accepted = sum(1 for t in result.answered_at if since <= t < until)
    failed = sum(n for status, n in result.statuses.items() if status >= 300)
    failed += len(result.errors)
    ms = 1000
    where = f", {replicas} web replicas on PostgreSQL and 3 NATS nodes" if replicas > 1 else ""
    print(
        f"board delay: {clients} open boards (SSE), {rate:.0f} scans/s of load, "
        f"{probes} probes{where}"
    )
    print("  from a scan accepted (201) to its changed row on a board:")
    if every:
        print(f"  to each board  p50 {statistics.median(every) * ms:8.1f} ms")
        print(f"                 p99 {percentile(every, 0.99) * ms:8.1f} ms")
    if slowest:
        print(f"  to every board p50 {statistics.median(slowest) * ms:8.1f} ms")
        print(f"                 p99 {percentile(slowest, 0.99) * ms:8.1f} ms")
    print(f"  rows not seen within {PROBE_TIMEOUT:.0f} s: {missed}")
    print(
        f"  load achieved while measuring: {accepted / wall:.0f} scans/s accepted "
        f"(asked {rate:.0f}); whole run: {sum(result.statuses.values()):,} answered, "
        f"{failed} failed, answer p99 {percentile(result.latencies, 0.99) * ms:.0f} ms"
    )
    for error in result.errors:
        print(f"  ! {error}")
    print(
        f"  CPU while measuring (user + system, cores): the machine {machine:.2f} of "
        f"{os.cpu_count()}, of which"
    )
    for name, used in cpu.items():
        print(f"    {name:<20} {used:5.2f}")
    for name, tail in gone.items():
        print(f"  {name} EXITED during the run; the end of its log:\n{tail}")
