"""The board: its pages from kabupaten down to a TPS, their live streams (SSE) and their JSON.

Every page listens to one stream, named by its view and area (`web/live.py`). A stream starts
with every row the page shows, then carries one message with only the rows that changed, as
out-of-band swaps (`hx-swap-oob`); each changed row is rendered once for all pages.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import jinja2
import msgspec
from litestar import Router, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template

from services import bahasa
from services.custody.election import h1_where
from services.views.board.reducer import COLUMNS, AreaCounts, MemoryBoard
from services.views.board.view import BoardView, TpsBatch
from services.views.findings import FindingCount, FindingView
from services.wilayah import Level, Served, level_of, local_time_of, parent_of, within
from web.charts import arrivals_chart, progress_chart
from web.errors import error_responses
from web.health import Health
from web.live import KEEPALIVE_SECONDS, Broadcaster, Channel, Follows

SSE_EVENT = "papan"

View = Literal["rows", "charts", "wall"]
CHILD_LEVEL: dict[str, Level] = {
    "nasional": "provinsi",
    "provinsi": "kabupaten",
    "kabupaten": "kecamatan",
    "kecamatan": "desa",
    "desa": "tps",
}
CHILD_NAMES = {
    "provinsi": "provinsi",
    "kabupaten": "kabupaten/kota",
    "kecamatan": "kecamatan",
    "desa": "desa",
    "tps": "TPS",
}


class AreaTree:
    """Names and children of the areas served, for the board's pages: from the area the server
    serves (a kabupaten, a province or the nation) down to each TPS, asked of its places."""

    def __init__(self, places: Served):
        self.places = places
        self.code = places.code

    def __contains__(self, code: str) -> bool:
        return within(self.code, code) and self.places.knows(code)

    def children(self, code: str) -> list[str]:
        return self.places.children_of(code)

    def name(self, code: str) -> str:
        return self.places.short_name(code)

    def trail(self, code: str) -> list[tuple[str, str]]:
        """(code, name) of the areas above `code`, from the area served down."""
        above: list[tuple[str, str]] = []
        parent = parent_of(code)
        while parent is not None and within(self.code, parent):
            above.insert(0, (parent, self.title(parent)))
            parent = parent_of(parent)
        return above

    def title(self, code: str) -> str:
        """`Nasional`, `Provinsi Banten`, `Kabupaten Serang`, `Kec. Ciruas`, `Desa Kaserangan`,
        `TPS 004`."""
        prefix = {"provinsi": "Provinsi ", "kecamatan": "Kec. ", "desa": "Desa "}
        return prefix.get(level_of(code), "") + self.name(code)

    def area(self, code: str) -> str:
        """The code, if it is an area served; a 404 if not."""
        if code not in self:
            raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=code))
        return code


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
    # Bawaslu's findings not closed, and those overdue; None: not read (charts, walls, the past)
    findings: FindingCount | None = None

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
        name=tree.name(code),
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
    deadline = h1_where(deadline, code)
    children = tree.children(code)
    if only is not None:
        only = set(only)
        children = [c for c in children if c in only]
    counts = {row.area: row for row in view.areas([code, *children])}
    risk = risk_below(view, tree, code, now or datetime.now(UTC), deadline)
    return AreaBoard(
        total=board_row(tree, code, counts.get(code), risk.total()),
        rows=[board_row(tree, c, counts.get(c), risk[c]) for c in children],
        deadline=deadline,
    )


def risk_below(
    view: BoardView | MemoryBoard, tree: AreaTree, code: str, now: datetime, deadline: datetime
) -> Counter[str]:
    """The TPS at risk in an area, counted in its areas one level down, each by the H-1 of its
    own province's clock: the nation's provinces, zone by zone."""
    if level_of(code) != "nasional":
        return view.at_risk_in(code, CHILD_LEVEL[level_of(code)], now, deadline)
    risk: Counter[str] = Counter()
    zones: dict[str, list[str]] = {}
    for province in tree.children(code):
        zones.setdefault(str(local_time_of(province)), []).append(province)
    for provinces in zones.values():
        found = view.at_risk_in(code, "provinsi", now, h1_where(deadline, provinces[0]))
        risk.update({province: found[province] for province in provinces if found[province]})
    return risk


class TpsBoard(msgspec.Struct, frozen=True, kw_only=True):
    total: BoardRow
    batches: list[TpsBatch]
    deadline: datetime

    def json(self) -> dict[str, Any]:
        return {
            "level": "tps",
            "tps": self.total,
            "batches": self.batches,
            "deadline": self.deadline,
        }


def read_tps(view: BoardView, tree: AreaTree, code: str, deadline: datetime) -> TpsBoard:
    [counts] = view.areas([code]) or [None]
    deadline = h1_where(deadline, code)
    at_risk = view.at_risk(code, datetime.now(UTC), deadline)
    return TpsBoard(
        total=board_row(tree, code, counts, len(at_risk)),
        batches=view.tps_batches(code),
        deadline=deadline,
    )


Board = TypeVar("Board", AreaBoard, TpsBoard)


def supervised(board: Board, findings: FindingView, now: datetime) -> Board:
    """The board with Bawaslu's open and overdue findings in its total and each of its rows,
    read in one query for the rows shown."""
    rows = board.rows if isinstance(board, AreaBoard) else []
    counts = findings.open_in(board.total.code, [row.code for row in rows], now)

    def counted(row: BoardRow) -> BoardRow:
        return msgspec.structs.replace(row, findings=counts.get(row.code, FindingCount()))

    if isinstance(board, AreaBoard):
        return msgspec.structs.replace(
            board, total=counted(board.total), rows=[counted(row) for row in rows]
        )
    return msgspec.structs.replace(board, total=counted(board.total))


def read_charts(view: BoardView, tree: AreaTree, code: str, deadline: datetime) -> dict[str, Any]:
    board = read_area(view, tree, code, deadline)
    return {
        "board": board,
        "progress": progress_chart(board.rows),
        "arrivals": arrivals_chart(view.arrivals(code), board.total.planned, board.deadline),
    }


def board_channels(
    templates: jinja2.Environment,
    view: BoardView,
    tree: AreaTree,
    deadline: Callable[[], datetime],
    findings: FindingView,
) -> dict[str, Follows]:
    """What each board page's stream carries, as out-of-band swaps: rows and total, a TPS's
    batches, the charts, the wall screen's kabupaten numbers; all follow the board's notices,
    and the rows the findings' too (they count Bawaslu's open findings)."""
    rows_template = templates.get_template("_board_swaps.html")
    tps_template = templates.get_template("_tps_swaps.html")
    charts_template = templates.get_template("_charts.html")
    wall_template = templates.get_template("_wall_total.html")

    def rows(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        code = channel[1]
        if changed is not None and code not in changed:
            return ""  # a row below changed only if its area's total did
        now = datetime.now(UTC)
        if level_of(code) == "tps":
            found = supervised(read_tps(view, tree, code, deadline()), findings, now)
            return tps_template.render(oob=True, board=found)
        board = read_area(view, tree, code, deadline(), only=changed)
        return rows_template.render(oob=True, board=supervised(board, findings, now))

    def charts(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        if changed is not None and channel[1] not in changed:
            return ""
        return charts_template.render(oob=True, **read_charts(view, tree, channel[1], deadline()))

    def wall(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        if changed is not None and channel[1] not in changed:
            return ""
        return wall_template.render(oob=True, **wall_total(view, tree, channel[1], deadline()))

    return {
        "rows": Follows(BoardView.name, rows, encode=Encoded, also=(FindingView.name,)),
        "charts": Follows(BoardView.name, charts, encode=Encoded),
        "wall": Follows(BoardView.name, wall, encode=Encoded),
    }


class Encoded(ServerSentEventMessage):
    """A board message encoded once for every stream that carries it: a thousand open boards
    would otherwise each encode the same rows again."""

    def __init__(self, html: str) -> None:
        super().__init__(data=html, event=SSE_EVENT)
        self.raw = super().encode()

    def encode(self) -> bytes:
        return self.raw


@get("/", name="board", opt={"need": "view"})
async def board_page(
    board: NamedDependency[BoardView],
    finding_view: NamedDependency[FindingView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
) -> Template:
    """The kabupaten: a row per kecamatan."""
    return await area_template(board, finding_view, tree, tree.code, deadline)


@get("/wilayah/{code:str}", name="area", opt={"need": "view", "area": "path"})
async def area_page(
    board: NamedDependency[BoardView],
    finding_view: NamedDependency[FindingView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    code: FromPath[str],
) -> Template:
    """A kecamatan (a row per desa) or a desa (a row per TPS)."""
    tree.area(code)
    if level_of(code) == "tps":
        raise NotFoundException(bahasa.IS_A_TPS.format(code=code))
    return await area_template(board, finding_view, tree, code, deadline)


async def area_template(
    view: BoardView, findings: FindingView, tree: AreaTree, code: str, deadline: datetime
) -> Template:
    board = await asyncio.to_thread(read_area, view, tree, code, deadline)
    board = await asyncio.to_thread(supervised, board, findings, datetime.now(UTC))
    return Template(
        template_name="board.html",
        context={
            "board": board,
            "trail": tree.trail(code),
            "title": tree.title(code),
            "child_level": CHILD_LEVEL[board.total.level],
            "stream": f"/board/stream?area={code}",
        },
    )


@get("/tps/{code:str}", name="tps", opt={"need": "view", "area": "path"})
async def tps_page(
    board: NamedDependency[BoardView],
    finding_view: NamedDependency[FindingView],
    tree: NamedDependency[AreaTree],
    wilayah: NamedDependency[Served],
    deadline: NamedDependency[datetime],
    code: FromPath[str],
) -> Template:
    tree.area(code)
    if level_of(code) != "tps":
        raise NotFoundException(bahasa.NOT_A_TPS.format(code=code))
    found = await asyncio.to_thread(read_tps, board, tree, code, deadline)
    found = await asyncio.to_thread(supervised, found, finding_view, datetime.now(UTC))
    return Template(
        template_name="tps.html",
        context={
            "board": found,
            "trail": tree.trail(code),
            "place_name": wilayah.place_name,
            "stream": f"/board/stream?area={code}",
        },
    )


@get("/grafik", name="charts", opt={"need": "view", "area": "query"})
async def charts_page(
    board: NamedDependency[BoardView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    area: FromQuery[str | None] = None,
) -> Template:
    """An area's charts (the kabupaten by default): where its batches are, area by area one
    level down, and its deliveries hour by hour against H-1."""
    code = shown_area(tree, area)
    charts = await asyncio.to_thread(read_charts, board, tree, code, deadline)
    return Template(
        template_name="charts.html",
        context={
            **charts,
            "trail": tree.trail(code),
            "title": tree.title(code),
            "code": code,
            "stream": f"/board/stream?area={code}&view=charts",
        },
    )


def shown_area(tree: AreaTree, area: str | None) -> str:
    """The area a chart or a wall screen shows: the kabupaten, a kecamatan or a desa."""
    code = tree.area(area or tree.code)
    if level_of(code) == "tps":
        raise NotFoundException(bahasa.IS_A_TPS.format(code=code))
    return code


def furthest_behind(
    view: BoardView, tree: AreaTree, code: str, deadline: datetime
) -> BoardRow | None:
    """The area one level down furthest behind: the least ready, the most at risk first."""
    rows = [row for row in read_area(view, tree, code, deadline).rows if row.planned]
    return min(rows, key=lambda r: (r.percent_ready, -r.at_risk, r.code), default=None)


def wall_total(view: BoardView, tree: AreaTree, code: str, deadline: datetime) -> dict[str, Any]:
    """The wall's big numbers of an area, and the area below it furthest behind."""
    behind = furthest_behind(view, tree, code, deadline)
    return {
        "total": read_area(view, tree, code, deadline, only=()).total,
        "title": tree.title(code),
        "behind": behind,
        "behind_title": tree.title(behind.code) if behind else "",
        "now": datetime.now(UTC),
    }


