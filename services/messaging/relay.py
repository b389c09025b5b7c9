"""The relay: the event store's notification log, published in order to JetStream.

The event store is the outbox. Each notification becomes one message with the id
`<app>:<notification id>`, so JetStream drops a re-publish inside its duplicate window, and the
relay resumes after a restart from the last message the stream holds: nothing lost, no duplicates.

The relay never leaves a hole itself (see EXPECTED_SEQUENCE). A stream can still come to lack
what it once held: a message deleted by an operator, or lost with a node. Once a second the
relay looks for such holes (messages deleted between two it holds) and publishes what the store
holds for them again, at the stream's end, with the id `repair-<token>:<app>:<notification id>`;
the repaired ones come out of order (our projections have already taken them from the store and
skip them by their notification id). What was repaired is kept in a key-value bucket of
JetStream, per stream, so a restarted relay does not publish it again; a relay killed between a
repair and its record publishes that repair once more. Messages gone from the stream's front (a
purge, a retention limit) are the operator's doing, not a hole: they are not published again,
and a repair message that is itself deleted later is not replaced.
"""

import asyncio
import json
import logging
import re
import secrets
import time

from eventsourcing.persistence import ApplicationRecorder
from nats.aio.client import Client
from nats.js.api import KeyValueConfig
from nats.js.client import JetStreamContext
from nats.js.errors import APIError, NotFoundError
from nats.js.kv import KeyValue

import events
from services.messaging.nats import API_TIMEOUT_SECONDS, STREAM, run_with_nats, sleep_or_stop
from services.settings import Settings
from services.store.mapper import MsgspecMapper
from services.store.notifications import CUSTODY, NotificationLog

log = logging.getLogger(__name__)

MSG_ID = "Nats-Msg-Id"
# A publish names the stream sequence it must follow: if one is lost (its ack timed out) while
# the next arrives, JetStream refuses the next, the relay starts again from the stream's last
# message, and the stream never holds k+1 without k. (The sequence, not the last message id:
# a restarted server forgets the id of a message older than its duplicate window.)
EXPECTED_SEQUENCE = "Nats-Expected-Last-Sequence"
BATCH = 500
IDLE_POLL_SECONDS = 0.02
ACK_TIMEOUT_SECONDS = 3.0  # acks lost in a reconnect: fail soon, start again from the stream
AUDIT_SECONDS = 1.0  # how often the relay looks for holes in the stream (one stream info)
REPAIR = "repair-"  # the prefix of a repaired message's id: `repair-<token>:Batches:42`
# A repair names the relay's position when it was published: a relay starting again after it
# resumes from there without walking back over the repairs.
RELAYED = "Lacak-Relayed"
REPAIR_MOST = 10 * BATCH  # notifications a look repairs before the relay publishes new ones
REPAIRED_BUCKET = "LACAK_RELAY"  # key `repaired-<app>-<stream created>`: the ids published again


def message_id(app_name: str, notification_id: int) -> str:
    return f"{app_name}:{notification_id}"


def plain_id(msg_id: str) -> str:
    """`repair-5f3a:Batches:42` -> `Batches:42`; a plain id as it is."""
    return msg_id.partition(":")[2] if msg_id.startswith(REPAIR) else msg_id


def relayed_upto(headers: dict[str, str], app_name: str = CUSTODY) -> int | None:
    """How far the relay had come when it published this message: its notification id, or
    for a repair, the relay's position then; None for another's message."""
    msg_id = headers.get(MSG_ID, "")
    if msg_id.startswith(app_name + ":"):
        return position_of(msg_id)
    if msg_id.startswith(REPAIR) and RELAYED in headers:
        return int(headers[RELAYED])
    return None


def position_of(msg_id: str) -> int:
    """`Batches:42` -> 42, and `repair-5f3a:Batches:42` too."""
    return int(msg_id.rpartition(":")[2])


Ranges = list[list[int]]  # [[first, last], ...] of notification ids, sorted, apart


def merged(ranges: Ranges, ids: list[int]) -> Ranges:
    """`ranges` with the sorted `ids` added."""
    points = sorted([tuple(r) for r in ranges] + [(i, i) for i in ids])
    out: Ranges = []
    for first, last in points:
        if out and first <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], last)
        else:
            out.append([first, last])
    return out


def within(ranges: Ranges, at: int) -> bool:
    return any(first <= at <= last for first, last in ranges)


def past(ranges: Ranges, at: int) -> int:
    """`at`, or the end of the range that holds the id after it (repaired already)."""
    for first, last in ranges:
        if first <= at + 1 <= last:
            return last
    return at


