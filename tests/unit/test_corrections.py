"""Corrections are new events naming what they correct; nothing is updated or deleted."""

from datetime import UTC, datetime, timedelta

import pytest

from events import AnomalyResolved, BatchReceived, BatchVoided, ScanVoided
from services.custody.batch import Batch, Scan, evolve
from services.custody.decisions import (
    correct_scan,
    flag_late,
    record_scan,
    register,
    replace_batch,
    resolve,
    void_batch,
    void_scan,
)
from services.custody.errors import UnknownScanEventError
from services.custody.labels import make_label
from services.views.board.reducer import MemoryBoard

LABEL = make_label("36.04", 8)
TPS = "3604052001001"  # Kramatwatu (36.04.05), desa 36.04.05.2001
T = datetime(2024, 2, 10, 8, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def scanned(*steps: Scan) -> tuple[Batch, list]:
    history: list = [
        register(
            label=LABEL, destination=TPS, item="kotak_suara", ballot_type="DPR", quantity=306, at=T
        )
    ]
    batch = evolve(None, history)
    for step in steps:
        new = record_scan(batch, step, at=step.occurred_at)
        history += new
        batch = evolve(batch, new)
    return batch, history


def scan(scan_id: str, action: str, location: str, minute: int, **details) -> Scan:
    return Scan(
        scan_id=scan_id,
        label=LABEL,
        action=action,
        location=location,
        occurred_at=at(minute),
        **details,
    )


DISPATCH = scan("D", "dispatch", "36.04", 1, to="36.04.05")


def test_a_scan_declared_wrong_stays_on_the_record_and_the_batch_goes_back_to_where_it_was():
    wrong_box = scan("R", "receive", "36.04.05", 2, counted=306)
    batch, _ = scanned(DISPATCH, wrong_box)
    version = batch.scans["R"].version
    [voided] = void_scan(batch, version, "kotak lain yang terpindai", "Agus", at(3))
    assert isinstance(voided, ScanVoided)
    assert (voided.voids, voided.scan_id, voided.location, voided.in_transit) == (
        version,
        "R",
        "36.04",
        True,
    )
    after = evolve(batch, [voided])
    assert (after.location, after.in_transit, after.received_at) == ("36.04", True, frozenset())
    assert after.scans["R"].voided  # still there
    assert void_scan(after, version, "lagi", "Agus", at(4)) == []  # voiding twice: nothing


def test_voiding_a_scan_resolves_the_anomalies_it_raised():
    misrouted = scan("R", "receive", "36.04.01", 2)  # Kec. Anyar: not on its way
    batch, _ = scanned(DISPATCH, misrouted)
    [anomaly_id] = batch.scans["R"].anomalies
    events = void_scan(batch, batch.scans["R"].version, "salah pindai", "Agus", at(3))
    resolved = [e for e in events if isinstance(e, AnomalyResolved)]
    assert [(e.anomaly_id, e.note) for e in resolved] == [
        (anomaly_id, "pindai dibatalkan: salah pindai")
    ]
    assert evolve(batch, events).anomalies[anomaly_id].status == "resolved"


def test_a_correction_voids_the_wrong_scan_and_records_the_right_one_naming_it():
    mistyped = scan("R1", "receive", "36.04.05", 2, counted=36)  # 306 typed as 36
    batch, _ = scanned(DISPATCH, mistyped)
    assert [a.kind for a in batch.anomalies.values()] == ["count_short"]
    version = batch.scans["R1"].version
    right = scan("R2", "receive", "36.04.05", 2, counted=306)
    events = correct_scan(batch, version, right, "salah ketik jumlah", "Agus", at(5))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ScanVoided", "AnomalyResolved", "BatchReceived"]
    received = events[-1]
    assert isinstance(received, BatchReceived)
    assert (received.corrects, received.counted) == (version, 306)
    after = evolve(batch, events)
    assert (after.quantity, after.location) == (306, "36.04.05")
    assert [a.status for a in after.anomalies.values()] == ["resolved"]  # the right count is fine
    assert correct_scan(after, version, right, "lagi", "Agus", at(6)) == []  # a retry


def test_only_a_scan_of_this_batch_can_be_voided():
    batch, _ = scanned(DISPATCH)
    with pytest.raises(UnknownScanEventError):
        void_scan(batch, 1, "registrasi bukan pindai", "Agus", at(3))
    with pytest.raises(UnknownScanEventError):
        void_scan(batch, 99, "tidak ada", "Agus", at(3))


def test_a_voided_batch_is_not_late_and_a_scan_of_it_is_recorded_and_flagged():
    batch, _ = scanned(DISPATCH)
    [voided] = void_batch(batch, "kotak hancur, truk terguling", "Rina", at(3))
    assert isinstance(voided, BatchVoided)
    batch = evolve(batch, [voided])
    assert void_batch(batch, "lagi", "Rina", at(4)) == []
    assert flag_late(batch, deadline=at(100), at=at(200)) == []
    events = record_scan(batch, scan("R", "receive", "36.04.05", 5), at=at(5))
    assert isinstance(events[0], BatchReceived)
    assert [e.kind for e in events[1:]] == ["void_scanned"]


def test_a_replacement_batch_is_for_the_same_tps_and_names_the_one_it_replaces():
    batch, _ = scanned(DISPATCH, scan("R", "receive", "36.04.05", 2, condition="basah"))
    [damaged] = batch.anomalies
    new_label = make_label("36.04", 32**4 // 2)
    [resolved] = resolve(batch, damaged, "Rina", "surat suara basah", at(9), new_label)
    assert isinstance(resolved, AnomalyResolved) and resolved.replacement == new_label
    replacement = replace_batch(batch, new_label, None, at(9))
    assert (replacement.label, replacement.replaces, replacement.destination) == (
        new_label,
        LABEL,
        TPS,
    )
    assert (replacement.ballot_type, replacement.quantity) == ("DPR", 306)
    assert evolve(batch, [resolved]).replaced_by == (new_label,)


def test_the_board_counts_a_voided_scan_no_more_at_any_level():
    batch, history = scanned(DISPATCH, scan("R", "receive", "36.04.05", 2))
    voided = void_scan(batch, batch.scans["R"].version, "kotak lain", "Agus", at(3))
    board = MemoryBoard()
    board.apply([*history, *voided])
    for area in ("36.04", "36.04.05", "36.04.05.2001", TPS):
        row = board.area(area)
        assert (row.planned, row.dispatched, row.received, row.transit, row.ppk) == (1, 1, 0, 1, 0)


def test_a_voided_delivery_leaves_the_arrivals_and_a_withdrawn_batch_leaves_the_board():
    batch, history = scanned(DISPATCH, scan("R", "receive", TPS, 2))
    board = MemoryBoard()
    board.apply(history)
    assert (board.area(TPS).delivered, len(board.arrivals_of("36.04"))) == (1, 1)
    voided = void_scan(batch, batch.scans["R"].version, "TPS lain", "Agus", at(3))
    board.apply(voided)
    assert (board.area(TPS).delivered, board.arrivals_of("36.04")) == (0, [])
    batch = evolve(batch, voided)
    board.apply(void_batch(batch, "hancur", "Rina", at(4)))
    row = board.area("36.04")
    assert (row.planned, row.dispatched, row.transit, row.anomalies) == (0, 0, 0, 0)
