"""Runs a projection from the `LACAK` stream: a durable pull consumer, acked in order.

The projection owns its position: it writes its rows, the last notification id and the last
stream sequence in one transaction. Each run (re)creates the durable consumer to deliver from the
stream sequence after the stored one, and refuses to apply past a gap, so messages left unacked
by a killed run are neither skipped nor counted twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import msgspec
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

import events
from events import Event
from services.messaging import BOARD_CHANGED, EVENT_SUBJECTS, STREAM, run_with_nats, sleep_or_stop
from services.relay import MSG_ID, position_of
from services.settings import Settings

log = logging.getLogger(__name__)

FETCH = 1024
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


async def project(
    projection: Projection, nc: Client, stop: asyncio.Event, on_applied: OnApplied | None
) -> None:
    js = nc.jetstream()
    applied = await asyncio.to_thread(projection.stream_sequence)
    log.info("%s resumes after stream sequence %d", projection.name, applied)
    with contextlib.suppress(NotFoundError):  # a fresh cursor, from the view's own position
        await js.delete_consumer(STREAM, projection.name)
    subscription = await js.pull_subscribe(
        EVENT_SUBJECTS,
        durable=projection.name,
        stream=STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.ALL,  # in order: acking the last acks all before it
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=applied + 1,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=FETCH * 4,
        ),
    )
    while not stop.is_set():
        try:
            messages = await subscription.fetch(FETCH, timeout=0.5)
        except TimeoutError:
            continue
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
        if fresh:
            await fresh[-1].ack()
        if gap_at is not None:
            raise StreamGapError(f"{projection.name}: stream sequence {gap_at} after {applied}")


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
