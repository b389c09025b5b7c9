"""The relay, every projector and the web ride out PostgreSQL terminating their connections, and
the relay and the board projector PostgreSQL out of reach, in process: each says once that the
store is lost and once that it is back, none exits, and what was recorded meanwhile reaches the
views (issue 14: `lacak project` exited on psycopg.OperationalError)."""

import asyncio
import logging
import threading
import uuid

from litestar.testing import TestClient

from services.cluster import pipe
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.demo.bench.faults import terminate
from services.messaging.relay import run_relay
from services.messaging.server import free_port
from services.processes import PROJECTIONS, run_board_projection, run_log_projection
from services.settings import Settings
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import PostgresViews
from services.views.eventlog import EventLogView
from services.views.ledger import LedgerView
from tests.conftest import settings_env
from tests.data import ONE_TPS, REGISTERED, SERANG
from tests.integration.test_nats_lost import dispatched
from tests.integration.test_relay_and_board import wait_for
from tests.web.signin import sign_in
from tests.web.test_access import scan
from web.app import create_app


def registered(settings: Settings) -> tuple[list, int]:
    """One TPS's kit registered in the settings' store: its plans and the last position."""
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    try:
        plans = kit_plan(ONE_TPS)
        batches.register(plans, at=REGISTERED)
        return plans, batches.recorder.max_notification_id()
    finally:
        batches.close()


def dispatch(settings: Settings, label: str) -> int:
    batches = Batches(settings.store, wilayah=SERANG)
    try:
        return dispatched(batches, label)
    finally:
        batches.close()


async def test_relay_and_projectors_outlive_terminated_postgres_connections(
    tmp_path, nats_server, postgres_schema, monkeypatch, caplog
):
    tag = f"lacak-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", tag)  # libpq names this process's connections: only they go
    settings = Settings.from_env(
        settings_env("postgres", tmp_path, nats_server.url, postgres_schema)
    )
    plans, first = registered(settings)
    # The test's own eyes on the views, on connections the sweeps leave alone.
    views = PostgresViews(settings.postgres_conninfo + " application_name=lacak-observer")
    watched = [BoardView(views), AnomalyView(views), EventLogView(views, SERANG), LedgerView(views)]
    for view in watched:
        view.setup()
    stop = asyncio.Event()
    parts = [asyncio.create_task(run_relay(settings, stop), name="relay")]
    parts += [
        asyncio.create_task(run(settings, stop), name=name)
        for name, run in PROJECTIONS.items()
        if name != "log"  # it names places: this test imported none, the wilayah is given
    ]
    parts.append(asyncio.create_task(run_log_projection(settings, stop, SERANG), name="log"))
    caplog.set_level(logging.WARNING)
    try:
        await wait_for(lambda: all(view.applied() == first for view in watched))
        for sweep in range(3):  # again and again, as an operator's sweeps would
            assert await asyncio.to_thread(terminate, settings, tag) > 0
            await asyncio.sleep(1.5)
            last = await asyncio.to_thread(dispatch, settings, plans[sweep].label)
            await wait_for(lambda n=last: all(v.applied() == n for v in watched), timeout=60)
            assert not [p.get_name() for p in parts if p.done()], [
                p.exception() for p in parts if p.done()
            ]
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*parts, return_exceptions=True), timeout=30)
        views.close()
    assert "Traceback" not in caplog.text


def test_the_web_answers_through_terminated_postgres_connections(
    tmp_path, nats_server, postgres_schema, monkeypatch
):
    """Pages, the API and a scan after every connection of the web was terminated: no 5xx."""
    tag = f"lacak-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", tag)
    env = settings_env("postgres", tmp_path, nats_server.url, postgres_schema)
    settings = Settings.from_env(env)
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(ONE_TPS)
    batches.register(plans, at=REGISTERED)
    batches.close()
    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings)
        for sweep, plan in enumerate(plans[:3]):
            assert terminate(settings, tag) > 0
            for path in ("/", "/api/v1/board", "/akses", f"/kotak/{plan.label}"):
                answer = client.get(path)
                assert answer.status_code == 200, (sweep, path, answer.text[:300])
            sent = client.post("/api/v1/scans", json=scan(plan.label, "dispatch", "36.04"))
            assert sent.status_code == 201, (sweep, sent.text[:300])


class Cut:
    """A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones refused)
    and mended: the store out of reach, as a network or a failover makes it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.port = free_port()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.mend()

    def _call(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def mend(self) -> None:
        async def serve() -> None:
            self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

        self._call(serve())

    def cut(self) -> None:
        async def drop() -> None:
            assert self.server is not None
            self.server.close()
            for writer in list(self.links):
                writer.transport.abort()
            self.links.clear()

        self._call(drop())

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        except OSError:
            writer.transport.abort()
            return
        self.links.update((writer, up_writer))

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)


async def test_postgres_out_of_reach_is_said_once_and_waited_for(
    tmp_path, nats_server, postgres_schema, caplog
):
    """PostgreSQL away for some seconds (every connection dropped, new ones refused), with the
    relay and the projectors running and an event recorded just before: each part says the
    store is lost, then back, and the event reaches every view."""
    cut = Cut()
    env = settings_env("postgres", tmp_path, nats_server.url, postgres_schema)
    # A second's connect timeout: the store's own retries give up within seconds, not 20 s.
    cut_env = {**env, "POSTGRES_PORT": str(cut.port), "POSTGRES_CONNECT_TIMEOUT": "1"}
    settings = Settings.from_env(cut_env)
    plans, first = registered(settings)
    views = PostgresViews(Settings.from_env(env).postgres_conninfo)  # straight, not cut
    board = BoardView(views)
    board.setup()
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop), name="relay"),
        asyncio.create_task(run_board_projection(settings, stop), name="board"),
    ]
    caplog.set_level(logging.WARNING)
    try:
        await wait_for(lambda: board.applied() == first)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cut.cut)
        # Recorded by a part the cut leaves alone: the relay must read it and cannot.
        last = await asyncio.to_thread(dispatch, Settings.from_env(env), plans[0].label)
        await asyncio.sleep(8)
        assert not [p for p in parts if p.done()]
        await asyncio.to_thread(cut.mend)
        await wait_for(lambda: board.applied() == last, timeout=60)
        # "back" once the relay's work has held a couple of seconds
        await wait_for(lambda: "relay: the store back" in caplog.text)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*parts, return_exceptions=True), timeout=30)
        views.close()
        cut.close()
    said = caplog.text
    assert said.count("relay: the store lost") == 1, said
    assert said.count("relay: the store back") == 1, said
    assert "Traceback" not in said
