"""Lacak's events as EPCIS 2.0 events: what, when, where, why, and the errors declared on them."""

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

from jsonschema import Draft7Validator

import events
from events import MasterDataImported
from events.gudang import ReceivedLine, StockLine
from services.audit.epcis import (
    NAMESPACES,
    ExportFilter,
    declared_errors,
    document_chunks,
    export_document,
    exported_events,
    to_epcis,
)
from services.audit.epcis_hash import event_hash_id
from services.custody.batch import Batch, Scan, evolve
from services.custody.decisions import correct_scan, record_scan, register, void_scan
from services.custody.labels import make_label
from services.gudang.decisions import (
    Said,
    announce,
    assemble,
    destroy,
    receive,
    replay,
    tally,
)
from services.gudang.decisions import evolve as evolve_gudang
from tests.gs1 import gs1_file

SCHEMA = json.loads(gs1_file("EPCIS-JSON-Schema.json").read_text())
LABEL = make_label("36.04", 8)
TPS = "3604052001001"  # Kramatwatu (36.04.05), desa 36.04.05.2001
WIB = timezone(timedelta(hours=7))
T = datetime(2024, 2, 10, 8, tzinfo=WIB)
RECORDED = datetime(2024, 2, 10, 1, 0, 5, tzinfo=UTC)


def scan(scan_id: str, action: str, location: str, minute: int, **details) -> Scan:
    return Scan(
        scan_id=scan_id,
        label=LABEL,
        action=action,
        location=location,
        occurred_at=T + timedelta(minutes=minute),
        **details,
    )


def history(*steps: Scan) -> tuple[Batch, list[events.Event]]:
    recorded: list[events.Event] = [
        register(
            label=LABEL,
            destination=TPS,
            item="kotak_suara",
            ballot_type="DPR",
            quantity=306,
            dapil="BANTEN II",
            at=RECORDED,
        )
    ]
    batch = evolve(None, recorded)
    for step in steps:
        new = record_scan(batch, step, at=RECORDED)
        recorded += new
        batch = evolve(batch, new)
    return batch, recorded


def stored(recorded: list[events.Event]) -> list[tuple[int, bytes]]:
    return [(n, events.encode(e)) for n, e in enumerate(recorded, 1)]


DISPATCH = scan(
    "D",
    "dispatch",
    "36.04",
    1,
    to="36.04.05",
    surat_jalan="SJ-360405",
    vehicle="A 1234 BC",
    driver="Asep",
    officer="Rina",
)


def test_a_dispatch_is_a_shipping_object_event_in_transit_from_the_gudang_to_the_kecamatan():
    _, [_, dispatched] = history(DISPATCH)
    assert to_epcis(dispatched) == {
        "type": "ObjectEvent",
        "eventTime": "2024-02-10T08:01:00+07:00",
        "recordTime": "2024-02-10T01:00:05+00:00",
        "eventTimeZoneOffset": "+07:00",
        "epcList": [f"urn:lacak:batch:{LABEL}"],
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "readPoint": {"id": "urn:lacak:wilayah:36.04"},
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": "urn:lacak:surat-jalan:SJ-360405"}
        ],
        "destinationList": [{"type": "location", "destination": "urn:lacak:wilayah:36.04.05"}],
        "lacak:version": 2,
        "lacak:scanId": "D",
        "lacak:vehicle": "A 1234 BC",
        "lacak:driver": "Asep",
        "lacak:officer": "Rina",
    }


def test_packing_is_an_aggregation_of_the_counted_ballots_of_their_dapil_into_the_box():
    _, [_, packed] = history(scan("P", "pack", "36.04", 0, quantity=306, dapil="BANTEN II"))
    mapped = to_epcis(packed)
    assert mapped is not None
    assert mapped["type"] == "AggregationEvent"
    assert mapped["parentID"] == f"urn:lacak:batch:{LABEL}"
    assert mapped["childQuantityList"] == [
        {"epcClass": "urn:lacak:surat-suara:BANTEN%20II", "quantity": 306}
    ]
    assert (mapped["action"], mapped["bizStep"]) == ("ADD", "packing")
    assert "lacak:corrects" not in mapped  # only a correction names what it corrects


