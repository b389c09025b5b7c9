"""`lacak bench notices`: how long a notice takes from its event to a webhook and to an e-mail
inbox. Findings are filed and answered at a steady rate on a fresh store; the relay and the
notices process run as in production; a local HTTP receiver and a local SMTP server (aiosmtpd,
a dev dependency) note when each notice arrives. The delay is arrival minus the event's
`recorded_at`, per notice (a digest's notices each count)."""

import asyncio
import json
import secrets
import threading
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.accounts.application import open_accounts
from services.custody.batches import Batches
from services.demo.bench.common import bench_store, percentile
from services.findings.application import Findings
from services.findings.decisions import Said
from services.findings.hours import response_hours
from services.messaging.relay import run_relay
from services.messaging.server import EmbeddedNats, free_port
from services.notices.delivery import run_notices
from services.settings import Settings
from services.views.database import open_views
from services.views.notices import NoticeView


class Receiver:
    """An HTTP server that keeps what is POSTed to it (when, headers, body), started and
    stopped at will: a webhook's receiver, up or down."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.got: list[tuple[float, dict[str, str], dict[str, Any]]] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                body = json.loads(raw) | {"_raw": raw.decode(), "_path": self.path}
                got.append((time.time(), dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Mailbox:
    """What a local SMTP server was sent: (when, the message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((time.time(), message))
        return "250 OK"

    def notice_ids(self) -> list[str]:
        return [i for _, message in self.messages for i in ids_of(message)]


def ids_of(message: Any) -> list[str]:
    """The ids of the notices an e-mail carries (its `X-Lacak-Notices`, unfolded)."""
    return [part.strip() for part in str(message["X-Lacak-Notices"]).split(",")]


def smtp_server(mailbox: Mailbox) -> Any:
    """aiosmtpd's server on a free loopback port, started: `.port`, `.stop()`."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:  # a dev dependency: the benchmark runs from a dev install
        raise SystemExit("lacak bench notices perlu aiosmtpd: pip install -e '.[dev]'") from None
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def file_and_answer(
    settings: Settings, count: int, start: int = 0, pause: float = 0.0
) -> list[str]:
    """`count` findings in kecamatan 36.04.05, each answered by KPU at once: two notices each.
    Their numbers, in order."""
    store = Batches(settings.store)
    findings = Findings(store, response_hours(""))
    try:
        numbers = []
        for n in range(start, start + count):
            said = Said(command_id=f"f{n}", occurred_at=datetime.now(UTC))
            filed = findings.file(
                said,
                source="temuan",
                kind="segel",
                where="36.04.05",
                text=f"Segel kotak ke-{n} diganti",
                filed_by="Siti",
            )
            answered = Said(command_id=f"a{n}", occurred_at=datetime.now(UTC))
            findings.answer(filed.finding, "Andi (KPU)", f"Segel ke-{n} diperiksa", answered)
            numbers.append(filed.finding)
            if pause:
                time.sleep(pause)
        return numbers
    finally:
        store.close()


def subscribe(settings: Settings, webhook: str, address: str) -> str:
    """A Bawaslu account subscribed to findings and KPU's answers by webhook and e-mail; the
    webhook's key."""
    accounts = open_accounts(settings)
    try:
        accounts.create_user("bench-bawaslu", "Bawaslu", "bawaslu", "", secrets.token_urlsafe(16))
        kinds = ["temuan", "temuan_dijawab"]
        _, secret = accounts.subscribe("bench-bawaslu", kinds, "", "webhook", webhook, by="bench")
        accounts.subscribe("bench-bawaslu", kinds, "", "email", address, by="bench")
        return secret
    finally:
        accounts.close()


def bench_notices(store: str, count: int, rate: float, digest: float) -> None:
    """File and answer `count` findings at `rate` a second; print the delays to the webhook
    and to the inbox."""
    with bench_store(store, "lacak bench notices") as settings:
        settings.make_folders()
        mailbox = Mailbox()
        smtp = smtp_server(mailbox)
        receiver = Receiver().start()
        nats = EmbeddedNats(settings.data_dir / "nats").start()
        settings = settings.replace(
            nats_url=nats.url, smtp_host="127.0.0.1", smtp_port=smtp.port, digest_seconds=digest
        )
        try:
            subscribe(settings, receiver.url + "/lacak", "bawaslu@bench.example")
            started = time.monotonic()
            asyncio.run(run(settings, receiver, mailbox, count, rate))
            seconds = time.monotonic() - started
            report(settings, receiver, mailbox, count, seconds, store or "setelan", digest)
        finally:
            receiver.stop()
            smtp.stop()
            nats.stop()


async def run(settings: Settings, receiver: Receiver, mailbox: Mailbox, count: int, rate: float):
    stop = asyncio.Event()
    parts = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_notices(settings, stop)),
    ]
    try:
        await asyncio.to_thread(file_and_answer, settings, count, 0, 1 / rate)
        deadline = time.monotonic() + 120
        while len(receiver.got) < 2 * count or len(mailbox.notice_ids()) < 2 * count:
            if time.monotonic() > deadline:
                print("Tidak semua pemberitahuan sampai dalam 120 detik.")
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*parts, return_exceptions=True)


def report(
    settings: Settings,
    receiver: Receiver,
    mailbox: Mailbox,
    count: int,
    seconds: float,
    store: str,
    digest: float,
) -> None:
    views = open_views(settings)
    try:
        at = {n.id: n.at.timestamp() for _, n in NoticeView(views).after(0, limit=10 * count)}
    finally:
        views.close()
    hook = [arrived - at[body["id"]] for arrived, _, body in receiver.got]
    mail = [arrived - at[i] for arrived, message in mailbox.messages for i in ids_of(message)]
    print(
        f"Pemberitahuan: {2 * count} ({count} temuan dan jawabannya) dalam {seconds:.1f} s, "
        f"store {store}, ringkasan e-mail tiap {digest:g} s"
    )
    print(
        f"{'saluran':<10} {'sampai':>7} {'p50 ms':>8} {'p95 ms':>8} {'maks ms':>8} {'kiriman':>8}"
    )
    for name, delays, sends in (
        ("webhook", hook, len(receiver.got)),
        ("e-mail", mail, len(mailbox.messages)),
    ):
        if not delays:
            print(f"{name:<10} {0:>7}")
            continue
        print(
            f"{name:<10} {len(delays):>7} {percentile(delays, 0.5) * 1000:>8.0f} "
            f"{percentile(delays, 0.95) * 1000:>8.0f} {max(delays) * 1000:>8.0f} {sends:>6}"
        )
    twice = len(hook) - len({body["id"] for _, _, body in receiver.got})
    print(
        f"Terkirim dua kali: webhook {twice}, e-mail {len(mail) - len(set(mailbox.notice_ids()))}"
    )
