"""Bahasa Indonesia wherever a person reads, and paper and screens as KPU uses them: error pages
for a browser, validation in Bahasa, no raw codes, the Berita Acara, the wall screen."""

import re

import pytest

from services.custody.plan import kit_plan
from tests.data import ONE_TPS
from tests.web.conftest import Lacak
from tests.web.signin import sign_in

PLANS = kit_plan(ONE_TPS)
BOX = PLANS[3].label  # the DPRD Provinsi kotak suara of the first TPS
BROWSER = {"accept": "text/html,application/xhtml+xml"}


def scan(scan_id: str, action: str, location: str, **details) -> dict:
    return {"scan_id": scan_id, "label": BOX, "action": action, "location": location,
            "occurred_at": "2024-02-12T09:00:00+07:00", **details}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (
            "/waktu?pada=kemarin",
            400,
            "pada: waktu &#39;kemarin&#39; tidak bisa dibaca; tulis seperti",
        ),
        ("/kotak/NOTALABEL", 422, "salah baca atau salah ketik"),
        ("/shipments/NOPE", 404, "Surat jalan &#39;NOPE&#39; tidak dikenal."),
        ("/halaman-yang-tidak-ada", 404, "Tidak ditemukan"),
    ],
)
def test_a_browser_gets_an_error_page_in_bahasa_and_the_api_its_json(client, path, status, says):
    page = client.get(path, headers=BROWSER)
    assert page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    assert says in page.text and '<a href="/">Kembali ke papan</a>' in page.text
    api = client.get(path, headers={"accept": "application/json"})
    assert api.status_code == status and api.headers["content-type"].startswith("application/json")


def test_the_apis_validation_messages_are_in_bahasa(client):
    answer = client.post(
        "/api/v1/scans",
        json={**scan("s1", "dispatch", "36.04"), "occurred_at": "2024-02-12T09:00:00"},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"] == "Permintaan POST /api/v1/scans tidak sah"
    assert [e["message"] for e in body["extra"]] == [
        "harus tanggal dan jam dengan zona waktu, misalnya 2024-02-10T08:15:00+07:00"
    ]
    missing = client.post("/api/v1/scans", json={"label": BOX}).json()
    assert "kolom `scan_id` wajib diisi" in [e["message"] for e in missing["extra"]]


def test_a_code_that_is_no_place_is_unknown_not_outside_the_readers_area(lacak: Lacak):
    lacak.client.cookies.clear()
    client = sign_in(lacak.client, lacak.settings, role="ppk", scope="36.04.05")
    for path in ("/wilayah/99.99.99", "/api/v1/board?area=99.99.99"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "Wilayah 99.99.99 tidak dikenal." in answer.text
        assert "di luar wilayah Anda" not in answer.text
    assert client.get("/wilayah/36.04.09").status_code == 403  # a real place, not theirs


def test_pages_name_the_kit_ballots_and_anomalies_in_words_not_codes(lacak: Lacak):
    lacak.client.post("/api/v1/scans", json=scan("s1", "dispatch", "36.04", to="36.04.05"))
    lacak.client.post("/api/v1/scans", json=scan("s2", "receive", "36.04.09"))
    lacak.project()
    timeline = lacak.client.get(f"/kotak/{BOX}").text
    assert "Kotak suara" in timeline and "DPRD Provinsi" in timeline
    assert "kotak_suara" not in timeline and "DPRD_PROV" not in timeline
    assert "receipt_without_dispatch" not in timeline and "wrong_destination" not in timeline
    tps = lacak.client.get(f"/tps/{ONE_TPS.tps[0].code}").text
    assert "kotak_suara" not in tps and "DPRD_PROV" not in tps
    queue = lacak.client.get("/anomali").text
    options = re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]*)</option>', queue)
    assert options and all(name.strip() for _, name in options)
    assert ("void_scanned", "Kotak batal dipindai") in options


def test_the_berita_acara_prints_as_the_paper_form(lacak: Lacak):
    load = {"surat_jalan": "001/SJ/KPU-SRG/II/2024", "officer": "Rina", "vehicle": "A 1 KP"}
    lacak.client.post("/api/v1/scans", json=scan("s1", "dispatch", "36.04", to="36.04.05", **load))
    arrived = {"surat_jalan": load["surat_jalan"], "officer": "Budi", "witness": "Panwascam Sari"}
    lacak.client.post("/api/v1/scans", json=scan("s2", "receive", "36.04.05", **arrived))
    lacak.project()
    page = lacak.client.get("/shipments/001/SJ/KPU-SRG/II/2024").text
    assert "KOMISI PEMILIHAN UMUM<br>KABUPATEN SERANG" in page
    assert "BERITA ACARA SERAH TERIMA LOGISTIK PEMILU" in page
    assert (
        "Pada hari ini Senin, 12 Februari 2024, pukul 09:00 WIB, bertempat di Kec. Kramatwatu"
        in page
    )
    assert "Kec. Kramatwatu, Senin, 12 Februari 2024" in page
    for who in ("Pihak Pertama", "Pihak Kedua", "Saksi", "(Rina)", "(Budi)", "(Panwascam Sari)"):
        assert who in page


def test_the_wall_screen_has_no_navigation_a_clock_the_time_updated_and_who_is_furthest_behind(
    lacak: Lacak,
):
    lacak.client.post("/api/v1/scans", json=scan("s1", "dispatch", "36.04", to="36.04.05"))
    lacak.project()
    wall = lacak.client.get("/layar").text
    assert '<header class="top">' not in wall and '<nav class="nav"' not in wall
    assert 'id="jam"' in wall and "diperbarui" in wall
    assert "Paling tertinggal: <strong>Kec. Kramatwatu</strong>" in wall
    assert '<script src="/static/wall.js" defer></script>' in wall
