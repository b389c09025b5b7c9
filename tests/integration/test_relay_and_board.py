"""Event store -> relay -> JetStream -> board projection, on real NATS, SQLite and PostgreSQL."""

import asyncio
import random
import threading
import uuid
from datetime import UTC, datetime

import msgspec
import nats
import pytest
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.errors import UnknownLabelError
from services.custody.labels import make_label
from services.custody.plan import kit_plan
from services.messaging.nats import EVENT_SUBJECTS, STREAM
from services.messaging.projector import run_projection
from services.messaging.relay import run_relay
from services.messaging.server import EmbeddedNats
from services.settings import Settings
from services.views.board.view import BoardView
from services.views.database import open_views
from services.wilayah import Level
from tests.data import REGISTERED, SERANG
from tests.integration.counting import COUNTED, count_from_event_store


def plans(tps_count: int):
    return kit_plan(msgspec.structs.replace(SERANG, tps=SERANG.tps[:tps_count]))


CHAIN = ["36.04", "36.04.05", "36.04.05.2001", SERANG.tps[0].code, "36.04.09"]


def scans_for(labels: list[str], count: int, seed: int = 7) -> list[Scan]:
    rng = random.Random(seed)
    scans = []
    for _ in range(count):
        label = rng.choice(labels)
        action = rng.choice(["dispatch", "receive"])
        # Down the chain of the first TPS's kecamatan, and now and then the wrong kecamatan.
        location = rng.choice(
            ["36.04", "36.04.05", "36.04.05.2001", SERANG.tps[0].code, "36.04.09"]
        )
        scans.append(
            Scan(
                scan_id=str(uuid.UUID(int=rng.getrandbits(128))),
                label=label,
                action=action,
                location=location,
                occurred_at=datetime.now(UTC),
                counted=rng.choice([None, 306, 250]) if action == "receive" else None,
            )
        )
    return scans


def board_counts(view: BoardView, level: Level = "kecamatan") -> dict[str, tuple[int, ...]]:
    """Per area of a level, the columns `count_from_event_store` counts, in its order."""
    return {r.area: tuple(getattr(r, c) for c in COUNTED) for r in view.rows(level)}


async def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await asyncio.to_thread(condition):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def stream_message_ids(nats_url: str) -> list[str]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        info = await js.stream_info(STREAM)
    except NotFoundError:  # the relay has not created it yet
        await nc.close()
        return []
    ids = [
        (await js.get_msg(STREAM, seq)).headers["Nats-Msg-Id"]
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
        if info.state.messages
    ]
    await nc.close()
    return ids


@pytest.fixture
def batches(settings: Settings):
    app = Batches(settings.store, wilayah=SERANG)
    yield app
    app.close()


@pytest.fixture
def board(settings: Settings):
    views = open_views(settings)
    view = BoardView(views)
    view.setup()
    yield view
    views.close()


async def test_the_board_equals_the_event_store_after_relay_and_projection(
    settings, batches, board
):
    labels = [p.label for p in plans(12)]
    batches.register(plans(12), at=REGISTERED)
    for scan in scans_for(labels, 150):
        batches.scan(scan)
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_projection(board, settings, stop)),
    ]
    expected = count_from_event_store(batches.recorder)
    await wait_for(lambda: board_counts(board) == expected)
    stop.set()
    await asyncio.gather(*workers)
    assert sum(row[0] for row in expected.values()) == 12 * 7
    assert sum(row[3] for row in expected.values()) > 0  # the random scans raised some


async def test_a_restarted_relay_publishes_each_notification_exactly_once(settings, batches):
    # A duplicate window shorter than the pauses below: JetStream cannot hide a re-publish.
    nc = await nats.connect(settings.nats_url)
    await nc.jetstream().add_stream(
        StreamConfig(name=STREAM, subjects=[EVENT_SUBJECTS], duplicate_window=1.0)
    )
    await nc.close()
    batches.register(plans(4), at=REGISTERED)
    labels = [p.label for p in plans(4)]
    for round_ in range(3):
        batches.scan(scans_for(labels, 1, seed=round_)[0])
        stop = asyncio.Event()
        relay = asyncio.create_task(run_relay(settings, stop))
        max_id = batches.recorder.max_notification_id()
        deadline = asyncio.get_running_loop().time() + 30
        while len(await stream_message_ids(settings.nats_url)) < max_id:
            assert asyncio.get_running_loop().time() < deadline, "the relay did not catch up"
            await asyncio.sleep(0.05)
        stop.set()
        await relay
        await asyncio.sleep(1.2)  # past the duplicate window
    ids = await stream_message_ids(settings.nats_url)
    assert ids == [f"Batches:{n}" for n in range(1, batches.recorder.max_notification_id() + 1)]


