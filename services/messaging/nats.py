"""NATS: the connection that keeps trying, the `LACAK` stream and the subjects Lacak uses."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from services.settings import Settings

log = logging.getLogger(__name__)

STREAM = "LACAK"
EVENT_SUBJECTS = "lacak.events.>"
# A projection's notice after a commit that changed rows: `lacak.views.<projection>`, a `Changed`.
NOTICES = "lacak.views"
DUPLICATE_WINDOW_SECONDS = 120.0


class RateLimitedLog:
    """Log a repeating warning once, then again at most every `interval` seconds."""

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self._last = -interval

    def warning(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            log.warning(message, *args)


async def connect(
    url: str, name: str, stop: asyncio.Event, **callbacks: Callable[[], Awaitable[None]]
) -> Client | None:
    """Connect, trying until NATS answers or `stop` is set (then None); reconnect forever after."""
    quiet = RateLimitedLog()

    async def on_error(error: Exception) -> None:  # one line now and then, not a traceback a try
        quiet.warning("%s: NATS: %s", name, error or type(error).__name__)

    connecting = asyncio.create_task(
        nats.connect(
            [server.strip() for server in url.split(",")],
            name=name,
            **callbacks,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            error_cb=on_error,
        )
    )
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if connecting.done():
        return connecting.result()
    connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError, NatsError, OSError):
        await connecting
    return None


async def connect_once(url: str, timeout: float = 5.0) -> Client:
    """A connection for one errand: each server tried twice, then NoServersError (nats-py would
    retry forever at 0 attempts); no reconnecting, and no error callback noise, the caller says
    what failed."""

    async def quiet(error: Exception) -> None:
        pass

    return await nats.connect(
        [server.strip() for server in url.split(",")],
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.5,
        error_cb=quiet,
    )


async def run_with_nats(
    name: str,
    settings: Settings,
    stop: asyncio.Event,
    work: Callable[[Client], Awaitable[None]],
) -> None:
    """Run `work` on a connection until `stop`; after a NATS failure, connect and run it again."""
    while not stop.is_set():
        nc = await connect(settings.nats_url, name, stop)
        if nc is None:
            return
        try:
            await ensure_stream(nc, settings.stream_replicas)
            await work(nc)
        except (NatsError, TimeoutError, OSError) as error:
            log.warning(
                "%s: NATS unavailable (%s); trying again", name, error or type(error).__name__
            )
            await sleep_or_stop(stop, 1.0)
        finally:
            if not nc.is_closed:
                await nc.close()


async def ensure_stream(nc: Client, replicas: int = 1) -> None:
    """Create the `LACAK` stream if it is missing (3 replicas on a production cluster)."""
    js = nc.jetstream()
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=[EVENT_SUBJECTS],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
                num_replicas=replicas,
            )
        )


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True when asked to stop meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True