def test_a_receipt_says_what_was_found_as_its_disposition():
    def disposition(**found) -> str:
        _, recorded = history(DISPATCH, scan("R", "receive", "36.04.05", 2, **found))
        receipt = next(e for e in recorded if isinstance(e, events.BatchReceived))
        mapped = to_epcis(receipt)
        assert mapped is not None and mapped["bizStep"] == "receiving"
        return mapped["disposition"]

    assert disposition(condition="baik", counted=306) == "in_progress"
    assert disposition(condition="basah", reasons=["basah"]) == "damaged"
    assert disposition(counted=300, reasons=["kurang"]) == "mismatch_quantity"
    assert disposition(reasons=["tertukar"]) == "mismatch_class"
    assert disposition(seals=[], reasons=["segel_rusak"]) == "non_conformant"


def test_seals_found_none_is_kept_apart_from_seals_not_checked():
    _, recorded = history(DISPATCH, scan("R", "receive", "36.04.05", 2, seals=[]))
    receipt = to_epcis(next(e for e in recorded if isinstance(e, events.BatchReceived)))
    assert receipt is not None and receipt["lacak:sealsFoundCount"] == 0
    _, recorded = history(DISPATCH, scan("R", "receive", "36.04.05", 2))
    receipt = to_epcis(next(e for e in recorded if isinstance(e, events.BatchReceived)))
    assert receipt is not None and "lacak:sealsFoundCount" not in receipt


def test_an_anomaly_is_an_inspection_with_what_was_expected_and_what_was_found():
    _, recorded = history(DISPATCH, scan("R", "receive", "36.04.05", 2, counted=300))
    [short] = [e for e in recorded if isinstance(e, events.AnomalyRaised)]
    mapped = to_epcis(short)
    assert mapped is not None
    assert (mapped["bizStep"], mapped["disposition"]) == ("inspecting", "mismatch_quantity")
    assert (mapped["lacak:expected"], mapped["lacak:found"]) == ("306", "300")
    assert "readPoint" not in mapped  # a count, not a place


def test_master_data_and_the_voids_themselves_are_not_custody_events():
    master = MasterDataImported(
        originator_id=uuid4(),
        originator_version=1,
        kabupaten="36.04",
        occurred_at=T,
        recorded_at=T,
        election="pemilu-2024",
        kabupaten_name="Kabupaten Serang",
        file_name="tps.csv",
        file_sha256="0" * 64,
        imported_by="Rina",
        kecamatan_count=29,
        desa_count=326,
        tps_count=4425,
        dpt_total=1226201,
    )
    batch, _ = history(DISPATCH)
    [void] = void_scan(batch, 2, "kotak lain", "Agus", RECORDED)
    assert to_epcis(master) is None
    assert to_epcis(void) is None


def test_a_corrected_scan_carries_an_error_declaration_naming_its_correction():
    batch, recorded = history(DISPATCH)
    right = scan("D2", "dispatch", "36.04", 1, to="36.04.06", surat_jalan="SJ-360406")
    recorded += correct_scan(batch, 2, right, "tujuan salah", "Agus", RECORDED)
    exported = list(
        exported_events(stored(recorded), ExportFilter(), declared_errors(stored(recorded)))
    )

    wrong, corrective = (e for e in exported if e.get("bizStep") == "shipping")
    assert wrong["errorDeclaration"] == {
        "declarationTime": "2024-02-10T01:00:05+00:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [corrective["eventID"]],
        "lacak:reason": "tujuan salah",
        "lacak:by": "Agus",
    }
    assert corrective["lacak:corrects"] == 2
    assert "errorDeclaration" not in corrective
    assert len(exported) == len(recorded) - 1  # the void is the declaration, not an event


