"""Notices end to end, on SQLite and PostgreSQL, real NATS, a real HTTP receiver and a real
SMTP server: findings are filed and answered, the relay carries them, the notices process
turns them into notices and delivers them: a webhook that is down, then up, gets every notice
once and in order, signed; an e-mail address gets them, many at once as a digest; the NATS
subjects carry them all."""

import asyncio
import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nats
import pytest
from aiosmtpd.controller import Controller

from services.accounts.application import open_accounts
from services.custody.batches import Batches
from services.findings.application import Findings
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.messaging.relay import run_relay
from services.messaging.server import free_port
from services.notices.delivery import NOTIFY_STREAM, run_notices
from services.settings import Settings
from services.views.database import open_views
from services.views.notices import NoticeView
from tests.integration.test_relay_and_board import wait_for

PASSWORD = "rahasia-sekali-123"


class Receiver:
    """An HTTP server that keeps what is POSTed to it, started and stopped at will."""

    def __init__(self, port: int):
        self.port = port
        self.got: list[tuple[dict, dict]] = []  # (headers, body)
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                got.append(
                    (
                        dict(self.headers),
                        json.loads(body) | {"_raw": body.decode(), "_path": self.path},
                    )
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


def said(command: str) -> Said:
    return Said(command_id=command, occurred_at=datetime.now(UTC))


def file_findings(settings: Settings, count: int, start: int = 0) -> list[str]:
    store = Batches(settings.store)
    findings = Findings(store, response_hours(""))
    try:
        numbers = []
        for n in range(start, start + count):
            filed = findings.file(
                said(f"f{n}"),
                source="temuan",
                kind="segel",
                where="36.04.05",
                text=f"Segel kotak ke-{n} diganti",
                filed_by="Siti",
            )
            findings.answer(filed.finding, "Andi (KPU)", f"Segel ke-{n} diperiksa", said(f"a{n}"))
            numbers.append(filed.finding)
        return numbers
    finally:
        store.close()


async def test_a_webhook_down_then_up_and_an_address_get_every_notice_once_and_in_order(
    settings: Settings, mailbox
):
    box, smtp_port = mailbox
    settings = settings.replace(smtp_host="127.0.0.1", smtp_port=smtp_port, digest_seconds=1.0)
    accounts = open_accounts(settings)
    try:
        accounts.create_user("bawaslu1", "Siti", "bawaslu", "36.04", PASSWORD)
        accounts.create_user("ppk1", "Budi", "ppk", "36.04.09", PASSWORD)
        receiver = Receiver(free_port())
        hook, secret = accounts.subscribe(
            "bawaslu1",
            ["temuan_dijawab"],
            "",
            "webhook",
            f"http://127.0.0.1:{receiver.port}/x",
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
            f"http://127.0.0.1:{receiver.port}/ppk",
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
        numbers = await asyncio.to_thread(file_findings, settings, 6)
        # The receiver is down: the deliveries fail, are logged, and wait.
        await wait_for(lambda: len(view.deliveries(receiver=hook.subscription, failed=True)) >= 2)
        receiver.start()
        await wait_for(lambda: len(receiver.got) >= 6, timeout=60)
        numbers += await asyncio.to_thread(file_findings, settings, 2, 6)
        await wait_for(lambda: len(receiver.got) >= 8)
        await wait_for(
            lambda: sum(len(m["X-Lacak-Notices"].split(",")) for m in box.messages) >= 16
        )
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
    answered = [body for headers, body in receiver.got]
    assert [b["text"].split(":")[0] for b in answered] == [
        f"KPU menjawab temuan {number}" for number in numbers
    ]
    assert len({b["id"] for b in answered}) == 8 == len(answered)
    for headers, body in receiver.got:
        t, v1 = (part.split("=", 1)[1] for part in headers["X-Lacak-Signature"].split(","))
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body["_raw"].encode(), hashlib.sha256)
        assert hmac.compare_digest(mac.hexdigest(), v1)
        assert headers["X-Lacak-Notice"] == body["id"]
        assert body["url"].startswith(settings.site + "/temuan/")
    # The PPK of another kecamatan hears nothing of 36.04.05.
    assert {b["_path"] for _, b in receiver.got} == {"/x"}
    # E-mail: the filings and the answers, once each, in order; many at once came as digests.
    ids = [i for m in box.messages for i in m["X-Lacak-Notices"].split(",")]
    assert len(ids) == 16 == len(set(ids))
    assert any(len(m["X-Lacak-Notices"].split(",")) > 1 for m in box.messages)
    assert all(m["To"] == "siti@bawaslu.example" for m in box.messages)
    # The log: the failures while down, then the deliveries with their delay.
    log = view.deliveries(receiver=hook.subscription, limit=1000)
    views.close()
    assert sum(d.ok for d in log) == 8 and any(not d.ok for d in log)
    # NATS: every notice on its area's subject.
    assert subjects.count("lacak.notify.3604.360405.temuan") == 8
    assert subjects.count("lacak.notify.3604.360405.temuan_dijawab") == 8
