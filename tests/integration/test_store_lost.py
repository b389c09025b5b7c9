"""The relay and every projector ride out PostgreSQL terminating their connections, in process:
each says once that the store is lost and once that it is back, none exits, and what was recorded
meanwhile reaches every view (issue 14: `lacak project` exited on psycopg.OperationalError)."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import psycopg

from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.messaging.relay import run_relay
from services.processes import PROJECTIONS, run_log_projection
from services.settings import Settings
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import PostgresViews
from services.views.eventlog import EventLogView
from services.views.ledger import LedgerView
from tests.conftest import POSTGRES, settings_env
from tests.data import ONE_TPS, REGISTERED, SERANG
from tests.integration.test_relay_and_board import wait_for


def terminate(application_name: str) -> int:
    """pg_terminate_backend of every connection this test's parts opened; how many."""
    with psycopg.connect(**POSTGRES, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,),
        ).fetchall()
    return len(rows)


def dispatch(settings: Settings, label: str) -> int:
    batches = Batches(settings.store, wilayah=SERANG)
    try:
        batches.scan(
            Scan(
                scan_id=str(uuid.uuid4()),
                label=label,
                action="dispatch",
                location="36.04",
                occurred_at=datetime(2024, 2, 10, 1, tzinfo=UTC),
            )
        )
        return batches.recorder.max_notification_id()
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
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(ONE_TPS)
    batches.register(plans, at=REGISTERED)
    first = batches.recorder.max_notification_id()
    batches.close()
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
            assert await asyncio.to_thread(terminate, tag) > 0
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
    said = caplog.text
    assert "the store lost" in said and "the store back" in said, said
    assert "Traceback" not in said