def test_a_declared_error_leaves_the_event_id_as_it_was():
    batch, recorded = history(DISPATCH)
    before = next(e for e in exported_events(stored(recorded), ExportFilter(), {}))
    recorded += void_scan(batch, 2, "kotak lain", "Agus", RECORDED)
    after = list(
        exported_events(stored(recorded), ExportFilter(), declared_errors(stored(recorded)))
    )
    assert (
        after[1]["eventID"]
        == list(exported_events(stored(recorded), ExportFilter(), {}))[1]["eventID"]
    )
    assert after[1]["errorDeclaration"]["reason"] == "did_not_occur"
    assert before["eventID"] == after[0]["eventID"]


def test_every_event_id_is_the_hash_of_the_event_as_exported():
    _, recorded = history(DISPATCH, scan("R", "receive", "36.04.05", 2, counted=306))
    for exported in exported_events(stored(recorded), ExportFilter(), {}):
        content = {k: v for k, v in exported.items() if k != "eventID"}
        assert exported["eventID"] == event_hash_id(content, NAMESPACES)


def test_the_filter_takes_a_time_range_a_kecamatan_and_a_position_range():
    _, recorded = history(
        DISPATCH,
        scan("R", "receive", "36.04.05", 2),
        scan("S", "dispatch", "36.04.05", 3, to="36.04.05.2001"),
    )
    rows = stored(recorded)

    def versions(only: ExportFilter) -> list[int]:
        return [e["lacak:version"] for e in exported_events(rows, only, {})]

    everything = versions(ExportFilter())
    assert everything == [1, 2, 3, 4]
    assert versions(ExportFilter(since=T + timedelta(minutes=2))) == [3, 4]
    assert versions(ExportFilter(until=T + timedelta(minutes=2))) == [1, 2]
    assert versions(ExportFilter(kecamatan=frozenset({"36.04.05"}))) == everything
    assert versions(ExportFilter(kecamatan=frozenset({"36.04.06"}))) == []
    assert versions(ExportFilter(first_position=2, last_position=3)) == [2, 3]


def test_the_streamed_document_is_one_epcis_document_that_gs1s_schema_accepts():
    batch, recorded = history(
        scan("P", "pack", "36.04", 0, quantity=306, dapil="BANTEN II"),
        scan("L", "seal", "36.04", 0, seals=["S1", "S2"]),
        DISPATCH,
        scan("R", "receive", "36.04.05", 2, counted=300, reasons=["kurang"], seals=["S1"]),
    )
    recorded += void_scan(batch, batch.scans["R"].version, "salah hitung", "Agus", RECORDED)
    created = datetime(2024, 2, 11, tzinfo=UTC)
    chunks = list(export_document(lambda _: stored(recorded), ExportFilter(), created))
    document = json.loads(b"".join(chunks))

    assert Draft7Validator(SCHEMA).is_valid(document)
    assert document["type"] == "EPCISDocument" and document["schemaVersion"] == "2.0"
    assert document["@context"][1] == {"lacak": "https://lacak.example/epcis/"}
    assert len(document["epcisBody"]["eventList"]) == len(recorded) - 1
    small_chunks = list(document_chunks(iter(document["epcisBody"]["eventList"]), created, 2))
    assert json.loads(b"".join(small_chunks)) == document


