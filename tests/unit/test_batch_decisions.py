"""Given events, when a scan, then events: the batch's pure decisions."""

from datetime import UTC, datetime, timedelta

import pytest

from events import AnomalyRaised, BatchDispatched, BatchReceived
from services.custody.batch import Scan, batch_id, evolve
from services.custody.decisions import record_scan, register
from services.custody.errors import ImpossibleTimeError
from services.custody.labels import make_label

LABEL = make_label("36.04", 2)
TPS = "3604052001001"
T0 = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def registered():
    return register(
        label=LABEL, destination=TPS, item="kotak_suara", ballot_type="DPR", quantity=306, at=T0
    )


def scan(scan_id: str, action="dispatch", location="36.04", at=T1) -> Scan:
    return Scan(scan_id=scan_id, label=LABEL, action=action, location=location, occurred_at=at)


def test_a_batch_id_is_derived_from_its_label():
    assert batch_id(LABEL) == batch_id(LABEL) != batch_id(make_label("36.04", 3))
    assert registered().originator_id == batch_id(LABEL)


def test_a_dispatch_scan_records_the_batch_leaving_with_both_clocks():
    batch = evolve(None, [registered()])
    assert record_scan(batch, scan("S1"), at=T2) == [
        BatchDispatched(
            originator_id=batch_id(LABEL),
            originator_version=2,
            label=LABEL,
            destination=TPS,
            occurred_at=T1,
            recorded_at=T2,
            scan_id="S1",
            location="36.04",
        )
    ]


def test_a_receipt_records_where_the_batch_arrived():
    batch = evolve(None, [registered()])
    batch = evolve(batch, record_scan(batch, scan("S1"), at=T1))
    [event] = record_scan(batch, scan("S2", action="receive", location="36.04.05"), at=T2)
    assert isinstance(event, BatchReceived)
    assert (event.location, event.originator_version) == ("36.04.05", 3)


def test_a_retried_scan_appends_nothing():
    batch = evolve(None, [registered()])
    batch = evolve(batch, record_scan(batch, scan("S1"), at=T1))
    assert record_scan(batch, scan("S1"), at=T2) == []


def test_a_receipt_without_a_dispatch_is_recorded_and_flagged():
    batch = evolve(None, [registered()])
    received, anomaly = record_scan(batch, scan("S9", action="receive", location="36.04.05"), at=T2)
    assert isinstance(received, BatchReceived)
    assert anomaly == AnomalyRaised(
        originator_id=batch.id,
        originator_version=3,
        label=LABEL,
        destination=TPS,
        occurred_at=T1,
        recorded_at=T2,
        anomaly_id=f"{LABEL}-3",
        kind="receipt_without_dispatch",
        scan_id="S9",
        expected="36.04",
        found="36.04.05",
    )


def test_the_state_remembers_each_scan_and_where_the_batch_is():
    batch = evolve(None, [registered()])
    batch = evolve(batch, record_scan(batch, scan("S1"), at=T1))
    batch = evolve(batch, record_scan(batch, scan("S2", "receive", "36.04.05", T2), at=T2))
    assert batch.version == 3
    assert batch.location == "36.04.05"
    assert not batch.in_transit
    assert set(batch.scans) == {"S1", "S2"}
    assert batch.scans["S2"].recorded_at == T2


def test_a_scan_sent_late_from_an_offline_device_keeps_its_true_time():
    batch = evolve(None, [registered()])
    weeks_later = T1 + timedelta(weeks=3)
    [event] = record_scan(batch, scan("S1", at=T1), at=weeks_later)
    assert (event.occurred_at, event.recorded_at) == (T1, weeks_later)


@pytest.mark.parametrize(
    "occurred_at", [datetime(1999, 12, 31, tzinfo=UTC), T2 + timedelta(days=2)]
)
def test_a_scan_time_that_cannot_be_true_is_refused(occurred_at):
    batch = evolve(None, [registered()])
    with pytest.raises(ImpossibleTimeError):
        record_scan(batch, scan("S1", at=occurred_at), at=T2)