async def test_scans_are_accepted_while_nats_is_down_and_the_board_catches_up(
    settings, batches, board, nats_server: EmbeddedNats
):
    labels = [p.label for p in plans(3)]
    batches.register(plans(3), at=REGISTERED)
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_projection(board, settings, stop)),
    ]
    await wait_for(lambda: board_counts(board) == count_from_event_store(batches.recorder))
    nats_server.stop()
    for scan in scans_for(labels, 40):
        batches.scan(scan)  # the event store is the truth: no NATS needed to accept a scan
    assert board_counts(board) != count_from_event_store(batches.recorder)
    nats_server.start()
    await wait_for(
        lambda: board_counts(board) == count_from_event_store(batches.recorder), timeout=60
    )
    stop.set()
    await asyncio.gather(*workers)


def test_an_unknown_label_is_refused_and_nothing_is_appended(batches):
    batches.register(plans(1), at=REGISTERED)
    before = batches.recorder.max_notification_id()
    with pytest.raises(UnknownLabelError):
        batches.scan(scans_for([make_label("36.04", 99_999)], 1)[0])
    assert batches.recorder.max_notification_id() == before


def test_a_retried_scan_gets_the_first_answer_and_appends_nothing(batches):
    batches.register(plans(1), at=REGISTERED)
    scan = scans_for([plans(1)[0].label], 1)[0]
    first = batches.scan(scan)
    after_first = batches.recorder.max_notification_id()
    assert batches.scan(scan) == first
    assert batches.recorder.max_notification_id() == after_first


def test_a_batch_of_events_applied_twice_counts_once(settings, batches, board):
    batches.register(plans(2), at=REGISTERED)
    recorder = batches.recorder
    notifications = [
        (n.id, batches.mapper.to_domain_event(n)) for n in recorder.select_notifications(1, 100)
    ]
    board.apply(notifications, stream_sequence=len(notifications))
    board.apply(notifications, stream_sequence=len(notifications))
    assert board_counts(board) == count_from_event_store(recorder)
    assert board.applied() == len(notifications) == 2 * 7


def test_two_projectors_applying_at_once_by_mistake_count_each_event_once(settings, batches):
    batches.register(plans(40), at=REGISTERED)
    notifications = [
        (n.id, batches.mapper.to_domain_event(n))
        for n in batches.recorder.select_notifications(1, 1000)
    ]
    views = [open_views(settings), open_views(settings)]
    boards = [BoardView(v) for v in views]
    boards[0].setup()
    start = threading.Barrier(2)

    def project(board: BoardView) -> None:
        start.wait()
        board.apply(notifications, stream_sequence=len(notifications))

    workers = [threading.Thread(target=project, args=(b,)) for b in boards]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert board_counts(boards[0]) == count_from_event_store(batches.recorder)
    assert boards[0].applied() == 40 * 7
    for v in views:
        v.close()


def test_a_label_exists_once_it_is_registered(batches):
    label = plans(1)[0].label
    assert not batches.exists(label)
    batches.register(plans(1), at=REGISTERED)
    assert batches.exists(label)


def test_board_tables_of_an_older_shape_are_dropped_and_the_projection_starts_again(
    settings, batches
):
    views = open_views(settings)
    with views.transaction() as cursor:  # the board as version 1 left it, 99 events applied
        cursor.execute("CREATE TABLE board_kecamatan (kecamatan TEXT PRIMARY KEY, planned INT)")
        cursor.execute("CREATE TABLE board_batches (batch_id TEXT PRIMARY KEY, kecamatan TEXT)")
        cursor.execute(
            "CREATE TABLE projection_tracking (projection TEXT PRIMARY KEY, position BIGINT "
            "NOT NULL, stream_sequence BIGINT NOT NULL, applied BIGINT NOT NULL)"
        )
        cursor.execute("INSERT INTO projection_tracking VALUES ('board', 99, 99, 99)")
    board = BoardView(views)
    board.setup()
    assert (board.stream_sequence(), board.applied()) == (0, 0)
    batches.register(plans(1), at=REGISTERED)
    notifications = [
        (n.id, batches.mapper.to_domain_event(n))
        for n in batches.recorder.select_notifications(1, 100)
    ]
    board.apply(notifications, stream_sequence=len(notifications))
    board.setup()  # a second start keeps what it has
    assert board.stream_sequence() == len(notifications)
    assert board_counts(board) == count_from_event_store(batches.recorder)
    views.close()
