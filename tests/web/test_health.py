"""Health and metrics: `/healthz`, `/readyz` and `/metrics` as a load balancer and Prometheus
see them, with the relay and projections running and then behind or cut off."""

import asyncio
import re
import time

import pytest
from litestar.testing import TestClient

from services.custody.batches import Batches
from services.messaging.relay import run_relay
from services.processes import PROJECTIONS, run_log_projection
from services.settings import Settings
from services.views.board.view import BoardView
from services.views.database import open_views
from tests.conftest import settings_env
from tests.data import ONE_TPS_PLANS, REGISTERED, SERANG
from tests.integration.test_relay_and_board import wait_for
from tests.integration.test_store_lost import Cut
from tests.web.signin import sign_in
from tests.web.test_access import scan
from web.app import create_app
from web.health import SNAPSHOT_SECONDS


def metric(text: str, name: str, labels: str = "") -> float:
    found = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    assert found, f"{name}{labels} not in /metrics"
    return float(found[1])


@pytest.fixture
def with_nats(settings: Settings, nats_server) -> Settings:
    """The web tests' settings, with a nats-server of the test's own (theirs have none)."""
    return settings.replace(nats_url=nats_server.url)


def test_an_app_behind_its_projections_is_alive_but_not_ready(with_nats: Settings):
    """No relay or projection runs: the store has events no view has, and NATS answers."""
    settings = with_nats
    batches = Batches(settings.store, wilayah=SERANG)
    batches.register(ONE_TPS_PLANS, at=REGISTERED)  # recorded in 2024: long behind
    last = batches.recorder.max_notification_id()
    batches.close()
    with TestClient(create_app(settings, SERANG)) as client:
        assert client.get("/healthz").text == "ok\n"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["store"] == "ok" and body["nats"] == "ok"
        assert body["projections"]["board"]["events"] == last
        assert any(why.startswith("board tertinggal") for why in body["why"])
        text = client.get("/metrics").text
        assert metric(text, "lacak_lag_events", '{part="board"}') == last
        assert metric(text, "lacak_lag_events", '{part="relay"}') == last
        assert metric(text, "lacak_lag_seconds", '{part="board"}') > 3600
        assert metric(text, "lacak_peer_up", '{peer="store"}') == 1


async def test_a_caught_up_app_is_ready_and_counts_its_scans_and_requests(with_nats: Settings):
    settings = with_nats
    batches = Batches(settings.store, wilayah=SERANG)
    batches.register(ONE_TPS_PLANS, at=REGISTERED)
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_log_projection(settings, stop, SERANG)),
        *(asyncio.create_task(run(settings, stop)) for n, run in PROJECTIONS.items() if n != "log"),
    ]
    views = open_views(settings)
    board = BoardView(views)
    board.setup()
    try:
        with TestClient(create_app(settings, SERANG)) as client:
            sign_in(client, settings)
            for n, plan in enumerate(ONE_TPS_PLANS[:3]):
                sent = client.post("/api/v1/scans", json=scan(plan.label, "dispatch", "36.04", n))
                assert sent.status_code == 201
            last = batches.recorder.max_notification_id()
            await wait_for(lambda: board.applied() == last)
            await asyncio.sleep(1)  # the other projections, a moment behind at most
            await asyncio.sleep(SNAPSHOT_SECONDS)  # the next snapshot is a fresh one
            ready = await asyncio.to_thread(client.get, "/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["projections"]["board"] == {"events": 0, "seconds": 0.0}
            text = (await asyncio.to_thread(client.get, "/metrics")).text
            assert metric(text, "lacak_scans_accepted_total") == 3
            # one at a time: each its own group, none decided again
            assert metric(text, "lacak_commit_commands_total") == 3
            assert metric(text, "lacak_commit_groups_total") == 3
            assert metric(text, "lacak_commit_redecided_total") == 0
            assert metric(text, "lacak_lag_events", '{part="relay"}') == 0
            requests = '{method="POST",route="/api/v1/scans",status="201"}'
            assert metric(text, "lacak_http_request_duration_seconds_count", requests) == 3
    finally:
        stop.set()
        await asyncio.gather(*parts)
        views.close()
        batches.close()


def test_without_nats_the_app_is_not_ready(settings: Settings):
    """The web tests' own settings name a port where no nats-server listens."""
    with TestClient(create_app(settings, SERANG)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["nats"].startswith("tidak menjawab")
        assert metric(client.get("/metrics").text, "lacak_peer_up", '{peer="nats"}') == 0


async def test_with_the_store_out_of_reach_readyz_says_so_fast_and_leaks_nothing(
    tmp_path, nats_server, postgres_schema
):
    """PostgreSQL behind a proxy that is cut: /readyz answers 503 within seconds, naming the
    store without its address or error text; /metrics still answers."""
    cut = Cut()
    env = settings_env("postgres", tmp_path, nats_server.url, postgres_schema)
    settings = Settings.from_env({**env, "POSTGRES_PORT": str(cut.port)})
    settings.make_folders()
    Batches(settings.store, wilayah=SERANG).close()
    try:
        with TestClient(create_app(settings, SERANG)) as client:
            assert (await asyncio.to_thread(client.get, "/readyz")).json()["store"] == "ok"
            await asyncio.to_thread(cut.cut)
            await asyncio.sleep(SNAPSHOT_SECONDS)
            started = time.monotonic()
            ready = await asyncio.to_thread(client.get, "/readyz")
            assert time.monotonic() - started < 10
            assert ready.status_code == 503
            assert ready.json()["why"][0] == "penyimpanan tidak menjawab"
            assert str(cut.port) not in ready.text and "127.0.0.1" not in ready.text
            text = (await asyncio.to_thread(client.get, "/metrics")).text
            assert metric(text, "lacak_peer_up", '{peer="store"}') == 0
            await asyncio.to_thread(cut.mend)
    finally:
        cut.close()
