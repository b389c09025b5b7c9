"""Notices decided purely: which events make one, whom it reaches, the webhook's signature, the
pauses after failures, an e-mail of one and a digest of many, subscriptions refused."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec
import pytest

from events.batch import AnomalyRaised, BatchDispatched
from events.findings import FindingAnswered, FindingFiled
from services.audit.access import public_bytes
from services.notices.rules import (
    Subscription,
    SubscriptionRefused,
    check_subscription,
    mail_of,
    notices_of,
    overdue_notice,
    pause_after,
    reaches,
    signed,
    subject_of,
)

T = datetime(2024, 2, 13, 3, tzinfo=UTC)
TPS = "3604052001001"  # a TPS of kecamatan 36.04.05


def raised(found: str) -> AnomalyRaised:
    return AnomalyRaised(
        originator_id=uuid4(), originator_version=3, label="KS-3604-000001", destination=TPS,
        occurred_at=T, recorded_at=T, anomaly_id="KS-3604-000001-3", kind="wrong_destination",
        scan_id="s1", expected="36.04.05", found=found,
    )  # fmt: skip


CONTACT_REF = "5ee0" + "c0ffee5ee0" * 6  # what a citizen's contact is in the event


def filed(contact: str = "") -> FindingFiled:
    return FindingFiled(
        originator_id=uuid4(), originator_version=1, finding="TM-3604-1", where="36.04.05",
        occurred_at=T, recorded_at=T, command_id="c1", source="laporan", kind="segel",
        text="Segel   diganti\ndi depan saksi", contact=contact, filed_by="Siti",
        due_at=T + timedelta(hours=24),
    )  # fmt: skip


def subscription(kinds, area: str = "", since: datetime = T) -> Subscription:
    return Subscription(
        subscription="s1", username="u", kinds=kinds, area=area, channel="webhook",
        target="http://x", secret="k", since=since,
    )  # fmt: skip


def test_an_anomaly_reaches_the_kecamatan_it_was_meant_for_and_the_one_it_turned_up_in():
    [notice] = notices_of(41, raised(found="36.04.09"))
    assert notice.id == "41-0" and notice.kind == "anomali" and notice.link.endswith("000001")
    assert subject_of(notice) == "lacak.notify.3604.360405.anomali"
    for area in ("36.04.05", "36.04.09", "36.04", ""):
        assert reaches(subscription(["anomali"], area), "", notice)
    assert not reaches(subscription(["anomali"], "36.04.07"), "", notice)
    assert not reaches(subscription(["temuan"], "36.04.05"), "", notice)  # another kind
    # An account's scope now bounds what it hears, whatever its subscription said then.
    assert not reaches(subscription(["anomali"], ""), "36.04.07", notice)
    # Nothing from before the subscription.
    assert not reaches(subscription(["anomali"], "", since=T + timedelta(seconds=1)), "", notice)


def test_findings_make_notices_without_the_citizens_contact_and_scans_make_none():
    [notice] = notices_of(7, filed(contact=CONTACT_REF))
    assert notice.kind == "temuan" and "5ee0" not in msgspec.json.encode(notice).decode()
    assert "Segel diganti di depan saksi" in notice.text  # whitespace folded
    answered = FindingAnswered(
        originator_id=uuid4(), originator_version=2, finding="TM-3604-1", where="36.04.05",
        occurred_at=T, recorded_at=T, command_id="c2", by="Andi", action="Segel diganti ulang",
    )  # fmt: skip
    assert [n.kind for n in notices_of(8, answered)] == ["temuan_dijawab"]
    dispatched = BatchDispatched(
        originator_id=uuid4(), originator_version=2, label="KS-3604-000001", destination=TPS,
        occurred_at=T, recorded_at=T, scan_id="s", location="36.04", to="36.04.05",
    )  # fmt: skip
    assert notices_of(9, dispatched) == []
    overdue = overdue_notice("TM-3604-1", "36.04.05", T)
    assert overdue.id == "lewat-TM-3604-1" and subject_of(overdue).endswith("temuan_lewat")


def test_a_webhook_body_is_signed_with_its_time_and_failures_wait_longer_each_time():
    body = b'{"id":"41-0"}'
    value = signed("whsec_k", body, 1_700_000_000)
    expected = hmac.new(b"whsec_k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert value == f"t=1700000000,v1={expected}"
    assert signed("whsec_k", body + b" ", 1_700_000_000) != value
    assert [pause_after(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert pause_after(50) == 300


def test_one_notice_is_an_email_and_many_are_one_digest_oldest_first():
    one = notices_of(7, filed())
    mail = mail_of(one, "lacak@kpu.example", "siti@bawaslu.example", "https://lacak.example/")
    assert mail["Subject"].startswith("[Lacak] Temuan") and mail["X-Lacak-Notices"] == "7-0"
    assert "https://lacak.example/temuan/TM-3604-1" in mail.get_content()
    many = one + notices_of(41, raised(TPS))
    digest = mail_of(many, "lacak@kpu.example", "siti@bawaslu.example", "https://x")
    assert digest["Subject"] == "[Lacak] 2 pemberitahuan"
    assert digest["X-Lacak-Notices"] == "7-0, 41-0"
    content = digest.get_content()
    assert content.index("TM-3604-1") < content.index("KS-3604-000001")


@pytest.mark.parametrize(
    ("kinds", "channel", "target", "says"),
    [
        ([], "halaman", "", "Pilih paling sedikit"),
        (["anomali", "bukan"], "halaman", "", "Pilih paling sedikit"),
        (["anomali"], "webhook", "ftp://x/y", "http://"),
        (["anomali"], "webhook", "http://", "http://"),
        (["anomali"], "email", "siti@", "tidak sah"),
        (["anomali"], "sms", "0812", "halaman, webhook atau email"),
    ],
)
def test_a_subscription_that_cannot_be_sent_is_refused_saying_why(kinds, channel, target, says):
    with pytest.raises(SubscriptionRefused, match=says):
        check_subscription(kinds, channel, target)


def test_kinds_come_back_in_one_order_and_a_webhooks_key_never_reaches_the_access_log():
    assert check_subscription(["temuan", "anomali"], "email", "a@b.id") == ["anomali", "temuan"]
    stored = msgspec.json.encode({"subscription": "s1", "secret": "whsec_abc", "target": "x"})
    assert b"whsec_abc" not in public_bytes(stored)
