"""`lacak bench faults`: the distributed stack (`lacak cluster`: three NATS nodes, PostgreSQL,
two web replicas behind the round-robin front, the relay and every projector as processes) under
a steady scan load, with its faults injected one after another.

Devices post the scenario's journeys (one box's scans in order per device at a time), each scan
retried with its own scan_id until answered, as a phone's queue does. After the load, every scan
acknowledged with 201 is looked for in the event store: lost (acknowledged, not stored) and
duplicated (stored twice) must be 0, and no answer may be a 5xx. For each fault: the time from
its end until the board (for a projector killed, its own view) has applied every event the
store held at that end; for messages deleted from the stream, until the relay has published them
again.

The run lives in a schema of its own in the settings' PostgreSQL database, dropped afterwards.
"""

import asyncio
import signal
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import msgspec
import nats
import psycopg
from nats.js.errors import NotFoundError

from services.cluster import PROJECTORS, Cluster, until_ready
from services.demo.bench.common import bench_token, percentile, scratch
from services.demo.seed import seed_demo
from services.demo.serang import kabupaten_serang
from services.demo.simulation import body_of, scan_script
from services.messaging.nats import STREAM
from services.messaging.relay import MSG_ID, plain_id
from services.messaging.server import free_port
from services.settings import Settings
from services.store.notifications import last_stored, read_store
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import PostgresViews
from services.views.eventlog import EventLogView
from services.views.findings import FindingView
from services.views.gudang import GudangView
from services.views.ledger import LedgerView
from services.views.notices import NoticeView
from services.views.projection import Projection
from services.wilayah import Wilayah

RETRY_SECONDS = 0.3
GOAL_SECONDS = 5.0  # from a fault's end until the board has what the store had then
SETTLE_SECONDS = 120.0  # the most a fault's recovery or the final catch-up is waited for
WHOLE_STREAM = "aliran"  # a fault's recovery: the stream holds again what was deleted from it


