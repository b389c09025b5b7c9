"""The board: its pages from kabupaten down to a TPS, their live streams (SSE) and their JSON.

Every page listens to one stream, named by its view and area. A stream starts with every row the
page shows, then carries, at most every `COALESCE_SECONDS`, one message with only the rows that
changed, as out-of-band swaps (`hx-swap-oob`); each changed row is rendered once for all pages.
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import jinja2
import msgspec
import psycopg
from litestar import Router, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from nats.aio.msg import Msg

from services.board import (
    COLUMNS,
    AreaCounts,
    BoardView,
    Level,
    MemoryBoard,
    TpsBatch,
    count_in,
    level_of,
    parent_of,
)
from services.election import Election
from services.messaging import BOARD_CHANGED, connect
from services.projector import BoardChanged
from services.wilayah import Wilayah
from web.charts import arrivals_chart, progress_chart
from web.errors import error_responses

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
CLIENT_QUEUE = 64
COALESCE_SECONDS = 0.1  # at most ten messages a second to a browser, however busy the scans
REDRAW_SECONDS = 60.0  # the H-1 risk moves with the clock: every row is redrawn this often
SSE_EVENT = "papan"

View = Literal["rows", "charts", "wall"]
Channel = tuple[View, str]  # what a page shows, of which area


def h1_deadline_of(state: State) -> datetime:
    """The H-1 deadline of the election the web serves: the one place pages take it from. It is
    the election record's; until one is declared, that of the voting day in the settings."""
    election = state.election or Election(
        election=state.settings.election, name="", voting_day=state.settings.voting_day
    )
    return election.h1_deadline(state.wilayah.code)


CHILD_LEVEL: dict[str, Level] = {"kabupaten": "kecamatan", "kecamatan": "desa", "desa": "tps"}


class AreaTree:
    """Names and children of every area of the kabupaten, for the board's pages."""

    def __init__(self, wilayah: Wilayah):
        self.code = wilayah.code
        self.names = {wilayah.code: wilayah.name}
        self.children: dict[str, list[str]] = {wilayah.code: []}
        for k in wilayah.kecamatan:
            self.names[k.code] = k.name
            self.children[wilayah.code].append(k.code)
            self.children[k.code] = []
        for d in wilayah.desa:
            self.names[d.code] = d.name
            self.children[d.kecamatan].append(d.code)
            self.children[d.code] = []
        for t in wilayah.tps:
            self.names[t.code] = f"TPS {t.number:03d}"
            self.children[t.desa].append(t.code)

    def __contains__(self, code: str) -> bool:
        return code in self.names

    def trail(self, code: str) -> list[tuple[str, str]]:
        """(code, name) of the areas above `code`, from the kabupaten down."""
        above: list[tuple[str, str]] = []
        parent = parent_of(code)
        while parent is not None:
            above.insert(0, (parent, self.title(parent)))
            parent = parent_of(parent)
        return above

    def title(self, code: str) -> str:
        """`Kabupaten Serang`, `Kec. Ciruas`, `Desa Kaserangan`, `TPS 004`."""
        prefix = {"kecamatan": "Kec. ", "desa": "Desa "}.get(level_of(code), "")
        return prefix + self.names[code]


class BoardRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the board: an area (kabupaten, kecamatan, desa or TPS)."""

    code: str
    name: str
    level: Level
    planned: int
    packed: int
    dispatched: int  # have left the gudang
    received: int  # have been received somewhere down the chain
    delivered: int  # have been received at their own TPS
    percent_received: float
    percent_ready: float  # delivered, of planned
    anomalies: int  # open
    at_risk: int  # TPS at risk of missing the H-1 deadline
    # Where the batches are now:
    gudang: int
    transit: int
    ppk: int
    pps: int
    tps: int
    returned: int

    @property
    def dom_id(self) -> str:
        return f"{self.level}-{self.code.replace('.', '')}"

    @property
    def href(self) -> str:
        return f"/tps/{self.code}" if self.level == "tps" else f"/wilayah/{self.code}"


SHOWN = tuple(c for c in COLUMNS if not c.startswith("undelivered"))


def board_row(tree: AreaTree, code: str, counts: AreaCounts | None, at_risk: int) -> BoardRow:
    counts = counts or AreaCounts(area=code)
    return BoardRow(
        code=code,
        name=tree.names[code],
        level=level_of(code),
        percent_received=counts.percent_received,
        percent_ready=counts.percent_ready,
        at_risk=at_risk,
        **{column: getattr(counts, column) for column in SHOWN},
    )


class AreaBoard(msgspec.Struct, frozen=True, kw_only=True):
    """An area's total and its rows one level down, as of `now`."""

    total: BoardRow
    rows: list[BoardRow]
    deadline: datetime  # the end of H-1

    def json(self) -> dict[str, Any]:
        """Keyed by level: `{"kabupaten": total, "kecamatan": rows}` for the kabupaten."""
        child = CHILD_LEVEL[self.total.level]
        return {
            "level": self.total.level,
            self.total.level: self.total,
            child: self.rows,
            "deadline": self.deadline,
        }


