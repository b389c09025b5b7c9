"""Two projectors of one view: the second waits as a hot standby and takes over within seconds
when the first stops, instead of both taking the same durable consumer from each other. On
SQLite (a file lock) and PostgreSQL (an advisory lock)."""

import asyncio
import logging
import time
import uuid

from services.custody.batches import Batches
from services.demo.bench.faults import terminate
from services.messaging.lease import leased
from services.messaging.relay import run_relay
from services.processes import run_board_projection
from services.settings import Settings
from services.views.board.view import BoardView
from services.views.database import PostgresViews, open_views
from tests.conftest import settings_env
from tests.data import ONE_TPS_PLANS, REGISTERED, SERANG
from tests.integration.test_relay_and_board import wait_for
from tests.integration.test_store_lost import dispatch


async def test_a_second_projector_stands_by_and_takes_over(settings: Settings, caplog):
    caplog.set_level(logging.WARNING)
    batches = Batches(settings.store, wilayah=SERANG)
    batches.register(ONE_TPS_PLANS, at=REGISTERED)
    first = batches.recorder.max_notification_id()
    batches.close()
    views = open_views(settings)
    board = BoardView(views)
    board.setup()
    stop, stop_first, stop_second = asyncio.Event(), asyncio.Event(), asyncio.Event()
    projector = leased("project-board", run_board_projection)
    relay = asyncio.create_task(run_relay(settings, stop))
    holder = asyncio.create_task(projector(settings, stop_first))
    standby: asyncio.Task[None] | None = None
    try:
        await wait_for(lambda: board.applied() == first)
        standby = asyncio.create_task(projector(settings, stop_second))
        await asyncio.sleep(2)
        assert caplog.text.count("project-board: holds the lease") == 1
        assert "project-board: another process holds the lease; standing by" in caplog.text
        stop_first.set()  # the first goes (its lock with it)
        await holder
        left = time.monotonic()
        await wait_for(lambda: caplog.text.count("project-board: holds the lease") == 2)
        assert time.monotonic() - left < 5
        last = await asyncio.to_thread(dispatch, settings, ONE_TPS_PLANS[0].label)
        await wait_for(lambda: board.applied() == last)  # the standby projects now
    finally:
        stop.set()
        stop_first.set()
        stop_second.set()
        await asyncio.gather(relay, holder, *([standby] if standby else []))
        views.close()


async def test_a_holder_whose_lease_connection_dies_stops_and_the_lease_moves_on(
    tmp_path, nats_server, postgres_schema, monkeypatch, caplog
):
    """PostgreSQL terminates the lease's connection (a failover, a sweep): the lock goes with
    it, the holder says it lost the lease and stands by, one of the two takes it again, and the
    board goes on."""
    tag = f"lacak-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", tag)
    caplog.set_level(logging.WARNING)
    settings = Settings.from_env(
        settings_env("postgres", tmp_path, nats_server.url, postgres_schema)
    )
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    batches.register(ONE_TPS_PLANS, at=REGISTERED)
    first = batches.recorder.max_notification_id()
    batches.close()
    views = PostgresViews(settings.postgres_conninfo + " application_name=lacak-observer")
    board = BoardView(views)
    board.setup()
    stop = asyncio.Event()
    projector = leased("project-board", run_board_projection)
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(projector(settings, stop)),
        asyncio.create_task(projector(settings, stop)),
    ]
    try:
        await wait_for(lambda: board.applied() == first)
        assert await asyncio.to_thread(terminate, settings, tag) > 0
        await wait_for(lambda: "project-board: lost the lease; standing by" in caplog.text)
        await wait_for(lambda: caplog.text.count("project-board: holds the lease") == 2)
        last = await asyncio.to_thread(dispatch, settings, ONE_TPS_PLANS[0].label)
        await wait_for(lambda: board.applied() == last)
    finally:
        stop.set()
        await asyncio.gather(*parts)
        views.close()
