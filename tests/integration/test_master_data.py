"""Importing an election's TPS list into the event store, on SQLite and PostgreSQL."""

import pytest

from services.batches import Batches
from services.masterdata import ImportRefusedError, parse_tps_csv, tps_csv
from services.serang import kabupaten_serang

SERANG = kabupaten_serang()


def test_an_imported_tps_list_is_the_kabupaten_the_web_serves(settings):
    batches = Batches(settings.store)
    assert batches.master_data("pemilu-2024", "36.04") is None
    summary = batches.import_master_data("pemilu-2024", "tps.csv", tps_csv(SERANG), "Rina")
    assert (summary.tps, summary.dpt) == (4_425, 1_226_201)
    assert batches.master_data("pemilu-2024", "36.04") == SERANG
    assert batches.master_data("pilkada-2024", "36.04") is None  # TPS are per election
    batches.close()


def test_a_refused_file_leaves_nothing_in_the_event_store(settings):
    batches = Batches(settings.store)
    bad = tps_csv(SERANG).replace(b",36.04.05,", b",36.04.5,", 1)
    with pytest.raises(ImportRefusedError, match="baris 2"):
        batches.import_master_data("pemilu-2024", "tps.csv", bad, "Rina")
    assert batches.recorder.max_notification_id() is None
    batches.close()


def test_a_corrected_file_replaces_the_earlier_import(settings):
    batches = Batches(settings.store)
    batches.import_master_data("pemilu-2024", "v1.csv", tps_csv(SERANG), "Rina")
    first_hundred = b"\n".join(tps_csv(SERANG).split(b"\n")[:101])  # header and 100 TPS
    fewer = parse_tps_csv(first_hundred)
    batches.import_master_data("pemilu-2024", "v2.csv", tps_csv(fewer), "Rina")
    assert batches.master_data("pemilu-2024", "36.04") == fewer
    batches.close()
