"""The relay: the event store's notification log, published in order to JetStream.

The event store is the outbox. Each notification becomes one message with the id
`<app>:<notification id>`, so JetStream drops a re-publish inside its duplicate window, and the
relay resumes after a restart from the last message the stream holds: nothing lost, no duplicates.
"""

import asyncio
import logging

from eventsourcing.persistence import ApplicationRecorder
from nats.aio.client import Client
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

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


def message_id(app_name: str, notification_id: int) -> str:
    return f"{app_name}:{notification_id}"


def position_of(msg_id: str) -> int:
    """`Batches:42` -> 42."""
    return int(msg_id.rpartition(":")[2])


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
        msg_id = (msg.headers or {}).get(MSG_ID, "")
        if msg_id.startswith(app_name + ":"):
            return position_of(msg_id), last
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
        if not notifications:
            return 0
        acks = []
        for n, notification in enumerate(notifications, 1):
            # The bytes as stored, not re-encoded: an event recorded before a field was added
            # reaches the stream, and the ledger, exactly as the store holds it.
            data = self.mapper.plain_state(notification)
            headers = {
                MSG_ID: message_id(self.app_name, notification.id),
                # no hole: the stream takes it only right after the one before it
                EXPECTED_SEQUENCE: str(self.sequence + n - 1),
            }
            acks.append(
                await self.js.publish_async(
                    events.subject(events.decode(data)), data, stream=STREAM, headers=headers
                )
            )
        # All or nothing: a failed ack raises, and the next run starts again from the stream.
        answered = await asyncio.wait_for(asyncio.gather(*acks), ACK_TIMEOUT_SECONDS)
        self.position, self.sequence = notifications[-1].id, answered[-1].seq
        return len(notifications)

    async def run(self, stop: asyncio.Event) -> None:
        self.position = await self.resume_position()
        log.info("relay resumes after notification %d", self.position)
        while not stop.is_set():
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
