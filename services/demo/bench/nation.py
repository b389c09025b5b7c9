"""`lacak bench nation`: the whole country (or a province of it) in one store.

On a fresh store of the asked kind (SQLite in a temporary folder, PostgreSQL in a schema of its
own), in one process, phase after phase:
1. the import file of the wilayah written and imported (`MasterData.import_many`);
2. every kabupaten/kota's kit plan registered (about 5.7 million batches for the nation);
3. the board projected from the store as a projector rebuilding it does, in the projector's
   batches: its rate, and from it the time 40 million events would take (the issue's figure for
   a whole distribution: the decision on partitioning by province rests on it);
4. the board's reads at national size, as a page asks them (the area's row and its children's,
   and the TPS at risk per child): nasional, a province, a kabupaten and a kecamatan, p50/p99;
5. `lacak web` itself on that store (one process, a private nats-server): each level's board
   page over HTTP, p50/p99, then a page of every province and of a kecamatan in every
   kabupaten/kota (its tree read from the store), and the web process's peak resident memory;
6. the board replayed from the store into memory as time travel does it, for the nation and
   for one kabupaten/kota: time and peak memory.
Each phase runs in a process of its own, as `lacak import`, `lacak plan`, `lacak project board`
and `lacak web` would: its peak resident memory is its own.
"""

import multiprocessing
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec

from services.audit.replay import replay_store
from services.console import Refused, progress
from services.custody.atlas import common_area
from services.custody.batches import Batches
from services.custody.masterdata import MasterData, tps_csv
from services.custody.plan import register_plan
from services.demo import nasional
from services.demo.bench.common import bench_store, bench_token, percentile, stack_env
from services.messaging.server import EmbeddedNats, free_port, stop_process
from services.settings import Settings
from services.store.notifications import read_store
from services.views.board.view import BoardView
from services.views.database import open_views
from services.wilayah import level_of

EVENTS_OF_A_DISTRIBUTION = 40_000_000  # the estimate for the whole country
REBUILD_GOAL_SECONDS = 30 * 60  # more: partition the board by province
APPLY_BATCH = 1024  # what a projector applies at once (its fetch)
READS = 50  # of each board page, for its p99
CHILD = {"nasional": "provinsi", "provinsi": "kabupaten", "kabupaten": "kecamatan"}
CHILD |= {"kecamatan": "desa"}


