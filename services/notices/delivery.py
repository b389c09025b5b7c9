"""`lacak project notices`: the notices projection, the clock that notices what has waited too
long, and the deliveries: every notice to the NATS subjects `lacak.notify.<kab>.<kec>.<kind>`
(the `LACAK_NOTIFY` stream, for integrators' own durable consumers), and each subscription's to
its webhook or e-mail address.

Each receiver is served by a task of its own, in order and from its cursor (services/views/
notices.py): a webhook gets one signed POST a notice and must answer 2xx; one that fails is tried
again after 1, 2, 4 ... seconds, up to five minutes, and gets nothing newer meanwhile. An e-mail
address gets a notice at once when it has had none for `digest_seconds`; what comes sooner is
gathered and sent as one digest when that time is up (or at once, when it holds `MAIL_MOST`).
"""

import asyncio
import contextlib
import logging
import smtplib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
from nats.aio.client import Client

from services.messaging.nats import (
    API_TIMEOUT_SECONDS,
    NOTIFY_STREAM,
    NOTIFY_SUBJECTS,
    Outage,
    RateLimitedLog,
    ensure_stream,
    patiently,
    run_with_nats,
    sleep_or_stop,
)
from services.messaging.projector import notify, run_projection
from services.notices.rules import (
    NOTICE_HEADER,
    SIGNATURE_HEADER,
    Notice,
    Subscription,
    mail_of,
    pause_after,
    reaches,
    signed,
    subject_of,
)
from services.notices.subscriptions import Directory
from services.settings import Settings
from services.views.database import open_views
from services.views.notices import NATS_RECEIVER, Delivery, NoticeView, areas_of
from services.views.projection import Changed

log = logging.getLogger("lacak")

CLOCK_SECONDS = 15.0  # how often time is looked at: overdue findings, anomalies left open
IDLE_SECONDS = 5.0  # a receiver with nothing new looks again at least this often
WEBHOOK_TIMEOUT_SECONDS = 10.0
MAIL_MOST = 100  # notices in one digest
Clock = Callable[[], datetime]


