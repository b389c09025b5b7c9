"""Scans as they really happen: double reads, impossible moves, wrong clocks, unsealed boxes,
another dapil's ballots; each recorded as it was, flagged where it is wrong."""

from datetime import UTC, datetime, timedelta

from events import AnomalyRaised, BatchReceived, ScanRepeated
from services.custody.batch import Scan, evolve
from services.custody.batches import anomaly_message, scan_result
from services.custody.decisions import SENT_AT_ONCE, record_scan, register
from services.custody.labels import make_label
from services.views.board.reducer import MemoryBoard
from tests.data import SERANG

LABEL = make_label("36.04", 2)
TPS = "3604052001001"  # TPS 001 Kramatwatu, Desa Kramatwatu, Kec. Kramatwatu
KEC, DESA = "36.04.05", "36.04.05.2001"
T0 = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def registered(item: str = "kotak_suara", dapil: str = "BANTEN II"):
    return register(label=LABEL, destination=TPS, item=item, ballot_type="DPR", quantity=306,
                    dapil=dapil, at=T0)  # fmt: skip


def history(*scans: Scan, item: str = "kotak_suara"):
    """The events of a batch after these scans, each sent as it was made."""
    events = [registered(item)]
    for scan in scans:
        events += record_scan(evolve(None, events), scan, at=scan.occurred_at)
    return events


def scan(n: int, action: str, location: str, minutes: int, **details) -> Scan:
    return Scan(scan_id=f"s{n}", label=LABEL, action=action, location=location,
                occurred_at=at(minutes), **details)  # fmt: skip


SEALED = [
    scan(1, "pack", "36.04", 10, quantity=306, dapil="BANTEN II"),
    scan(2, "seal", "36.04", 11, seals=["S1"]),
]
AT_PPK = [*SEALED, scan(3, "dispatch", "36.04", 20, to=KEC), scan(4, "receive", KEC, 60)]


def kinds(events) -> list[str]:
    return [e.kind for e in events if isinstance(e, AnomalyRaised)]


def test_a_scanner_reading_a_box_twice_at_its_ppk_records_a_repeat_that_counts_nothing():
    events = history(*AT_PPK)
    batch = evolve(None, events)
    again = record_scan(batch, scan(5, "receive", KEC, 61), at=at(61))
    assert [type(e) for e in again] == [ScanRepeated]  # no TANPA PENGIRIMAN, no receipt
    assert (again[0].repeats, again[0].action) == (batch.scans["s4"].version, "receive")
    after = evolve(batch, again)
    answer = scan_result(after, "s5", SERANG)
    assert (answer.status, answer.warnings) == ("ok", [])
    assert answer.message == (
        f"Kotak {LABEL} sudah diterima di Kec. Kramatwatu pukul 16:00 WIB, 01-02-2024; "
        "pindai ulang tidak dihitung."
    )
    board_before, board_after = MemoryBoard(), MemoryBoard()
    board_before.apply(events)
    board_after.apply([*events, *again])
    assert board_after.rows("kecamatan") == board_before.rows("kecamatan")
    assert record_scan(after, scan(5, "receive", KEC, 61), at=at(62)) == []  # its retry


def test_a_pack_read_twice_is_recorded_once():
    batch = evolve(None, history(SEALED[0]))
    [repeat] = record_scan(batch, scan(9, "pack", "36.04", 12, quantity=306), at=at(12))
    assert isinstance(repeat, ScanRepeated)
    assert evolve(batch, [repeat]).quantity == 306


def test_a_seal_read_twice_is_a_repeat_but_new_seal_numbers_are_a_reseal():
    batch = evolve(None, history(*SEALED))
    [repeat] = record_scan(batch, scan(9, "seal", "36.04", 12, seals=["S1"]), at=at(12))
    assert isinstance(repeat, ScanRepeated)
    [resealed] = record_scan(batch, scan(9, "seal", "36.04", 12, seals=["S2"]), at=at(12))
    assert evolve(batch, [resealed]).seals == ("S2",)


def test_a_second_receipt_that_reports_what_the_box_held_is_recorded_and_flagged_as_found():
    """The KPPS receives the box, opens it, and scans it again with another dapil's ballots:
    not a double read, and the box's route is not questioned again (no TANPA PENGIRIMAN)."""
    batch = evolve(None, history(*AT_PPK))
    found = record_scan(batch, scan(5, "receive", KEC, 90, reasons=["tertukar"]), at=at(90))
    assert [type(e) for e in found] == [BatchReceived, AnomalyRaised]
    assert kinds(found) == ["wrong_dapil"]
    short = record_scan(batch, scan(6, "receive", KEC, 91, counted=300), at=at(91))
    assert kinds(short) == ["count_short"]


def test_a_second_dispatch_on_another_truck_is_recorded_and_the_same_one_is_a_repeat():
    sent = [*SEALED, scan(3, "dispatch", "36.04", 20, to=KEC, surat_jalan="SJ-1")]
    batch = evolve(None, history(*sent))
    same = record_scan(batch, scan(4, "dispatch", "36.04", 21, to=KEC), at=at(21))
    assert [type(e) for e in same] == [ScanRepeated]
    other = record_scan(batch, scan(4, "dispatch", "36.04", 21, surat_jalan="SJ-2"), at=at(21))
    assert [type(e).__name__ for e in other] == ["BatchDispatched"]


