"""Reading a durable pull consumer of the `LACAK` stream as a steady flow of messages."""

import asyncio
import contextlib
import logging
import time

import msgspec
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import Error as NatsError

from services.messaging.nats import STREAM, RateLimitedLog

log = logging.getLogger(__name__)

FETCH = 1024
PULL_EXPIRES_SECONDS = 5.0  # an open pull request lasts this long, then the reader asks again
RETRY_SECONDS = 0.25  # after a request the server turned down
TURNED_DOWN_AT_MOST = 40  # in a row (10 s of them): the consumer is set up again


class ConsumerLostError(NatsError):
    """The server keeps refusing this consumer's pull requests."""


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
        self.turned_down = 0  # pull requests refused in a row
        self.quiet = RateLimitedLog()

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
        else:  # 409 (a leader changed), 503 (none yet) and the like: the request is gone;
            # `next` asks again in `RETRY_SECONDS`, not once it would have expired
            self.turned_down += 1
            self.quiet.warning(
                "pull request answered %s %s", status, msg.headers.get("Description")
            )
            self.asked_at = time.monotonic() - self.expires - 1 + RETRY_SECONDS
            return
        self.turned_down = 0
        if self.outstanding <= 0 and len(self.ready) < self.batch:
            await self._ask()

    async def next(self, timeout: float) -> list[Msg]:
        """The messages that have arrived, waiting up to `timeout` for the first. After
        `TURNED_DOWN_AT_MOST` refusals in a row (the consumer deleted under it, say) it raises
        `ConsumerLostError`, for its runner to set the consumer up again."""
        if self.turned_down >= TURNED_DOWN_AT_MOST:
            raise ConsumerLostError(f"{self.subject}: {self.turned_down} pull requests refused")
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