class Bell:
    """Rung when notices are written: every receiver's task wakes and looks."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def ring(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float, stop: asyncio.Event) -> None:
        waiting = {asyncio.ensure_future(self._event.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waiting, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waiting:
                task.cancel()


def body_of(notice: Notice, site: str) -> bytes:
    """What a webhook is sent: the notice, its link whole, and its NATS subject."""
    return msgspec.json.encode(
        {
            "id": notice.id,
            "kind": notice.kind,
            "area": notice.area,
            "found": notice.found,
            "title": notice.title,
            "text": notice.text,
            "url": site.rstrip("/") + notice.link,
            "at": notice.at,
            "subject": subject_of(notice),
        }
    )


class Deliverer:
    """The receivers' tasks: one per live subscription with a webhook or an e-mail address."""

    def __init__(
        self,
        settings: Settings,
        view: NoticeView,
        bell: Bell,
        clock: Clock = lambda: datetime.now(UTC),
    ):
        self.settings = settings
        self.view = view
        self.bell = bell
        self.clock = clock
        self.directory = Directory()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.quiet = RateLimitedLog()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the accounts' record: start a task for each new subscription, end the task of
        each ended one, until `stop`."""
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as http:
            try:
                while not stop.is_set():
                    try:
                        await asyncio.to_thread(self.directory.read_on, self.settings)
                    except Exception as error:  # the store away: the tasks go on meanwhile
                        self.quiet.warning("notices: accounts unread (%s)", error)
                    live = {
                        s.subscription: (s, scope)
                        for s, scope in self.directory.live()
                        if s.channel in ("webhook", "email")
                    }
                    for number in set(self.tasks) - set(live):
                        self.tasks.pop(number).cancel()
                    for number, (subscription, _) in live.items():
                        if number not in self.tasks or self.tasks[number].done():
                            self.tasks[number] = asyncio.create_task(
                                self.serve(subscription, http, stop), name=f"notices {number}"
                            )
                    # not on every bell: the accounts' record is read again a few seconds apart
                    await sleep_or_stop(stop, IDLE_SECONDS)
            finally:
                for task in self.tasks.values():
                    task.cancel()
                await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def scope_of(self, subscription: Subscription) -> str | None:
        """The account's scope now; None when it may no longer hear anything."""
        for live, scope in self.directory.live():
            if live.subscription == subscription.subscription:
                return scope
        return None

    async def serve(self, subscription: Subscription, http: httpx.AsyncClient, stop: asyncio.Event):
        """Give one receiver what reaches it, in order, until it is ended or `stop`."""
        receiver = subscription.subscription
        start = await asyncio.to_thread(self.view.first_seq_since, subscription.since)
        while not stop.is_set():
            try:
                position = await asyncio.to_thread(self.view.position_of, receiver, start)
                wait = await self.serve_once(subscription, position, http)
            except Exception as error:  # the views away: tried again
                self.quiet.warning("notices %s: %s", receiver, error or type(error).__name__)
                wait = IDLE_SECONDS
            if wait > 0:
                await self.bell.wait(wait, stop)

    async def serve_once(self, subscription: Subscription, position, http) -> float:
        """One round for a receiver; how long to wait before the next (0: at once)."""
        now = self.clock()
        if position.next_at and datetime.fromisoformat(position.next_at) > now:
            return (datetime.fromisoformat(position.next_at) - now).total_seconds()
        scope = self.scope_of(subscription)
        if scope is None:
            return IDLE_SECONDS
        last = await asyncio.to_thread(self.view.last_seq)  # first: nothing after it is skipped
        batch = await asyncio.to_thread(
            self.view.after, position.seq, subscription.kinds, upto=last
        )
        if not batch:  # none of its kinds up to the last: its cursor says it has seen them all
            if last > position.seq:
                await asyncio.to_thread(self.view.passed, subscription.subscription, last)
            return IDLE_SECONDS
        due = [(seq, n) for seq, n in batch if reaches(subscription, scope, n)]
        if not due:  # none of these is its: past them
            await asyncio.to_thread(self.view.passed, subscription.subscription, batch[-1][0])
            return 0
        if subscription.channel == "webhook":  # one POST a notice, in order, while they go
            failures = position.failures
            for one in due:
                wait = await self.post(subscription, failures, one, http)
                if wait:  # refused: the rest wait for the next try, after the pause
                    return wait
                failures = 0
            return 0
        if position.sent_at and len(due) < MAIL_MOST:  # a full digest goes at once
            gathered_until = datetime.fromisoformat(position.sent_at) + timedelta(
                seconds=self.settings.digest_seconds
            )
            if gathered_until > now:  # a mail went out lately: gather what comes meanwhile
                return (gathered_until - now).total_seconds()
        return await self.mail(subscription, position.failures, due[:MAIL_MOST])

    async def post(self, subscription: Subscription, failures: int, due, http) -> float:
        seq, notice = due
        body = body_of(notice, self.settings.site)
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: signed(subscription.secret, body, int(time.time())),
            NOTICE_HEADER: notice.id,
            "user-agent": "Lacak-notices/1",
        }
        try:
            answer = await http.post(subscription.target, content=body, headers=headers)
            ok, detail = answer.is_success, f"HTTP {answer.status_code}"
        except httpx.HTTPError as error:
            ok, detail = False, f"{type(error).__name__}: {error}"
        return await self.record(subscription, failures, [(seq, notice)], ok, detail)

    async def mail(self, subscription: Subscription, failures: int, due) -> float:
        notices = [notice for _, notice in due]
        message = mail_of(notices, self.settings.smtp_from, subscription.target, self.settings.site)
        if not self.settings.smtp_host:
            ok, detail = False, "LACAK_SMTP_HOST belum disetel"
        else:
            try:
                await asyncio.to_thread(send_mail, self.settings, message)
                ok, detail = True, f"{len(notices)} pemberitahuan dalam satu e-mail"
            except (OSError, smtplib.SMTPException) as error:
                ok, detail = False, f"{type(error).__name__}: {error}"
        return await self.record(subscription, failures, due, ok, detail)

    async def record(self, subscription: Subscription, failures: int, due, ok: bool, detail: str):
        now = self.clock()
        seq, newest = due[-1][0], due[-1][1]
        attempt = Delivery(
            receiver=subscription.subscription,
            attempt_at=now.isoformat(),
            seq=seq,
            username=subscription.username,
            channel=subscription.channel,
            target=subscription.target,
            notices=",".join(n.id for _, n in due),
            ok=ok,
            detail=detail,
            delay_ms=max(0, int((now - newest.at).total_seconds() * 1000)),
        )
        if ok:
            await asyncio.to_thread(
                self.view.delivered, subscription.subscription, seq, attempt, now
            )
            return 0
        pause = pause_after(failures + 1)
        await asyncio.to_thread(
            self.view.failed, subscription.subscription, attempt, now + timedelta(seconds=pause)
        )
        return pause


