"""The relay rides out its nats-server's death in process: no traceback, no exit, and every event
reaches the stream once the server is back (issue 14's first finding: `nc.close()` in a
`finally:` raised ConnectionResetError outside the handler)."""

import asyncio
import signal
import uuid
from datetime import UTC, datetime

import msgspec
import nats
import nats.js.errors
import pytest

from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.messaging.nats import STREAM, connect
from services.messaging.projector import notice_subject
from services.messaging.relay import EXPECTED_SEQUENCE, MSG_ID, run_relay
from services.messaging.server import EmbeddedNats, free_port
from services.processes import run_board_projection
from services.settings import Settings
from services.views.board.view import BoardView
from services.views.database import SqliteViews
from services.views.projection import Changed
from tests.conftest import settings_env
from tests.data import ONE_TPS, REGISTERED, SERANG
from tests.integration.test_relay_and_board import wait_for


async def stream_count(url: str) -> int:
    try:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=1)
    except Exception:
        return -1
    try:
        return (await nc.jetstream().stream_info(STREAM)).state.messages
    except Exception:
        return -1
    finally:
        await nc.close()


def counted(url: str) -> int:
    return asyncio.run(stream_count(url))


def a_store_and_its_nats(tmp_path) -> tuple[EmbeddedNats, Settings, Batches, list]:
    """A nats-server of the test's own, and a SQLite store with one TPS's kit registered."""
    server = EmbeddedNats(tmp_path / "nats").start()
    settings = Settings.from_env(settings_env("sqlite", tmp_path, server.url, None))
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(ONE_TPS)
    batches.register(plans, at=REGISTERED)
    return server, settings, batches, plans


def dispatched(batches: Batches, label: str) -> int:
    """A box sent from the gudang; the store's last notification id after it."""
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


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
async def test_the_relay_outlives_its_nats_server_and_catches_up(tmp_path, how):
    server, settings, batches, plans = a_store_and_its_nats(tmp_path)
    first = batches.recorder.max_notification_id()
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    try:
        await wait_for(lambda: counted(server.url) == first)
        assert server.process is not None
        server.process.send_signal(how)
        server.process.wait()
        await asyncio.sleep(2)  # the relay notices, and must neither raise nor return
        assert not relay.done(), relay.exception() if relay.done() else None
        last = dispatched(batches, plans[0].label)
        server.start()  # the same port and data folder: the stream is still there
        await wait_for(lambda: counted(server.url) == last)
        assert not relay.done()
    finally:
        stop.set()
        await asyncio.wait_for(relay, timeout=30)
        batches.close()
        server.stop()


async def test_the_stream_refuses_a_message_whose_predecessor_is_missing(tmp_path):
    """A hole (the stream holding k+1 but not k) cannot happen: each publish names the one it
    must follow, so a k+1 whose k was lost is refused and the relay sends both again, in order."""
    server = EmbeddedNats(tmp_path / "nats").start()
    settings = Settings.from_env(settings_env("sqlite", tmp_path, server.url, None))
    settings.make_folders()
    batches = Batches(settings.store, wilayah=SERANG)
    plans = kit_plan(ONE_TPS)
    batches.register(plans[:2], at=REGISTERED)
    first = batches.recorder.max_notification_id()
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(settings, stop))
    try:
        await wait_for(lambda: counted(server.url) == first)
        stop.set()
        await relay
        batches.register(plans[2:4], at=REGISTERED)  # k and k+1, not yet relayed
        k = first + 1
        [*_, later] = batches.recorder.select_notifications(k + 1, 1)
        nc = await nats.connect(server.url)
        try:
            with pytest.raises(nats.js.errors.APIError, match="wrong last sequence"):
                await nc.jetstream().publish(
                    "lacak.events.batch.registered",
                    batches.mapper.plain_state(later),
                    stream=STREAM,
                    headers={MSG_ID: f"Batches:{k + 1}", EXPECTED_SEQUENCE: str(k)},
                )
        finally:
            await nc.close()
        stop = asyncio.Event()
        relay = asyncio.create_task(run_relay(settings, stop))
        await wait_for(lambda: counted(server.url) == k + 1)
        ids = await stream_ids(server.url)
        assert ids == [f"Batches:{n}" for n in range(1, k + 2)]
    finally:
        stop.set()
        await asyncio.wait_for(relay, timeout=30)
        batches.close()
        server.stop()


