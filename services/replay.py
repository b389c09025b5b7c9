"""Time travel: the board exactly as it stood at a moment or an event position, rebuilt by
replaying the event store through the same reducer the live view uses, into memory.

"As it stood at a moment" is what the live board could have shown then: the events the server
had recorded by that moment (`recorded_at`), in notification order.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import msgspec

import events
from events import Event
from services.board import MemoryBoard
from services.ledger import read_store
from services.settings import Settings

CHUNK = 5000


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
) -> tuple[MemoryBoard, Moment]:
    """The board after every event up to the position (inclusive) and recorded before the time."""
    board = MemoryBoard()
    chunk: list[Event] = []
    last = Moment(position=0, recorded_at=None, events=0)
    for count, (position, event) in enumerate(stored, 1):
        if until_position is not None and position > until_position:
            break
        if until_time is not None and event.recorded_at >= until_time:
            break
        chunk.append(event)
        last = Moment(position=position, recorded_at=event.recorded_at, events=count)
        if len(chunk) == CHUNK:
            board.apply(chunk)
            chunk = []
            if progress is not None:
                progress(last.events)
    board.apply(chunk)
    return board, last


def replay_store(
    settings: Settings,
    until_position: int | None = None,
    until_time: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[MemoryBoard, Moment]:
    """Replay the settings' event store (see `replay`)."""
    stored = decoded(read_store(settings))
    return replay(stored, until_position=until_position, until_time=until_time, progress=progress)
