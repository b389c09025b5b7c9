"""Runs a projection from the `LACAK` stream: a durable pull consumer, explicit acks.

The projection writes its rows and its position in one transaction and skips what it has seen,
so a redelivery after a crash (between commit and ack) changes nothing.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import msgspec
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

import events
from events import Event
from services.messaging import (
    BOARD_CHANGED,
    EVENT_SUBJECTS,
    STREAM,
    connect,
    ensure_stream,
    sleep_or_stop,
)
from services.relay import MSG_ID, position_of

log = logging.getLogger(__name__)

FETCH = 256


class Projection(Protocol):
    name: str

    def setup(self) -> None: ...

    def apply(self, notifications: Sequence[tuple[int, Event]]) -> set[str]: ...


class BoardChanged(msgspec.Struct, frozen=True):
    """Core NATS notice after the board view commits: which kecamatan rows changed."""

    kecamatan: list[str]
    position: int


OnApplied = Callable[[Client, set[str], int], Awaitable[None]]


async def notify_board_changed(nc: Client, changed: set[str], position: int) -> None:
    await nc.publish(BOARD_CHANGED, msgspec.json.encode(BoardChanged(sorted(changed), position)))


async def project(
    projection: Projection, nc: Client, stop: asyncio.Event, on_applied: OnApplied | None
) -> None:
    await ensure_stream(nc)
    js = nc.jetstream()
    subscription = await js.pull_subscribe(
        EVENT_SUBJECTS,
        durable=projection.name,
        stream=STREAM,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_ack_pending=FETCH * 4,
        ),
    )
    while not stop.is_set():
        try:
            messages = await subscription.fetch(FETCH, timeout=0.5)
        except TimeoutError:
            continue
        notifications = [
            (position_of(m.headers[MSG_ID]), events.decode(m.data)) for m in messages if m.headers
        ]
        changed = await asyncio.to_thread(projection.apply, notifications)
        for message in messages:
            await message.ack()
        if changed and on_applied is not None:
            await on_applied(nc, changed, notifications[-1][0])


async def run_projection(
    projection: Projection,
    nats_url: str,
    stop: asyncio.Event,
    on_applied: OnApplied | None = None,
) -> None:
    """Run until `stop`; after a NATS failure, connect again and go on from the view."""
    await asyncio.to_thread(projection.setup)
    while not stop.is_set():
        nc = None
        try:
            nc = await connect(nats_url, name=f"lacak-projection-{projection.name}")
            await project(projection, nc, stop, on_applied)
        except (NatsError, TimeoutError, OSError) as error:
            log.warning("%s: NATS unavailable (%s); retrying", projection.name, error)
            await sleep_or_stop(stop, 1.0)
        finally:
            if nc is not None and not nc.is_closed:
                await nc.close()
