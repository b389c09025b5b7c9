"""The board's reducer: which columns a batch counts in, in every area of its TPS."""

from datetime import UTC, date, datetime, timedelta

import msgspec

from services.custody.batch import Scan, evolve
from services.custody.decisions import record_scan, register
from services.custody.election import Election
from services.views.board.reducer import (
    AreaCounts,
    BatchLine,
    MemoryBoard,
    advance,
    ancestor_at,
    count_at_risk,
    count_in,
    counter_changes,
    tps_at_risk,
)
from services.wilayah import LEVELS, route_of

T = datetime(2024, 2, 1, tzinfo=UTC)
TPS = "3604052001001"
KAB, KEC, DESA = "36.04", "36.04.05", "36.04.05.2001"
DOWN = [
    ("dispatch", KAB),
    ("receive", KEC),
    ("dispatch", KEC),
    ("receive", DESA),
    ("dispatch", DESA),
    ("receive", TPS),
]


def history(label: str, tps: str, *actions: tuple[str, str], start: datetime = T):
    events = [
        register(
            label=label, destination=tps, item="kotak_suara", ballot_type="DPR", quantity=306, at=T
        )
    ]
    for n, (action, location) in enumerate(actions):
        batch = evolve(None, events)
        details = {"quantity": 306} if action == "pack" else {}
        details |= {"seals": ["S1"]} if action == "seal" else {}
        scan = Scan(
            scan_id=f"{label}-{n}",
            label=label,
            action=action,
            location=location,
            occurred_at=start + timedelta(hours=n),
            **details,
        )
        events += record_scan(batch, scan, at=start + timedelta(hours=n))
    return events


def test_a_registered_batch_is_planned_and_still_to_leave_the_gudang():
    [event] = history("A", TPS)
    assert advance(None, event) == BatchLine(TPS, "planned")


def test_a_batch_counts_alike_in_its_kabupaten_kecamatan_desa_and_tps():
    board = MemoryBoard()
    board.apply(history("A", TPS, ("pack", KAB), ("dispatch", KAB), ("receive", KEC)))
    rows = {area: board.area(area) for area in route_of(TPS)}
    expected = AreaCounts(
        area=KAB, planned=1, packed=1, dispatched=1, received=1, ppk=1, undelivered_ppk=1
    )
    for area, row in rows.items():
        assert row == AreaCounts(**{**msgspec.structs.asdict(expected), "area": area}), area
    assert [r.area for r in board.rows("desa")] == [DESA]
    assert [r.area for r in board.rows("tps")] == [TPS]


def test_a_batch_received_once_dispatched_moves_from_on_the_way_to_the_ppk_in_every_area():
    changes = counter_changes(
        BatchLine(TPS, "dispatched", place="transit", hops_left=3),
        BatchLine(TPS, "received", place="ppk", hops_left=2),
    )
    for area in route_of(TPS):
        assert {c: n for (a, c), n in changes.items() if a == area and n} == {
            "received": 1,
            "ppk": 1,
            "transit": -1,
            "undelivered_ppk": 1,
            "undelivered_gudang": -1,
        }


def test_packing_or_sealing_counts_as_packed_and_a_dispatch_counts_as_packed_too():
    for actions in ([("pack", KAB)], [("seal", KAB)], [("dispatch", KAB)]):
        board = MemoryBoard()
        board.apply(history("A", TPS, *actions))
        assert board.area(TPS).packed == 1, actions


def test_the_board_follows_a_batch_down_the_chain_and_back_to_the_gudang():
    steps = [
        ("dispatch", KAB, "transit"),
        ("receive", KEC, "ppk"),
        ("dispatch", KEC, "transit"),
        ("receive", DESA, "pps"),
        ("dispatch", DESA, "transit"),
        ("receive", TPS, "tps"),
        ("dispatch", TPS, "transit"),
        ("receive", KAB, "returned"),
    ]
    for n in range(len(steps)):
        board = MemoryBoard()
        board.apply(history("A", TPS, *[(action, place) for action, place, _ in steps[: n + 1]]))
        for level in ("kabupaten", "kecamatan", "desa", "tps"):
            [row] = board.rows(level)
            where = {
                p: getattr(row, p) for p in ("gudang", "transit", "ppk", "pps", "tps", "returned")
            }
            assert where == {p: int(p == steps[n][2]) for p in where}, (steps[n], level)
            assert row.delivered == int(n >= 5)


def test_a_batch_counts_as_not_delivered_at_the_last_stop_that_received_it():
    expected = [
        "undelivered_gudang",
        "undelivered_ppk",
        "undelivered_ppk",
        "undelivered_pps",
        "undelivered_pps",
        "delivered",
    ]
    for n, column in enumerate(expected):
        board = MemoryBoard()
        board.apply(history("A", TPS, *DOWN[: n + 1]))
        row = board.area(TPS)
        counted = ("undelivered_gudang", "undelivered_ppk", "undelivered_pps", "delivered")
        assert {c: getattr(row, c) for c in counted} == {c: int(c == column) for c in counted}


def test_a_batch_received_at_a_tps_not_its_own_is_not_delivered():
    board = MemoryBoard()
    board.apply(history("A", TPS, ("receive", "3604052001002")))
    row = board.area(TPS)
    assert (row.tps, row.delivered, row.undelivered_pps, row.percent_ready) == (1, 0, 1, 0.0)


