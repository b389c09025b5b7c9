"""A truck load under one surat jalan: what was sent against what arrived, as a Berita Acara."""

from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import ONE_TPS, SERANG

LABELS = [plan.label for plan in kit_plan(ONE_TPS)]
KECAMATAN = kecamatan_of(SERANG.tps[0].code)
SURAT_JALAN = "001/SJ/KPU-SRG/II/2024"  # as KPU numbers them: with slashes


def scan(n: int, label: str, action: str, location: str, **details) -> dict:
    return {
        "scan_id": f"s{n}",
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": "2024-02-12T09:00:00+07:00",
        **details,
    }


def test_a_load_that_arrives_one_box_short_and_one_extra_shows_both(lacak):
    client = lacak.client
    on_the_truck = LABELS[:3]
    sent = {
        "surat_jalan": SURAT_JALAN,
        "to": KECAMATAN,
        "vehicle": "A 1 B",
        "driver": "Asep",
        "officer": "Rina",
    }
    for n, label in enumerate(on_the_truck):
        answer = client.post("/api/v1/scans", json=scan(n, label, "dispatch", "36.04", **sent))
        answer.raise_for_status()
    arrived = [*on_the_truck[:2], LABELS[5]]  # the third box is missing; the bilik was not on it
    received = {"surat_jalan": SURAT_JALAN, "officer": "Budi", "witness": "Ani"}
    for n, label in enumerate(arrived, 10):
        answer = client.post("/api/v1/scans", json=scan(n, label, "receive", KECAMATAN, **received))
        answer.raise_for_status()
    lacak.project()

    page = client.get(f"/shipments/{SURAT_JALAN}")
    assert page.status_code == 200
    text = page.text
    assert "3 lengkap" not in text and "2 lengkap" in text
    assert "1 belum diterima" in text and "1 lebih" in text
    assert "12-02-2024 09:00 WIB" in text
    assert all(label in text for label in [*on_the_truck, LABELS[5]])
    assert "Rina" in text and "Budi" in text and "Ani" in text  # who handed over, received, saw


def test_an_unknown_surat_jalan_is_a_404(lacak):
    client = lacak.client
    assert client.get("/shipments/SJ-404").status_code == 404


def test_a_hand_to_hand_handover_gets_its_berita_acara_with_all_three_signatures(lacak):
    client = lacak.client
    desa = SERANG.tps[0].desa
    handover = {
        "surat_jalan": "BA-017/PPS",
        "officer": "Sari (KPPS)",
        "witness": "Dodi (PTPS)",
        "handed_over_by": "Agus (PPS)",
    }
    client.post("/api/v1/scans", json=scan(1, LABELS[0], "dispatch", "36.04", to=KECAMATAN))
    client.post("/api/v1/scans", json=scan(2, LABELS[0], "receive", KECAMATAN))
    client.post("/api/v1/scans", json=scan(3, LABELS[0], "dispatch", KECAMATAN, to=desa))
    client.post("/api/v1/scans", json=scan(4, LABELS[0], "receive", desa))
    answer = client.post(
        "/api/v1/scans", json=scan(5, LABELS[0], "receive", SERANG.tps[0].code, **handover)
    )
    assert (answer.status_code, answer.json()["warnings"]) == (201, [])  # no dispatch needed
    lacak.project()
    page = client.get("/shipments/BA-017/PPS")
    assert page.status_code == 200
    signatures = page.text[page.text.index('class="signatures"') :]
    for person in ("Agus (PPS)", "Sari (KPPS)", "Dodi (PTPS)"):
        assert person in signatures
    assert "Nomor: BA-017/PPS" in page.text
