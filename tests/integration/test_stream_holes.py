"""A stream that lacks what the store holds (messages deleted from it, as an operator or a lost
node would leave it): the projections take the missing events from the event store, in order,
and the views equal the store."""

import asyncio
import contextlib

import nats
import pytest
from nats.js.errors import NotFoundError

from services.custody.batches import Batches
from services.messaging.nats import STREAM
from services.messaging.projector import run_projection
from services.messaging.relay import AUDIT_SECONDS, REPAIR, plain_id, run_relay
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


def recorded(batches: Batches) -> tuple[list[str], int]:
    """Six TPS' kits registered and 60 scans of them: their labels, and the last notification."""
    labels = [p.label for p in plans(6)]
    batches.register(plans(6), at=REGISTERED)
    for scan in scans_for(labels, 60):
        batches.scan(scan)
    return labels, batches.recorder.max_notification_id()


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
    labels, stored = recorded(batches)
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


async def ids_in_stream(nats_url: str) -> list[str]:
    """The message id of every message the stream holds, in stream order."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    state = (await js.stream_info(STREAM)).state
    ids = []
    for seq in range(state.first_seq, state.last_seq + 1):
        with contextlib.suppress(NotFoundError):  # deleted
            ids.append((await js.get_msg(STREAM, seq)).headers["Nats-Msg-Id"])
    await nc.close()
    return ids


async def test_the_relay_publishes_again_what_was_deleted_from_the_stream_and_only_once(
    settings: Settings, batches, caplog
):
    labels, stored = recorded(batches)
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    await wait_for(lambda: asyncio.run(in_stream(settings.nats_url)) >= stored)
    nc = await nats.connect(settings.nats_url)
    deleted = (1, 7, 8, 9, stored - 10)  # the first, a run, one late: while it runs
    for sequence in deleted:
        await nc.jetstream().delete_msg(STREAM, sequence)
    await nc.close()
    # every one again but the first: a stream's front is its operator's (a purge, a limit)
    every = {f"Batches:{position}" for position, _ in read_store(settings)} - {"Batches:1"}

    def whole() -> bool:
        return {plain_id(i) for i in asyncio.run(ids_in_stream(settings.nats_url))} == every

    await wait_for(whole, timeout=AUDIT_SECONDS * 10)
    held = await ids_in_stream(settings.nats_url)
    assert len(held) == stored - 1  # each of the four once, at the end
    assert all(i.startswith(REPAIR) for i in held[-4:])
    assert sorted(plain_id(i) for i in held[-4:]) == sorted(f"Batches:{n}" for n in deleted[1:])
    assert "published again from the store" in caplog.text
    stop.set()
    await relay

    caplog.clear()  # started again with repairs last in the stream: it resumes, repeats nothing
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    await asyncio.sleep(AUDIT_SECONDS * 2)  # its first look for holes came at its start
    assert await ids_in_stream(settings.nats_url) == held
    batches.scan(scans_for(labels, 1, seed=99)[0])
    await wait_for(lambda: asyncio.run(in_stream(settings.nats_url)) >= stored)
    stop.set()
    await relay
    after = await ids_in_stream(settings.nats_url)
    assert after == [*held, f"Batches:{stored + 1}"]
    assert "the stream lacked" not in caplog.text
