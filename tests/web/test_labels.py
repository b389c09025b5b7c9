"""Label sheets: every batch bound for a kecamatan, with a QR code that carries its label."""

import msgspec
import pytest
from litestar.testing import TestClient

from services.custody.batches import BatchPlan
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import SERANG
from tests.web.conftest import Lacak

FIRST = SERANG.tps[0]
NEIGHBOUR = next(t for t in SERANG.tps if t.desa != FIRST.desa)  # the next desa's first TPS
TWO_TPS = msgspec.structs.replace(SERANG, tps=(FIRST, NEIGHBOUR))
KECAMATAN = kecamatan_of(SERANG.tps[0].code)


@pytest.fixture
def plans() -> list[BatchPlan]:
    return kit_plan(TWO_TPS)


@pytest.fixture
def client(lacak: Lacak) -> TestClient:
    lacak.project()
    return lacak.client


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
