"""The gudang's decisions and its procurement plan: given events, when a command, then events."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from events.gudang import (
    DeliveryAnnounced,
    DeliveryReceived,
    Mismatch,
    PlannedLine,
    ReceivedLine,
    StockLine,
)
from services import bahasa
from services.custody.batches import retried
from services.custody.errors import ConflictError
from services.custody.plan import ballots_for
from services.gudang.decisions import (
    GudangError,
    Said,
    announce,
    destroy,
    evolve,
    plan,
    receive,
    replay,
    tally,
)
from services.gudang.procurement import procurement_plan, shares
from services.views.gudang import StockRow, added_up
from tests.data import SERANG

T1 = datetime(2024, 1, 10, 3, tzinfo=UTC)
T2 = datetime(2024, 1, 10, 6, tzinfo=UTC)
ID = uuid4()
DPR = StockLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=1000)
BILIK = StockLine(item="bilik_suara", quantity=40)
PLAN = [
    PlannedLine(
        item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=900, reserve=100
    ),
    PlannedLine(item="bilik_suara", quantity=40),
]


def said(command: str) -> Said:
    return Said(command_id=command, occurred_at=T1)


def announced(*lines: StockLine):
    """A gudang with its plan and the notice of delivery T2 (these lines)."""
    gudang = replay(ID, "36.04", [])
    for event in plan(gudang, "pemilu-2024", PLAN, said("p"), T1):
        evolve(gudang, event)
    notice = announce(
        gudang,
        delivery="T2",
        stage=2,
        supplier="Penyedia",
        expected_on=date(2024, 1, 10),
        lines=list(lines),
        said=said("n"),
        at=T1,
    )
    for event in notice:
        evolve(gudang, event)
    return gudang


def received(gudang, *lines: ReceivedLine, command: str = "r", delivery: str = "T2"):
    return receive(
        gudang,
        delivery=delivery,
        lines=list(lines),
        courier="Kurir",
        officer="Petugas",
        witness="Bawaslu",
        said=said(command),
        at=T2,
    )


def counted(line: StockLine, quantity: int, damaged: int = 0) -> ReceivedLine:
    return ReceivedLine(
        item=line.item,
        ballot_type=line.ballot_type,
        dapil=line.dapil,
        quantity=quantity,
        damaged=damaged,
    )


def test_a_delivery_counted_as_announced_is_received_with_nothing_flagged():
    gudang = announced(DPR, BILIK)
    [event] = received(gudang, counted(DPR, 1000), counted(BILIK, 40))
    assert isinstance(event, DeliveryReceived)
    assert event.mismatches == []
    assert (event.originator_version, event.recorded_at, event.occurred_at) == (3, T2, T1)


def test_a_short_delivery_is_recorded_and_flagged_not_refused():
    [event] = received(announced(DPR, BILIK), counted(DPR, 800), counted(BILIK, 40))
    assert event.lines[0].quantity == 800
    assert event.mismatches == [
        Mismatch(
            kind="kurang",
            item="surat_suara",
            ballot_type="DPR",
            dapil="BANTEN II",
            expected=1000,
            counted=800,
        )
    ]


def test_ballots_of_another_dapil_are_flagged_tertukar_and_the_missing_ones_short():
    other = StockLine(item="surat_suara", ballot_type="DPR", dapil="JAWA BARAT I", quantity=1000)
    [event] = received(announced(DPR), counted(other, 1000))
    assert [(m.kind, m.dapil, m.expected, m.counted) for m in event.mismatches] == [
        ("kurang", "BANTEN II", 1000, 0),
        ("tertukar", "JAWA BARAT I", 0, 1000),
    ]


def test_damaged_sheets_on_arrival_and_an_over_delivery_are_flagged():
    [event] = received(announced(DPR, BILIK), counted(DPR, 1000, damaged=12), counted(BILIK, 44))
    assert [(m.kind, m.item, m.expected, m.counted) for m in event.mismatches] == [
        ("lebih", "bilik_suara", 40, 44),
        ("rusak", "surat_suara", 0, 12),
    ]


def test_a_delivery_without_a_notice_is_received_and_flagged_as_such():
    [event] = received(announced(DPR), counted(BILIK, 40), delivery="T9")
    assert [(m.kind, m.item) for m in event.mismatches] == [("tidak_diberitahukan", "bilik_suara")]


def test_a_command_sent_again_records_nothing_and_a_second_count_is_refused():
    gudang = announced(DPR)
    for event in received(gudang, counted(DPR, 1000)):
        evolve(gudang, event)
    assert received(gudang, counted(DPR, 1000)) == []  # the same command id: a retry
    with pytest.raises(GudangError, match="sudah diterima"):
        received(gudang, counted(DPR, 1000), command="r2")


def test_a_notice_id_is_the_gudangs_once_and_a_replacement_names_a_known_request():
    gudang = announced(DPR)
    with pytest.raises(GudangError, match="sudah diberitahukan"):
        announce(
            gudang,
            delivery="T2",
            stage=3,
            supplier="Penyedia",
            expected_on=date(2024, 1, 11),
            lines=[DPR],
            said=said("n2"),
            at=T2,
        )
    with pytest.raises(GudangError, match="tidak dikenal"):
        announce(
            gudang,
            delivery="T4",
            stage=4,
            supplier="Penyedia",
            expected_on=date(2024, 1, 11),
            lines=[DPR],
            said=said("n3"),
            at=T2,
            replaces="PG-9",
        )


def test_destruction_needs_a_witness_besides_the_officer():
    gudang = announced(DPR)
    with pytest.raises(GudangError, match="saksi"):
        destroy(
            gudang,
            record="BA-1",
            lines=[DPR],
            officer="Ketua",
            witnesses=[" "],
            said=said("d"),
            at=T2,
        )
    [event] = destroy(
        gudang,
        record="BA-1",
        lines=[DPR],
        officer="Ketua",
        witnesses=["Bawaslu"],
        said=said("d"),
        at=T2,
    )
    assert event.witnesses == ["Bawaslu"]


def test_a_tally_keeps_only_the_causes_that_happened_and_refuses_an_empty_count():
    gudang = announced(DPR)
    common = {"session": "H-30 pagi", "team": "Tim 1", "ballot_type": "DPR", "dapil": "BANTEN II"}
    [event] = tally(
        gudang, **common, sorted_sheets=480, damaged={"sobek": 3, "basah": 0}, said=said("t"), at=T2
    )
    assert (event.sorted, event.damaged) == (480, {"sobek": 3})
    with pytest.raises(GudangError):
        tally(gudang, **common, sorted_sheets=0, damaged={}, said=said("t2"), at=T2)


def test_the_procurement_plan_is_dpt_plus_two_percent_per_tps_and_the_psu_reserve_apart():
    lines = procurement_plan(SERANG)
    ballots = [line for line in lines if line.item == "surat_suara"]
    per_type = {t: sum(x.quantity for x in ballots if x.ballot_type == t) for t in ("PPWP", "DPR")}
    assert per_type["PPWP"] == per_type["DPR"] == sum(ballots_for(t.dpt) for t in SERANG.tps)
    for ballot_type in ("PPWP", "DPR", "DPD", "DPRD_PROV", "DPRD_KAB"):
        assert sum(x.reserve for x in ballots if x.ballot_type == ballot_type) == 1000
    kit = {line.item: line.quantity for line in lines if line.item != "surat_suara"}
    assert kit["kotak_suara"] == 5 * len(SERANG.tps)
    assert kit["bilik_suara"] == 4 * len(SERANG.tps)
    assert kit["tinta"] == 2 * len(SERANG.tps)
    dapil = {x.dapil for x in ballots if x.ballot_type == "DPRD_KAB"}
    assert dapil == {t.dapil_dprd_kab for t in SERANG.tps}


def test_shares_add_up_to_the_whole_whatever_the_weights():
    assert shares(1000, {"a": 1, "b": 1, "c": 1}) == {"a": 334, "b": 333, "c": 333}
    assert sum(shares(1000, {"a": 7, "b": 0, "c": 13}).values()) == 1000
    assert shares(10, {"a": 0, "b": 0}) == {"a": 5, "b": 5}


def test_a_notice_is_on_the_record_with_its_stage_and_lines():
    gudang = announced(DPR)
    notice = gudang.notices["T2"]
    assert isinstance(notice, DeliveryAnnounced)
    assert (notice.stage, notice.lines, notice.originator_version) == (2, [DPR], 2)


def test_a_provinces_row_is_ready_only_if_every_kabupatens_dapil_is():
    def kind(dapil: str, received: int, packed: int = 0) -> StockRow:
        return StockRow(
            item="surat_suara", ballot_type="DPRD_KAB", dapil=dapil, planned=100, need=100,
            received=received, packed=packed,
        )  # fmt: skip

    [row] = added_up([kind("A", 300), kind("B", 50)])
    assert (row.received, row.need, row.parts, row.parts_ready) == (350, 200, 2, 1)
    assert not row.ready  # A's surplus does not cover B's lack
    [row] = added_up([kind("A", 300, packed=100), kind("B", 50, packed=60)])
    assert row.over_packed and row.parts_over == 1 and row.in_stock == 190


def test_the_psu_reserve_is_kept_out_of_what_packing_may_take():
    def ballots(received: int) -> StockRow:
        return StockRow(
            item="surat_suara", ballot_type="PPWP", dapil="", planned=1000, reserve=100,
            need=1000, received=received,
        )  # fmt: skip

    assert not ballots(1099).ready and ballots(1099).usable == 999
    assert ballots(1100).ready


def test_ballots_out_of_the_plan_are_tertukar_even_when_the_notice_named_them():
    other = StockLine(item="surat_suara", ballot_type="DPR", dapil="JAWA BARAT I", quantity=1000)
    [event] = received(announced(other), counted(other, 1000))
    assert [(m.kind, m.dapil) for m in event.mismatches] == [("tertukar", "JAWA BARAT I")]


@pytest.mark.parametrize(
    "item, ballot_type, dapil",
    [
        ("surat_suara", "", ""),  # ballots of no type
        ("surat_suara", "DPR", ""),  # DPR ballots of no dapil
        ("surat_suara", "PPWP", "BANTEN II"),  # PPWP is the same everywhere
        ("bilik_suara", "DPR", ""),  # a booth has no ballot type
    ],
)
def test_a_kind_that_cannot_be_is_refused(item, ballot_type, dapil):
    line = StockLine(item=item, ballot_type=ballot_type, dapil=dapil, quantity=5)
    with pytest.raises(GudangError, match="Jenis barang tidak mungkin"):
        announced(line)


def test_a_command_another_writer_keeps_beating_is_retried_then_refused_by_name():
    """Saved again after each conflict; after the last, a 409 that names the gudang, not a box."""
    tries: list[int] = []

    def beaten_twice() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise IntegrityError("another process saved first")
        return "saved"

    assert retried(beaten_twice, "36.04", bahasa.GUDANG_BUSY) == "saved" and len(tries) == 3

    def always_beaten() -> str:
        raise IntegrityError("another process saved first")

    with pytest.raises(ConflictError, match=r"Gudang 36\.04 sedang dicatat"):
        retried(always_beaten, "36.04", bahasa.GUDANG_BUSY)
