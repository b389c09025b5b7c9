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
from nats.js.errors import APIError, NotFoundError

from services.settings import Settings
from services.store.application import STORE_DOWN
from services.store.notifications import store_answers

log = logging.getLogger(__name__)

STREAM = "LACAK"
EVENT_SUBJECTS = "lacak.events.>"
# A projection's notice after a commit that changed rows: `lacak.views.<projection>`, a `Changed`.
NOTICES = "lacak.views"
# Every notice for people, as the notices process publishes it: `lacak.notify.<kab>.<kec>.<kind>`.
NOTIFY_STREAM = "LACAK_NOTIFY"
NOTIFY_SUBJECTS = "lacak.notify.>"
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


class Outage:
    """One line when a peer (NATS, the store) is lost and one when it is back, however many
    tries lie between."""

    def __init__(self, name: str):
        self.name = name
        self.down: set[str] = set()

    def lost(self, peer: str, error: BaseException) -> None:
        if peer not in self.down:
            self.down.add(peer)
            log.warning("%s: %s lost (%s); trying again", self.name, peer, describe(error))

    def back(self, peer: str) -> None:
        if peer in self.down:
            self.down.discard(peer)
            log.warning("%s: %s back", self.name, peer)

    def all_back(self) -> None:
        for peer in sorted(self.down):
            self.back(peer)


def describe(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


async def connect(
    url: str,
    name: str,
    stop: asyncio.Event,
    outage: Outage | None = None,
    **callbacks: Callable[[], Awaitable[None]],
) -> Client | None:
    """Connect, trying until NATS answers or `stop` is set (then None); reconnect forever after
    (to any server of the list: the nodes of a cluster), saying (through the part's `outage`)
    when the server is lost and when one is back."""
    quiet = RateLimitedLog()
    outage = outage or Outage(name)

    async def on_error(error: Exception) -> None:  # one line now and then, not a traceback a try
        quiet.warning("%s: NATS: %s", name, error or type(error).__name__)

    made: list[Client] = []

    async def on_disconnected() -> None:
        if made and not made[0].is_closed:  # not when the part closes it itself
            outage.lost("NATS", ConnectionError("disconnected"))

    reconnected = callbacks.pop("reconnected_cb", None)

    async def on_reconnected() -> None:
        outage.back("NATS")
        if reconnected is not None:
            await reconnected()

    connecting = asyncio.create_task(
        nats.connect(
            [server.strip() for server in url.split(",")],
            name=name,
            **callbacks,
            disconnected_cb=on_disconnected,
            reconnected_cb=on_reconnected,
            connect_timeout=2,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            error_cb=on_error,
        )
    )
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the caller itself cancelled: leave no connection trying behind it
        await give_up(connecting)
        raise
    finally:
        stopping.cancel()
    if connecting.done():
        made.append(connecting.result())
        return made[0]
    await give_up(connecting)
    return None


async def give_up(connecting: asyncio.Task[Client]) -> None:
    """Stop a connection attempt for good, and close what it made. One cancel is not enough:
    nats-py retries in a loop forever, and on Python 3.11 `asyncio.wait_for` loses a cancel that
    lands as its connection attempt fails, so the loop goes on (a test run hung on it)."""
    while not connecting.done():
        connecting.cancel()
        await asyncio.wait({connecting}, timeout=NATS_RETRY_SECONDS)
    if connecting.cancelled() or connecting.exception() is not None:
        return
    with contextlib.suppress(NatsError, OSError):
        await connecting.result().close()


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


NATS_DOWN = (NatsError, TimeoutError, OSError)
NATS_RETRY_SECONDS = 0.5
STEADY_SECONDS = 2.0  # work that has gone on this long after a failure: its peers are back
# JetStream API calls (stream info, consumers) wait this long: during a leader election a call
# is better asked again soon than waited on for the library's five seconds.
API_TIMEOUT_SECONDS = 1.5


async def run_with_nats(
    name: str,
    settings: Settings,
    stop: asyncio.Event,
    work: Callable[[Client], Awaitable[None]],
) -> None:
    """Run `work` on a connection until `stop`. After a NATS failure, connect and run it again;
    after the store failed (a terminated backend, a restart), wait until it answers, then run it
    again: the part never exits for a peer's failure."""
    outage = Outage(name)
    refused = RateLimitedLog()
    nc: Client | None = None
    loop = asyncio.get_running_loop()
    try:
        while not stop.is_set():
            if nc is None or nc.is_closed:
                nc = await connect(settings.nats_url, name, stop, outage)
                if nc is None:
                    return
            steady = None
            try:
                await ensure_stream(nc, settings.stream_replicas)
                # Back is said once the work has gone on a while, not at every new try of
                # work that fails again at once.
                steady = loop.call_later(STEADY_SECONDS, outage.all_back)
                await work(nc)
            except STORE_DOWN as error:
                outage.lost("the store", error)
                if not await sleep_or_stop(stop, 1.0):  # a second between tries, at least
                    await patiently(lambda: store_answers(settings), stop)
            except APIError as error:
                if error.code == 503:  # JetStream without a leader for a moment: an outage
                    outage.lost("NATS", error)
                else:  # the server refused what was asked: said as such, and tried again
                    refused.warning("%s: JetStream refused: %s", name, describe(error))
                await sleep_or_stop(stop, NATS_RETRY_SECONDS)
            except NATS_DOWN as error:
                # The connection itself reconnects to another node on its own: a JetStream
                # that answers no more (a stream or consumer leader being elected) is asked
                # again on it shortly, not after a new connection's round of timeouts.
                outage.lost("NATS", error)
                await sleep_or_stop(stop, NATS_RETRY_SECONDS)
            finally:
                if steady is not None:
                    steady.cancel()
    finally:
        if nc is not None and not nc.is_closed:  # one already reset may fail to close: gone
            with contextlib.suppress(*NATS_DOWN):
                await nc.close()


async def patiently(
    call: Callable[[], object], stop: asyncio.Event, outage: Outage | None = None
) -> bool:
    """`call` in a thread, again every second while the store does not answer: True once it
    ran, False if `stop` came first. With an `outage`, the store is said lost and back there."""
    while True:
        try:
            await asyncio.to_thread(call)
        except STORE_DOWN as error:
            if outage is not None:
                outage.lost("the store", error)
            if await sleep_or_stop(stop, 1.0):
                return False
            continue
        if outage is not None:
            outage.back("the store")
        return True


async def ensure_stream(
    nc: Client, replicas: int = 1, name: str = STREAM, subjects: str = EVENT_SUBJECTS
) -> None:
    """Create a stream if it is missing: the `LACAK` stream of the events by default (3
    replicas on a production cluster)."""
    js = nc.jetstream(timeout=API_TIMEOUT_SECONDS)
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=name,
                subjects=[subjects],
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