class Fault(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    recovery_seconds: float | None  # None: the view did not catch up within SETTLE_SECONDS
    view: str = BoardView.name  # the view watched: the board, or the projector's killed
    # from the fault's end until the LACAK stream had a leader again (NATS's own election)
    jetstream_seconds: float | None = None


class FaultReport(msgspec.Struct, frozen=True, kw_only=True):
    sent: int  # scans the devices set out to send
    acknowledged: int
    stored: int  # of those acknowledged
    lost: int
    duplicated: int
    server_errors: int  # 5xx answers
    refused: int  # 4xx answers (a journey's scan the server would not take)
    retries: int  # connection failures and 5xx, each tried again
    longest_ack_seconds: float
    ack_p99_seconds: float
    faults: list[Fault]
    scans_per_second: float
    errors: dict[str, int]  # non-201 answers by status and the fault under way
    examples: dict[str, str]

    @property
    def slow(self) -> list[Fault]:
        """The faults the board took longer than `GOAL_SECONDS` to recover from."""
        return [
            f for f in self.faults if f.recovery_seconds is not None
            and f.recovery_seconds >= GOAL_SECONDS
        ]  # fmt: skip

    @property
    def held(self) -> bool:
        return (
            self.lost == 0
            and self.duplicated == 0
            and self.server_errors == 0
            and all(f.recovery_seconds is not None for f in self.faults)
        )


class Load:
    """Devices posting journeys through the front, each scan until it is answered."""

    def __init__(self, base_url: str, headers: dict[str, str], journeys: list[list[dict]]):
        self.base_url, self.headers = base_url, headers
        self.queue: asyncio.Queue[list[dict]] = asyncio.Queue()
        for journey in journeys:
            self.queue.put_nowait(journey)
        self.sent = 0
        self.acknowledged: dict[str, float] = {}  # scan_id -> seconds from first try to 201
        self.server_errors = self.refused = self.retries = 0
        self.next_slot = 0.0
        self.during = "sebelum gangguan"  # the fault under way, for the 5xx it causes
        self.errors_by: Counter[str] = Counter()  # 5xx and 4xx answers, by fault and status
        self.examples: dict[str, str] = {}  # one answer's text of each

    async def pace(self, rate: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.next_slot = max(self.next_slot + 1 / rate, now)
        await asyncio.sleep(self.next_slot - now)

    async def device(self, stop: asyncio.Event, rate: float) -> None:
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=10
        ) as client:
            while not stop.is_set() and not self.queue.empty():
                for body in self.queue.get_nowait():
                    if stop.is_set():
                        return
                    await self.pace(rate)
                    await self.send(client, body)

    async def send(self, client: httpx.AsyncClient, body: dict) -> None:
        self.sent += 1
        started = time.monotonic()
        while True:
            try:
                answer = await client.post("/api/v1/scans", json=body)
            except httpx.HTTPError:
                self.retries += 1
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if answer.status_code >= 500:
                self.server_errors += 1
                self.retries += 1
                self.note(answer)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if answer.status_code == 201:
                self.acknowledged[body["scan_id"]] = time.monotonic() - started
            else:
                self.refused += 1
                self.note(answer)
            return

    def note(self, answer: httpx.Response) -> None:
        key = f"{answer.status_code} ({self.during})"
        self.errors_by[key] += 1
        self.examples.setdefault(key, answer.text[:200])

    async def run(self, stop: asyncio.Event, devices: int, rate: float) -> None:
        await asyncio.gather(*(self.device(stop, rate) for _ in range(devices)))


def journeys(wilayah: Wilayah) -> list[list[dict]]:
    """The scenario's scans, one list per box in the order made, with fresh scan ids."""
    by_label: dict[str, list[dict]] = {}
    run = uuid.uuid4().hex[:8]
    for scripted in scan_script(wilayah):
        body = body_of(scripted)
        body["scan_id"] = f"{run}-{scripted.scan_id}"
        by_label.setdefault(scripted.label, []).append(body)
    return list(by_label.values())


class Injector:
    """The faults, each: inject, hold for `hold` seconds, heal."""

    def __init__(self, cluster: Cluster, hold: float, outage: float, pause: float):
        self.cluster, self.hold, self.outage, self.pause = cluster, hold, outage, pause
        self.deleted: set[str] = set()  # the ids of the messages deleted from the stream
        self.deleted_below = 0  # the stream's next sequence when they were deleted

    async def stream_nodes(self) -> tuple[str, list[str]]:
        """The `LACAK` stream's leader and followers, by node name."""
        nc = await nats.connect([n.url for n in self.cluster.nodes], connect_timeout=2)
        try:
            info = await nc.jetstream(timeout=5).stream_info(STREAM)
        finally:
            await nc.close()
        assert info.cluster is not None and info.cluster.leader is not None
        return info.cluster.leader, [r.name for r in info.cluster.replicas or [] if r.name]

    def node(self, name: str):
        return self.cluster.nodes[int(name.lstrip("n")) - 1]

    async def kill_node(self, which: str) -> None:
        for _ in range(50):  # a leader just elected: ask until the stream has one
            try:
                leader, followers = await self.stream_nodes()
                break
            except Exception:
                await asyncio.sleep(0.2)
        else:
            raise RuntimeError("the LACAK stream has no leader")
        node = self.node(leader if which == "leader" else followers[0])
        assert node.process is not None
        node.process.kill()
        node.process.wait()
        await asyncio.sleep(self.hold)
        await asyncio.to_thread(node.start)

    async def kill_part(self, name: str) -> None:
        part = self.cluster.part(name)
        assert part.process is not None
        part.process.kill()  # the cluster's supervisor starts it again a second later
        await asyncio.sleep(self.hold)

    async def terminate_backends(self) -> None:
        await asyncio.to_thread(terminate, self.cluster.settings, self.cluster.app_name)
        await asyncio.sleep(self.hold)

    async def pause_node(self) -> None:
        node = self.cluster.nodes[1]
        assert node.process is not None
        node.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(self.pause)
        node.process.send_signal(signal.SIGCONT)

    async def stop_nats(self) -> None:
        for node in self.cluster.nodes:
            node.stop()
        await asyncio.sleep(self.outage)
        for node in self.cluster.nodes:  # together: a node alone waits for its routes
            node.start(timeout=30)

    async def delete_messages(self) -> None:
        """Delete from the LACAK stream a run of three messages and two alone, as an operator or
        a lost node would leave it; the relay must publish them again."""
        nc = await nats.connect([n.url for n in self.cluster.nodes], connect_timeout=2)
        try:
            js = nc.jetstream(timeout=5)
            state = (await js.stream_info(STREAM)).state
            middle = (state.first_seq + state.last_seq) // 2
            if state.last_seq - middle <= 20:
                raise RuntimeError(f"the stream is too short to delete from: {state}")
            for seq in (middle, middle + 1, middle + 2, middle + 10, middle + 20):
                msg = await js.get_msg(STREAM, seq)
                self.deleted.add(msg.headers[MSG_ID])
                await js.delete_msg(STREAM, seq)
            self.deleted_below = state.last_seq + 1
        finally:
            await nc.close()

    async def stream_whole(self, since: float) -> float | None:
        """Seconds from `since` until every deleted message is in the stream again."""
        nc = await nats.connect([n.url for n in self.cluster.nodes], connect_timeout=2)
        js, found, seq = nc.jetstream(timeout=5), set(), self.deleted_below
        try:
            while time.monotonic() < since + SETTLE_SECONDS:
                try:
                    msg = await js.get_msg(STREAM, seq)
                    found.add(plain_id(msg.headers[MSG_ID]))
                    seq += 1
                except NotFoundError:  # not there yet
                    await asyncio.sleep(0.05)
                if self.deleted <= found:
                    return time.monotonic() - since
            return None
        finally:
            await nc.close()

    def schedule(self) -> list[tuple[str, Callable[[], Awaitable[None]], str]]:
        """Each fault: its name, how it is done, and the view that must catch up after it."""
        board = BoardView.name
        return [
            (
                "node pemimpin aliran LACAK dimatikan (SIGKILL)",
                lambda: self.kill_node("leader"),
                board,
            ),
            ("node pengikut dimatikan (SIGKILL)", lambda: self.kill_node("follower"), board),
            ("replika web-1 dimatikan saat melayani", lambda: self.kill_part("web-1"), board),
            ("relay dimatikan", lambda: self.kill_part("relay"), board),
            *(
                (
                    f"proyektor {name} dimatikan",
                    lambda name=name: self.kill_part(f"project-{name}"),
                    name,
                )
                for name in PROJECTORS
            ),
            (
                "semua koneksi PostgreSQL diputus (pg_terminate_backend)",
                self.terminate_backends,
                board,
            ),
            (f"satu node NATS dihentikan (SIGSTOP {self.pause:g} detik)", self.pause_node, board),
            (f"seluruh cluster NATS mati {self.outage:g} detik", self.stop_nats, board),
            ("lima pesan dihapus dari aliran LACAK", self.delete_messages, WHOLE_STREAM),
        ]


async def ready(ports: list[int], timeout: float = 60.0) -> None:
    """Until every web replica answers /readyz with 200."""
    for port in ports:
        said = await asyncio.to_thread(until_ready, f"http://127.0.0.1:{port}/readyz", timeout)
        if said is not None:
            raise RuntimeError(f"web on port {port} not ready in {timeout:.0f} s: {said}")


def terminate(settings: Settings, app_name: str) -> int:
    with psycopg.connect(settings.postgres_conninfo, autocommit=True) as admin:
        return len(
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (app_name,),
            ).fetchall()
        )