async def stream_ids(url: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        last = (await js.stream_info(STREAM)).state.last_seq
        return [(await js.get_msg(STREAM, seq)).headers[MSG_ID] for seq in range(1, last + 1)]
    finally:
        await nc.close()


@pytest.mark.parametrize("after", [0.0, 0.05, 0.3, 0.7, 1.1])
async def test_a_part_cancelled_while_nats_is_away_leaves_nothing_trying(after):
    """The web's lifespan sets `stop` and cancels its notice task at once; the attempt to reach
    a NATS that is not there must end with it, or it retries forever on the loop (a CI run hung
    for an hour on such an attempt, kept alive past its test)."""
    stop = asyncio.Event()
    part = asyncio.create_task(connect(f"nats://127.0.0.1:{free_port()}", "web", stop))
    await asyncio.sleep(after)
    stop.set()
    part.cancel()
    await asyncio.gather(part, return_exceptions=True)
    await asyncio.sleep(0.1)
    assert [task for task in asyncio.all_tasks() if task is not asyncio.current_task()] == []


async def test_the_board_follows_the_event_store_while_nats_is_away_and_counts_nothing_twice(
    tmp_path,
):
    """The whole NATS gone: the board projector reads the store itself, so the board is
    current during the outage, not only after it; back on the stream, what is delivered again
    is skipped."""
    server, settings, batches, plans = a_store_and_its_nats(tmp_path)
    views = SqliteViews(settings.views_db)
    board = BoardView(views)
    board.setup()
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_board_projection(settings, stop)),
    ]

    try:
        last = dispatched(batches, plans[0].label)
        await wait_for(lambda: board.position() == last)  # by the stream
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        for plan in plans[1:4]:
            last = dispatched(batches, plan.label)
        await wait_for(lambda: board.position() == last, timeout=10)  # NATS still away
        server.start()
        last = dispatched(batches, plans[4].label)
        await wait_for(lambda: counted(server.url) == last)  # the stream has it all again
        await wait_for(lambda: board.position() == last)
        await asyncio.sleep(1)  # the consumer's redeliveries of what the store gave
        assert board.applied() == last  # each event once
        assert not [part for part in parts if part.done()]
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*parts, return_exceptions=True), timeout=30)
        views.close()
        batches.close()
        server.stop()


async def test_with_no_relay_the_board_follows_the_store_and_still_tells_the_pages(tmp_path):
    """A stream that brings nothing (here: no relay at all) while NATS answers: the store's
    reader applies, and the pages hear of it on `lacak.views.board` as from the stream."""
    server, settings, batches, _ = a_store_and_its_nats(tmp_path)
    last = batches.recorder.max_notification_id()
    views = SqliteViews(settings.views_db)
    board = BoardView(views)
    board.setup()
    nc = await nats.connect(server.url)
    told: list[Changed] = []

    async def on_notice(msg) -> None:
        told.append(msgspec.json.decode(msg.data, type=Changed))

    await nc.subscribe(notice_subject(BoardView.name), cb=on_notice)
    stop = asyncio.Event()
    projector = asyncio.create_task(run_board_projection(settings, stop))
    try:
        await wait_for(lambda: board.position() == last, timeout=15)
        await wait_for(lambda: bool(told) and told[-1].upto == last, timeout=5)
        assert "36.04" in {area for changed in told for area in changed.areas}
    finally:
        stop.set()
        await asyncio.wait_for(projector, timeout=30)
        await nc.close()
        views.close()
        batches.close()
        server.stop()
