"""A stream that lacks what the store holds (messages deleted from it, as an operator or a lost
node would leave it): the projections take the missing events from the event store, in order,
and the views equal the store."""

import asyncio

import nats
import pytest
from nats.js.errors import NotFoundError

from services.custody.batches import Batches
from services.messaging.nats import STREAM
from services.messaging.projector import run_projection
from services.messaging.relay import run_relay
from services.settings import Settings
from services.store.notifications import read_store
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.ledger import LedgerView
from tests.data import REGISTERED, SERANG
from tests.integration.counting import count_from_event_store
from tests.integration.test_relay_and_board import board_counts, plans, scans_for, wait_for


@pytest.fixture
def batches(settings: Settings):
    app = Batches(settings.store, wilayah=SERANG)
    yield app
    app.close()


async def in_stream(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().stream_info(STREAM)).state.messages
    except NotFoundError:  # the relay has not made it yet
        return 0
    finally:
        await nc.close()


@pytest.fixture
def views(settings: Settings):
    database = open_views(settings)
    board, ledger = BoardView(database), LedgerView(database)
    board.setup()
    ledger.setup()
    yield board, ledger
    database.close()


async def test_events_deleted_from_the_stream_are_taken_from_the_store_in_order(
    settings: Settings, batches, views, caplog
):
    board, ledger = views
    labels = [p.label for p in plans(6)]
    batches.register(plans(6), at=REGISTERED)
    for scan in scans_for(labels, 60):
        batches.scan(scan)
    stored = batches.recorder.max_notification_id()
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    deadline = asyncio.get_running_loop().time() + 30
    while await in_stream(settings.nats_url) < stored:
        assert asyncio.get_running_loop().time() < deadline, "the relay did not catch up"
        await asyncio.sleep(0.05)
    stop.set()
    await relay
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    for sequence in (1, 7, 8, 9, stored - 10, stored):  # the first, a run, one late, the last
        await js.delete_msg(STREAM, sequence)
    await nc.close()
    assert await in_stream(settings.nats_url) == stored - 6
    batches.scan(scans_for(labels, 1, seed=99)[0])  # the next event shows the last one missing
    stored = batches.recorder.max_notification_id()

    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    projections = [
        asyncio.create_task(run_projection(view, settings, stop)) for view in (board, ledger)
    ]
    expected = count_from_event_store(batches.recorder)
    await wait_for(lambda: board_counts(board) == expected and ledger.size() == stored)
    stop.set()
    await asyncio.gather(relay, *projections)

    positions = [position for position, _ in read_store(settings)]
    assert [ledger.leaf_at(p)[0] for p in positions] == list(range(stored))  # store order
    assert "the stream lacks" in caplog.text
