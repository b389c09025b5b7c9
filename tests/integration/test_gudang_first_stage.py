"""A whole kabupaten's first stage, on SQLite and PostgreSQL: the plan, deliveries in three stages
(one short, one with another dapil's ballots), the sortir-lipat with damaged sheets, their
replacement and destruction, kotak assembled, packing past the stock; the gudang view equals a
count taken straight from the event store."""

import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import msgspec

from events.gudang import (
    BoxesAssembled,
    DeliveryAnnounced,
    DeliveryReceived,
    ProcurementPlanned,
    ReceivedLine,
    ReplacementRequested,
    SheetsDestroyed,
    SortingTallied,
    StockLine,
)
from services.audit.replay import replay_gudang
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan, register_plan
from services.gudang.application import Gudangs
from services.gudang.decisions import Said
from services.gudang.procurement import procurement_plan
from services.store.notifications import read_store
from services.views.database import open_views
from services.views.eventlog import EventLogView, LogFilter
from services.views.gudang import GudangView
from tests.data import SERANG

START = datetime(2024, 1, 1, 2, tzinfo=UTC)
SHORT = ("surat_suara", "DPRD_KAB", "SERANG 6")  # tahap 3 brings only 500 of its sheets
OTHER = ("surat_suara", "DPR", "JAWA BARAT I")  # tahap 2 brings 2,000 of another province's


def said(name: str, day: int) -> Said:
    return Said(command_id=name, occurred_at=START + timedelta(days=day))


def key(line) -> tuple[str, str, str]:
    return (line.item, line.ballot_type, line.dapil)


def run_first_stage(gudangs: Gudangs) -> None:
    plan = procurement_plan(SERANG)
    gudangs.plan("36.04", plan, said("plan", 0))
    whole = [
        StockLine(
            item=p.item, ballot_type=p.ballot_type, dapil=p.dapil, quantity=p.quantity + p.reserve
        )
        for p in plan
    ]
    gudangs.contract("36.04", "Penyedia", "SP-1/2024", whole, said("contract", 1))
    stages = {
        1: [line for line in whole if line.item != "surat_suara"],
        2: [line for line in whole if line.ballot_type in ("PPWP", "DPR", "DPD")],
        3: [line for line in whole if line.ballot_type.startswith("DPRD")],
    }
    for stage, lines in stages.items():
        gudangs.announce(
            "36.04",
            said(f"notice-{stage}", stage * 5),
            delivery=f"T{stage}",
            stage=stage,
            supplier="Penyedia",
            expected_on=date(2024, 1, 1 + stage * 5),
            lines=lines,
        )
        counted = [
            ReceivedLine(
                item=line.item,
                ballot_type=line.ballot_type,
                dapil=line.dapil,
                quantity=500 if key(line) == SHORT else line.quantity,
            )
            for line in lines
        ]
        if stage == 2:
            counted.append(
                ReceivedLine(
                    item="surat_suara", ballot_type="DPR", dapil="JAWA BARAT I", quantity=2000
                )
            )
        answer = gudangs.receive(
            "36.04",
            said(f"receipt-{stage}", stage * 5 + 1),
            delivery=f"T{stage}",
            lines=counted,
            courier="Kurir",
            officer="Petugas",
            witness="Bawaslu",
        )
        kinds = {(m.kind, m.dapil) for m in answer.mismatches}
        assert (
            kinds
            == {1: set(), 2: {("tertukar", "JAWA BARAT I")}, 3: {("kurang", "SERANG 6")}}[stage]
        )
    for n, (team, bad) in enumerate(
        [("Tim 1", {"sobek": 40}), ("Tim 2", {"noda_tinta": 27, "salah_cetak": 3})]
    ):
        gudangs.tally(
            "36.04",
            said(f"tally-{n}", 12),
            session="H-30 pagi",
            team=team,
            ballot_type="DPR",
            dapil="BANTEN II",
            sorted_sheets=300_000,
            damaged=bad,
        )
    broken = [StockLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=70)]
    gudangs.request_replacement("36.04", "PG-1", broken, "sortir", said("request", 13))
    gudangs.announce(
        "36.04",
        said("notice-4", 14),
        delivery="T4",
        stage=4,
        supplier="Penyedia",
        expected_on=date(2024, 1, 16),
        lines=broken,
        replaces="PG-1",
    )
    gudangs.receive(
        "36.04",
        said("receipt-4", 15),
        delivery="T4",
        lines=[ReceivedLine(item="surat_suara", ballot_type="DPR", dapil="BANTEN II", quantity=70)],
        courier="Kurir",
        officer="Petugas",
    )
    gudangs.destroy(
        "36.04",
        said("destroy", 16),
        record="BA-1",
        lines=broken,
        officer="Ketua",
        witnesses=["Bawaslu"],
    )
    gudangs.assemble("36.04", "Tim rakit", 5000, said("assemble", 17))


