"""The board's reducer: which columns a batch counts in, per kecamatan."""

from datetime import UTC, datetime

from services.board import BatchLine, MemoryBoard, advance, counter_changes, kecamatan_of
from services.domain import Scan, evolve, record_scan, register

T = datetime(2024, 2, 1, tzinfo=UTC)


def history(label: str, tps: str, *actions: tuple[str, str]):
    events = [
        register(
            label=label, destination=tps, item="kotak_suara", ballot_type="DPR", quantity=306, at=T
        )
    ]
    for n, (action, location) in enumerate(actions):
        batch = evolve(None, events)
        scan = Scan(scan_id=f"{label}-{n}", label=label, action=action, location=location,
                    occurred_at=T)  # fmt: skip
        events += record_scan(batch, scan, at=T)
    return events


def test_a_tps_code_names_its_kecamatan():
    assert kecamatan_of("3604052001001") == "36.04.05"


def test_a_registered_batch_is_planned_in_its_destination_kecamatan():
    [event] = history("A", "3604052001001")
    assert advance(None, event) == BatchLine("36.04.05", "planned")


def test_a_batch_received_once_dispatched_counts_one_more_received_and_nothing_else():
    changes = counter_changes(
        BatchLine("36.04.05", "dispatched", place="transit"),
        BatchLine("36.04.05", "received", place="ppk"),
    )
    assert +changes == {("36.04.05", "received"): 1, ("36.04.05", "ppk"): 1}
    assert changes[("36.04.05", "transit")] == -1


def test_the_board_follows_a_batch_down_the_chain_and_back_to_the_gudang():
    tps = "3604052001001"
    steps = [
        ("dispatch", "36.04", "transit"),
        ("receive", "36.04.05", "ppk"),
        ("dispatch", "36.04.05", "transit"),
        ("receive", "36.04.05.2001", "pps"),
        ("dispatch", "36.04.05.2001", "transit"),
        ("receive", tps, "tps"),
        ("dispatch", tps, "transit"),
        ("receive", "36.04", "returned"),
    ]
    for n in range(len(steps)):
        board = MemoryBoard()
        board.apply(history("A", tps, *[(action, place) for action, place, _ in steps[: n + 1]]))
        [row] = board.rows()
        where = {p: getattr(row, p) for p in ("gudang", "transit", "ppk", "pps", "tps", "returned")}
        assert where == {p: int(p == steps[n][2]) for p in where}, steps[n]


def test_a_late_dispatch_scan_does_not_undo_a_receipt():
    events = history("A", "3604052001001", ("receive", "36.04.05"), ("dispatch", "36.04"))
    board = MemoryBoard()
    board.apply(events)
    [row] = board.rows()
    assert (row.planned, row.dispatched, row.received) == (1, 1, 1)


def test_the_memory_board_counts_each_kecamatan_apart():
    board = MemoryBoard()
    board.apply(history("A", "3604052001001", ("dispatch", "36.04")))
    board.apply(history("B", "3604052001001"))
    board.apply(history("C", "3604092001001", ("dispatch", "36.04"), ("receive", "36.04.09")))
    rows = {row.kecamatan: row for row in board.rows()}
    assert (rows["36.04.05"].planned, rows["36.04.05"].dispatched) == (2, 1)
    assert (rows["36.04.09"].received, rows["36.04.09"].percent_received) == (1, 100.0)
