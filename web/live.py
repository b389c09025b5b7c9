"""The one live pipeline: projections' notices in from NATS, one message per channel out to
every open stream (SSE) showing it, rendered once for all of them.

A channel is what a page shows: (`rows`, area) for a board page, (`charts`, kabupaten),
(`wall`, kabupaten), (`gudang`, area), (`temuan:<statuses>`, area) for a list of findings,
(`pemberitahuan`, "<username> <scope>") for a reader's notices, and (`feed`, "") for the
anomaly queue's and the activity feed's pages. Each kind of channel follows
one projection's notices (a board page's rows, which count findings too: two) and has one
renderer; what changes within `pause` of a message goes out together in the next one. A
stream too far behind is ended, so its browser reconnects and starts again with every row: no
message is ever silently dropped. (Litestar's ChannelsPlugin, tried for this, drops a slow
subscriber's messages instead.)
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import psycopg
from nats.aio.msg import Msg

from services.messaging.nats import NOTICES, connect
from services.views.projection import Changed

log = logging.getLogger(__name__)

CLIENT_QUEUE = 64
COALESCE_SECONDS = 0.1  # at most ten messages a second to a browser, however busy the scans
REDRAW_SECONDS = 60.0  # the H-1 risk moves with the clock: every board row is redrawn this often
KEEPALIVE_SECONDS = 15.0

Channel = tuple[str, str]  # (kind, area)
# What a channel's renderer is given: the areas its projection said changed (None: all of them),
# and whether any stream listens; it answers the message, or None for nothing to send.
Render = Callable[[Channel, set[str] | None, bool], Any]


class Follows(msgspec.Struct, frozen=True):
    """A kind of channel: the projection whose notices it follows, and its renderer."""

    view: str
    render: Render
    always: bool = False  # render on every notice, even with no stream listening
    # what a rendered message becomes, once, before it goes to every stream of the channel
    encode: Callable[[Any], Any] | None = None
    also: tuple[str, ...] = ()  # other projections whose rows its pages show too

    @property
    def views(self) -> tuple[str, ...]:
        return (self.view, *self.also)

    def changed(self, pending: dict[str, set[str] | None]) -> tuple[bool, set[str] | None]:
        """Did any projection it follows change, and in which areas (None: every area)?"""
        found = [pending[view] for view in self.views if view in pending]
        if not found:
            return False, None
        if any(areas is None for areas in found):
            return True, None
        return True, set().union(*found)  # type: ignore[arg-type]


class Broadcaster:
    def __init__(self, kinds: dict[str, Follows], pause: float = COALESCE_SECONDS):
        self.kinds = kinds
        self.pause = pause
        self.clients: dict[Channel, set[asyncio.Queue[Any]]] = {}
        self._pending: dict[str, set[str] | None] = {}  # by projection: None, every area
        self._wake = asyncio.Event()

    def notice(self, view: str, areas: Iterable[str] | None) -> None:
        """The projection's rows in these areas changed (None: every area, as after a lost
        connection or as time passes)."""
        pending = self._pending.get(view, set())
        if areas is None or pending is None:
            self._pending[view] = None
        else:
            self._pending[view] = pending | set(areas)
        self._wake.set()

    def notice_all(self) -> None:
        for view in {view for follows in self.kinds.values() for view in follows.views}:
            self.notice(view, None)

    def render(self, channel: Channel, changed: set[str] | None = None) -> Any:
        """The channel's message for a stream that starts: every row, unless `changed`."""
        return self.kinds[channel[0]].render(channel, changed, True)

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            channels = [channel for channel, queues in self.clients.items() if queues]
            channels += [
                (kind, "")
                for kind, follows in self.kinds.items()
                if follows.always and (kind, "") not in channels
            ]
            try:
                messages = await asyncio.to_thread(self._render_all, channels, pending)
            except (sqlite3.Error, psycopg.Error):
                log.exception("live rows could not be read; the next notice reads them again")
                for view, areas in pending.items():
                    self.notice(view, areas)
                await asyncio.sleep(self.pause)
                continue
            for channel, message in messages.items():
                for queue in list(self.clients.get(channel, ())):
                    if queue.full():  # this far behind, a browser is better off reconnecting:
                        self._end(queue)  # its new stream starts with every row
                    else:
                        queue.put_nowait(message)
            await asyncio.sleep(self.pause)  # coalesce: changes meanwhile wait for the next

    def _render_all(
        self, channels: list[Channel], pending: dict[str, set[str] | None]
    ) -> dict[Channel, Any]:
        messages = {}
        for channel in channels:
            follows = self.kinds[channel[0]]
            noticed, changed = follows.changed(pending)
            if noticed:
                listening = bool(self.clients.get(channel))
                message = follows.render(channel, changed, listening)
                if message:
                    messages[channel] = follows.encode(message) if follows.encode else message
        return messages

    def close(self) -> None:
        """End every stream, so a server can stop without waiting for browsers."""
        for queues in self.clients.values():
            for queue in list(queues):
                self._end(queue)

    def _end(self, queue: asyncio.Queue[Any]) -> None:
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)
        for queues in self.clients.values():
            queues.discard(queue)

    @asynccontextmanager
    async def listen(self, channel: Channel) -> AsyncIterator[asyncio.Queue[Any]]:
        """A stream's queue of the channel's messages; None in it means: end the stream."""
        queue: asyncio.Queue[Any] = asyncio.Queue(CLIENT_QUEUE)
        self.clients.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            self.clients[channel].discard(queue)


async def follow_notices(nats_url: str, broadcaster: Broadcaster, stop: asyncio.Event) -> None:
    """Feed every projection's notices to the broadcaster; keep trying while NATS is away, and
    redraw everything after a reconnect (notices sent meanwhile are lost, the rows are not)."""

    async def on_notice(msg: Msg) -> None:
        changed = msgspec.json.decode(msg.data, type=Changed)
        broadcaster.notice(changed.view, changed.areas)

    async def on_reconnect() -> None:
        broadcaster.notice_all()

    nc = await connect(nats_url, "web", stop, reconnected_cb=on_reconnect)
    if nc is None:
        return
    try:
        broadcaster.notice_all()  # whatever changed before this connection
        await nc.subscribe(f"{NOTICES}.>", cb=on_notice)
        await stop.wait()
    finally:  # also when cancelled: a client left open would go on reconnecting
        await nc.close()


async def redraw_as_time_passes(
    broadcaster: Broadcaster, views: Iterable[str], every: float
) -> None:
    """A TPS becomes at risk and a finding overdue by the clock alone, with no event: redraw
    every row of these projections now and then."""
    while True:
        await asyncio.sleep(every)
        for view in views:
            broadcaster.notice(view, None)
