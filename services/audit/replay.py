"""Time travel: the board exactly as it stood at a moment or an event position, rebuilt by
replaying the event store through the same reducer the live view uses, into memory.

"As it stood at a moment" is what the live board could have shown then: the events the server
had recorded by that moment (`recorded_at`), in notification order.
"""

import bisect
import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

import msgspec

import events
from events import Event
from events.batch import BatchEvent
from events.findings import FindingEvent
from services.settings import Settings
from services.store.notifications import read_store
from services.views.board.reducer import MemoryBoard
from services.views.database import SqliteViews
from services.views.findings import FindingView
from services.views.gudang import GudangView
from services.views.projection import Projection
from services.wilayah import within

# Events applied at a time. Each decoded event and its UUID are tracked by the garbage collector:
# with 5,000 of them alive at once, a replay of Kab. Serang set off ~1,000 young and 9 full
# collections (a third of its time); under the collector's threshold of 700 new objects, hardly any.
# Smaller is faster still: 1,000 made a replay a third slower than 100 (the memory of a small
# chunk's events is still in the cache when the next is decoded).
CHUNK = 100
PROGRESS_EVERY = 50  # chunks: 5,000 events


class Moment(msgspec.Struct, frozen=True, kw_only=True):
    """Where a replay stopped: the last event applied."""

    position: int  # 0: nothing applied
    recorded_at: datetime | None
    events: int


def decoded(stored: Iterable[tuple[int, bytes]]) -> Iterator[tuple[int, Event]]:
    decode = events.decode
    for position, data in stored:
        yield position, decode(data)


def replay(
    stored: Iterable[tuple[int, Event]],
    *,
    until_position: int | None = None,
    until_time: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    area: str = "",
) -> tuple[MemoryBoard, Moment]:
    """The board after every event up to the position (inclusive) and recorded before the time;
    of the batches bound for `area` only, when one is named (a kabupaten's time travel in a
    national store holds that kabupaten's batches in memory, not the country's)."""
    board = MemoryBoard()
    if area:
        stored = (
            (position, event)
            for position, event in stored
            if not isinstance(event, BatchEvent) or within(area, event.destination)
        )
    rows = iter(stored)
    last = Moment(position=0, recorded_at=None, events=0)
    for number in itertools.count(1):
        chunk = list(itertools.islice(rows, CHUNK))
        taken = chunk[: first_past(chunk, until_position, until_time)] if chunk else chunk
        board.apply(map(itemgetter(1), taken))  # the events, without a list of them
        if taken:
            position, event = taken[-1]
            last = Moment(
                position=position, recorded_at=event.recorded_at, events=last.events + len(taken)
            )
        if len(taken) < CHUNK:
            break
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(last.events)
    return board, last


def first_past(
    chunk: list[tuple[int, Event]], until_position: int | None, until_time: datetime | None
) -> int:
    """Where in the chunk the first event past the position or recorded at or after the time
    is; its length if none is. Positions ascend, so only the time is looked for event by event."""
    stop = len(chunk)
    if until_position is not None and chunk[-1][0] > until_position:
        stop = bisect.bisect_right(chunk, until_position, key=itemgetter(0))
    if until_time is not None:
        late = (i for i, (_, event) in enumerate(chunk[:stop]) if event.recorded_at >= until_time)
        stop = next(late, stop)
    return stop


DESTINATION = b'"destination":"'  # a batch event's TPS, as its bytes in the store spell it


def bound_for(stored: Iterable[tuple[int, bytes]], area: str) -> Iterator[tuple[int, bytes]]:
    """The stored events an area's replay needs: a batch event bound elsewhere is passed over
    before it is decoded, by the TPS code in its bytes. In a national store that is nearly all
    of them, and decoding is most of a replay's time."""
    prefix = area.replace(".", "").encode()
    skip = len(DESTINATION)
    for position, data in stored:
        at = data.find(DESTINATION)
        if at < 0 or data.startswith(prefix, at + skip):
            yield position, data


