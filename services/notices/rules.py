"""Notices, decided purely: which events and which passing of time make a notice, what it says,
whom it reaches, how a webhook's body is signed, how long a failed delivery waits, and what an
e-mail of one notice or a digest of many says.

A notice names the place it is about (a TPS, a PPK, a gudang: a wilayah code) and, for an
anomaly, the place the box was found too, so the PPK where a wrong box turned up hears of it as
well as the one it was meant for. A citizen's contact never goes into a notice.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import msgspec

from events import Event
from events.accounts import Channel, NoticeKind
from events.batch import AnomalyRaised
from events.findings import FindingAcknowledged, FindingAnswered, FindingClosed, FindingFiled
from events.gudang import DeliveryReceived
from services import bahasa
from services.errors import DomainError
from services.wilayah import within

KINDS: tuple[NoticeKind, ...] = tuple(bahasa.NOTICE_KINDS)  # type: ignore[assignment]
CHANNELS: tuple[Channel, ...] = tuple(bahasa.CHANNELS)  # type: ignore[assignment]
# What each role is offered ticked on a new subscription (the examples): a PPK new
# anomalies in its kecamatan, Bawaslu every KPU answer, monitors what has waited too long.
SUGGESTED: dict[str, tuple[NoticeKind, ...]] = {
    "ppk": ("anomali",),
    "pps": ("anomali",),
    "kpps": ("anomali",),
    "gudang": ("anomali", "selisih_gudang"),
    "bawaslu": ("temuan_dijawab",),
    "monitor": ("temuan_lewat", "anomali_lama", "temuan"),
    "admin": ("temuan_lewat", "anomali_lama"),
    "auditor": ("selisih_gudang",),
}
MOST_PAUSE_SECONDS = 300.0  # a receiver down for long is tried every five minutes
SIGNATURE_HEADER = "X-Lacak-Signature"  # t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">
NOTICE_HEADER = "X-Lacak-Notice"  # the notice's id: the same notice sent again, the same id


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # `<notification id>-<n>` of the event it tells of; `lewat-<finding>`, `lama-<anomaly>`
    kind: NoticeKind
    area: str  # the wilayah code it is about
    found: str = ""  # an anomaly's: where the box was scanned, when that is elsewhere
    title: str
    text: str
    link: str  # a path of the site: the box, the finding, the gudang
    at: datetime  # when what it tells of was recorded (or fell due)


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """A person's standing request, as folded from the accounts' record."""

    subscription: str
    username: str
    kinds: list[NoticeKind]
    area: str
    channel: Channel
    target: str = ""
    secret: str = ""
    since: datetime  # notices of what was recorded before it are not sent
    active: bool = True


def subject_of(notice: Notice) -> str:
    """`lacak.notify.<kab>.<kec>.<kind>`: `3604.360405` for a TPS, PPS or PPK, `3604._` for a
    kabupaten's gudang, `_._` for the nation."""
    digits = notice.area.replace(".", "")
    kabupaten = digits[:4] if len(digits) >= 4 else "_"
    kecamatan = digits[:6] if len(digits) >= 6 else "_"
    return f"lacak.notify.{kabupaten}.{kecamatan}.{notice.kind}"


def notices_of(position: int, event: Event) -> list[Notice]:
    """The notices an event makes (none for most): position is its notification id."""
    at = event.recorded_at
    made: list[Notice] = []
    match event:
        case AnomalyRaised():
            place = event.found or event.destination
            made.append(
                Notice(
                    id=f"{position}-0",
                    kind="anomali",
                    area=event.destination,
                    found=event.found if event.found != event.destination else "",
                    title=bahasa.NOTICE_KINDS["anomali"],
                    text=bahasa.NOTICE_ANOMALY.format(
                        kind=bahasa.KIND_NAMES.get(event.kind, event.kind),
                        label=event.label,
                        place=place,
                    ),
                    link=f"/kotak/{event.label}",
                    at=at,
                )
            )
        case FindingFiled():
            made.append(
                finding_notice(
                    position,
                    event,
                    "temuan",
                    bahasa.NOTICE_FILED.format(
                        source=bahasa.SOURCES.get(event.source, event.source),
                        number=event.finding,
                        kind=bahasa.SUPERVISION_KINDS.get(event.kind, event.kind),
                        place=event.where,
                        text=shortened(event.text),
                    ),
                )
            )
        case FindingAcknowledged():
            text = bahasa.NOTICE_ACKNOWLEDGED.format(number=event.finding, by=event.by)
            made.append(finding_notice(position, event, "temuan_dijawab", text))
        case FindingAnswered():
            text = bahasa.NOTICE_ANSWERED.format(
                number=event.finding, action=shortened(event.action)
            )
            made.append(finding_notice(position, event, "temuan_dijawab", text))
        case FindingClosed():
            verdict = "diterima" if event.accepted else "tidak diterima"
            text = bahasa.NOTICE_CLOSED.format(number=event.finding, verdict=verdict)
            made.append(finding_notice(position, event, "temuan_ditutup", text))
        case DeliveryReceived() if event.mismatches:
            made.append(
                Notice(
                    id=f"{position}-0",
                    kind="selisih_gudang",
                    area=event.kabupaten,
                    title=bahasa.NOTICE_KINDS["selisih_gudang"],
                    text=bahasa.NOTICE_MISMATCH.format(
                        delivery=event.delivery,
                        kabupaten=event.kabupaten,
                        lines=len(event.mismatches),
                    ),
                    link=f"/gudang/{event.kabupaten}/ba?pengiriman={event.delivery}",
                    at=at,
                )
            )
    return made


