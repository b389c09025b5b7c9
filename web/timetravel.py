"""Time travel: the board as it stood at a moment or event position, beside another moment.

Each board is replayed from the event store into memory with the live view's own reducer and
shown with the live board's table; the last few replays are kept, so comparing and drilling
down does not replay again.
"""

import asyncio
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromQuery
from litestar.response import Template

from services import bahasa
from services.audit.replay import Moment, replay_apart, settled_replay
from services.settings import Settings
from services.store.notifications import MAX_POSITION
from services.views.board.reducer import MemoryBoard
from services.wilayah import above_kabupaten, kabupaten_of, level_of
from web.board import CHILD_LEVEL, AreaBoard, AreaTree, read_area
from web.params import moment

Text = Annotated[str, msgspec.Meta(max_length=64)]
KEPT = 4  # replays kept in memory


class Replays:
    """The last few replayed boards, by what they were replayed to."""

    def __init__(self) -> None:
        self.kept: OrderedDict[tuple[str, object], tuple[MemoryBoard, Moment]] = OrderedDict()
        self.lock = asyncio.Lock()

    async def board(
        self, settings: Settings, at: datetime | None, position: int | None, area: str = ""
    ) -> tuple[MemoryBoard, Moment]:
        """The board replayed to the moment, of the batches bound for `area` (all: "")."""
        key = (area, "position", position) if position is not None else (area, "time", at)
        async with self.lock:  # one replay at a time: each reads the whole store
            if key not in self.kept:
                replay = replay_apart if above_kabupaten(area) else settled_replay
                self.kept[key] = await asyncio.to_thread(replay, settings, position, at, area)
                while len(self.kept) > KEPT:
                    self.kept.popitem(last=False)
            self.kept.move_to_end(key)
            return self.kept[key]


class Side(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime | None  # what the auditor asked for: a moment, or an event position
    position: int | None
    board: AreaBoard
    moment: Moment


class Sides(msgspec.Struct, frozen=True):
    """What a side of the page is read with."""

    settings: Settings
    replays: Replays
    tree: AreaTree
    deadline: datetime


def replayed_area(code: str) -> str:
    """What a time travel to an area replays: the nation for the nation, a province for a
    province, else the kabupaten the area lies in (its batches only, not the country's)."""
    return code if above_kabupaten(code) else kabupaten_of(code)


async def side_of(sides: Sides, code: str, at: str, position: int | None, name: str) -> Side:
    when = moment(at, name)
    board, replayed = await sides.replays.board(sides.settings, when, position, replayed_area(code))
    risk_at = when or replayed.recorded_at or datetime.now(UTC)
    area = read_area(board, sides.tree, code, sides.deadline, now=risk_at)
    return Side(at=when, position=position, board=area, moment=replayed)


V = TypeVar("V")
R = TypeVar("R")


async def view_then(
    replay: Callable[..., tuple[V, Moment]],
    settings: Settings,
    code: str,
    pada: str,
    posisi: str,
    read: Callable[[V, datetime], R],
) -> tuple[R, Moment]:
    """A view (the gudang's, the findings') replayed to the moment `pada` or the event
    `posisi` (now, when neither is asked) into a scratch file, and what `read` takes from it
    (told the moment it stood at); the file is gone after."""
    when, position = moment(pada, "pada"), position_of(posisi, "posisi")
    if when is None and position is None:  # nothing asked yet: as it stands now
        when = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        view, replayed = await asyncio.to_thread(
            replay, settings, Path(folder), code, position, when
        )
        try:
            then = when or replayed.recorded_at or datetime.now(UTC)
            return await asyncio.to_thread(read, view, then), replayed
        finally:
            view.db.close()  # type: ignore[attr-defined]


def position_of(value: str, name: str) -> int | None:
    """An event position typed in a box: empty for none."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_POSITION:
        raise ValidationException(bahasa.NOT_A_POSITION.format(name=name))
    return int(value)


@get("/waktu", name="time-travel", opt={"need": "audit", "area": "query"})
async def time_travel(
    settings: NamedDependency[Settings],
    replays: NamedDependency[Replays],
    tree: NamedDependency[AreaTree],
    deadline: NamedDependency[datetime],
    pada: FromQuery[Text] = "",
    posisi: FromQuery[Text] = "",
    banding: FromQuery[Text] = "",
    banding_posisi: FromQuery[Text] = "",
    area: FromQuery[Text] = "",
) -> Template:
    """The board at `pada` (WIB) or event `posisi`; beside it, at `banding` or `banding_posisi`.
    The form sends every box, the empty ones as empty: those ask for nothing."""
    position, compared_position = (
        position_of(posisi, "posisi"),
        position_of(banding_posisi, "banding_posisi"),
    )
    code = area or tree.code
    if code not in tree or level_of(code) == "tps":
        raise NotFoundException(bahasa.NOT_ON_TIME_BOARD.format(code=code))
    asked = bool(pada or position is not None)
    sides, reading = [], Sides(settings, replays, tree, deadline)
    if asked:
        sides.append(await side_of(reading, code, pada, position, "pada"))
        if banding or compared_position is not None:
            sides.append(await side_of(reading, code, banding, compared_position, "banding"))
    query = {
        "pada": pada,
        "posisi": position,
        "banding": banding,
        "banding_posisi": compared_position,
    }
    query = {k: v for k, v in query.items() if v not in ("", None)}
    return Template(
        template_name="timetravel.html",
        context={
            "sides": sides,
            "query": query,
            "code": code,
            "trail": tree.trail(code),
            "title": tree.title(code),
            "child_level": CHILD_LEVEL[level_of(code)],
        },
    )