def read_area(
    view: BoardView | MemoryBoard,
    tree: AreaTree,
    code: str,
    deadline: datetime,
    only: Iterable[str] | None = None,
    now: datetime | None = None,
) -> AreaBoard:
    """The board of one area (kabupaten, kecamatan or desa); `only` these of its rows; the risk
    as of `now` (the clock's now by default; a replayed moment for time travel)."""
    children = tree.children[code]
    if only is not None:
        only = set(only)
        children = [c for c in children if c in only]
    counts = {row.area: row for row in view.areas([code, *children])}
    at_risk = view.at_risk(code, now or datetime.now(UTC), deadline)
    risk = count_in(at_risk, CHILD_LEVEL[level_of(code)])
    return AreaBoard(
        total=board_row(tree, code, counts.get(code), len(at_risk)),
        rows=[board_row(tree, c, counts.get(c), risk[c]) for c in children],
        deadline=deadline,
    )


class TpsBoard(msgspec.Struct, frozen=True, kw_only=True):
    total: BoardRow
    batches: list[TpsBatch]
    deadline: datetime

    def json(self) -> dict[str, Any]:
        return {"level": "tps", "tps": self.total, "batches": self.batches,
                "deadline": self.deadline}  # fmt: skip


def read_tps(view: BoardView, tree: AreaTree, code: str, deadline: datetime) -> TpsBoard:
    [counts] = view.areas([code]) or [None]
    at_risk = view.at_risk(code, datetime.now(UTC), deadline)
    return TpsBoard(
        total=board_row(tree, code, counts, len(at_risk)),
        batches=view.tps_batches(code),
        deadline=deadline,
    )


def read_charts(view: BoardView, tree: AreaTree, deadline: datetime) -> dict[str, Any]:
    board = read_area(view, tree, tree.code, deadline)
    return {
        "board": board,
        "progress": progress_chart(board.rows),
        "arrivals": arrivals_chart(view.arrivals(tree.code), board.total.planned, deadline),
    }


Render = Callable[[Channel, set[str] | None], str]