def finding_notice(position: int, event: Any, kind: NoticeKind, text: str) -> Notice:
    return Notice(
        id=f"{position}-0",
        kind=kind,
        area=event.where,
        title=bahasa.NOTICE_KINDS[kind],
        text=text,
        link=f"/temuan/{event.finding}",
        at=event.recorded_at,
    )


def overdue_notice(number: str, place: str, due_at: datetime) -> Notice:
    """A finding KPU has not answered by its due time: said once."""
    return Notice(
        id=f"lewat-{number}",
        kind="temuan_lewat",
        area=place,
        title=bahasa.NOTICE_KINDS["temuan_lewat"],
        text=bahasa.NOTICE_OVERDUE.format(number=number, place=place, due=iso_minute(due_at)),
        link=f"/temuan/{number}",
        at=due_at,
    )


def stale_notice(
    anomaly_id: str, kind: str, label: str, place: str, since: datetime, minutes: int
) -> Notice:
    """An anomaly still open `minutes` after it was raised: said once."""
    return Notice(
        id=f"lama-{anomaly_id}",
        kind="anomali_lama",
        area=place,
        title=bahasa.NOTICE_KINDS["anomali_lama"].format(minutes=minutes),
        text=bahasa.NOTICE_STALE.format(
            kind=bahasa.KIND_NAMES.get(kind, kind), label=label, since=iso_minute(since)
        ),
        link=f"/kotak/{label}",
        at=since,
    )


def reaches(subscription: Subscription, scope: str, notice: Notice) -> bool:
    """Does the notice go to this subscription of an account whose scope is `scope` (now)?"""
    if notice.kind not in subscription.kinds or notice.at < subscription.since:
        return False
    return any(
        place and within(scope, place) and within(subscription.area, place)
        for place in (notice.area, notice.found)
    )


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SubscriptionRefused(DomainError):
    """A subscription that cannot be kept: no kinds, an unknown channel, a bad address."""


def check_subscription(kinds: Iterable[str], channel: str, target: str) -> list[NoticeKind]:
    """The kinds asked for, known and in order; SubscriptionRefused for what cannot be sent."""
    wanted = kinds_in(kinds)
    if not wanted or set(kinds) - set(wanted):
        raise SubscriptionRefused(bahasa.SUBSCRIPTION_NO_KINDS)
    target = target.strip()
    if channel == "webhook":
        url = urlsplit(target)
        if url.scheme not in ("http", "https") or not url.hostname or len(target) > 500:
            raise SubscriptionRefused(bahasa.SUBSCRIPTION_BAD_URL)
    elif channel == "email":
        if not EMAIL.match(target) or len(target) > 200:
            raise SubscriptionRefused(bahasa.SUBSCRIPTION_BAD_EMAIL.format(address=target))
    elif channel != "halaman":
        raise SubscriptionRefused(bahasa.SUBSCRIPTION_BAD_CHANNEL)
    return wanted


def signed(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for a webhook body sent at `timestamp` (Unix seconds): the
    receiver computes the same HMAC-SHA256 with its copy of the secret, and refuses an old `t`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def pause_after(failures: int) -> float:
    """Seconds before trying a receiver again after `failures` failures in a row: 1, 2, 4, ...
    up to five minutes."""
    return min(MOST_PAUSE_SECONDS, 2.0 ** max(0, failures - 1))


def mail_of(notices: list[Notice], sender: str, to: str, site: str) -> EmailMessage:
    """One notice as an e-mail, or several gathered into one digest, oldest first."""
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    if len(notices) == 1:
        message["Subject"] = bahasa.NOTICE_ONE_SUBJECT.format(title=notices[0].title)
    else:
        message["Subject"] = bahasa.NOTICE_DIGEST_SUBJECT.format(count=len(notices))
    # ", " lets a long list fold onto several lines as it is, not as an encoded word
    message["X-Lacak-Notices"] = ", ".join(notice.id for notice in notices)
    message.set_content(
        "\n\n".join(
            f"{iso_minute(n.at)} {n.title}\n{n.text}\n{site.rstrip('/')}{n.link}" for n in notices
        )
        + "\n"
    )
    return message


def shortened(text: str, most: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


def iso_minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def kinds_in(words: Iterable[str]) -> list[NoticeKind]:
    """The known kinds among `words`, in the order of `KINDS`."""
    wanted = set(words)
    return [kind for kind in KINDS if kind in wanted]