async def jetstream_back(cluster: Cluster, since: float) -> float:
    """Seconds from `since` until the LACAK stream and every consumer on it answer with a
    leader: NATS's own part of a recovery. A raft group that lost its leader elects one after
    4 to 9 seconds (fixed in nats-server)."""
    while True:
        try:
            nc = await nats.connect(
                [n.url for n in cluster.nodes], connect_timeout=1, allow_reconnect=False
            )
            try:
                js = nc.jetstream(timeout=0.5)
                groups = [(await js.stream_info(STREAM)).cluster]
                groups += [c.cluster for c in await js.consumers_info(STREAM)]
                if all(group is None or group.leader for group in groups):
                    return time.monotonic() - since
            finally:
                await nc.close()
        except Exception:  # no node, no meta leader, no stream leader yet: ask again
            pass
        if time.monotonic() - since > SETTLE_SECONDS:
            return time.monotonic() - since
        await asyncio.sleep(0.1)


async def caught_up(view: Projection, target: int, since: float) -> float | None:
    """Seconds from `since` until the view has applied every event up to `target`."""
    deadline = since + SETTLE_SECONDS
    while time.monotonic() < deadline:
        try:
            if await asyncio.to_thread(view.position) >= target:
                return time.monotonic() - since
        except psycopg.Error:
            pass
        await asyncio.sleep(0.1)
    return None


