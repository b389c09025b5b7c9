"""The scanning screens and the JSON they read before a scan, through the test client."""

import pytest

from services.custody.labels import make_label
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import ONE_TPS, SERANG
from tests.web.conftest import Lacak

PLANS = kit_plan(ONE_TPS)
KECAMATAN = kecamatan_of(SERANG.tps[0].code)
SURAT_JALAN = "007/SJ/KPU-SRG/II/2024"


@pytest.fixture
def lacak(lacak: Lacak) -> Lacak:
    lacak.project()  # the labels are in the catalogue before the screens ask
    return lacak


def test_the_scan_screen_offers_every_action_and_loads_its_scripts_from_lacak(lacak):
    client = lacak.client
    page = client.get("/pindai")
    assert page.status_code == 200
    for action in ("kemas", "segel", "kirim", "terima", "serah", "kembalikan"):
        assert f'name="mode" value="{action}"' in page.text
    assert '<script src="/static/scan.js" defer></script>' in page.text
    assert "<script>" not in page.text and " onclick=" not in page.text  # ready for a strict CSP
    assert client.get("/static/scan.js").status_code == 200
    assert client.get("/static/camera.js").status_code == 200


def test_the_camera_polyfill_and_its_wasm_are_served_by_lacak_itself(lacak):
    client = lacak.client
    script = client.get("/static/vendor/barcode-detector/ponyfill.js")
    assert script.status_code == 200 and "prepareZXingModule" in script.text
    wasm = client.get("/static/vendor/zxing-wasm/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.content[:4] == b"\0asm"
    assert wasm.headers["content-type"] == "application/wasm"


def test_a_place_is_found_by_its_exact_code_and_an_unknown_code_is_a_404(lacak):
    client = lacak.client
    answer = client.get(f"/api/v1/places/{KECAMATAN}")
    assert answer.json() == {"code": KECAMATAN, "name": "Kec. Kramatwatu", "level": "kecamatan"}
    missing = client.get("/api/v1/places/36.04.99")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Kode wilayah '36.04.99' tidak dikenal."


def test_places_are_searched_by_name_for_the_location_picker(lacak):
    client = lacak.client
    found = client.get("/api/v1/places", params={"q": "kramat"}).json()
    assert found[0] == {"code": KECAMATAN, "name": "Kec. Kramatwatu", "level": "kecamatan"}
    assert len(found) <= 15


def test_a_label_answers_with_its_planned_count_as_typed_in_any_case(lacak):
    client = lacak.client
    box = PLANS[0]
    answer = client.get(f"/api/v1/labels/{box.label.lower()}")
    assert answer.status_code == 200
    assert answer.json()["label"] == box.label
    assert answer.json()["quantity"] == box.quantity
    assert answer.json()["destination_name"] == "TPS 001 Kramatwatu"


def test_the_packing_plan_of_an_area_lists_its_kotak_suara_for_a_device_to_keep(lacak):
    client = lacak.client
    boxes = {p.label: p.quantity for p in PLANS if p.item == "kotak_suara"}
    assert client.get("/api/v1/plan").json() == boxes  # the kabupaten's, by default
    assert client.get(f"/api/v1/plan?area={KECAMATAN}").json() == boxes
    assert client.get("/api/v1/plan?area=36.04.09").json() == {}  # no TPS of it planned here
    assert client.get("/api/v1/plan?area=36.04.99").status_code == 404


def test_a_misread_label_is_a_422_and_an_unknown_one_a_404_as_on_the_scan_api(lacak):
    client = lacak.client
    misread = client.get("/api/v1/labels/3604-00M7-8")
    assert misread.status_code == 422 and "salah baca" in misread.json()["detail"]
    unknown = client.get(f"/api/v1/labels/{make_label('36.04', 30_000)}")
    assert unknown.status_code == 404 and "tidak dikenal" in unknown.json()["detail"]


def test_a_new_load_screen_starts_empty_and_its_lines_say_so(lacak):
    client = lacak.client
    page = client.get("/muatan", params={"sj": SURAT_JALAN, "tahap": "muat"})
    assert page.status_code == 200
    assert 'name="mode" value="kirim"' in page.text
    assert f'value="{SURAT_JALAN}" readonly' in page.text
    lines = client.get("/muatan/rekap", params={"sj": SURAT_JALAN})
    assert "Belum ada kotak tercatat" in lines.text


def test_the_arrival_screen_knows_where_the_load_goes_and_shows_what_is_missing(lacak):
    client = lacak.client
    sent = {
        "surat_jalan": SURAT_JALAN,
        "to": KECAMATAN,
        "vehicle": "A 1234 BC",
        "driver": "Asep",
        "officer": "Rina",
    }
    for n, plan in enumerate(PLANS[:2]):
        client.post("/api/v1/scans", json=scan(f"d{n}", plan.label, "dispatch", "36.04", **sent))
    client.post(
        "/api/v1/scans",
        json=scan("r0", PLANS[0].label, "receive", KECAMATAN, surat_jalan=SURAT_JALAN),
    )
    lacak.project()

    page = client.get("/muatan", params={"sj": SURAT_JALAN, "tahap": "terima"})
    location = page.text.split('name="location"')[1].split(">")[0]
    assert f'value="{KECAMATAN}"' in location  # where the truck was sent
    assert 'name="mode" value="terima"' in page.text
    lines = client.get("/muatan/rekap", params={"sj": SURAT_JALAN}).text
    assert "1 lengkap" in lines and "1 belum diterima" in lines
    assert PLANS[1].label in lines
    assert lines.strip() in page.text  # the page starts with the rows it swaps in later


def test_the_loading_screen_brings_back_the_truck_of_a_load_already_started(lacak):
    client = lacak.client
    sent = {
        "surat_jalan": SURAT_JALAN,
        "to": KECAMATAN,
        "vehicle": "A 1234 BC",
        "driver": "Asep",
        "officer": "Rina",
    }
    client.post("/api/v1/scans", json=scan("d0", PLANS[0].label, "dispatch", "36.04", **sent))
    lacak.project()
    page = client.get("/muatan", params={"sj": SURAT_JALAN}).text
    assert 'value="A 1234 BC"' in page and 'value="Asep"' in page and 'value="Rina"' in page


def test_without_a_surat_jalan_the_load_screen_asks_for_one(lacak):
    client = lacak.client
    page = client.get("/muatan")
    assert page.status_code == 200 and 'name="sj"' in page.text


def scan(scan_id: str, label: str, action: str, location: str, **details) -> dict:
    return {
        "scan_id": scan_id,
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": "2024-02-12T09:00:00+07:00",
        **details,
    }
