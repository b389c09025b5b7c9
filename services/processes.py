"""The long-running parts of Lacak and how they run: each projection, the relay and the web in
one process for the demo, or each its own process until a signal."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from types import FrameType
from typing import Any

import uvicorn
from litestar import Litestar

from services.audit.access import access_origin, follow_accounts
from services.audit.verify import ledger_signer
from services.custody.atlas import Atlas
from services.custody.batches import Batches
from services.custody.errors import NoMasterDataError
from services.custody.masterdata import MasterData
from services.messaging.nats import Outage, RateLimitedLog, connect, patiently, sleep_or_stop
from services.messaging.projector import run_projection
from services.messaging.relay import run_relay
from services.notices.delivery import run_notices
from services.settings import Settings
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import ViewDatabase, open_views
from services.views.eventlog import EventLogView
from services.views.findings import FindingView
from services.views.gudang import GudangView
from services.views.ledger import (
    AccessLedgerView,
    LedgerView,
    checkpoint_publisher,
    last_published,
    publish_checkpoints,
    publish_cosignature,
)
from services.views.projection import Projection
from services.wilayah import Served

log = logging.getLogger("lacak")


def load_places(settings: Settings) -> Served:
    """What a process serves: when several kabupaten/kota are imported for the election, the
    `Atlas` of them all (its code the province or the nation they share; it keeps its own
    connection to the store, to read a kabupaten's tree when first asked); else the one
    imported (`LACAK_KABUPATEN` for a store older than the index). NoMasterDataError if none."""
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    try:
        imported = list(master_data.kabupaten(settings.election))
        if len(imported) > 1:
            return Atlas(master_data, settings.election)
        wilayah = master_data.wilayah(settings.election, (imported or [settings.kabupaten])[0])
    except BaseException:
        batches.close()
        raise
    batches.close()
    if wilayah is None:
        raise NoMasterDataError()
    return wilayah


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_board_projection(
    settings: Settings, stop: asyncio.Event, provinces: Sequence[str] = ()
) -> None:
    """The board whole, or its part for these provinces (`lacak project board --provinsi 31 32`)."""
    views = open_views(settings)
    try:
        board = BoardView(views)
        await run_projection(board.partition(provinces) if provinces else board, settings, stop)
    finally:
        views.close()


ProjectionRun = Callable[[Settings, asyncio.Event], Awaitable[None]]


def runs(view: Callable[[ViewDatabase], Projection]) -> ProjectionRun:
    """A projection that needs nothing but its views: run until `stop`, its views closed after."""

    async def run(settings: Settings, stop: asyncio.Event) -> None:
        views = open_views(settings)
        try:
            await run_projection(view(views), settings, stop)
        finally:
            views.close()

    return run


PARTITIONED = {"board": BoardView}  # the views that may be split by province


async def run_log_projection(
    settings: Settings, stop: asyncio.Event, wilayah: Served | None = None
) -> None:
    """The event log; its summaries name places when the wilayah is known."""
    views = open_views(settings)
    try:
        if wilayah is None:
            loaded: list[Served] = []
            if not await patiently(
                lambda: loaded.append(load_places(settings)), stop, Outage("projection log")
            ):
                return  # stopped while the store was away
            wilayah = loaded[0]
        await run_projection(EventLogView(views, wilayah), settings, stop)
    finally:
        views.close()


def ledger_view(settings: Settings, views: ViewDatabase) -> LedgerView:
    """The ledger with its signing key (made on its first start) and the settings' cadence."""
    return LedgerView(
        views,
        ledger_signer(settings),
        settings.ledger_origin,
        settings.checkpoint_every,
        settings.checkpoint_seconds,
    )


def access_ledger(settings: Settings, views: ViewDatabase) -> AccessLedgerView:
    """The access log's ledger, signing with the ledger's key at the settings' cadence."""
    return AccessLedgerView(
        views,
        ledger_signer(settings),
        access_origin(settings),
        settings.checkpoint_every,
        settings.checkpoint_seconds,
    )


async def run_ledger_projection(settings: Settings, stop: asyncio.Event) -> None:
    """The ledger, and its clock: the events that wait unsigned are signed within
    `checkpoint_seconds` even when no more come. The access log's ledger beside it, with a
    clock of its own."""
    views = open_views(settings)
    try:
        ledger = await asyncio.to_thread(ledger_view, settings, views)
        access = await asyncio.to_thread(access_ledger, settings, views)
        for view in (ledger, access):
            if not await patiently(view.setup, stop, Outage(f"projection {view.name}")):
                return  # stopped while the store was away
        publish = checkpoint_publisher(ledger, settings.stream_replicas)
        await asyncio.gather(
            run_projection(ledger, settings, stop, publish),
            sign_on_the_clock(ledger, settings, stop),
            follow_accounts(settings, access, stop),
            sign_on_the_clock(access, settings, stop),
        )
    finally:
        views.close()


async def sign_on_the_clock(ledger: LedgerView, settings: Settings, stop: asyncio.Event) -> None:
    """Every half `checkpoint_seconds`: sign what has waited long enough, publish every
    checkpoint the stream does not have yet (one a commit's publish missed included) and every
    cosignature the web has kept since."""
    nc = await connect(settings.nats_url, f"{ledger.name} clock", stop)
    if nc is None:
        return
    published = -1  # not read yet
    quiet = RateLimitedLog()  # NATS away for an hour is one line a half-minute, not 720
    try:
        while not await sleep_or_stop(stop, ledger.checkpoint_seconds / 2):
            try:
                await asyncio.to_thread(ledger.sign_if_due)
                if published < 0:
                    last = await last_published(nc, ledger.subject)
                    published = last.size if last else 0
                pending = await asyncio.to_thread(ledger.checkpoints_above, published)
                if pending:
                    await publish_checkpoints(nc, pending, settings.stream_replicas, type(ledger))
                    published = pending[-1].size
                for size, witness, line in await asyncio.to_thread(
                    ledger.unpublished_cosignatures
                ):  # the web keeps them, this publishes them: an outbox
                    await publish_cosignature(nc, size, line, settings.stream_replicas)
                    await asyncio.to_thread(ledger.mark_published, size, witness)
            except Exception as error:  # the next round signs or publishes; say it once a round
                quiet.warning("ledger clock: %s", error or type(error).__name__)
    finally:
        if not nc.is_closed:
            await nc.close()


PROJECTIONS: dict[str, ProjectionRun] = {
    "board": run_board_projection,
    "anomalies": runs(AnomalyView),
    "gudang": runs(GudangView),
    "findings": runs(FindingView),
    "ledger": run_ledger_projection,
    "log": run_log_projection,
    "notices": run_notices,  # with its clock, the NATS publisher and the deliveries
}


class Server(uvicorn.Server):
    """uvicorn's server that closes open board streams as soon as it is asked to stop.

    Open SSE streams would otherwise hold a graceful shutdown until its timeout, and uvicorn's
    re-raising of the signal afterwards would skip the caller's clean-up (the embedded
    nats-server), so the signal is handled here and not re-raised.
    """

    def __init__(self, app: Litestar, settings: Settings, on_exit: Callable[[], None]):
        super().__init__(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                timeout_graceful_shutdown=2,
                # X-Forwarded-For only from the proxies the settings name; none by default
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=settings.trusted_proxies or None,
            )
        )
        self.app = app
        self.close_streams = on_exit  # ends every open live stream
        self.stop: asyncio.Event | None = None  # what else runs with it, told at once
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.force_exit = self.should_exit and sig == signal.SIGINT  # a second Ctrl-C
        self.should_exit = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._exiting)

    def _exiting(self) -> None:
        self.close_streams()
        if self.stop is not None:  # the rest stops now, not once the web has closed
            self.stop.set()


