"""Two kabupaten/kota of Banten in one store: imported from one file, their kits registered,
moved gudang to TPS with some of 2024's failures, a box of one found in the other, and one
board that counts both as the event store does; on SQLite and PostgreSQL."""

from datetime import datetime, timedelta, timezone

import msgspec
import pytest

from services.custody.atlas import Atlas
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.errors import UnknownLocationError
from services.custody.masterdata import MasterData, parse_tps_csv, tps_csv
from services.custody.plan import kit_plan, register_plan
from services.demo import nasional
from services.demo.simulation import body_of, scan_body, scan_script
from services.store.notifications import read_store
from services.views.board.reducer import AreaCounts
from services.views.board.view import BoardView
from services.views.database import open_views
from services.wilayah import Wilayah
from tests.integration.counting import (
    assert_risk_kept_as_the_rule_counts,
    count_from_event_store,
    relayed_and_projected,
    roll_up,
)
from tests.integration.test_relay_and_board import board_counts

TPS_EACH = 40  # the first TPS of each: a distribution, in seconds


def first_tps(code: str) -> Wilayah:
    tree = nasional.kabupaten_tree(code)
    return parse_tps_csv(tps_csv(msgspec.structs.replace(tree, tps=tree.tps[:TPS_EACH])))


async def test_two_kabupaten_move_in_one_store_and_meet_on_one_board(settings):
    kabupaten, kota = first_tps("36.04"), first_tps("36.73")
    banten = tps_csv(kabupaten) + tps_csv(kota).split(b"\n", 1)[1]
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    master_data.import_many(settings.election, "banten.csv", banten, "Rina")
    atlas = Atlas(master_data, settings.election)
    batches.wilayah = atlas
    assert atlas.kabupaten() == {"36.04": "Kabupaten Serang", "36.73": "Kota Serang"}
    for tree in (kabupaten, kota):
        register_plan(batches, tree)
        for scripted in scan_script(tree, rate=0.05):  # damaged, short, misrouted, late ...
            batches.scan(msgspec.convert(body_of(scripted), Scan))

    # Another district's box: one of Kota Serang's, received at a PPK of Kabupaten Serang.
    stray = kit_plan(kota)[0]
    elsewhere = kabupaten.kecamatan[0].code
    found = batches.scan(msgspec.convert(scan_body(stray.label, "receive", elsewhere), Scan))
    assert found.status == "warning"
    # named by the atlas, across the two: delivered already, its right place is its own TPS
    assert found.warnings == [
        f"SALAH TUJUAN: tujuan berikutnya {atlas.place_name(stray.destination)}, "
        f"bukan {atlas.place_name(elsewhere)}."
    ]
    assert atlas.place_name(stray.destination).startswith("TPS 001")
    with pytest.raises(UnknownLocationError):  # a kabupaten never imported is no place here
        batches.scan(msgspec.convert(scan_body(stray.label, "receive", "36.01.01"), Scan))

    views, board = await relayed_and_projected(settings, batches.recorder, minutes=2)

    per_tps = count_from_event_store(batches.recorder, level="tps")
    assert board_counts(board, "tps") == per_tps
    for level in ("desa", "kecamatan", "kabupaten"):
        assert board_counts(board, level) == roll_up(per_tps, level), level
    deadline = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    for before in (timedelta(days=2), timedelta(hours=12), timedelta(0)):  # each risk tier
        now = deadline - before
        assert_risk_kept_as_the_rule_counts(board, ["36.04", "36.73"], now, deadline)
    assert board.at_risk("", deadline, deadline)  # the late ones: the check can fail
    both = {row.area: row for row in board.rows("kabupaten")}
    assert set(both) == {"36.04", "36.73"}
    assert [both[code].planned for code in ("36.04", "36.73")] == [TPS_EACH * 7] * 2
    assert all(row.delivered > TPS_EACH * 7 * 0.8 for row in both.values())  # it moved
    views.close()
    batches.close()


def test_the_atlas_reads_a_tree_when_asked_and_keeps_the_recent_ones(settings):
    kabupaten, kota = first_tps("36.04"), first_tps("36.73")
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    master_data.import_many(
        settings.election, "banten.csv", tps_csv(kabupaten) + tps_csv(kota).split(b"\n", 1)[1], "R"
    )
    atlas = Atlas(master_data, settings.election, keep=1)
    assert atlas.knows("") and atlas.knows("36") and not atlas.knows("32")
    assert atlas.area_name("36") == "Provinsi Banten" and atlas.area_name("") == "Nasional"
    assert atlas.is_location(kota.tps[0].code) and atlas.is_location("36.04")
    assert not atlas.is_location("36") and not atlas.is_location("36.01")  # not imported
    assert atlas.tree("36.73.01") == kota
    assert list(atlas._trees) == ["36.73"]  # keep=1: the last asked for
    master_data.import_file(settings.election, "kota.csv", tps_csv(first_tps("36.73")), "R")
    atlas.forget("36.73")
    assert atlas.place_name(kota.tps[0].code) == kota.place_name(kota.tps[0].code)
    batches.close()


def test_the_province_and_the_nation_are_their_kabupatens_added_up(settings):
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    trees = [first_tps("36.04"), first_tps("36.73"), first_tps("32.01")]
    for tree in trees:
        master_data.import_file(settings.election, "tps.csv", tps_csv(tree), "R")
        register_plan(batches, tree)
    batches.wilayah = Atlas(master_data, settings.election)
    for tree in trees[:2]:
        for scripted in scan_script(tree, rate=0.05)[:100]:
            batches.scan(msgspec.convert(body_of(scripted), Scan))
    views = open_views(settings)
    board = BoardView(views)
    board.setup()
    notifications = [(n, board.decode(state)) for n, state in read_store(settings)]
    board.apply(notifications, len(notifications))
    kabupaten = {row.area: row for row in board.rows("kabupaten")}
    provinces = {row.area: row for row in board.rows("provinsi")}
    assert set(provinces) == {"32", "36"}
    for field in AreaCounts.__struct_fields__[1:]:
        banten = getattr(kabupaten["36.04"], field) + getattr(kabupaten["36.73"], field)
        assert getattr(provinces["36"], field) == banten, field
        [nation] = board.areas([""])
        assert getattr(nation, field) == banten + getattr(kabupaten["32.01"], field), field
    assert provinces["36"].packed > 0  # the scans counted
    assert board.children("") == board.rows("provinsi")
    assert [row.area for row in board.children("36")] == ["36.04", "36.73"]
    assert [row.area for row in board.areas(["36", "36.04", ""])] == ["", "36", "36.04"]
    views.close()
    batches.close()