def test_a_box_dispatched_from_the_gudang_while_it_is_at_its_ppk_is_recorded_and_flagged():
    batch = evolve(None, history(*AT_PPK))
    events = record_scan(batch, scan(5, "dispatch", "36.04", 70, to=KEC), at=at(70))
    assert kinds(events) == ["impossible_move"]
    anomaly = evolve(batch, events).anomalies[events[-1].anomaly_id]
    assert anomaly_message(anomaly, SERANG, TPS) == (
        "TIDAK MUNGKIN: kotak tercatat di Kec. Kramatwatu, tetapi dikirim dari gudang "
        "Kabupaten Serang."
    )


def test_a_box_never_scanned_dispatched_from_a_ppk_is_flagged_it_should_be_at_the_gudang():
    batch = evolve(None, history(item="bilik_suara"))
    events = record_scan(batch, scan(1, "dispatch", KEC, 10, to=DESA), at=at(10))
    assert [(e.kind, e.expected, e.found) for e in events[1:]] == [
        ("impossible_move", "36.04", KEC)
    ]


def test_a_scan_sent_at_once_with_a_time_before_the_boxs_last_scan_is_flagged():
    batch = evolve(None, history(*AT_PPK))
    wrong_clock = scan(5, "dispatch", KEC, 30, to=DESA)  # 30 min, though received at 60
    events = record_scan(batch, wrong_clock, at=at(31))
    assert kinds(events) == ["clock_backwards"]
    message = anomaly_message(evolve(batch, events).anomalies[events[-1].anomaly_id], SERANG)
    assert message == (
        "WAKTU MUNDUR: dipindai 01-02-2024 15:30 WIB, sebelum 01-02-2024 16:00 WIB; "
        "periksa jam perangkat."
    )


def test_a_queue_synced_late_keeps_its_true_earlier_times_unflagged():
    batch = evolve(None, history(*AT_PPK))
    late = scan(5, "dispatch", KEC, 30, to=DESA)
    synced = late.occurred_at + SENT_AT_ONCE + timedelta(hours=2)
    assert kinds(record_scan(batch, late, at=synced)) == []


def test_a_scan_timed_before_the_box_was_registered_is_flagged():
    batch = evolve(None, history())
    before = Scan(scan_id="s1", label=LABEL, action="pack", location="36.04",
                  occurred_at=T0 - timedelta(days=2), quantity=306, dapil="BANTEN II")  # fmt: skip
    assert kinds(record_scan(batch, before, at=T0 + timedelta(days=1))) == ["clock_backwards"]


def test_a_kotak_suara_leaving_the_gudang_without_seals_is_recorded_with_a_warning():
    packed = history(SEALED[0])
    batch = evolve(None, packed)
    events = record_scan(batch, scan(3, "dispatch", "36.04", 20, to=KEC), at=at(20))
    answer = scan_result(evolve(batch, events), "s3", SERANG)
    assert answer.status == "warning"
    assert answer.warnings == [
        "BELUM DISEGEL: kotak suara keluar dari gudang Kabupaten Serang tanpa segel."
    ]
    sealed = evolve(None, history(*SEALED))
    events = record_scan(sealed, scan(3, "dispatch", "36.04", 20, to=KEC), at=at(20))
    assert scan_result(evolve(sealed, events), "s3", SERANG).warnings == []


def test_a_kpps_finding_another_dapils_ballots_raises_salah_dapil():
    path = [*AT_PPK, scan(5, "dispatch", KEC, 70, to=DESA), scan(6, "receive", DESA, 80),
            scan(7, "dispatch", DESA, 90, to=TPS)]  # fmt: skip
    batch = evolve(None, history(*path))
    named = scan(8, "receive", TPS, 100, seals=["S1"], reasons=["tertukar"], dapil="BANTEN III")
    events = record_scan(batch, named, at=at(100))
    assert isinstance(events[0], BatchReceived) and events[0].dapil == "BANTEN III"
    assert [(e.kind, e.expected, e.found) for e in events[1:]] == [
        ("wrong_dapil", "BANTEN II", "BANTEN III")
    ]
    unnamed = scan(8, "receive", TPS, 100, seals=["S1"], reasons=["tertukar"])
    events = record_scan(batch, unnamed, at=at(100))
    anomaly = evolve(batch, events).anomalies[events[-1].anomaly_id]
    assert anomaly_message(anomaly, SERANG) == (
        "SALAH DAPIL (tertukar): surat suara dapil lain, seharusnya BANTEN II."
    )


def test_salah_tujuan_names_the_next_stop_and_the_tps_the_box_is_for():
    path = [*AT_PPK, scan(5, "dispatch", KEC, 70, to=DESA)]
    batch = evolve(None, history(*path))
    events = record_scan(batch, scan(6, "receive", "36.04.35", 80), at=at(80))
    anomaly = evolve(batch, events).anomalies[events[1].anomaly_id]
    assert anomaly_message(anomaly, SERANG, TPS) == (
        "SALAH TUJUAN: tujuan berikutnya Desa Kramatwatu, bukan Kec. Lebakwangi "
        "(kotak untuk TPS 001 Kramatwatu)."
    )


def test_a_seal_mismatch_on_a_box_never_sealed_says_it_was_never_sealed():
    unsealed = [SEALED[0], scan(3, "dispatch", "36.04", 20, to=KEC)]
    batch = evolve(None, history(*unsealed))
    events = record_scan(batch, scan(4, "receive", KEC, 60, seals=["X9"]), at=at(60))
    anomaly = evolve(batch, events).anomalies[events[-1].anomaly_id]
    assert anomaly_message(anomaly, SERANG) == (
        "SEGEL TIDAK COCOK: kotak ini tidak pernah disegel, ditemukan segel X9."
    )