@get("/layar", name="wall", opt={"need": "view", "area": "query"})
async def wall_page(
    board: NamedDependency[BoardView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    area: FromQuery[str | None] = None,
) -> Template:
    """The wall screen of an area (the kabupaten by default): its big numbers, the area below it
    furthest behind, and each area below it in turn."""
    code = shown_area(tree, area)
    return Template(
        template_name="wall.html",
        context={
            **await asyncio.to_thread(wall_total, board, tree, code, deadline),
            "child_name": CHILD_NAMES[CHILD_LEVEL[level_of(code)]],
            "panel": await wall_panel_of(board, tree, deadline, code, 0),
            "stream": f"/board/stream?area={code}&view=wall",
        },
    )


async def wall_panel_of(
    board: BoardView, tree: AreaTree, deadline: datetime, code: str, number: int
) -> dict[str, Any] | None:
    """The panel of the `number`th area below (in turn); None for an area with none below."""
    below = tree.children(code)
    if not below:
        return None
    child = below[number % len(below)]
    found = await asyncio.to_thread(read_area, board, tree, child, deadline, only=())
    return {
        "row": found.total,
        "title": tree.title(child),
        "area": code,
        "number": number % len(below),
        "count": len(below),
        "next": (number + 1) % len(below),
    }


@get("/layar/kecamatan/{number:int}", name="wall-kecamatan", opt={"need": "view", "area": "query"})
async def wall_kecamatan(
    board: NamedDependency[BoardView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    number: FromPath[int],
    area: FromQuery[str | None] = None,
) -> Template:
    """The wall screen's panel of one area below (a kecamatan of the kabupaten, a desa of a
    kecamatan); it asks for the next one itself after a while."""
    code = shown_area(tree, area)
    panel = await wall_panel_of(board, tree, deadline, code, number)
    if panel is None:
        raise NotFoundException(bahasa.UNKNOWN_AREA.format(code=f"{code or 'nasional'} {number}"))
    return Template(template_name="_wall_kecamatan.html", context={"panel": panel})


@get("/board/stream", name="board-stream", opt={"need": "view", "area": "query"})
async def board_stream(
    broadcaster: NamedDependency[Broadcaster],
    tree: NamedDependency[AreaTree],
    area: FromQuery[str | None] = None,
    view: FromQuery[View] = "rows",
) -> ServerSentEvent:
    """A page's live rows: every row it shows at once, then the changed ones as they change."""
    code = tree.area(area or tree.code)
    if view != "rows" and level_of(code) == "tps":  # charts and walls are of areas with rows
        raise ValidationException(bahasa.WHOLE_KABUPATEN_ONLY)
    return channel_stream(broadcaster, (view, code))


def channel_stream(broadcaster: Broadcaster, channel: Channel) -> ServerSentEvent:
    """A page's stream of a channel: every row it shows at once, then each message rendered
    for the channel (already Encoded), a keep-alive comment while nothing happens."""

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async with broadcaster.listen(channel) as queue:
            yield ServerSentEventMessage(comment="tersambung")
            # Listening already: whatever changed since the page was rendered is in these rows.
            yield Encoded(await asyncio.to_thread(broadcaster.render, channel))
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="ping")
                    continue
                if message is None:
                    return
                yield message  # Encoded

    return ServerSentEvent(messages(), headers={"Cache-Control": "no-cache"})


@get("/papan/menyusul", name="board-catching-up", opt={"need": "view"}, include_in_schema=False)
async def board_catching_up(health: NamedDependency[Health]) -> Template:
    """Whether the board is still catching up with the store (a fresh demo's first minutes, a
    rebuild, a projector that was down): a notice that asks again in a few seconds, or nothing
    once its oldest event not counted is less than LACAK_CATCHING_UP_SECONDS old (asked again
    every half minute)."""
    lag = (await health.snapshot()).projections.get(BoardView.name)
    behind = lag is not None and lag.events and lag.seconds >= health.settings.catching_up_seconds
    return Template("_catching_up.html", context={"lag": lag if behind else None})


@get(
    "/api/v1/board",
    name="api-board",
    opt={"need": "view", "area": "query"},
    responses=error_responses(404),
)
async def board_json(
    board: NamedDependency[BoardView],
    finding_view: NamedDependency[FindingView],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    area: FromQuery[str | None] = None,
) -> dict[str, Any]:
    """The board's numbers for an area (default the kabupaten): its total, keyed by its level,
    and its rows one level down, keyed by theirs, each with Bawaslu's open and overdue
    findings; for a TPS, its batches."""
    code = tree.area(area or tree.code)
    reader = read_tps if level_of(code) == "tps" else read_area
    found = await asyncio.to_thread(reader, board, tree, code, deadline)
    return (await asyncio.to_thread(supervised, found, finding_view, datetime.now(UTC))).json()


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
        board_catching_up,
        board_json,
    ],
)