# The view of each of the cluster's projectors: killed, it must catch up on its own.
WATCHED: dict[str, Callable[..., Projection]] = {
    "board": BoardView,
    "anomalies": AnomalyView,
    "gudang": GudangView,
    "findings": FindingView,
    "ledger": LedgerView,
    "log": EventLogView,
    "notices": NoticeView,
}

# The events that record a scan, one a scan (its anomalies carry its scan id too).
SCAN_RECORDS = {
    "BatchPacked", "BatchSealed", "BatchDispatched", "BatchReceived", "ScanRepeated",
    "BallotsAccounted",
}  # fmt: skip


def stored_scans(settings: Settings, wanted: set[str]) -> Counter[str]:
    """How often each acknowledged scan id is recorded as a scan in the event store."""
    found: Counter[str] = Counter()
    for _, data in read_store(settings):
        event = msgspec.json.decode(data)
        if event.get("type") in SCAN_RECORDS and event.get("scan_id") in wanted:
            found[event["scan_id"]] += 1
    return found


class FaultPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A fault run: how many TPS' journeys, devices and scans a second, how long each fault
    holds (a node down, the NATS outage, the SIGSTOP), the pause between faults, and which
    faults (words of their names; None: all)."""

    tps: int = 600
    devices: int = 16
    rate: float = 60.0
    hold: float = 5.0
    outage: float = 60.0
    pause: float = 30.0
    between: float = 10.0
    only: frozenset[str] | None = None


async def run_faults(
    settings: Settings, wilayah: Wilayah, plan: FaultPlan, say: Callable[[str], None]
) -> FaultReport:
    folder = settings.data_dir
    app_name = f"lacak-faults-{uuid.uuid4().hex[:8]}"
    port = free_port()
    cluster = Cluster(settings, folder / "cluster", 2, port, app_name=app_name)
    views = PostgresViews(settings.postgres_conninfo + " application_name=lacak-faults-eyes")
    stop, done = asyncio.Event(), asyncio.Event()
    background: list[asyncio.Task[None]] = []
    try:
        await asyncio.to_thread(cluster.start_nodes)
        live = settings.replace(nats_url=cluster.nats_url, stream_replicas=3)
        # The tree as imported: the scenario's wrong-PPK scans go to its own kecamatan only.
        served, _, _ = await asyncio.to_thread(seed_demo, live, folder, False, wilayah)
        assert isinstance(served, Wilayah)  # a fresh store: the bench's one kabupaten
        wilayah = served
        headers = await asyncio.to_thread(bench_token, live)
        await asyncio.to_thread(cluster.start_parts)
        background += [
            asyncio.create_task(cluster.supervise(done)),
            asyncio.create_task(cluster.serve_front(done)),
        ]
        base_url = f"http://127.0.0.1:{port}"
        watched = {name: WATCHED[name](views) for name in PROJECTORS}
        for view in watched.values():
            await asyncio.to_thread(view.setup)
        board = watched[BoardView.name]
        await ready(cluster.web_ports)
        say(f"Cluster siap di {base_url}; log di {cluster.logs}.")
        work = await asyncio.to_thread(journeys, wilayah)
        load = Load(base_url, headers, work)
        started = time.monotonic()
        loading = asyncio.create_task(load.run(stop, plan.devices, plan.rate))
        injector = Injector(cluster, plan.hold, plan.outage, plan.pause)
        faults = []
        for name, inject, view in injector.schedule():
            if plan.only is not None and not any(word in name for word in plan.only):
                continue
            await asyncio.sleep(plan.between)
            say(f"Gangguan: {name} ...")
            load.during = name
            await inject()
            ended = time.monotonic()
            electing = asyncio.create_task(jetstream_back(cluster, ended))
            target = await asyncio.to_thread(last_stored, live)
            if view == WHOLE_STREAM:
                recovery = await injector.stream_whole(ended)
            else:
                recovery = await caught_up(watched[view], target, ended)
            elected = await electing
            faults.append(
                Fault(name=name, recovery_seconds=recovery, jetstream_seconds=elected, view=view)
            )
            said = (
                "tidak pulih" if recovery is None else f"{view} cocok {recovery:.1f} detik kemudian"
            )
            say(f"  {said} (JetStream menjawab {elected:.1f} detik kemudian)")
        await asyncio.sleep(plan.between)
        stop.set()
        await loading
        seconds = time.monotonic() - started
        final = await asyncio.to_thread(last_stored, live)
        await caught_up(board, final, time.monotonic())
        wanted = set(load.acknowledged)
        found = await asyncio.to_thread(stored_scans, live, wanted)
        delays = list(load.acknowledged.values()) or [0.0]
        return FaultReport(
            sent=load.sent,
            acknowledged=len(wanted),
            stored=len(found),
            lost=len(wanted - set(found)),
            duplicated=sum(1 for count in found.values() if count > 1),
            server_errors=load.server_errors,
            refused=load.refused,
            retries=load.retries,
            longest_ack_seconds=max(delays),
            ack_p99_seconds=percentile(delays, 0.99),
            faults=faults,
            scans_per_second=len(wanted) / seconds,
            errors=dict(load.errors_by),
            examples=load.examples,
        )
    finally:
        stop.set()
        done.set()
        await asyncio.gather(*background, return_exceptions=True)
        await asyncio.to_thread(cluster.stop)
        views.close()


def bench_wilayah(tps: int) -> Wilayah:
    """Kabupaten Serang's first `tps` TPS: a load of a few thousand boxes, registered fast."""
    serang = kabupaten_serang()
    return msgspec.structs.replace(serang, tps=serang.tps[:tps])