def send_mail(settings: Settings, message) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def publish_notices(
    settings: Settings, view: NoticeView, bell: Bell, stop: asyncio.Event
) -> None:
    """Every notice, in order, to its subject on the `LACAK_NOTIFY` stream (the notice's id
    as the message id: sent twice, kept once); then, once a batch, the pages are told the
    areas it reached (`lacak.views.notices`), whether events or the clock made them."""

    async def run(nc: Client) -> None:
        await ensure_stream(nc, settings.stream_replicas, NOTIFY_STREAM, NOTIFY_SUBJECTS)
        js = nc.jetstream(timeout=API_TIMEOUT_SECONDS)
        while not stop.is_set():
            position = await asyncio.to_thread(view.position_of, NATS_RECEIVER, 0)
            batch = await asyncio.to_thread(view.after, position.seq)
            for _, notice in batch:
                await js.publish(
                    subject_of(notice),
                    body_of(notice, settings.site),
                    headers={"Nats-Msg-Id": notice.id},
                )
            if batch:
                await asyncio.to_thread(
                    view.delivered, NATS_RECEIVER, batch[-1][0], None, datetime.now(UTC)
                )
                told = sorted(areas_of(notice for _, notice in batch))  # after, upto: seqs
                await notify(
                    nc,
                    Changed(view=view.name, after=position.seq, upto=batch[-1][0], areas=told),
                )
            else:
                await bell.wait(IDLE_SECONDS, stop)

    await run_with_nats("notices publisher", settings, stop, run)


async def watch_the_clock(
    settings: Settings,
    view: NoticeView,
    bell: Bell,
    stop: asyncio.Event,
    clock: Clock,
    every: float = CLOCK_SECONDS,
) -> None:
    """Every `every` seconds: findings past their due time and anomalies open too long, each
    noticed once."""
    quiet = RateLimitedLog()
    looks = (
        ("findings", lambda now: view.overdue_findings(now)),
        ("anomalies", lambda now: view.stale_anomalies(now, settings.stale_anomaly_minutes)),
    )
    while not await sleep_or_stop(stop, every):  # the first look once the views are set up
        for name, look in looks:  # each on its own: one view not there yet stops no other
            try:
                made = await asyncio.to_thread(look, clock())
                if made and await asyncio.to_thread(view.add, made):
                    bell.ring()
            except Exception as error:  # its table not there yet, the views away: next round
                quiet.warning("notices clock (%s): %s", name, error or type(error).__name__)


async def run_notices(
    settings: Settings,
    stop: asyncio.Event,
    clock: Clock = lambda: datetime.now(UTC),
    look_every: float = CLOCK_SECONDS,
) -> None:
    """The notices projection, its clock (time as `clock` tells it, looked at every
    `look_every` seconds), the publisher and the deliveries, until `stop`."""
    views = open_views(settings)
    bell = Bell()
    view = NoticeView(views)

    async def applied(nc: Client, changed: Changed) -> None:
        bell.ring()  # the publisher tells the pages, of these and of the clock's alike

    try:
        if not await patiently(view.setup, stop, Outage("projection notices")):
            return  # stopped while the store was away
        await asyncio.gather(
            run_projection(view, settings, stop, applied),
            watch_the_clock(settings, view, bell, stop, clock, look_every),
            publish_notices(settings, view, bell, stop),
            Deliverer(settings, view, bell, clock).run(stop),
        )
    finally:
        with contextlib.suppress(Exception):
            views.close()
