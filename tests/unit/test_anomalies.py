"""Record reality, flag the wrong: a receipt is always recorded, and what is wrong is raised."""

from datetime import UTC, datetime, timedelta

import pytest

from events import AnomalyAcknowledged, AnomalyRaised, AnomalyResolved, BatchReceived
from services.custody.batch import Batch, Scan, evolve
from services.custody.decisions import acknowledge, flag_late, record_scan, register, resolve
from services.custody.errors import MissingDetailError, UnknownAnomalyError
from services.custody.labels import make_label
from services.views.board.reducer import MemoryBoard
from services.wilayah import route_of

LABEL = make_label("36.04", 8)
TPS = "3604052001001"  # Kramatwatu (36.04.05), desa 36.04.05.2001
T = datetime(2024, 2, 10, 8, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T + timedelta(minutes=minutes)


def given(*scans: tuple[str, str]) -> tuple[Batch, list]:
    """A registered batch, then each (action, location) scanned in turn."""
    events: list = [
        register(
            label=LABEL, destination=TPS, item="kotak_suara", ballot_type="DPR", quantity=306, at=T
        )
    ]
    batch = evolve(None, events)
    for n, (action, location) in enumerate(scans):
        new = record_scan(batch, scan(f"S{n}", action, location, n), at=at(n))
        events += new
        batch = evolve(batch, new)
    return batch, events


def scan(scan_id: str, action: str, location: str, minute: int = 50) -> Scan:
    return Scan(
        scan_id=scan_id, label=LABEL, action=action, location=location, occurred_at=at(minute)
    )


def raised(events: list) -> list[tuple[str, str, str]]:
    return [(e.kind, e.expected, e.found) for e in events if isinstance(e, AnomalyRaised)]


def test_the_route_of_a_batch_runs_from_the_gudang_down_to_its_tps():
    assert route_of(TPS) == ("36.04", "36.04.05", "36.04.05.2001", TPS)


def test_the_chain_followed_hop_by_hop_raises_nothing():
    _, events = given(
        ("dispatch", "36.04"),
        ("receive", "36.04.05"),
        ("dispatch", "36.04.05"),
        ("receive", "36.04.05.2001"),
        ("dispatch", "36.04.05.2001"),
        ("receive", TPS),
    )
    assert raised(events) == []


def test_a_box_received_at_the_wrong_kecamatan_is_recorded_and_flagged():
    batch, _ = given(("dispatch", "36.04"))
    events = record_scan(batch, scan("X", "receive", "36.04.09"), at=at(60))
    assert isinstance(events[0], BatchReceived) and events[0].location == "36.04.09"
    assert raised(events) == [("wrong_destination", "36.04.05", "36.04.09")]


def test_a_box_at_its_tps_that_never_reached_the_pps_is_flagged_as_a_skipped_hop():
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.05"), ("dispatch", "36.04.05"))
    events = record_scan(batch, scan("X", "receive", TPS), at=at(60))
    assert raised(events) == [("skipped_hop", "36.04.05.2001", TPS)]


def test_a_box_at_its_desa_that_never_left_the_gudang_is_flagged_twice():
    batch, _ = given()
    events = record_scan(batch, scan("X", "receive", "36.04.05.2001"), at=at(60))
    assert raised(events) == [
        ("skipped_hop", "36.04.05", "36.04.05.2001"),
        ("receipt_without_dispatch", "36.04", "36.04.05.2001"),
    ]


def test_a_retried_scan_that_raised_an_anomaly_remembers_it():
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.09"))
    [anomaly_id] = batch.scans["S1"].anomalies
    assert batch.anomalies[anomaly_id].kind == "wrong_destination"
    assert record_scan(batch, scan("S1", "receive", "36.04.09"), at=at(90)) == []


def test_an_anomaly_is_raised_then_acknowledged_then_resolved_once_each():
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.09"))
    [anomaly_id] = batch.anomalies
    [seen] = acknowledge(batch, anomaly_id, by="monitor", note="truk salah", at=at(70))
    assert isinstance(seen, AnomalyAcknowledged)
    batch = evolve(batch, [seen])
    assert acknowledge(batch, anomaly_id, by="monitor", note="", at=at(71)) == []
    [done] = resolve(batch, anomaly_id, by="monitor", note="dikirim ulang", at=at(80))
    assert isinstance(done, AnomalyResolved)
    batch = evolve(batch, [done])
    assert batch.anomalies[anomaly_id].status == "resolved"
    assert resolve(batch, anomaly_id, by="monitor", note="", at=at(81)) == []


def test_an_unknown_anomaly_cannot_be_acknowledged():
    batch, _ = given()
    with pytest.raises(UnknownAnomalyError):
        acknowledge(batch, "nope", by="monitor", note="", at=at(1))


def test_the_board_counts_an_anomaly_as_open_until_it_is_resolved():
    batch, events = given(("dispatch", "36.04"), ("receive", "36.04.09"))
    [anomaly_id] = batch.anomalies
    board = MemoryBoard()
    board.apply(events)
    assert board.rows()[0].anomalies == 1
    seen = acknowledge(batch, anomaly_id, by="m", note="", at=at(70))
    board.apply(seen)
    assert board.rows()[0].anomalies == 1
    board.apply(resolve(evolve(batch, seen), anomaly_id, by="m", note="", at=at(80)))
    assert board.rows()[0].anomalies == 0


def full_scan(scan_id: str, action: str, location: str, **details) -> Scan:
    return Scan(
        scan_id=scan_id,
        label=LABEL,
        action=action,
        location=location,
        occurred_at=at(50),
        **details,
    )


def packed_and_sealed() -> Batch:
    batch, _ = given()
    for step in (
        full_scan("P", "pack", "36.04", quantity=306, dapil="BANTEN II"),
        full_scan("S", "seal", "36.04", seals=["A100", "A101"]),
        full_scan("D", "dispatch", "36.04", to="36.04.05", surat_jalan="SJ-7", vehicle="A 1234 B"),
    ):
        batch = evolve(batch, record_scan(batch, step, at=at(10)))
    return batch


def test_packing_counts_the_sheets_in_and_flags_fewer_than_planned():
    batch, _ = given()
    events = record_scan(batch, full_scan("P", "pack", "36.04", quantity=300), at=at(5))
    assert raised(events) == [("count_short", "306", "300")]
    assert evolve(batch, events).quantity == 300


def test_a_receipt_with_the_seals_intact_and_the_count_right_raises_nothing():
    batch = packed_and_sealed()
    receipt = full_scan(
        "R",
        "receive",
        "36.04.05",
        counted=306,
        condition="baik",
        seals=["A101", "A100"],
        officer="Budi",
        witness="Ani",
    )
    events = record_scan(batch, receipt, at=at(60))
    assert raised(events) == []
    assert (events[0].officer, events[0].witness, events[0].counted) == ("Budi", "Ani", 306)


def test_a_box_that_arrives_unsealed_is_recorded_and_flagged():
    batch = packed_and_sealed()
    events = record_scan(batch, full_scan("R", "receive", "36.04.05", seals=[]), at=at(60))
    assert raised(events) == [("seal_missing", "A100, A101", "-")]


def test_a_box_whose_seal_numbers_do_not_match_is_flagged():
    batch = packed_and_sealed()
    events = record_scan(
        batch, full_scan("R", "receive", "36.04.05", seals=["A100", "B7"]), at=at(60)
    )
    assert raised(events) == [("seal_mismatch", "A100, A101", "A100, B7")]


def test_a_short_count_a_damaged_box_and_the_reasons_given_are_all_recorded():
    batch = packed_and_sealed()
    receipt = full_scan(
        "R", "receive", "36.04.05", counted=290, condition="basah", reasons=["kurang", "basah"]
    )
    events = record_scan(batch, receipt, at=at(60))
    assert raised(events) == [("count_short", "306", "290"), ("damaged", "baik", "basah")]
    assert events[0].reasons == ["kurang", "basah"]


def test_a_pack_without_a_count_or_a_seal_without_numbers_is_refused():
    batch, _ = given()
    with pytest.raises(MissingDetailError):
        record_scan(batch, full_scan("P", "pack", "36.04"), at=at(5))
    with pytest.raises(MissingDetailError):
        record_scan(batch, full_scan("S", "seal", "36.04", seals=[]), at=at(5))


def test_ballots_of_another_dapil_packed_for_a_tps_are_flagged_as_tertukar():
    registered = register(
        label=LABEL,
        destination=TPS,
        item="kotak_suara",
        ballot_type="DPR",
        quantity=306,
        dapil="BANTEN II",
        at=T,
    )
    batch = evolve(None, [registered])
    packing = full_scan("P", "pack", "36.04", quantity=306, dapil="BANTEN III")
    assert raised(record_scan(batch, packing, at=at(5))) == [
        ("wrong_dapil", "BANTEN II", "BANTEN III")
    ]
    right = full_scan("P", "pack", "36.04", quantity=306, dapil="BANTEN II")
    assert raised(record_scan(batch, right, at=at(5))) == []


def test_a_batch_not_at_its_tps_by_the_deadline_is_flagged_late_once():
    deadline = at(24 * 60)
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.05"))
    assert flag_late(batch, deadline, at=deadline - timedelta(seconds=1)) == []
    [late] = flag_late(batch, deadline, at=deadline)
    assert (late.kind, late.found, late.scan_id) == ("late", "36.04.05", "")
    assert flag_late(evolve(batch, [late]), deadline, at=deadline + timedelta(hours=1)) == []


def test_a_batch_delivered_to_its_tps_in_time_is_not_late():
    batch, _ = given(
        ("dispatch", "36.04"),
        ("receive", "36.04.05"),
        ("dispatch", "36.04.05"),
        ("receive", "36.04.05.2001"),
        ("dispatch", "36.04.05.2001"),
        ("receive", TPS),
    )
    assert flag_late(batch, at(24 * 60), at=at(24 * 60)) == []


def test_a_corrected_repack_is_compared_with_the_plan_not_with_the_first_pack():
    batch, _ = given()
    batch = evolve(
        batch, record_scan(batch, full_scan("P1", "pack", "36.04", quantity=300), at=at(5))
    )
    assert (
        raised(record_scan(batch, full_scan("P2", "pack", "36.04", quantity=306), at=at(6))) == []
    )


def test_a_kotak_suara_that_arrives_unsealed_is_flagged_even_if_no_seal_was_recorded():
    batch, _ = given(("dispatch", "36.04"))
    events = record_scan(batch, full_scan("R", "receive", "36.04.05", seals=[]), at=at(60))
    assert raised(events) == [("seal_missing", "-", "-")]


def test_a_batch_that_reached_its_tps_after_the_deadline_is_still_late():
    deadline = at(3)
    batch, _ = given(
        ("dispatch", "36.04"),
        ("receive", "36.04.05"),
        ("dispatch", "36.04.05"),
        ("receive", "36.04.05.2001"),
        ("dispatch", "36.04.05.2001"),
        ("receive", TPS),  # at minute 5, after the deadline at minute 3
    )
    [late] = flag_late(batch, deadline, at=at(60))
    assert late.kind == "late"


def test_a_dispatch_synced_late_from_an_offline_device_does_not_move_the_batch_back():
    batch, _ = given()
    received = full_scan("R", "receive", "36.04.05")  # at minute 50, recorded first
    batch = evolve(batch, record_scan(batch, received, at=at(60)))
    dispatched = Scan(
        scan_id="D", label=LABEL, action="dispatch", location="36.04", occurred_at=at(10)
    )
    late_sync = record_scan(batch, dispatched, at=at(120))
    batch = evolve(batch, late_sync)
    assert (batch.location, batch.in_transit) == ("36.04.05", False)
    board = MemoryBoard()
    _, history = given()
    board.apply([*history, *record_scan(evolve(None, history), received, at=at(60)), *late_sync])
    assert (board.rows()[0].ppk, board.rows()[0].transit) == (1, 0)


def test_a_receipt_with_no_dispatch_since_the_last_receipt_is_flagged_by_device_time():
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.05"))  # minutes 0 and 1
    pps = Scan(
        scan_id="X", label=LABEL, action="receive", location="36.04.05.2001", occurred_at=at(30)
    )
    assert raised(record_scan(batch, pps, at=at(31))) == [
        ("receipt_without_dispatch", "36.04.05", "36.04.05.2001")
    ]


def test_the_kpps_count_that_adds_up_is_recorded_and_one_that_does_not_is_flagged():
    batch = packed_and_sealed()
    short = full_scan("R", "receive", "36.04.05", counted=300, seals=["A100", "A101"])
    batch = evolve(batch, record_scan(batch, short, at=at(60)))
    adds_up = full_scan("C1", "account", TPS, used=250, spoiled=3, unused=47)
    [accounted] = record_scan(batch, adds_up, at=at(600))
    assert (accounted.received, accounted.used) == (300, 250)  # what the TPS actually got
    off = full_scan("C2", "account", TPS, used=250, spoiled=3, unused=40)
    assert raised(record_scan(batch, off, at=at(600))) == [("accounting_mismatch", "300", "293")]


def test_a_count_without_all_three_numbers_is_refused():
    batch = packed_and_sealed()
    with pytest.raises(MissingDetailError):
        record_scan(batch, full_scan("C", "account", TPS, used=250, spoiled=3), at=at(600))


def test_a_hand_to_hand_handover_names_who_gave_it_and_needs_no_dispatch():
    batch, _ = given(("dispatch", "36.04"), ("receive", "36.04.05"))  # minutes 0 and 1
    handover = Scan(
        scan_id="H",
        label=LABEL,
        action="receive",
        location="36.04.05.2001",
        occurred_at=at(30),
        officer="Siti (PPS)",
        witness="Budi (Panwaslu)",
        handed_over_by="Agus (PPK)",
    )
    [received] = record_scan(batch, handover, at=at(31))
    assert (received.handed_over_by, received.officer, received.witness) == (
        "Agus (PPK)",
        "Siti (PPS)",
        "Budi (Panwaslu)",
    )


def test_a_box_loaded_for_another_kecamatan_is_recorded_and_flagged_at_the_gudang():
    batch, _ = given()
    loaded = Scan(
        scan_id="D",
        label=LABEL,
        action="dispatch",
        location="36.04",
        occurred_at=at(5),
        to="36.04.09",
    )
    events = record_scan(batch, loaded, at=at(5))
    assert raised(events) == [("wrong_destination", "36.04.05", "36.04.09")]
    right = Scan(
        scan_id="D2",
        label=LABEL,
        action="dispatch",
        location="36.04",
        occurred_at=at(5),
        to="36.04.05",
    )
    assert raised(record_scan(batch, right, at=at(5))) == []
