"""The EPCIS 2.0 export of the whole Kabupaten Serang distribution, checked against GS1's schema."""

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from jsonschema_rs import Draft7Validator

from events import ScanVoided, decode
from events.batch import BatchEvent
from services.audit.epcis import NAMESPACES
from services.audit.epcis_hash import event_hash_id
from services.cli import main
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.masterdata import MasterData
from services.settings import Settings
from services.store.notifications import read_store
from services.wilayah import route_of
from tests.gs1 import gs1_file
from tests.integration.conftest import RecordedSerang

SCHEMA_FILE = gs1_file("EPCIS-JSON-Schema.json")
WIB = timezone(timedelta(hours=7))


def schema_errors(document: dict) -> list[str]:
    """Every error of the whole document against GS1's schema, formats (uri, date-time)
    included. jsonschema-rs: the pure-Python jsonschema takes some 5 ms an event, half an hour
    for this document; the unit tests check small documents with it too."""
    validator = Draft7Validator(json.loads(SCHEMA_FILE.read_text()), validate_formats=True)
    return [str(error).splitlines()[0] for error in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def serang_store(
    tmp_path_factory: pytest.TempPathFactory, serang_sqlite: RecordedSerang
) -> Settings:
    """A copy of the whole 2024 scenario in SQLite, plus a corrected dispatch and a voided one."""
    data_dir = tmp_path_factory.mktemp("serang-epcis") / "data"
    settings = Settings.from_env({"LACAK_DATA_DIR": str(data_dir)})
    settings.make_folders()
    serang_sqlite.copy_to(settings)
    batches = Batches(settings.store)
    batches.wilayah = MasterData(batches).wilayah("pemilu-2024", "36.04")
    injected = serang_sqlite.injected
    # Two of the batches left at the PPS go on to their TPS: one dispatch recorded with the
    # wrong truck and corrected, one recorded for the wrong box and voided.
    corrected, voided = sorted(injected.late)[:2]
    moments = iter(datetime(2024, 2, 13, 15, m, tzinfo=WIB) for m in range(10))

    def dispatch(label: str, scan_id: str, vehicle: str) -> Scan:
        _, _, desa, tps = route_of(batches.batch(label).destination)
        return Scan(
            scan_id=scan_id,
            label=label,
            action="dispatch",
            location=desa,
            to=tps,
            occurred_at=next(moments),
            vehicle=vehicle,
        )

    wrong = batches.scan(dispatch(corrected, "fix-1", "A 1 XX"))
    right = dispatch(corrected, "fix-2", "A 2 YY")
    batches.correct_scan(corrected, wrong.version, right, "truk salah dicatat", "Rina")
    mistaken = batches.scan(dispatch(voided, "oops-1", "A 3 ZZ"))
    batches.void_scan(voided, mistaken.version, "kotak lain yang dipindai", "Rina")
    batches.close()
    return settings


@pytest.fixture
def lacak_env(serang_store: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's environment pointing at the recorded scenario."""
    monkeypatch.setenv("LACAK_DATA_DIR", str(serang_store.data_dir))
    return serang_store


def custody_events(settings: Settings, kecamatan: str = "", since=None, until=None) -> int:
    """How many custody facts the store holds (every batch event but the voids), counted
    straight from the store, independently of the export."""
    count = 0
    for _, data in read_store(settings):
        event = decode(data)
        if not isinstance(event, BatchEvent) or isinstance(event, ScanVoided):
            continue
        if kecamatan and event.destination[:6] != kecamatan.replace(".", ""):
            continue
        if since and not since <= event.occurred_at < until:
            continue
        count += 1
    return count


def test_the_export_of_the_whole_kabupaten_serang_is_a_valid_epcis_document(lacak_env, tmp_path):
    out = tmp_path / "serang.jsonld"
    started = time.perf_counter()
    main(["export-epcis", "--out", str(out)])
    exported = time.perf_counter()
    document = msgspec.json.decode(out.read_bytes())
    events = document["epcisBody"]["eventList"]

    assert schema_errors(document) == []
    validated = time.perf_counter()

    # Every custody event is there once: all but the master data, the election and the void.
    assert len(events) == custody_events(lacak_env)
    kinds = Counter(e["type"] for e in events)
    assert kinds["AggregationEvent"] == 4_425 * 5  # the packing of every kotak suara
    ids = [e["eventID"] for e in events]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("ni:///sha-256;") and i.endswith("?ver=CBV2.0") for i in ids)
    # ... each named by its own content (a sample: recomputing all is the unit tests' job).
    for event in events[:: len(events) // 500]:
        content = {k: v for k, v in event.items() if k not in ("eventID", "errorDeclaration")}
        assert event_hash_id(content, NAMESPACES) == event["eventID"]

    # The wrong dispatch carries its error, pointing at the dispatch that corrects it.
    declared = {e["lacak:scanId"]: e for e in events if "errorDeclaration" in e}
    assert set(declared) == {"fix-1", "oops-1"}
    fix = next(e for e in events if e.get("lacak:scanId") == "fix-2")
    assert declared["fix-1"]["errorDeclaration"]["correctiveEventIDs"] == [fix["eventID"]]
    assert declared["fix-1"]["errorDeclaration"]["reason"] == "incorrect_data"
    assert declared["oops-1"]["errorDeclaration"]["reason"] == "did_not_occur"
    assert "correctiveEventIDs" not in declared["oops-1"]["errorDeclaration"]
    print(
        f"\n{len(events):,} EPCIS events ({out.stat().st_size / 1e6:.0f} MB) exported in "
        f"{exported - started:.1f} s, validated in {validated - exported:.1f} s"
    )


def test_a_filtered_export_holds_only_the_kecamatan_and_time_asked_for(lacak_env, tmp_path):
    out = tmp_path / "kramatwatu.jsonld"
    main(
        [
            "export-epcis",
            "--out",
            str(out),
            "--kecamatan",
            "36.04.05",
            "--from",
            "2024-02-01T19:00+07:00",
            "--until",
            "2024-02-01T14:00",
        ]
    )
    document = msgspec.json.decode(out.read_bytes())
    events = document["epcisBody"]["eventList"]

    assert events
    assert schema_errors(document) == []
    since, until = datetime(2024, 2, 1, 19, tzinfo=WIB), datetime(2024, 2, 1, 14, tzinfo=UTC)
    for event in events:
        assert since <= datetime.fromisoformat(event["eventTime"]) < until
    assert len(events) == custody_events(lacak_env, "36.04.05", since, until)