async def run_stack(
    settings: Settings,
    wilayah: Served,
    stop: asyncio.Event,
    server: Server,
    after_start: list[Callable[[], Coroutine[Any, Any, None]]] = [],  # noqa: B006 (read only)
) -> None:
    """Web, relay and every projection in one process, until `stop`, the server exits or a
    part fails (then the failure is raised, after the others have stopped). `after_start`
    run once the web listens."""
    server.stop = stop
    serving = asyncio.create_task(server.serve(), name="web")
    parts = {
        asyncio.create_task(run_relay(settings, stop), name="relay"),
        asyncio.create_task(run_log_projection(settings, stop, wilayah), name="log projection"),
        *(
            asyncio.create_task(run(settings, stop), name=f"{name} projection")
            for name, run in PROJECTIONS.items()
            if name != "log"
        ),
    }
    if after_start:
        while not server.started and not serving.done():  # they need the web listening
            await asyncio.sleep(0.05)
        parts.update(asyncio.create_task(start(), name="after start") for start in after_start)
    stopping = asyncio.create_task(stop.wait())
    failed: asyncio.Task[None] | None = None
    running = {serving, stopping, *parts}
    try:
        while failed is None and not (serving.done() or stopping.done()):
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            failed = next((t for t in done if t in parts and t.exception()), None)
    finally:
        server.close_streams()
        server.should_exit = True
        stop.set()
        await asyncio.gather(serving, stopping, *parts, return_exceptions=True)
    if failed is not None:
        log.error("%s failed; Lacak stopped", failed.get_name())
        raise failed.exception()  # type: ignore[misc]


def run_until_signal(work: Callable[[Settings, asyncio.Event], Awaitable[None]]) -> None:
    """Run one part until SIGINT or SIGTERM."""
    settings = Settings.from_env()
    settings.make_folders()

    async def until_signal() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await work(settings, stop)

    import uvloop  # as the web's: the NATS client's reads and writes cost less

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(until_signal())