def test_the_gudangs_work_is_receiving_inspecting_destroying_and_assembling_by_class():
    gudang = replay(uuid4(), "36.04", [])
    recorded: list[events.Event] = []

    def record(new: list) -> None:
        for event in new:
            evolve_gudang(gudang, event)
        recorded.extend(new)

    def said() -> Said:
        return Said(command_id=f"c{len(recorded)}", occurred_at=T)

    dpr = {"item": "surat_suara", "ballot_type": "DPR", "dapil": "BANTEN II"}
    notice = {"delivery": "T2", "stage": 2, "supplier": "P", "expected_on": T.date()}
    people = {"courier": "Kurir", "officer": "Petugas", "witness": "Bawaslu"}
    record(
        announce(
            gudang, **notice, lines=[StockLine(**dpr, quantity=1000)], said=said(), at=RECORDED
        )
    )
    counted = [ReceivedLine(**dpr, quantity=900, damaged=4)]
    record(
        receive(
            gudang,
            delivery="T2",
            lines=counted,
            **people,
            surat_jalan="SJ-9",
            said=said(),
            at=RECORDED,
        )
    )
    count = {"session": "pagi", "team": "Tim 1", "ballot_type": "DPR", "dapil": "BANTEN II"}
    record(
        tally(gudang, **count, sorted_sheets=880, damaged={"sobek": 16}, said=said(), at=RECORDED)
    )
    burnt = [StockLine(**dpr, quantity=20)]
    record(
        destroy(
            gudang,
            record="BA-1",
            lines=burnt,
            officer="Ketua",
            witnesses=["Bawaslu"],
            said=said(),
            at=RECORDED,
        )
    )
    record(assemble(gudang, "Tim rakit", 50, said(), RECORDED))

    exported = list(exported_events(stored(recorded), ExportFilter(), {}))
    steps = [(e["bizStep"], e["action"], e.get("disposition")) for e in exported]
    assert steps == [  # the notice is not an observation of goods
        ("receiving", "OBSERVE", "damaged"),  # damaged before short, as a scan's receipt
        ("inspecting", "OBSERVE", None),
        ("destroying", "DELETE", "destroyed"),
        ("assembling", "OBSERVE", None),
    ]
    dpr_class = "urn:lacak:barang:surat_suara:DPR:BANTEN%20II"
    assert exported[0]["quantityList"] == [{"epcClass": dpr_class, "quantity": 900}]
    assert exported[0]["lacak:mismatches"] == ["kurang", "rusak"]
    assert exported[0]["bizLocation"] == {"id": "urn:lacak:wilayah:36.04"}
    assert exported[1]["quantityList"][0]["quantity"] == 896 and exported[1]["lacak:good"] == 880
    for event in exported:
        content = {k: v for k, v in event.items() if k != "eventID"}
        assert event["eventID"] == event_hash_id(content, NAMESPACES)
    elsewhere = ExportFilter(kecamatan=frozenset({"36.73"}))
    assert list(exported_events(stored(recorded), elsewhere, {})) == []
    created = datetime(2024, 2, 11, tzinfo=UTC)
    document = json.loads(b"".join(document_chunks(iter(exported), created)))
    assert Draft7Validator(SCHEMA).is_valid(document)


def test_a_finding_and_its_answers_are_inspections_without_the_citizens_contact():
    from services.findings.decisions import Said as FindingSaid
    from services.findings.decisions import answer, close, file
    from services.findings.decisions import evolve as evolve_finding
    from services.findings.decisions import replay as replay_finding

    finding = replay_finding("LP-3604-1", [])
    contact_ref = "5ee0" + "c0ffee5ee0" * 6  # what a citizen's contact is in the event
    recorded: list[events.Event] = []
    for n, decide in enumerate(
        (
            lambda s: file(finding, source="laporan", kind="segel", where="36.04.05",
                           text="Segel diganti", filed_by="Siti", contact=contact_ref,
                           labels=[LABEL], surat_jalan=["SJ-9"], said=s, at=RECORDED,
                           hours={"segel": 24}),
            lambda s: answer(finding, "Agus", "Disegel ulang", s, RECORDED),
            lambda s: close(finding, "Siti", True, "", s, RECORDED),
        )
    ):  # fmt: skip
        for event in decide(FindingSaid(command_id=f"f{n}", occurred_at=T)):
            evolve_finding(finding, event)
            recorded.append(event)
    exported = list(exported_events(stored(recorded), ExportFilter(), {}))
    assert [e["bizStep"] for e in exported] == ["inspecting"] * 3
    assert exported[0]["epcList"] == [f"urn:lacak:batch:{LABEL}"]
    assert exported[0]["lacak:kind"] == "segel" and "5ee0" not in json.dumps(exported)
    assert exported[2]["lacak:accepted"] is True
    kecamatan = ExportFilter(kecamatan=frozenset({"36.04.05"}))
    assert len(list(exported_events(stored(recorded), kecamatan, {}))) == 3
    document = json.loads(b"".join(document_chunks(iter(exported), RECORDED)))
    assert Draft7Validator(SCHEMA).is_valid(document)