def test_a_kabupatens_first_stage_and_the_gudang_view_equal_to_the_event_store(settings):
    batches = Batches(settings.store, wilayah=SERANG)
    register_plan(batches, SERANG)
    gudangs = Gudangs(batches, settings.election)
    run_first_stage(gudangs)
    run_first_stage(gudangs)  # every command sent again (the same ids): recorded once
    # Packing: three kotak of the short dapil (past its 500 sheets), two of PPWP.
    boxes = [p for p in kit_plan(SERANG) if (p.ballot_type, p.dapil) == ("DPRD_KAB", "SERANG 6")][
        :3
    ]
    boxes += [p for p in kit_plan(SERANG) if p.ballot_type == "PPWP"][:3]

    def pack(box, scan_id: str, quantity: int) -> int:
        answer = batches.scan(
            Scan(
                scan_id=scan_id,
                label=box.label,
                action="pack",
                location="36.04",
                occurred_at=START + timedelta(days=20),
                quantity=quantity,
            )
        )
        return answer.version

    for n, box in enumerate(boxes):
        pack(box, f"pack-{n}", box.quantity)
    # A PPWP box repacked short, and the repack voided: its first count stands again; another
    # withdrawn (wet) after it was packed: its sheets are gone, and packing needs it no more.
    repacked, wet = boxes[3], boxes[4]
    batches.void_scan(
        repacked.label, pack(repacked, "repack", repacked.quantity - 10), "salah", "Ani"
    )
    batches.void_batch(wet.label, "basah", "Ani")
    views = open_views(settings)
    view = GudangView(views)
    view.setup()
    notifications = [(n, view.decode(state)) for n, state in read_store(settings)]
    changed = view.apply(notifications, len(notifications))
    assert {"36.04", "36", ""} <= set(changed.areas)
    events = [event for _, event in notifications]

    # The count straight from the event store, each kind by its own rule.
    expected: dict[tuple[str, str, str], Counter[str]] = {}

    def add(k: tuple[str, str, str], column: str, n: int) -> None:
        expected.setdefault(k, Counter())[column] += n

    replacements = {e.delivery for e in events if isinstance(e, DeliveryAnnounced) and e.replaces}
    registered = {}
    packs: dict[str, list[tuple[int, int]]] = {}
    withdrawn: set[str] = set()
    for event in events:
        match event:
            case ProcurementPlanned():
                for line in event.lines:
                    add(key(line), "planned", line.quantity)
                    add(key(line), "reserve", line.reserve)
            case DeliveryAnnounced():
                for line in event.lines:
                    add(key(line), "announced", line.quantity)
            case DeliveryReceived():
                column = "replaced" if event.delivery in replacements else "received"
                for line in event.lines:
                    add(key(line), column, line.quantity)
                    add(key(line), "damaged", line.damaged)
            case SortingTallied():
                k = ("surat_suara", event.ballot_type, event.dapil)
                add(k, "sorted", event.sorted)
                add(k, "damaged", sum(event.damaged.values()))
            case ReplacementRequested():
                for line in event.lines:
                    add(key(line), "requested", line.quantity)
            case SheetsDestroyed():
                for line in event.lines:
                    add(key(line), "destroyed", line.quantity)
            case BoxesAssembled():
                add(("kotak_suara", "", ""), "assembled", event.count)
            case _ if type(event).__name__ == "BatchRegistered":
                registered[event.label] = event
                inner = (
                    ("surat_suara", event.ballot_type, event.dapil)
                    if event.item == "kotak_suara"
                    else (event.item, "", "")
                )
                add(inner, "need", event.quantity)
                if event.item == "kotak_suara":
                    add(("kotak_suara", "", ""), "need", 1)
            case _ if type(event).__name__ == "BatchPacked":
                packs.setdefault(event.label, []).append((event.originator_version, event.quantity))
            case _ if type(event).__name__ == "ScanVoided":
                packs[event.label] = [p for p in packs.get(event.label, []) if p[0] != event.voids]
            case _ if type(event).__name__ == "BatchVoided":
                withdrawn.add(event.label)
                batch = registered[event.label]
                add(("surat_suara", batch.ballot_type, batch.dapil), "need", -batch.quantity)
                add(("kotak_suara", "", ""), "need", -1)
    for label, kept in packs.items():  # the last pack standing counts
        batch, sheets = registered[label], kept[-1][1] if kept else 0
        column = "withdrawn" if label in withdrawn else "packed"
        add(("surat_suara", batch.ballot_type, batch.dapil), column, sheets)
        add(("kotak_suara", "", ""), column, 1 if sheets else 0)
    rows = {key(row): row for row in view.stock("36.04")}
    assert set(rows) == set(expected)
    for k, counts in expected.items():
        shown = msgspec.structs.asdict(rows[k])
        assert {c: shown[c] for c in counts} == dict(counts), k
    # The province and the nation add their kabupaten up: here, only this one.
    assert view.stock("36") == view.stock("") == view.stock("36.04")

    short, dpr = rows[SHORT], rows[("surat_suara", "DPR", "BANTEN II")]
    assert (
        short.over_packed
        and not short.ready
        and short.in_stock == 500 - sum(b.quantity for b in boxes[:3])
    )
    assert rows[OTHER].received == 2000 and rows[OTHER].planned == 0
    assert (dpr.damaged, dpr.requested, dpr.replaced, dpr.destroyed) == (70, 70, 70, 70)
    assert dpr.awaiting_replacement == dpr.unreported == dpr.to_destroy == 0
    assert rows[("bilik_suara", "", "")].ready
    ppwp = rows[("surat_suara", "PPWP", "")]
    assert ppwp.packed == repacked.quantity + boxes[5].quantity  # the repack voided
    assert ppwp.withdrawn == wet.quantity and ppwp.need == ppwp.planned - wet.quantity
    assert ppwp.to_pack == ppwp.need - ppwp.packed  # the wet box needs packing no more
    assert rows[("kotak_suara", "", "")].withdrawn == 1
    [contract] = view.contracts("36")
    assert (contract.supplier, contract.contract, contract.kinds) == ("Penyedia", "SP-1/2024", 16)
    flagged = {d.delivery: d.mismatches for d in view.deliveries("36.04")}
    assert flagged == {"T1": "", "T2": "tertukar", "T3": "kurang", "T4": ""}
    assert sum(day.sorted for day in view.sorting("36.04")) == 600_000
    # On the event log too, found by the kabupaten or the province, with what was flagged.
    log = EventLogView(views, SERANG)
    log.setup()
    log.apply(notifications, len(notifications))
    for area in ("36.04", "36"):
        receipts = log.page(LogFilter(kecamatan=area, event="DeliveryReceived"))
        assert [row.label for row in receipts] == ["T4", "T3", "T2", "T1"]
    assert "selisih: kurang" in receipts[1].summary and receipts[1].officer == "Petugas"
    assert log.page(LogFilter(kecamatan="36.73", event="DeliveryReceived")) == []
    # Time travel: the view replayed from the store to the end is the live one; to the moment
    # before tahap 3 was counted in, it has no tahap 3.
    with tempfile.TemporaryDirectory() as folder:
        then, moment = replay_gudang(settings, Path(folder), "36.04")
        assert moment.position == notifications[-1][0]
        assert {key(row): row for row in then.stock("36")} == rows
        then.db.close()
    third = next(
        p for p, e in notifications if isinstance(e, DeliveryReceived) and e.delivery == "T3"
    )
    with tempfile.TemporaryDirectory() as folder:
        then, moment = replay_gudang(settings, Path(folder), "36.04", until_position=third - 1)
        assert [d.received is None for d in then.deliveries("36.04")] == [False, False, True]
        assert {key(row): row for row in then.stock("36.04")}[SHORT].received == 0
        then.db.close()
    # Applied again (a redelivery), nothing changes.
    view.apply(notifications, len(notifications))
    assert {key(row): row for row in view.stock("36.04")} == rows
    views.close()
    batches.close()


def test_commands_from_two_processes_at_once_are_each_recorded_once(settings):
    """Two web processes (two applications on one store), four threads each, forty tallies:
    a version taken by the other is decided again, nothing is lost or counted twice."""
    stores = [Batches(settings.store, wilayah=SERANG) for _ in range(2)]
    gudangs = [Gudangs(store, settings.election) for store in stores]

    def count(n: int) -> None:
        gudangs[n % 2].tally(
            "36.04",
            said(f"tally-{n}", 1),
            session="pagi",
            team=f"Tim {n}",
            ballot_type="DPR",
            dapil="BANTEN II",
            sorted_sheets=100,
            damaged={},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(count, range(40)))
    history = gudangs[0].history("36.04")
    assert [e.originator_version for e in history] == list(range(1, 41))
    assert sorted(e.command_id for e in history) == sorted(f"tally-{n}" for n in range(40))
    for store in stores:
        store.close()
