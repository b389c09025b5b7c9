"""Time travel on SQLite and PostgreSQL: the board replayed up to a position equals the live SQL
view after the same events, at every level; the page and the CLI show it."""

import msgspec
import pytest
from litestar.testing import TestClient

import events
from services.audit.replay import replay_store
from services.cli import main
from services.custody.batches import Batches
from services.custody.masterdata import MasterData, tps_csv
from services.settings import Settings
from services.store.notifications import read_store
from services.views.board.view import BoardView
from services.views.database import open_views
from services.wilayah import LEVELS
from tests.data import SERANG
from tests.integration.test_ledger import record_history
from tests.web.signin import sign_in
from web.app import create_app


def sql_board_at(settings: Settings, position: int) -> dict:
    """The live view's tables after applying the store's events up to `position`."""
    views = open_views(settings)
    board = BoardView(views)
    board.setup()
    stored = [(p, events.decode(data)) for p, data in read_store(settings) if p <= position]
    board.apply(stored, position)
    rows = {level: board.rows(level) for level in LEVELS}
    views.close()
    return rows


def test_a_replay_to_a_position_equals_the_live_view_at_that_position(
    settings: Settings, store_env, monkeypatch, capsys
):
    last = record_history(settings)
    position = last * 2 // 3
    board, moment = replay_store(settings, until_position=position)
    assert (moment.position, moment.events) == (position, position)
    live = sql_board_at(settings, position)
    for level in LEVELS:
        replayed = [msgspec.structs.asdict(r) for r in board.rows(level)]
        assert replayed == [msgspec.structs.asdict(r) for r in live[level]], level

    batches = Batches(settings.store)  # the CLI names places from the imported master data
    MasterData(batches).import_file("pemilu-2024", "tps.csv", tps_csv(SERANG), "test")
    batches.close()
    for key, value in store_env.items():
        monkeypatch.setenv(key, value)
    main(["replay", "--position", str(position)])
    out = capsys.readouterr().out
    assert f"sampai posisi {position}" in out and "JUMLAH" in out

    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings, role="auditor")
        page = client.get("/waktu", params={"posisi": position, "banding_posisi": last})
        assert page.status_code == 200
        assert f"sampai posisi {position}" in page.text and f"sampai posisi {last}" in page.text
        kecamatan = board.rows("kecamatan")[0].area
        deeper = client.get("/waktu", params={"posisi": position, "area": kecamatan})
        assert deeper.status_code == 200 and "Jumlah" in deeper.text
        assert client.get("/waktu", params={"area": "36.99"}).status_code == 404
        # the form as a browser sends it: a time, and the position boxes left empty
        form = {
            "area": "36.04",
            "pada": "2099-01-01T00:00",
            "posisi": "",
            "banding": "",
            "banding_posisi": "",
        }
        by_time = client.get("/waktu", params=form)
        assert by_time.status_code == 200 and "<h2>01-01-2099 00:00 WIB</h2>" in by_time.text
        assert "peristiwa, sampai posisi" in by_time.text  # replayed to that moment
        typo = client.get("/waktu", params={"posisi": "12a"})
        assert typo.status_code == 400 and "bilangan bulat positif" in typo.json()["detail"]


@pytest.mark.parametrize("level", ["kecamatan"])
def test_nothing_replayed_before_the_first_event(settings: Settings, level):
    record_history(settings)
    board, moment = replay_store(settings, until_position=0)
    assert (moment.events, board.rows(level)) == (0, [])