def test_a_late_dispatch_scan_does_not_undo_a_receipt():
    events = history("A", TPS, ("receive", KEC), ("dispatch", KAB))
    board = MemoryBoard()
    board.apply(events)
    [row] = board.rows()
    assert (row.planned, row.dispatched, row.received) == (1, 1, 1)


def test_the_memory_board_counts_each_area_apart():
    board = MemoryBoard()
    board.apply(history("A", TPS, ("dispatch", KAB)))
    board.apply(history("B", "3604052002001"))
    board.apply(history("C", "3604092001001", ("dispatch", KAB), ("receive", "36.04.09")))
    rows = {row.area: row for row in board.rows()}
    assert (rows[KEC].planned, rows[KEC].dispatched) == (2, 1)
    assert (rows["36.04.09"].received, rows["36.04.09"].percent_received) == (1, 100.0)
    assert [(r.area, r.planned) for r in board.rows("desa")] == [
        (DESA, 1),
        ("36.04.05.2002", 1),
        ("36.04.09.2001", 1),
    ]
    assert board.area(KAB).planned == 3


def test_open_anomalies_count_in_every_area_of_the_batch():
    board = MemoryBoard()
    board.apply(history("A", TPS, ("dispatch", KAB), ("receive", "36.04.09")))  # wrong kecamatan
    assert {board.area(a).anomalies for a in route_of(TPS)} == {1}
    assert board.area("36.04.09").planned == 0


def test_arrivals_are_counted_per_hour_of_the_first_delivery_at_the_tps():
    board = MemoryBoard()
    board.apply(history("A", TPS, *DOWN))  # received at the TPS at T + 5 h
    board.apply(history("B", TPS, *DOWN, ("dispatch", TPS), ("receive", TPS)))  # twice: once
    board.apply(history("C", TPS, ("receive", DESA)))
    arrived = [("2024-02-01T05", 2)]
    assert board.arrivals_of(KAB) == board.arrivals_of(KEC) == board.arrivals_of(DESA) == arrived
    assert board.arrivals_of(TPS) == []  # kept down to the desa, whose chart shows its TPS


def test_a_delivery_synced_late_moves_its_arrival_to_the_earlier_hour():
    board = MemoryBoard()
    board.apply(history("A", TPS, ("receive", TPS), start=T + timedelta(hours=10)))
    assert board.arrivals_of(KAB) == [("2024-02-01T10", 1)]
    late = history("A", TPS, ("receive", TPS), start=T + timedelta(hours=2))[1]
    late = type(late)(
        **{**msgspec.structs.asdict(late), "scan_id": "late", "originator_version": 3}
    )
    board.apply([late])
    assert board.arrivals_of(KAB) == [("2024-02-01T02", 1)]


DEADLINE = Election(election="pemilu-2024", name="", voting_day=date(2024, 2, 14)).h1_deadline(
    "36.04"
)


def tps_row(gudang: int = 0, ppk: int = 0, pps: int = 0) -> AreaCounts:
    return AreaCounts(area=TPS, undelivered_gudang=gudang, undelivered_ppk=ppk, undelivered_pps=pps)


def test_the_h1_deadline_is_midnight_in_serang_at_the_start_of_voting_day():
    assert datetime(2024, 2, 13, 17, 0, tzinfo=UTC) == DEADLINE


def test_a_tps_with_boxes_still_at_the_gudang_three_days_before_h1_is_at_risk():
    assert not tps_at_risk(tps_row(gudang=1), DEADLINE - timedelta(days=3, minutes=1), DEADLINE)
    assert tps_at_risk(tps_row(gudang=1), DEADLINE - timedelta(days=3), DEADLINE)
    assert not tps_at_risk(tps_row(ppk=1), DEADLINE - timedelta(days=2), DEADLINE)


def test_a_tps_with_boxes_not_yet_at_its_pps_a_day_before_h1_is_at_risk():
    assert tps_at_risk(tps_row(ppk=1), DEADLINE - timedelta(hours=23), DEADLINE)
    assert not tps_at_risk(tps_row(pps=1), DEADLINE - timedelta(hours=23), DEADLINE)


def test_after_h1_a_tps_with_any_box_not_delivered_is_at_risk_and_one_with_all_is_not():
    assert tps_at_risk(tps_row(pps=1), DEADLINE, DEADLINE)
    assert not tps_at_risk(tps_row(), DEADLINE + timedelta(days=1), DEADLINE)


def test_tps_at_risk_are_counted_in_their_desa_or_kecamatan():
    rows = [
        AreaCounts(area="3604052001001", undelivered_gudang=1),
        AreaCounts(area="3604052001002", undelivered_pps=1),
        AreaCounts(area="3604052002001", undelivered_ppk=2),
        AreaCounts(area="3604092001001", undelivered_gudang=1),
    ]
    now = DEADLINE - timedelta(hours=12)
    assert count_at_risk(rows, "kecamatan", now, DEADLINE) == {KEC: 2, "36.04.09": 1}
    assert count_at_risk(rows, "desa", now, DEADLINE) == {
        DESA: 1,
        "36.04.05.2002": 1,
        "36.04.09.2001": 1,
    }


def test_a_tps_counts_in_its_area_at_every_level_from_the_nation_down():
    tps = "3604052001001"
    assert [ancestor_at(tps, level) for level in LEVELS] == [
        "", "36", "36.04", "36.04.05", "36.04.05.2001", tps
    ]  # fmt: skip
    elsewhere = "3673010001002"
    assert count_in([tps, elsewhere], "provinsi") == {"36": 2}
    assert count_in([tps, elsewhere], "kabupaten") == {"36.04": 1, "36.73": 1}
