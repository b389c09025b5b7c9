"""Importing an election's TPS list into the event store, on SQLite and PostgreSQL."""

import pytest

from services.custody.batches import Batches
from services.custody.masterdata import ImportRefusedError, MasterData, parse_tps_csv, tps_csv
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
