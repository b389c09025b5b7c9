"""Runs a projection from the `LACAK` stream: a durable pull consumer, acked in order.

The projection owns its position: it writes its rows, the last notification id and the last
stream sequence in one transaction. Each run (re)creates the durable consumer to deliver from the
stream sequence after the stored one, and refuses to apply past a gap, so messages left unacked
by a killed run are neither skipped nor counted twice.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.messaging.nats import (
    API_TIMEOUT_SECONDS,
    EVENT_SUBJECTS,
    NOTICES,
    STREAM,
    run_with_nats,
    sleep_or_stop,
)
from services.messaging.reader import FETCH, PullReader
from services.messaging.relay import MSG_ID, position_of
from services.settings import Settings
from services.views.projection import Changed, Projection

log = logging.getLogger(__name__)

ACK_WAIT_SECONDS = 300.0
GAP_BACKOFF_SECONDS = 5.0


class StreamGapError(Exception):
    """A message came before ones the projection still needs: start again from its position."""


OnApplied = Callable[[Client, Changed], Awaitable[None]]


def notice_subject(view: str) -> str:
    return f"{NOTICES}.{view}"


async def notify(nc: Client, changed: Changed) -> None:
    """Tell the pages which areas' rows changed (core NATS: a page that missed it catches up)."""
    if changed.areas:
        await nc.publish(notice_subject(changed.view), msgspec.json.encode(changed))


async def project(
    projection: Projection, nc: Client, stop: asyncio.Event, on_applied: OnApplied | None
) -> None:
    js = nc.jetstream(timeout=API_TIMEOUT_SECONDS)
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
        decode = projection.decode  # the ledger takes the bytes as they are
        notifications = [(position_of(m.headers[MSG_ID]), decode(m.data)) for m in fresh]
        sequence = fresh[-1].metadata.sequence.stream
        changed = await asyncio.to_thread(projection.apply, notifications, sequence)
        applied = sequence
        if changed.upto > changed.after and on_applied is not None:
            await on_applied(nc, changed)
        await fresh[-1].ack()
    if gap_at is not None:
        raise StreamGapError(f"{projection.name}: stream sequence {gap_at} after {applied}")
    return applied


async def run_projection(
    projection: Projection,
    settings: Settings,
    stop: asyncio.Event,
    on_applied: OnApplied | None = notify,
) -> None:
    """Run until `stop`; after a NATS failure or a gap, connect again and go on from the view.
    After each commit, `on_applied` (the notice, by default) hears what changed. A store that
    does not answer (at the start too) is waited for, not a reason to exit."""

    async def run(nc: Client) -> None:
        await asyncio.to_thread(projection.setup)
        try:
            await project(projection, nc, stop, on_applied)
        except StreamGapError as error:  # messages that went missing do not come back: say so
            log.error(
                "%s; if the stream lost messages, rebuild the view from the event store", error
            )
            await sleep_or_stop(stop, GAP_BACKOFF_SECONDS)

    await run_with_nats(f"projection {projection.name}", settings, stop, run)