def runs(sequences: list[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    out: list[tuple[int, int]] = []
    for seq in sorted(sequences):
        if out and seq == out[-1][1] + 1:
            out[-1] = (out[-1][0], seq)
        else:
            out.append((seq, seq))
    return out


async def last_relayed(js: JetStreamContext, app_name: str = CUSTODY) -> int:
    """The notification id of the last message the relay put in the stream (0: none)."""
    return (await resume_point(js, app_name))[0]


async def resume_point(js: JetStreamContext, app_name: str = CUSTODY) -> tuple[int, int]:
    """The notification id of the last message the relay put in the stream (0: none), and the
    sequence of the stream's last message (deleted ones at its end do not count: a publish
    must name the last one the stream still holds)."""
    info = await js.stream_info(STREAM)
    seq, last = info.state.last_seq, None
    while seq >= max(info.state.first_seq, 1):
        try:
            msg = await js.get_msg(STREAM, seq)
        except NotFoundError:  # deleted message: look further back
            seq -= 1
            continue
        last = seq if last is None else last
        if (position := relayed_upto(msg.headers or {}, app_name)) is not None:
            return position, last
        seq -= 1
    return 0, info.state.last_seq if last is None else last


class Relay:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: MsgspecMapper,
        nc: Client,
        app_name: str = CUSTODY,
        batch: int = BATCH,
    ):
        self.recorder = recorder
        self.mapper = mapper
        self.nc = nc
        self.js = nc.jetstream(publish_async_max_pending=batch, timeout=API_TIMEOUT_SECONDS)
        self.app_name = app_name
        self.batch = batch
        self.position = 0
        self.sequence = 0  # the stream's last sequence, as far as this relay knows
        self.audited = (0, 0)  # the stream's first sequence and deleted count at the last audit

    async def resume_position(self) -> int:
        """The notification id of the last message in the stream (0 if there is none)."""
        self.position, self.sequence = await resume_point(self.js, self.app_name)
        return self.position

    async def publish_next(self) -> int:
        """Publish the next notifications, pipelined; return how many went."""
        notifications = await asyncio.to_thread(
            self.recorder.select_notifications,
            self.position,
            self.batch,
            inclusive_of_start=False,
        )
        if notifications:
            await self.publish(notifications)
            self.position = notifications[-1].id
        return len(notifications)

    async def publish(self, notifications: list, prefix: str = "") -> None:
        """Publish at the stream's end, in order, each right after the one before it."""
        acks = []
        for n, notification in enumerate(notifications, 1):
            # The bytes as stored, not re-encoded: an event recorded before a field was added
            # reaches the stream, and the ledger, exactly as the store holds it.
            data = self.mapper.plain_state(notification)
            headers = {
                MSG_ID: prefix + message_id(self.app_name, notification.id),
                # no hole: the stream takes it only right after the one before it
                EXPECTED_SEQUENCE: str(self.sequence + n - 1),
            }
            if prefix:
                headers[RELAYED] = str(self.position)
            acks.append(
                await self.js.publish_async(
                    events.subject(events.decode(data)), data, stream=STREAM, headers=headers
                )
            )
        # All or nothing: a failed ack raises, and the next run starts again from the stream.
        answered = await asyncio.wait_for(asyncio.gather(*acks), ACK_TIMEOUT_SECONDS)
        self.sequence = answered[-1].seq

    async def repair_holes(self) -> int:
        """Publish again what the stream lacks between the messages it holds, `REPAIR_MOST` at
        most (the rest at the next look); how many notifications went. Cheap when nothing
        changed: one look at the stream's state."""
        state = (await self.js.stream_info(STREAM)).state
        seen = (state.first_seq, state.num_deleted or 0)
        if seen == self.audited:
            return 0
        info = await self.deleted_details()
        state, sent, finished = info["state"], [], True
        holes = runs(state.get("deleted") or [])
        if holes:
            key = "repaired-{}-{}".format(self.app_name, re.sub(r"\D", "", info["created"]))
            bucket = await self.repairs_bucket()
            repaired = await self.repaired(bucket, key)
            for hole in holes:
                done = await self.repair(hole, state, repaired, REPAIR_MOST - len(sent))
                if done:
                    repaired = merged(repaired, done)
                    await bucket.put(key, json.dumps(repaired).encode())
                    sent += done
                if len(sent) >= REPAIR_MOST:
                    finished = False  # the rest at the next look
                    break
        if finished:
            self.audited = seen
        return len(sent)

    async def repair(self, hole: tuple[int, int], state: dict, repaired: Ranges, most: int):
        """Publish again (`most` at most) what the store holds, and was not repaired before,
        between the relay's messages around the stream sequences `hole`; their ids."""
        first, last = hole
        after = await self.neighbour(first - 1, -1, state["first_seq"])
        before = await self.neighbour(last + 1, 1, state["last_seq"]) or self.position + 1
        token, sent = secrets.token_hex(4), []  # a new id: never a duplicate of a lost one
        while len(sent) < most:
            after = past(repaired, after)
            notifications = await self.stored_between(after, before, most - len(sent))
            if not notifications:
                break
            after = notifications[-1].id
            lacking = [n for n in notifications if not within(repaired, n.id)]
            if lacking:
                await self.publish(lacking, f"{REPAIR}{token}:")
                sent += [n.id for n in lacking]
        if sent:
            log.warning(
                "relay: the stream lacked %d notifications, %d-%d (stream sequences %d-%d "
                "deleted or lost); published again from the store",
                len(sent), sent[0], sent[-1], first, last,
            )  # fmt: skip
        return sent

    async def deleted_details(self) -> dict:
        """The stream's info with the sequence of every message deleted inside it (the
        library's stream_info does not ask for them)."""
        answer = await self.nc.request(
            f"$JS.API.STREAM.INFO.{STREAM}",
            json.dumps({"deleted_details": True}).encode(),
            timeout=API_TIMEOUT_SECONDS,
        )
        info = json.loads(answer.data)
        if "error" in info:  # a leader being elected, say: as the library's calls raise
            APIError.from_error(info["error"])
        return info

    async def neighbour(self, seq: int, step: int, bound: int) -> int:
        """The notification id of the relay's own message nearest to `seq` (itself included),
        walking by `step` (-1 back, 1 on) to `bound`; 0 when there is none."""
        while (seq >= bound) if step < 0 else (seq <= bound):
            try:
                msg = await self.js.get_msg(STREAM, seq)
            except NotFoundError:  # deleted too
                seq += step
                continue
            msg_id = (msg.headers or {}).get(MSG_ID, "")
            if msg_id.startswith(self.app_name + ":"):  # not a repair
                return position_of(msg_id)
            seq += step
        return 0

    async def stored_between(self, after: int, before: int, most: int) -> list:
        """The next notifications the store holds with ids after `after` and before
        `before` (a batch at most)."""
        if before <= after + 1 or most <= 0:
            return []
        return list(
            await asyncio.to_thread(
                self.recorder.select_notifications,
                after,
                min(self.batch, most),
                before - 1,
                inclusive_of_start=False,
            )
        )

    async def repairs_bucket(self) -> KeyValue:
        """The bucket keeping what was repaired, replicated as the stream is."""
        try:
            return await self.js.key_value(REPAIRED_BUCKET)
        except NotFoundError:
            replicas = (await self.js.stream_info(STREAM)).config.num_replicas or 1
            return await self.js.create_key_value(
                KeyValueConfig(bucket=REPAIRED_BUCKET, history=1, replicas=replicas)
            )

    async def repaired(self, bucket: KeyValue, key: str) -> Ranges:
        try:
            entry = await bucket.get(key)
        except NotFoundError:  # KeyNotFoundError is one
            return []
        return json.loads(entry.value or b"[]")

    async def run(self, stop: asyncio.Event) -> None:
        self.position = await self.resume_position()
        log.info("relay resumes after notification %d", self.position)
        audit_at = 0.0
        while not stop.is_set():
            if time.monotonic() >= audit_at:
                try:
                    await self.repair_holes()
                except APIError as error:  # JetStream electing, a bucket refused: look again
                    log.warning("relay: could not look for holes in the stream: %s", error)
                audit_at = time.monotonic() + AUDIT_SECONDS
            if await self.publish_next() == 0 and await sleep_or_stop(stop, IDLE_POLL_SECONDS):
                return


async def run_relay(settings: Settings, stop: asyncio.Event) -> None:
    """Run the relay until `stop`, starting again from the stream after any NATS or store
    failure; a store that does not answer at the start is waited for."""
    opened: list[NotificationLog] = []

    async def relay(nc: Client) -> None:
        if not opened:
            opened.append(await asyncio.to_thread(NotificationLog, settings.store))
        await Relay(opened[0].recorder, opened[0].mapper, nc).run(stop)

    try:
        await run_with_nats("relay", settings, stop, relay)
    finally:
        for notification_log in opened:
            notification_log.close()
