"""Label sheets: every batch bound for a kecamatan, with a QR code that carries its label."""

from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient

from services.batches import Batches
from services.board import BoardView
from services.plan import kit_plan
from services.serang import kabupaten_serang
from services.settings import Settings
from services.viewdb import open_views
from tests.web.projection import project_everything
from tests.web.signin import sign_in
from web.app import create_app

SERANG = kabupaten_serang()
FIRST = SERANG.tps[0]
NEIGHBOUR = next(t for t in SERANG.tps if t.desa != FIRST.desa)  # the next desa's first TPS
TWO_TPS = msgspec.structs.replace(SERANG, tps=(FIRST, NEIGHBOUR))
KECAMATAN = SERANG.kecamatan_of_tps(SERANG.tps[0].code)


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    batches = Batches(sqlite_settings.store, wilayah=SERANG)
    batches.register(kit_plan(TWO_TPS))
    views = open_views(sqlite_settings)
    board = BoardView(views)
    board.setup()
    project_everything(batches, board)
    with TestClient(create_app(sqlite_settings, SERANG)) as client:
        sign_in(client, sqlite_settings)
        yield client
    views.close()
    batches.close()


def test_the_label_sheet_of_a_kecamatan_shows_every_batch_with_its_qr_code(client):
    page = client.get(f"/labels/{KECAMATAN}")
    assert page.status_code == 200
    for plan in kit_plan(TWO_TPS):
        assert plan.label in page.text
    assert page.text.count('<article class="label">') == 14
    assert page.text.count("<svg") == 14
    assert f"{kit_plan(TWO_TPS)[0].quantity} lembar" in page.text
    assert f"Dapil {SERANG.tps[0].dapil_dpr}" in page.text


def test_the_label_sheet_can_be_narrowed_to_one_desa(client):
    desa = SERANG.tps[0].desa
    page = client.get(f"/labels/{KECAMATAN}", params={"desa": desa})
    in_desa = [p for p in kit_plan(TWO_TPS) if SERANG.tps_by_code[p.destination].desa == desa]
    assert page.text.count('<article class="label">') == len(in_desa)


def test_an_unknown_kecamatan_has_no_label_sheet(client):
    assert client.get("/labels/36.99.99").status_code == 404