def faults_benchmark(
    plan: FaultPlan, say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
) -> FaultReport:
    """The whole run on the settings' PostgreSQL, in a schema and a folder of its own."""
    with scratch("lacak bench faults") as settings:
        return asyncio.run(run_faults(settings, bench_wilayah(plan.tps), plan, say))


def print_report(report: FaultReport) -> None:
    rows = [
        ("pindai dikirim", f"{report.sent:,}"),
        ("diakui (201)", f"{report.acknowledged:,}"),
        ("tersimpan dari yang diakui", f"{report.stored:,}"),
        ("hilang (tujuan 0)", f"{report.lost:,}"),
        ("ganda (tujuan 0)", f"{report.duplicated:,}"),
        ("jawaban 5xx (tujuan 0)", f"{report.server_errors:,}"),
        ("ditolak 4xx", f"{report.refused:,}"),
        ("dicoba ulang", f"{report.retries:,}"),
        ("pengakuan terlama", f"{report.longest_ack_seconds:.1f} s"),
        ("pengakuan p99", f"{report.ack_p99_seconds * 1000:.0f} ms"),
        ("laju", f"{report.scans_per_second:.0f} pindai/detik"),
    ]
    for label, value in rows:
        print(f"{label:<30} {value}")
    for why, count in sorted(report.errors.items()):
        print(f"  jawaban {why}: {count}x, mis. {report.examples.get(why, '')!r}")
    for fault in report.faults:
        took = (
            "TIDAK PULIH" if fault.recovery_seconds is None else f"{fault.recovery_seconds:.1f} s"
        )
        elected = f"{fault.jetstream_seconds:.1f} s" if fault.jetstream_seconds else "-"
        print(f"  {fault.name:<58} {fault.view} cocok: {took:>6} (JetStream: {elected})")
    recoveries = [f.recovery_seconds for f in report.faults if f.recovery_seconds is not None]
    if recoveries:
        print(
            f"pemulihan: median {statistics.median(recoveries):.1f} s, "
            f"terlama {max(recoveries):.1f} s (tujuan < {GOAL_SECONDS:g} s)"
        )
    for fault in report.slow:
        print(f"melewati tujuan {GOAL_SECONDS:g} s: {fault.name} ({fault.recovery_seconds:.1f} s)")
    print("TERTAHAN" if report.held else "GAGAL: ada yang hilang, ganda, 5xx atau tidak pulih")