def replay_store(
    settings: Settings,
    until_position: int | None = None,
    until_time: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    area: str = "",
) -> tuple[MemoryBoard, Moment]:
    """Replay the settings' event store (see `replay`)."""
    stored = decoded(bound_for(read_store(settings), area) if area else read_store(settings))
    return replay(
        stored,
        until_position=until_position,
        until_time=until_time,
        progress=progress,
        area=area,
    )


def settled_replay(
    settings: Settings, until_position: int | None, until_time: datetime | None, area: str
) -> tuple[MemoryBoard, Moment]:
    """The board of `area` replayed (see `replay`), settled: its sums, not its batches."""
    board, moment = replay_store(
        settings, until_position=until_position, until_time=until_time, area=area
    )
    return board.settle(), moment


def replay_apart(
    settings: Settings, until_position: int | None, until_time: datetime | None, area: str
) -> tuple[MemoryBoard, Moment]:
    """`settled_replay` in a fresh process of its own, which ends with it. A province's or the
    nation's replay holds each of its batches until settled (the nation's: 1.86 GB, a minute
    and more): the web process that asks gets the sums only, and its other requests do not
    wait on the replay's decoding for the interpreter."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(settled_replay, (settings, until_position, until_time, area))


VIEW_CHUNK = 2000  # events a replayed view (gudang, findings) applies in one transaction


V = TypeVar("V", bound=Projection)


def replay_gudang(
    settings: Settings,
    folder: Path,
    area: str = "",
    until_position: int | None = None,
    until_time: datetime | None = None,
) -> tuple[GudangView, Moment]:
    """The gudang view as it stood at a moment or position, of the kabupaten in `area`."""
    return replay_view(GudangView, settings, folder, area, until_position, until_time)


def replay_findings(
    settings: Settings,
    folder: Path,
    area: str = "",
    until_position: int | None = None,
    until_time: datetime | None = None,
) -> tuple[FindingView, Moment]:
    """Bawaslu's findings as they stood at a moment or position, of those in `area`."""
    return replay_view(
        FindingView, settings, folder, area, until_position, until_time, only=FindingEvent
    )


def replay_view(
    kind: Callable[[SqliteViews], V],
    settings: Settings,
    folder: Path,
    area: str = "",
    until_position: int | None = None,
    until_time: datetime | None = None,
    only: type | None = None,
) -> tuple[V, Moment]:
    """A view as it stood at a moment or position, of the events of `area` (of the type
    `only`, if given, which the store picks by its module): the stored events replayed through
    the live view's own code into a SQLite file in `folder` (the caller's, removed by the
    caller)."""
    view = kind(SqliteViews(folder / "replayed.sqlite"))
    view.setup()
    module = only.__module__ if only is not None else ""
    stored: Iterable[tuple[int, Event]] = (
        (position, event)
        for position, event in decoded(read_store(settings, upto=until_position, module=module))
        if within(area, place_of(event)) and (only is None or isinstance(event, only))
    )
    rows = iter(stored)
    last = Moment(position=0, recorded_at=None, events=0)
    while chunk := list(itertools.islice(rows, VIEW_CHUNK)):
        taken = chunk[: first_past(chunk, until_position, until_time)]
        if taken:
            view.apply(taken, taken[-1][0])
            position, event = taken[-1]
            last = Moment(
                position=position, recorded_at=event.recorded_at, events=last.events + len(taken)
            )
        if len(taken) < len(chunk):
            break
    return view, last


def place_of(event: Event) -> str:
    """Where an event belongs for an area's replay: a batch's TPS, a gudang's kabupaten, the
    kabupaten of master data; the nation for an election."""
    if isinstance(event, BatchEvent):
        return event.destination
    if isinstance(event, FindingEvent):
        return event.where
    return getattr(event, "kabupaten", "")
