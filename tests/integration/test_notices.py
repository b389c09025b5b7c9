"""Notices end to end, on SQLite and PostgreSQL, real NATS, a real HTTP receiver and a real
SMTP server: findings are filed and answered, the relay carries them, the notices process
turns them into notices and delivers them: a webhook that is down, then up, gets every notice
once and in order, signed; an e-mail address gets them, many at once as a digest; the NATS
subjects carry them all."""

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import nats
import pytest

from services.accounts.application import open_accounts
from services.custody.batches import Batches
from services.demo.bench.notices import (
    Mailbox,
    Receiver,
    file_and_answer,
    ids_of,
    smtp_server,
)
from services.findings.application import Findings
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.messaging.relay import run_relay
from services.notices.delivery import NOTIFY_STREAM, run_notices
from services.notices.rules import overdue_notice
from services.processes import runs
from services.settings import Settings
from services.views.database import open_views
from services.views.findings import FindingView
from services.views.notices import NoticeView
from tests.integration.test_relay_and_board import wait_for

PASSWORD = "rahasia-sekali-123"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = smtp_server(box)
    yield box, controller.port
    controller.stop()


async def test_a_webhook_down_then_up_and_an_address_get_every_notice_once_and_in_order(
    settings: Settings, mailbox
):
    box, smtp_port = mailbox
    settings = settings.replace(smtp_host="127.0.0.1", smtp_port=smtp_port, digest_seconds=1.0)
    accounts = open_accounts(settings)
    try:
        accounts.create_user("bawaslu1", "Siti", "bawaslu", "36.04", PASSWORD)
        accounts.create_user("ppk1", "Budi", "monitor", "36.04.09", PASSWORD)
        receiver = Receiver()
        hook, secret = accounts.subscribe(
            "bawaslu1",
            ["temuan_dijawab"],
            "",
            "webhook",
            receiver.url + "/x",
            by="bawaslu1",
        )
        accounts.subscribe(
            "bawaslu1",
            ["temuan", "temuan_dijawab"],
            "36.04.05",
            "email",
            "siti@bawaslu.example",
            by="bawaslu1",
        )
        accounts.subscribe(
            "ppk1",
            ["temuan_dijawab"],
            "",
            "webhook",
            receiver.url + "/ppk",
            by="ppk1",
        )
    finally:
        accounts.close()
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_notices(settings, stop)),
    ]
    views = open_views(settings)
    view = NoticeView(views)
    try:
        numbers = await asyncio.to_thread(file_and_answer, settings, 6)
        # The receiver is down: the deliveries fail, are logged, and wait.
        await wait_for(lambda: len(view.deliveries(receiver=hook.subscription, failed=True)) >= 2)
        receiver.start()
        await wait_for(lambda: len(receiver.got) >= 6, timeout=60)
        numbers += await asyncio.to_thread(file_and_answer, settings, 2, 6)
        await wait_for(lambda: len(receiver.got) >= 8)
        await wait_for(lambda: len(box.notice_ids()) >= 16)
        # Every receiver's cursor reaches the last notice, the PPK's too, which took none.
        await wait_for(lambda: {p.seq for p in view.positions().values()} == {view.last_seq()})
        await asyncio.sleep(1.5)  # anything sent twice would have come by now
        nc = await nats.connect(settings.nats_url)
        js = nc.jetstream()
        info = await js.stream_info(NOTIFY_STREAM)
        subjects = [
            (await js.get_msg(NOTIFY_STREAM, seq)).subject
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]
        await nc.close()
    finally:
        stop.set()
        await asyncio.gather(*parts, return_exceptions=True)
        receiver.stop()

    # The webhook: every answer, once, in the order they were recorded, each signed.
    answered = [body for _, _, body in receiver.got]
    assert [b["text"].split(":")[0] for b in answered] == [
        f"KPU menjawab temuan {number}" for number in numbers
    ]
    assert len({b["id"] for b in answered}) == 8 == len(answered)
    for _, headers, body in receiver.got:
        t, v1 = (part.split("=", 1)[1] for part in headers["X-Lacak-Signature"].split(","))
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body["_raw"].encode(), hashlib.sha256)
        assert hmac.compare_digest(mac.hexdigest(), v1)
        assert headers["X-Lacak-Notice"] == body["id"]
        assert body["url"].startswith(settings.site + "/temuan/")
    # The PPK of another kecamatan hears nothing of 36.04.05.
    assert {body["_path"] for _, _, body in receiver.got} == {"/x"}
    # E-mail: the filings and the answers, once each, in order; many at once came as digests.
    ids = box.notice_ids()
    assert len(ids) == 16 == len(set(ids))
    assert any(len(ids_of(m)) > 1 for _, m in box.messages)
    assert all(m["To"] == "siti@bawaslu.example" for _, m in box.messages)
    # The log: the failures while down, then the deliveries with their delay.
    log = view.deliveries(receiver=hook.subscription, limit=1000)
    views.close()
    assert sum(d.ok for d in log) == 8 and any(not d.ok for d in log)
    # NATS: every notice on its area's subject.
    assert subjects.count("lacak.notify.3604.360405.temuan") == 8
    assert subjects.count("lacak.notify.3604.360405.temuan_dijawab") == 8


