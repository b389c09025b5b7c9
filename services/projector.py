"""Runs a projection from the `LACAK` stream: a durable pull consumer, acked in order.

The projection owns its position: it writes its rows, the last notification id and the last
stream sequence in one transaction. Each run (re)creates the durable consumer to deliver from the
stream sequence after the stored one, and refuses to apply past a gap, so messages left unacked
by a killed run are neither skipped nor counted twice.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

import events
from events import Event
from services.messaging import BOARD_CHANGED, EVENT_SUBJECTS, STREAM, run_with_nats, sleep_or_stop
from services.relay import MSG_ID, position_of
from services.settings import Settings

log = logging.getLogger(__name__)

FETCH = 1024
PULL_EXPIRES_SECONDS = 5.0  # an open pull request lasts this long, then the reader asks again
ACK_WAIT_SECONDS = 300.0
GAP_BACKOFF_SECONDS = 5.0


class Projection(Protocol):
    name: str

    def setup(self) -> None: ...

    def stream_sequence(self) -> int:
        """The last stream sequence applied (0 for none)."""

    def apply(self, notifications: Sequence[tuple[int, Event]], stream_sequence: int) -> set[str]:
        """Apply in one transaction with the new stream sequence; what changed."""


class StreamGapError(Exception):
    """A message came before ones the projection still needs: start again from its position."""


class BoardChanged(msgspec.Struct, frozen=True):
    """Core NATS notice after the board view commits: which areas' rows changed (kabupaten,
    kecamatan, desa, TPS codes)."""

    areas: list[str]


OnApplied = Callable[[Client, set[str]], Awaitable[None]]


async def notify_board_changed(nc: Client, changed: set[str]) -> None:
    await nc.publish(BOARD_CHANGED, msgspec.json.encode(BoardChanged(sorted(changed))))


class PullReader:
    """Reads a durable pull consumer as NATS's own clients consume one: a single open request for
    up to `batch` messages, which the server answers message by message as each arrives, asked
    again once it is spent or has expired.

    nats-py's `fetch(n)` would hold the first message of a quiet stream until the n-th came or
    its timeout passed (half a second on the board's path), and spends a task on every message.
    """

    def __init__(
        self,
        nc: Client,
        consumer: str,
        batch: int = FETCH,
        expires: float = PULL_EXPIRES_SECONDS,
    ):
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{consumer}"
        self.batch = batch
        self.expires = expires
        self.inbox = nc.new_inbox()
        self.ready: list[Msg] = []
        self.arrived = asyncio.Event()
        self.outstanding = 0  # messages the open request may still bring
        self.asked_at = 0.0  # monotonic time of the last request
        self.subscription: Subscription | None = None

    async def start(self) -> None:
        self.subscription = await self.nc.subscribe(self.inbox, cb=self._received)
        await self._ask()

    async def close(self) -> None:
        if self.subscription is not None and not self.nc.is_closed:
            await self.subscription.unsubscribe()

    async def _ask(self) -> None:
        self.outstanding, self.asked_at = self.batch, time.monotonic()
        request = {"batch": self.batch, "expires": int(self.expires * 1e9)}
        await self.nc.publish(self.subject, msgspec.json.encode(request), reply=self.inbox)

    async def _received(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self.ready.append(msg)
            self.outstanding -= 1
            self.arrived.set()
        elif status in ("404", "408"):  # no messages / expired: the request is spent
            self.outstanding = 0
        else:  # 409 and the like: `next` asks again when the request has surely expired
            log.warning("pull request answered %s %s", status, msg.headers.get("Description"))
            return
        if self.outstanding <= 0 and len(self.ready) < self.batch:
            await self._ask()

    async def next(self, timeout: float) -> list[Msg]:
        """The messages that have arrived, waiting up to `timeout` for the first."""
        if self.outstanding <= 0 and not self.ready:
            await self._ask()  # a full batch was taken before the request could be renewed
        elif time.monotonic() - self.asked_at > self.expires + 1:
            await self._ask()  # its answer was lost, as in a reconnect: the server forgot it
        if not self.ready:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout)
        self.arrived.clear()
        messages, self.ready = self.ready, []
        return messages


async def project(
    projection: Projection, nc: Client, stop: asyncio.Event, on_applied: OnApplied | None
) -> None:
    js = nc.jetstream()
    applied = await asyncio.to_thread(projection.stream_sequence)
    log.info("%s resumes after stream sequence %d", projection.name, applied)
    with contextlib.suppress(NotFoundError):  # a fresh cursor, from the view's own position
        await js.delete_consumer(STREAM, projection.name)
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=projection.name,
            filter_subject=EVENT_SUBJECTS,
            ack_policy=AckPolicy.ALL,  # in order: acking the last acks all before it
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=applied + 1,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=FETCH * 4,
        ),
    )
    reader = PullReader(nc, projection.name)
    await reader.start()
    try:
        while not stop.is_set():
            applied = await apply_next(projection, nc, await reader.next(0.5), applied, on_applied)
    finally:
        await reader.close()


async def apply_next(
    projection: Projection,
    nc: Client,
    messages: list[Msg],
    applied: int,
    on_applied: OnApplied | None,
) -> int:
    """Apply the messages that follow stream sequence `applied`, ack them; the new `applied`."""
    fresh, gap_at = [], None
    for message in messages:
        sequence = message.metadata.sequence.stream
        if sequence <= applied + len(fresh):
            continue  # a redelivery of what is already in the view
        if sequence != applied + len(fresh) + 1:
            gap_at = sequence
            break
        fresh.append(message)
    if fresh:
        decode = getattr(projection, "decode", events.decode)  # the ledger hashes bytes
        notifications = [(position_of(m.headers[MSG_ID]), decode(m.data)) for m in fresh]
        sequence = fresh[-1].metadata.sequence.stream
        changed = await asyncio.to_thread(projection.apply, notifications, sequence)
        applied = sequence
        if changed and on_applied is not None:
            await on_applied(nc, changed)
        await fresh[-1].ack()
    if gap_at is not None:
        raise StreamGapError(f"{projection.name}: stream sequence {gap_at} after {applied}")
    return applied


async def run_projection(
    projection: Projection,
    settings: Settings,
    stop: asyncio.Event,
    on_applied: OnApplied | None = None,
) -> None:
    """Run until `stop`; after a NATS failure or a gap, connect again and go on from the view."""
    await asyncio.to_thread(projection.setup)

    async def run(nc: Client) -> None:
        try:
            await project(projection, nc, stop, on_applied)
        except StreamGapError as error:  # messages that went missing do not come back: say so
            log.error(
                "%s; if the stream lost messages, rebuild the view from the event store", error
            )
            await sleep_or_stop(stop, GAP_BACKOFF_SECONDS)

    await run_with_nats(f"projection {projection.name}", settings, stop, run)
