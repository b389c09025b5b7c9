"""The board projected in two parts, Banten's and Bali's, each its own projector on the
subjects of its province's kabupaten/kota: together the board a count of the event store
gives, on SQLite and PostgreSQL; and never whole and in parts at once."""

import asyncio
import time

import msgspec
import pytest

from services.custody.atlas import Atlas
from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.masterdata import MasterData, parse_tps_csv, tps_csv
from services.custody.plan import kit_plan, register_plan
from services.demo import nasional
from services.demo.simulation import body_of, scan_body, scan_script
from services.messaging.projector import run_projection, subjects_of
from services.messaging.relay import run_relay
from services.store.notifications import read_store
from services.views.anomalies.view import AnomalyView
from services.views.board.view import BoardView
from services.views.database import open_views
from services.views.projection import PartitionError
from services.wilayah import Wilayah
from tests.integration.counting import count_from_event_store, roll_up
from tests.integration.test_relay_and_board import board_counts

TPS_EACH = 20


def first_tps(code: str) -> Wilayah:
    tree = nasional.kabupaten_tree(code)
    return parse_tps_csv(tps_csv(msgspec.structs.replace(tree, tps=tree.tps[:TPS_EACH])))


async def test_two_provinces_projected_apart_make_the_one_board(settings):
    trees = [first_tps(code) for code in ("36.04", "36.73", "51.71")]
    header = tps_csv(trees[0]).split(b"\n", 1)[0] + b"\n"
    rows = b"".join(tps_csv(tree).split(b"\n", 1)[1] for tree in trees)
    batches = Batches(settings.store)
    master_data = MasterData(batches)
    master_data.import_many(settings.election, "tiga.csv", header + rows, "Rina")
    batches.wilayah = Atlas(master_data, settings.election)
    for tree in trees:
        register_plan(batches, tree)
        for scripted in scan_script(tree, rate=0.05):
            batches.scan(msgspec.convert(body_of(scripted), Scan))
    # A Bali box found at a Banten PPK: its events stay Bali's (its destination's) to project.
    stray = kit_plan(trees[2])[0].label
    batches.scan(msgspec.convert(scan_body(stray, "receive", trees[0].kecamatan[0].code), Scan))
    last = batches.recorder.max_notification_id()

    views = open_views(settings)
    banten, bali = BoardView(views).partition(["36"]), BoardView(views).partition(["51"])
    assert (banten.tracking, bali.tracking) == ("board-36", "board-51")
    assert "lacak.events.3673.>" in subjects_of(banten)
    assert not any(s.startswith("lacak.events.51") for s in subjects_of(banten))
    for part in (banten, bali):
        part.setup()
    stop = asyncio.Event()
    workers = [
        asyncio.create_task(run_relay(settings, stop)),
        asyncio.create_task(run_projection(banten, settings, stop)),
        asyncio.create_task(run_projection(bali, settings, stop)),
    ]
    deadline = time.monotonic() + 120
    try:
        while await asyncio.to_thread(BoardView(views).least_position) < last:
            assert time.monotonic() < deadline, "the two parts did not catch up in 2 minutes"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*workers)

    board = BoardView(views)
    per_tps = count_from_event_store(batches.recorder, level="tps")
    assert board_counts(board, "tps") == per_tps
    for level in ("desa", "kecamatan", "kabupaten"):
        assert board_counts(board, level) == roll_up(per_tps, level), level
    assert {row.area for row in board.rows("provinsi")} == {"36", "51"}
    assert banten.applied() and bali.applied()
    stored = [board.decode(state) for _, state in read_store(settings)]
    assert banten.applied() == sum(banten.takes(event) for event in stored)
    assert bali.applied() == sum(bali.takes(event) for event in stored)
    assert banten.applied() + bali.applied() == len(stored)  # each event by one part

    BoardView(views).setup()  # a reader (the web) sets up the whole view: nothing refused
    with pytest.raises(PartitionError):  # a projector of it whole after parts: counted twice
        BoardView(views).check_alone()
    with pytest.raises(PartitionError):  # a part over a province already projected
        BoardView(views).partition(["36", "32"]).check_alone()
    BoardView(views).partition(["32"]).check_alone()  # a province nobody projects: free
    with pytest.raises(PartitionError):  # the queue's live feed follows one order: whole
        AnomalyView(views).partition(["36"])
    views.close()
    batches.close()