async def test_a_finding_past_its_due_time_is_noticed_once_to_those_who_asked(settings: Settings):
    """The clock runs three days ahead: KPU has not answered, so the finding is overdue; the
    monitor who asked hears it once, however often the clock looks."""
    accounts = open_accounts(settings)
    try:
        accounts.create_user("monitor1", "Rina", "monitor", "36.04", PASSWORD)
        receiver = Receiver().start()
        accounts.subscribe("monitor1", ["temuan_lewat"], "", "webhook", receiver.url, by="x")
    finally:
        accounts.close()
    store = Batches(settings.store)
    try:
        filed = Findings(store, response_hours("")).file(
            Said(command_id="late", occurred_at=datetime.now(UTC)),
            source="temuan",
            kind="tidak_dijaga",
            where="36.04.05",
            text="Gudang PPK tidak dijaga malam hari",
            filed_by="Siti",
        )
    finally:
        store.close()
    ahead = lambda: datetime.now(UTC) + timedelta(days=3)  # noqa: E731
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(runs(FindingView)(settings, stop)),
        asyncio.create_task(run_notices(settings, stop, clock=ahead, look_every=0.2)),
    ]
    try:
        await wait_for(lambda: len(receiver.got) >= 1)
        await asyncio.sleep(1.0)  # the clock looks five more times meanwhile
    finally:
        stop.set()
        await asyncio.gather(*parts, return_exceptions=True)
        receiver.stop()
    [(_, _, body)] = receiver.got
    assert body["kind"] == "temuan_lewat" and body["id"] == f"lewat-{filed.finding}"
    assert body["subject"] == "lacak.notify.3604.360405.temuan_lewat"


def test_a_new_receiver_starts_before_the_first_notice_of_its_time_whatever_came_later(
    settings: Settings,
):
    """The clock writes notices of earlier times after later ones: a receiver made at T starts
    before the first notice of T or later, not after the last one of before T."""
    views = open_views(settings)
    try:
        view = NoticeView(views)
        view.setup()
        t = datetime(2024, 2, 1, tzinfo=UTC)
        view.add([overdue_notice("TM-1", "36.04", t + timedelta(hours=1))])  # seq 1
        view.add([overdue_notice("TM-2", "36.04", t - timedelta(hours=1))])  # seq 2, noticed late
        assert view.first_seq_since(t) == 0  # TM-1 is still to come
        assert view.first_seq_since(t + timedelta(hours=2)) == 2  # past both
        assert view.add([overdue_notice("TM-1", "36.04", t)]) == set()  # once, by its id
    finally:
        views.close()
