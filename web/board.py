"""The board: its page, its live stream of changed rows (SSE) and its JSON."""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import jinja2
import msgspec
import psycopg
from litestar import Router, get
from litestar.datastructures import State
from litestar.response import ServerSentEvent, ServerSentEventMessage, Template
from nats.aio.msg import Msg

from services.board import COLUMNS, BoardView, KecamatanCounts
from services.messaging import BOARD_CHANGED, connect
from services.projector import BoardChanged
from services.wilayah import Wilayah

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
CLIENT_QUEUE = 64
TOTAL_EVENT = "kab-total"

Swap = tuple[str, str]  # (SSE event name, HTML of the row)


class BoardRow(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the board: a kecamatan, or the kabupaten's total."""

    code: str
    name: str
    planned: int
    dispatched: int  # have left the gudang
    received: int  # have been received somewhere down the chain
    percent_received: float
    anomalies: int  # open
    # Where the batches are now:
    gudang: int
    transit: int
    ppk: int
    pps: int
    tps: int
    returned: int

    @property
    def event(self) -> str:
        return "kec-" + self.code.replace(".", "")


class Board(msgspec.Struct, frozen=True, kw_only=True):
    kabupaten: BoardRow
    kecamatan: list[BoardRow]


def board_row(code: str, name: str, counts: KecamatanCounts | None) -> BoardRow:
    counts = counts or KecamatanCounts(kecamatan=code)
    return BoardRow(
        code=code,
        name=name,
        percent_received=counts.percent_received,
        **{column: getattr(counts, column) for column in COLUMNS},
    )


def read_board(view: BoardView, wilayah: Wilayah) -> Board:
    counts = {row.kecamatan: row for row in view.rows()}
    total = KecamatanCounts(
        kecamatan=wilayah.code,
        **{column: sum(getattr(c, column) for c in counts.values()) for column in COLUMNS},
    )
    return Board(
        kabupaten=board_row(wilayah.code, wilayah.name, total),
        kecamatan=[board_row(k.code, k.name, counts.get(k.code)) for k in wilayah.kecamatan],
    )


class BoardBroadcaster:
    """Renders each changed row once and hands it to every open board; busy bursts coalesce."""

    def __init__(self, render: Callable[[set[str]], list[Swap]]):
        self.render = render
        self.clients: set[asyncio.Queue[list[Swap] | None]] = set()
        self._pending: set[str] = set()
        self._wake = asyncio.Event()

    def notice(self, kecamatan: list[str]) -> None:
        self._pending.update(kecamatan)
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            changed, self._pending = self._pending, set()
            if not self.clients:
                continue
            try:
                swaps = await asyncio.to_thread(self.render, changed)
            except (sqlite3.Error, psycopg.Error):
                log.exception("board rows could not be read; the next change redraws them")
                self._pending |= changed
                continue
            for queue in list(self.clients):
                if queue.full():  # this far behind, a browser is better off reconnecting:
                    self._end(queue)  # its new stream starts with every row
                else:
                    queue.put_nowait(swaps)

    def close(self) -> None:
        for queue in list(self.clients):
            self._end(queue)

    def _end(self, queue: asyncio.Queue[list[Swap] | None]) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
        self.clients.discard(queue)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue[list[Swap] | None]]:
        queue: asyncio.Queue[list[Swap] | None] = asyncio.Queue(CLIENT_QUEUE)
        self.clients.add(queue)
        try:
            yield queue
        finally:
            self.clients.discard(queue)


def row_renderer(
    templates: jinja2.Environment, view: BoardView, wilayah: Wilayah
) -> Callable[[set[str]], list[Swap]]:
    row_template = templates.get_template("_kecamatan_row.html")
    total_template = templates.get_template("_total_row.html")

    def render(changed: set[str]) -> list[Swap]:
        board = read_board(view, wilayah)
        swaps = [
            (row.event, row_template.render(row=row))
            for row in board.kecamatan
            if row.code in changed
        ]
        swaps.append((TOTAL_EVENT, total_template.render(total=board.kabupaten)))
        return swaps

    return render


async def follow_board_changes(
    nats_url: str, broadcaster: BoardBroadcaster, every_row: list[str], stop: asyncio.Event
) -> None:
    """Feed core-NATS board notices to the broadcaster; keep trying while NATS is away."""

    async def on_notice(msg: Msg) -> None:
        broadcaster.notice(msgspec.json.decode(msg.data, type=BoardChanged).kecamatan)

    async def on_reconnect() -> None:  # notices sent while away are lost: redraw every row
        broadcaster.notice(every_row)

    nc = await connect(nats_url, "web", stop, reconnected_cb=on_reconnect)
    if nc is None:
        return
    broadcaster.notice(every_row)  # whatever changed before this connection
    await nc.subscribe(BOARD_CHANGED, cb=on_notice)
    await stop.wait()
    await nc.close()


@get("/", name="board")
async def board_page(state: State) -> Template:
    board = await asyncio.to_thread(read_board, state.board_view, state.wilayah)
    return Template(template_name="board.html", context={"board": board})


@get("/board/stream", name="board-stream")
async def board_stream(state: State) -> ServerSentEvent:
    broadcaster: BoardBroadcaster = state.broadcaster
    every_row = {k.code for k in state.wilayah.kecamatan}

    async def messages() -> AsyncIterator[ServerSentEventMessage]:
        async with broadcaster.listen() as queue:
            yield ServerSentEventMessage(comment="tersambung")
            # Listening already: whatever changed since the page was rendered is in these rows.
            for event, html in await asyncio.to_thread(broadcaster.render, every_row):
                yield ServerSentEventMessage(event=event, data=html)
            while True:
                try:
                    swaps = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="ping")
                    continue
                if swaps is None:
                    return
                for event, html in swaps:
                    yield ServerSentEventMessage(event=event, data=html)

    return ServerSentEvent(messages(), headers={"Cache-Control": "no-cache"})


@get("/api/v1/board", name="api-board")
async def board_json(state: State) -> Board:
    """The board's numbers: the kabupaten total and one row per kecamatan."""
    return await asyncio.to_thread(read_board, state.board_view, state.wilayah)


board_router = Router(path="/", route_handlers=[board_page, board_stream, board_json])
