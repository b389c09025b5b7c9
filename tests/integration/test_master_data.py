"""Importing an election's TPS list into the event store, on SQLite and PostgreSQL."""

import pytest

from services.custody.batches import Batches
from services.custody.masterdata import ImportRefusedError, MasterData, parse_tps_csv, tps_csv
from services.demo import nasional
from tests.data import SERANG


def test_an_imported_tps_list_is_the_kabupaten_the_web_serves(settings):
    batches = Batches(settings.store)
    assert MasterData(batches).wilayah("pemilu-2024", "36.04") is None
    summary = MasterData(batches).import_file("pemilu-2024", "tps.csv", tps_csv(SERANG), "Rina")
    assert (summary.tps, summary.dpt) == (4_425, 1_226_201)
    assert MasterData(batches).wilayah("pemilu-2024", "36.04") == SERANG
    assert MasterData(batches).wilayah("pilkada-2024", "36.04") is None  # TPS are per election
    batches.close()


def test_a_refused_file_leaves_nothing_in_the_event_store(settings):
    batches = Batches(settings.store)
    bad = tps_csv(SERANG).replace(b",36.04.05,", b",36.04.5,", 1)
    with pytest.raises(ImportRefusedError, match="baris 2"):
        MasterData(batches).import_file("pemilu-2024", "tps.csv", bad, "Rina")
    assert batches.recorder.max_notification_id() is None
    batches.close()


def test_a_corrected_file_replaces_the_earlier_import(settings):
    batches = Batches(settings.store)
    MasterData(batches).import_file("pemilu-2024", "v1.csv", tps_csv(SERANG), "Rina")
    first_hundred = b"\n".join(tps_csv(SERANG).split(b"\n")[:101])  # header and 100 TPS
    fewer = parse_tps_csv(first_hundred)
    MasterData(batches).import_file("pemilu-2024", "v2.csv", tps_csv(fewer), "Rina")
    assert MasterData(batches).wilayah("pemilu-2024", "36.04") == fewer
    batches.close()


def test_a_provinces_file_imports_each_kabupaten_and_indexes_it_once(settings):
    kota = nasional.kabupaten_tree("36.73")
    banten = tps_csv(kota) + b"\n".join(tps_csv(SERANG).split(b"\n")[1:])  # one header, two kab
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    assert master_data.kabupaten("pemilu-2024") == {}
    kept = master_data.import_many("pemilu-2024", "banten.csv", banten, "Rina")
    assert [(k.kabupaten, k.tps) for k in kept] == [("36.04", 4_425), ("36.73", len(kota.tps))]
    assert master_data.wilayah("pemilu-2024", "36.04") == SERANG
    assert master_data.wilayah("pemilu-2024", "36.73") == kota
    master_data.import_many("pemilu-2024", "banten-v2.csv", banten, "Rina")  # again: replaces
    assert master_data.kabupaten("pemilu-2024") == {"36.04": SERANG.name, "36.73": "Kota Serang"}
    assert master_data.kabupaten("pilkada-2024") == {}
    batches.close()


def test_a_fault_anywhere_in_a_provinces_file_refuses_all_of_it(settings):
    kota = tps_csv(nasional.kabupaten_tree("36.73"))
    serang = b"\n".join(tps_csv(SERANG).split(b"\n")[1:])
    bad = kota + serang.replace(b",36.04.05,", b",36.04.5,", 1)  # Serang's first row
    batches = Batches(settings.store)
    line = kota.count(b"\n") + 1  # Serang's first row
    with pytest.raises(ImportRefusedError, match=f"baris {line}"):
        MasterData(batches).import_many("pemilu-2024", "banten.csv", bad, "Rina")
    assert batches.recorder.max_notification_id() is None
    assert MasterData(batches).kabupaten("pemilu-2024") == {}
    batches.close()


def test_a_kabupatens_own_file_still_holds_one_kabupaten(settings):
    two = tps_csv(nasional.kabupaten_tree("36.73")) + b"\n".join(tps_csv(SERANG).split(b"\n")[1:])
    batches = Batches(settings.store)
    with pytest.raises(ImportRefusedError, match="satu berkas untuk satu kabupaten"):
        MasterData(batches).import_file("pemilu-2024", "serang.csv", two, "Rina")
    batches.close()
