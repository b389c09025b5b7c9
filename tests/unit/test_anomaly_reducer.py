"""The exceptions queue and the activity feed: a pure reducer over a batch's events."""

from datetime import UTC, datetime, timedelta

from events import AnomalyAcknowledged, AnomalyResolved
from services.custody.batch import Scan, evolve
from services.custody.decisions import acknowledge, flag_late, record_scan, register, resolve
from services.views.anomalies.reducer import fold_queue as fold_exceptions
from services.views.anomalies.reducer import needed

T = datetime(2024, 2, 10, 1, 0, tzinfo=UTC)
TPS = "3604052001001"


def history(*scans: Scan, at: datetime = T):
    """The events of a DPR kotak suara for TPS, numbered as notifications from 1."""
    events = [
        register(
            label="A", destination=TPS, item="kotak_suara", ballot_type="DPR", quantity=306, at=at
        )
    ]
    for scan in scans:
        events += record_scan(evolve(None, events), scan, at=at)
    return list(enumerate(events, start=1))


def scan(scan_id: str, action: str, location: str, **details) -> Scan:
    return Scan(
        scan_id=scan_id,
        label="A",
        action=action,
        location=location,
        occurred_at=T,
        officer="Rina",
        **details,
    )


def fold(notifications, anomalies=None, activity=None):
    return fold_exceptions(anomalies or {}, activity or {}, notifications)


def test_a_box_received_at_the_wrong_kecamatan_is_queued_where_its_scan_happened():
    notifications = history(scan("s1", "dispatch", "36.04"), scan("s2", "receive", "36.04.07"))
    anomalies, _ = fold(notifications)
    [row] = anomalies.values()
    assert (row.kind, row.expected, row.found) == ("wrong_destination", "36.04.05", "36.04.07")
    assert (row.location, row.kecamatan, row.destination) == ("36.04.07", "36.04.05", TPS)
    assert (row.status, row.position, row.changed) == ("open", 4, 4)
    assert row.occurred_at == T.isoformat()


def test_the_scan_that_raised_anomalies_shows_their_kinds_in_the_feed():
    notifications = history(
        scan("s1", "dispatch", "36.04"),
        scan("s2", "receive", "36.04.05", counted=300, condition="basah"),
    )
    _, activity = fold(notifications)
    receipt = activity[(str(notifications[0][1].originator_id), "s2")]
    assert receipt.action == "receive" and receipt.officer == "Rina"
    assert receipt.anomalies == ("count_short", "damaged")
    assert (receipt.position, receipt.changed) == (3, 5)


def test_a_scan_in_an_earlier_batch_of_events_still_gives_its_anomaly_a_place():
    notifications = history(scan("s1", "receive", "36.04.05"))  # no dispatch before it
    _, earlier = fold(notifications[:2])
    anomalies, activity = fold(notifications[2:], activity=dict(earlier))
    [row] = anomalies.values()
    assert (row.kind, row.location) == ("receipt_without_dispatch", "36.04.05")
    [item] = activity.values()
    assert item.anomalies == ("receipt_without_dispatch",)
    assert needed(notifications[2:]) == (set(), {(item.batch_id, "s1")})
    assert needed(notifications) == (set(), set())  # its scan came with it: no look-up


def test_acknowledging_then_resolving_moves_the_row_through_its_life():
    events = [e for _, e in history(scan("s1", "receive", "36.04.05"))]
    anomaly_id = events[-1].anomaly_id
    at = T + timedelta(hours=1)
    acknowledged = acknowledge(evolve(None, events), anomaly_id, "Budi", "dicek", at)
    events += acknowledged
    events += resolve(evolve(None, events), anomaly_id, "Sari", "dikirim ulang", at)
    notifications = list(enumerate(events, start=1))
    anomalies, _ = fold(notifications[:3])
    after_ack, _ = fold(notifications[3:4], anomalies=dict(anomalies))
    row = after_ack[anomaly_id]
    assert (row.status, row.acknowledged_by, row.acknowledge_note) == (
        "acknowledged",
        "Budi",
        "dicek",
    )
    assert row.acknowledged_at == at.isoformat() and row.changed == 4
    after_resolve, _ = fold(notifications[4:], anomalies=dict(after_ack))
    row = after_resolve[anomaly_id]
    assert (row.status, row.resolved_by, row.resolve_note) == ("resolved", "Sari", "dikirim ulang")
    assert row.acknowledged_by == "Budi" and row.changed == 5
    assert isinstance(events[3], AnomalyAcknowledged) and isinstance(events[4], AnomalyResolved)


def test_a_late_batch_is_queued_where_it_was_last_seen():
    events = [e for _, e in history(scan("s1", "dispatch", "36.04"))]
    deadline = datetime(2024, 2, 13, 17, 0, tzinfo=UTC)
    events += flag_late(evolve(None, events), deadline, at=deadline + timedelta(minutes=5))
    anomalies, activity = fold(list(enumerate(events, start=1)))
    [row] = anomalies.values()
    assert (row.kind, row.location, row.scan_id) == ("late", "36.04", "")
    assert row.occurred_at == deadline.isoformat()
    assert [item.anomalies for item in activity.values()] == [()]


def test_an_acknowledgement_of_an_anomaly_the_view_never_saw_changes_nothing():
    events = [e for _, e in history(scan("s1", "receive", "36.04.05"))]
    events += acknowledge(evolve(None, events), events[-1].anomaly_id, "Budi", "", T)
    anomalies, _ = fold(list(enumerate(events, start=1))[3:])
    assert anomalies == {}