class Phase(msgspec.Struct, frozen=True):
    what: str
    seconds: float
    count: int  # what it handled: TPS, batches, events, reads
    peak_mb: float  # the peak resident memory of the process that ran it
    p50_ms: float = 0.0  # a read's
    p99_ms: float = 0.0
    rows: int = 0  # a read's rows


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def alone(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a fresh process of its own; what it returns."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def import_phase(settings: Settings, wilayah: str, codes: list[str]) -> Phase:
    started = time.perf_counter()
    parts = []
    for n, code in enumerate(codes):
        text = tps_csv(nasional.kabupaten_tree(code))
        parts.append(text if n == 0 else text.split(b"\n", 1)[1])
    batches = Batches(settings.store)
    try:
        kept = MasterData(batches).import_many(
            settings.election, f"{wilayah}.csv", b"".join(parts), "bench",
            lambda done, total: progress("Mengimpor", done, total),
        )  # fmt: skip
    finally:
        batches.close()
    tps = sum(k.tps for k in kept)
    return Phase("import file: TPS", time.perf_counter() - started, tps, peak_mb())


def register_phase(settings: Settings, codes: list[str]) -> Phase:
    started = time.perf_counter()
    batches = Batches(settings.store)
    registered = 0
    try:
        master_data = MasterData(batches)
        for n, code in enumerate(codes, 1):
            tree = master_data.wilayah(settings.election, code)
            assert tree is not None
            registered += register_plan(batches, tree)
            progress("Mendaftarkan rencana", n, len(codes))
    finally:
        batches.close()
    what = "kit plan registered: batches"
    return Phase(what, time.perf_counter() - started, registered, peak_mb())


def rebuild_phase(settings: Settings, provinces: list[str] | None = None) -> tuple[Phase, int]:
    """The board projected from the store, in the projector's batches (or its part for these
    provinces: it reads every event and applies its own); and its rows kept."""
    views = open_views(settings)
    try:
        board = BoardView(views)
        if provinces:
            board.partition(provinces)
        board.setup()
        started = time.perf_counter()
        chunk: list[tuple[int, Any]] = []
        for position, state in read_store(settings):
            chunk.append((position, board.decode(state)))
            if len(chunk) == APPLY_BATCH:
                board.apply(chunk, position)
                chunk = []
        if chunk:
            board.apply(chunk, chunk[-1][0])
        seconds = time.perf_counter() - started
        areas = views.query("SELECT count(*) FROM board_areas")[0][0]
        events = board.applied()
    finally:
        views.close()
    what = "board projected from the store: events"
    return Phase(what, seconds, events, peak_mb()), areas


def parts_of(codes: list[str], parts: int) -> list[list[str]]:
    """The provinces of these kabupaten/kota in `parts` groups of about as many TPS each."""
    weight: dict[str, int] = {}
    for code, kabupaten in nasional.kabupaten_list().items():
        if code in codes:
            weight[code[:2]] = weight.get(code[:2], 0) + kabupaten.tps
    groups: list[list[str]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for province in sorted(weight, key=lambda p: -weight[p]):
        lightest = loads.index(min(loads))
        groups[lightest].append(province)
        loads[lightest] += weight[province]
    return [sorted(group) for group in groups if group]


def parts_phase(settings: Settings, groups: list[list[str]]) -> Phase:
    """The board dropped and projected again in parts, each its own process, all at once."""
    views = open_views(settings)
    try:
        with views.transaction() as cursor:  # the next setup drops the tables and positions
            cursor.execute(
                "UPDATE projection_versions SET version = 0 WHERE projection = ?", ("board",)
            )
        board = BoardView(views)
        board.setup()
    finally:
        views.close()
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(len(groups)) as pool:
        done = pool.starmap(rebuild_phase, [(settings, group) for group in groups])
    seconds = time.perf_counter() - started
    what = f"board in {len(groups)} parts at once: events"
    return Phase(what, seconds, sum(p.count for p, _ in done), max(p.peak_mb for p, _ in done))


def reads_phase(settings: Settings, areas: list[str]) -> list[Phase]:
    """Each area's board page as the web reads it, READS times: its row and its children's,
    and the TPS at risk per child, 30 hours before H-1 ends."""
    deadline = datetime(2024, 2, 13, 17, 0, tzinfo=UTC)  # the end of H-1, WIB
    now = deadline - timedelta(hours=30)
    views = open_views(settings)
    phases = []
    try:
        board = BoardView(views)
        for area in areas:
            level = level_of(area)
            took = []
            for _ in range(READS):
                started = time.perf_counter()
                children = [row.area for row in board.children(area)]
                board.areas([area, *children])
                board.at_risk_in(area, CHILD[level], now, deadline)
                took.append(time.perf_counter() - started)
            phases.append(
                Phase(
                    f"board page read: {level} {area or '(nasional)'}",
                    sum(took),
                    READS,
                    peak_mb(),
                    p50_ms=statistics.median(took) * 1000,
                    p99_ms=percentile(took, 0.99) * 1000,
                    rows=len(children),
                )
            )
    finally:
        views.close()
    return phases


def replay_phase(settings: Settings, area: str) -> Phase:
    """The board of `area` replayed from the store into memory, as the web's time travel does
    it for an area of that level (the nation: every batch; a kabupaten: its own)."""
    started = time.perf_counter()
    board, moment = replay_store(settings, area=area)
    board.settle()
    what = f"time travel replay {level_of(area)} {area or '(nasional)'}: events"
    return Phase(what, time.perf_counter() - started, moment.events, peak_mb())


def peak_of(pid: int) -> float:
    """The peak resident memory of another process so far, in MB (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed_gets(client: httpx.Client, path: str, times: int) -> list[float]:
    took = []
    for _ in range(times):
        started = time.perf_counter()
        answer = client.get(path)
        took.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:200]}")
    return took


def pages_phase(settings: Settings, areas: list[str], codes: list[str]) -> list[Phase]:
    """`lacak web` on the bench's store, as an officer of KPU RI opens it: each area's board
    page READS times, then a page of every province and of a kecamatan in every kabupaten/kota
    (a tree read from the store for each, the 64 newest kept), and the process's peak memory."""
    root = settings.data_dir
    headers = bench_token(settings)
    with EmbeddedNats(root / "nats") as nats_server:
        port = free_port()
        env = stack_env(settings, nats_server.url, port) | {"LACAK_WEB_WORKERS": "1"}
        with open(root / "web.log", "wb") as log:
            web = subprocess.Popen(
                [sys.executable, "-m", "services", "web"], stdout=log, stderr=log, env=env
            )
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60)
            deadline = time.monotonic() + 300
            while True:  # until it answers: it reads the index of kabupaten at start
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if web.poll() is not None or time.monotonic() > deadline:
                    tail = (root / "web.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"lacak web did not start:\n{tail}")
                time.sleep(0.3)
            phases = []
            root = common_area(codes)  # what `/` shows: the area every kabupaten shares
            for area in [area for area in areas if len(area) >= len(root)]:
                path = f"/wilayah/{area}" if area != root else "/"
                client.get(path)  # the first read of a tree is the sweep's to time
                took = timed_gets(client, path, READS)
                phases.append(
                    Phase(
                        f"web page GET {path}",
                        sum(took),
                        READS,
                        peak_of(web.pid),
                        p50_ms=statistics.median(took) * 1000,
                        p99_ms=percentile(took, 0.99) * 1000,
                    )
                )
            sweep = sorted({code[:2] for code in codes}) if not root else []  # the nation's
            sweep += [nasional.kabupaten_tree(code).kecamatan[0].code for code in codes]
            started = time.perf_counter()
            took = []
            for n, area in enumerate(sweep, 1):
                took += timed_gets(client, f"/wilayah/{area}", 1)
                progress("Membuka halaman", n, len(sweep))
            phases.append(
                Phase(
                    "web pages, every province and kabupaten",
                    time.perf_counter() - started,
                    len(sweep),
                    peak_of(web.pid),
                    p50_ms=statistics.median(took) * 1000,
                    p99_ms=percentile(took, 0.99) * 1000,
                )
            )
            client.close()
        finally:
            stop_process(web)
    return phases


def said(phase: Phase) -> None:
    if phase.rows or phase.p99_ms:
        of = f"{phase.rows:,} rows" if phase.rows else f"{phase.count:,} GETs"
        print(
            f"  {phase.what:<44} p50 {phase.p50_ms:7.1f} ms  p99 {phase.p99_ms:7.1f} ms  "
            f"({of})  peak {phase.peak_mb:,.0f} MB",
            flush=True,
        )
        return
    print(
        f"  {phase.what:<44} {phase.seconds:9.1f} s  {phase.count:>12,}  "
        f"{phase.count / phase.seconds if phase.seconds else 0:>10,.0f}/s  "
        f"peak {phase.peak_mb:,.0f} MB",
        flush=True,
    )


def bench_nation(store: str, wilayah: str, parts: int = 0) -> list[Phase]:
    codes = [code for one in wilayah.split(",") for code in nasional.kabupaten_of_wilayah(one)]
    if not codes:
        raise Refused(f"Wilayah {wilayah} tidak dikenal: nasional, provinsi (36), kabupaten.")
    with bench_store(store, "lacak bench nation --store postgres") as settings:
        settings.make_folders()
        name = "PostgreSQL" if settings.postgres else "SQLite"
        print(f"lacak bench nation: {wilayah}, {len(codes)} kabupaten/kota, {name}", flush=True)
        phases = [alone(import_phase, settings, wilayah, codes)]
        said(phases[-1])
        phases.append(alone(register_phase, settings, codes))
        said(phases[-1])
        rebuilt, areas = alone(rebuild_phase, settings)
        phases.append(rebuilt)
        said(rebuilt)
        rate = rebuilt.count / rebuilt.seconds
        print(f"  board areas kept: {areas:,} (provinsi and nasional are added up when read)")
        projected = EVENTS_OF_A_DISTRIBUTION / rate
        verdict = (
            "over 30 minutes: partition the board by province (lacak.events.<kab>.>)"
            if projected > REBUILD_GOAL_SECONDS
            else "under 30 minutes: one board projection suffices"
        )
        print(
            f"  40 million events at {rate:,.0f}/s: {projected / 60:,.0f} minutes to rebuild; "
            f"{verdict}"
        )
        groups = parts_of(codes, parts) if parts > 1 else []
        if len(groups) > 1:
            print(f"  parts: {' | '.join(' '.join(group) for group in groups)}", flush=True)
            split = parts_phase(settings, groups)
            phases.append(split)
            said(split)
            minutes = EVENTS_OF_A_DISTRIBUTION / (split.count / split.seconds) / 60
            print(
                f"  {rebuilt.seconds / split.seconds:.2f}x the whole projector's speed; 40 "
                f"million events: {minutes:,.0f} minutes (each part reads and decodes every "
                "event of the store and applies its own, as `lacak project board --provinsi` does)"
            )
        kecamatan = nasional.kabupaten_tree(codes[0]).kecamatan[0].code
        reads = alone(reads_phase, settings, ["", codes[0][:2], codes[0], kecamatan])
        for phase in reads:
            said(phase)
        phases += reads
        pages = pages_phase(settings, ["", codes[0][:2], codes[0], kecamatan], codes)
        for phase in pages:
            said(phase)
        phases += pages
        for area in ("", codes[0]):
            phases.append(alone(replay_phase, settings, area))
            said(phases[-1])
    return phases