class BoardBroadcaster:
    """Renders each changed row once per view and area, and hands it to every page showing it;
    what changes within `pause` of a message goes out together in the next one."""

    def __init__(self, render: Render, pause: float = COALESCE_SECONDS):
        self.render = render  # (channel, changed areas or None for all) -> HTML, "" for nothing
        self.pause = pause
        self.clients: dict[Channel, set[asyncio.Queue[str | None]]] = {}
        self._pending: set[str] | None = set()  # None: every row
        self._wake = asyncio.Event()

    def notice(self, areas: Iterable[str] | None) -> None:
        """These areas changed (None: every area, as after a lost connection)."""
        if areas is None or self._pending is None:
            self._pending = None
        else:
            self._pending.update(areas)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            changed, self._pending = self._pending, set()
            channels = [channel for channel, queues in self.clients.items() if queues]
            if not channels:
                continue
            try:
                messages = await asyncio.to_thread(self._render_all, channels, changed)
            except (sqlite3.Error, psycopg.Error):
                log.exception("board rows could not be read; the next change redraws them")
                self.notice(changed)
                await asyncio.sleep(self.pause)
                continue
            for channel, html in messages.items():
                for queue in list(self.clients.get(channel, ())):
                    if queue.full():  # this far behind, a browser is better off reconnecting:
                        self._end(queue)  # its new stream starts with every row
                    else:
                        queue.put_nowait(html)
            await asyncio.sleep(self.pause)  # coalesce: changes meanwhile wait for the next

    def _render_all(self, channels: list[Channel], changed: set[str] | None) -> dict[Channel, str]:
        rendered = {channel: self.render(channel, changed) for channel in channels}
        return {channel: html for channel, html in rendered.items() if html}

    def close(self) -> None:
        for queues in self.clients.values():
            for queue in list(queues):
                self._end(queue)

    def _end(self, queue: asyncio.Queue[str | None]) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
        for queues in self.clients.values():
            queues.discard(queue)

    @asynccontextmanager
    async def listen(self, channel: Channel) -> AsyncIterator[asyncio.Queue[str | None]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(CLIENT_QUEUE)
        self.clients.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            self.clients[channel].discard(queue)


def board_renderer(
    templates: jinja2.Environment,
    view: BoardView,
    tree: AreaTree,
    deadline: Callable[[], datetime],
) -> Render:
    """What each page's stream carries, as out-of-band swaps: rows and total, a TPS's batches,
    the charts, the wall screen's kabupaten numbers."""
    rows_template = templates.get_template("_board_swaps.html")
    tps_template = templates.get_template("_tps_swaps.html")
    charts_template = templates.get_template("_charts.html")
    wall_template = templates.get_template("_wall_total.html")

    def render(channel: Channel, changed: set[str] | None) -> str:
        view_name, code = channel
        if changed is not None and code not in changed:
            return ""  # a row below changed only if its area's total did
        if view_name == "charts":
            return charts_template.render(oob=True, **read_charts(view, tree, deadline()))
        if view_name == "wall":
            board = read_area(view, tree, code, deadline(), only=())
            return wall_template.render(oob=True, total=board.total)
        if level_of(code) == "tps":
            return tps_template.render(oob=True, board=read_tps(view, tree, code, deadline()))
        board = read_area(view, tree, code, deadline(), only=changed)
        return rows_template.render(oob=True, board=board)

    return render


async def follow_board_changes(
    nats_url: str, broadcaster: BoardBroadcaster, stop: asyncio.Event
) -> None:
    """Feed core-NATS board notices to the broadcaster; keep trying while NATS is away."""

    async def on_notice(msg: Msg) -> None:
        broadcaster.notice(msgspec.json.decode(msg.data, type=BoardChanged).areas)

    async def on_reconnect() -> None:  # notices sent while away are lost: redraw every row
        broadcaster.notice(None)

    nc = await connect(nats_url, "web", stop, reconnected_cb=on_reconnect)
    if nc is None:
        return
    broadcaster.notice(None)  # whatever changed before this connection
    await nc.subscribe(BOARD_CHANGED, cb=on_notice)
    await stop.wait()
    await nc.close()


async def redraw_as_time_passes(broadcaster: BoardBroadcaster, every: float) -> None:
    """A TPS becomes at risk by the clock alone, with no event: redraw every row now and then."""
    while True:
        await asyncio.sleep(every)
        broadcaster.notice(None)


def area_or_404(state: State, code: str) -> str:
    if code not in state.tree:
        raise NotFoundException(f"Wilayah {code} tidak dikenal.")
    return code


@get("/", name="board", opt={"need": "view"})
async def board_page(state: State) -> Template:
    """The kabupaten: a row per kecamatan."""
    return await area_template(state, state.tree.code)


@get("/wilayah/{code:str}", name="area", opt={"need": "view", "area": "path"})
async def area_page(state: State, code: FromPath[str]) -> Template:
    """A kecamatan (a row per desa) or a desa (a row per TPS)."""
    area_or_404(state, code)
    if level_of(code) == "tps":
        raise NotFoundException(f"{code} adalah TPS: lihat /tps/{code}.")
    return await area_template(state, code)


async def area_template(state: State, code: str) -> Template:
    tree: AreaTree = state.tree
    board = await asyncio.to_thread(read_area, state.board_view, tree, code, h1_deadline_of(state))
    return Template(
        template_name="board.html",
        context={"board": board, "trail": tree.trail(code), "title": tree.title(code),
                 "child_level": CHILD_LEVEL[board.total.level],
                 "stream": f"/board/stream?area={code}"},
    )  # fmt: skip


@get("/tps/{code:str}", name="tps", opt={"need": "view", "area": "path"})
async def tps_page(state: State, code: FromPath[str]) -> Template:
    tree: AreaTree = state.tree
    area_or_404(state, code)
    if level_of(code) != "tps":
        raise NotFoundException(f"{code} bukan kode TPS (13 angka).")
    board = await asyncio.to_thread(read_tps, state.board_view, tree, code, h1_deadline_of(state))
    return Template(
        template_name="tps.html",
        context={"board": board, "trail": tree.trail(code), "place_name": state.wilayah.place_name,
                 "stream": f"/board/stream?area={code}"},
    )  # fmt: skip


@get("/grafik", name="charts", opt={"need": "view"})
async def charts_page(state: State) -> Template:
    tree: AreaTree = state.tree
    charts = await asyncio.to_thread(read_charts, state.board_view, tree, h1_deadline_of(state))
    return Template(
        template_name="charts.html",
        context={**charts, "stream": f"/board/stream?area={tree.code}&view=charts"},
    )


@get("/layar", name="wall", opt={"need": "view"})
async def wall_page(state: State) -> Template:
    tree: AreaTree = state.tree
    total = (
        await asyncio.to_thread(read_area, state.board_view, tree, tree.code, h1_deadline_of(state),
                                only=())
    ).total  # fmt: skip
    return Template(
        template_name="wall.html",
        context={"total": total, "panel": await wall_panel_of(state, 0),
                 "stream": f"/board/stream?area={tree.code}&view=wall"},
    )  # fmt: skip


async def wall_panel_of(state: State, number: int) -> dict[str, Any]:
    tree: AreaTree = state.tree
    kecamatan = tree.children[tree.code]
    code = kecamatan[number % len(kecamatan)]
    board = await asyncio.to_thread(
        read_area, state.board_view, tree, code, h1_deadline_of(state), only=()
    )
    return {"row": board.total, "number": number % len(kecamatan), "count": len(kecamatan),
            "next": (number + 1) % len(kecamatan)}  # fmt: skip


@get("/layar/kecamatan/{number:int}", name="wall-kecamatan", opt={"need": "view"})
async def wall_kecamatan(state: State, number: FromPath[int]) -> Template:
    """The wall screen's kecamatan panel; it asks for the next one itself after a while."""
    return Template(template_name="_wall_kecamatan.html", context={
        "panel": await wall_panel_of(state, number)})  # fmt: skip


@get("/board/stream", name="board-stream", opt={"need": "view", "area": "query"})
async def board_stream(
    state: State,
    area: FromQuery[str | None] = None,
    view: FromQuery[View] = "rows",
) -> ServerSentEvent:
    """A page's live rows: every row it shows at once, then the changed ones as they change."""
    broadcaster: BoardBroadcaster = state.broadcaster
    if view != "rows" and area not in (None, state.tree.code):  # they show the whole kabupaten
        raise ValidationException("Grafik dan layar dinding hanya untuk seluruh kabupaten.")
    channel: Channel = (view, area_or_404(state, area or state.tree.code))

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async with broadcaster.listen(channel) as queue:
            yield ServerSentEventMessage(comment="tersambung")
            # Listening already: whatever changed since the page was rendered is in these rows.
            html = await asyncio.to_thread(broadcaster.render, channel, None)
            yield ServerSentEventMessage(event=SSE_EVENT, data=html)
            while True:
                try:
                    html = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="ping")
                    continue
                if html is None:
                    return
                yield ServerSentEventMessage(event=SSE_EVENT, data=html)

    return ServerSentEvent(messages(), headers={"Cache-Control": "no-cache"})


@get(
    "/api/v1/board",
    name="api-board",
    opt={"need": "view", "area": "query"},
    responses=error_responses(404),
)
async def board_json(state: State, area: FromQuery[str | None] = None) -> dict[str, Any]:
    """The board's numbers for an area (default the kabupaten): its total, keyed by its level,
    and its rows one level down, keyed by theirs; for a TPS, its batches."""
    tree: AreaTree = state.tree
    code = area_or_404(state, area or tree.code)
    deadline = h1_deadline_of(state)
    reader = read_tps if level_of(code) == "tps" else read_area
    board = await asyncio.to_thread(reader, state.board_view, tree, code, deadline)
    return board.json()


board_router = Router(
    path="/",
    route_handlers=[
        board_page,
        area_page,
        tps_page,
        charts_page,
        wall_page,
        wall_kecamatan,
        board_stream,
        board_json,
    ],
)
