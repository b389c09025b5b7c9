"""The device API and the board's JSON, through the Litestar test client on a real store."""

import pytest

from services.custody.labels import make_label
from services.custody.plan import kit_plan
from tests.data import ONE_TPS, SERANG

DPR_BOX = kit_plan(ONE_TPS)[1]  # the DPR kotak suara of the first TPS
LABEL = DPR_BOX.label


def scan(**changes: str) -> dict[str, str]:
    body = {
        "scan_id": "3f1c2a9e-0b6d-4d7e-9a51-6c0f1d2e3b4a",
        "label": LABEL,
        "action": "dispatch",
        "location": "36.04",
        "occurred_at": "2024-02-10T08:15:00+07:00",
    }
    return body | changes


def test_a_scan_is_recorded_and_answered_in_bahasa_indonesia(client, batches):
    before = batches.recorder.max_notification_id()
    response = client.post("/api/v1/scans", json=scan())
    assert response.status_code == 201
    assert (
        response.json()["message"] == f"Kotak {LABEL} dicatat keluar dari gudang Kabupaten Serang."
    )
    assert (response.json()["status"], response.json()["warnings"]) == (
        "warning",  # recorded, and said: a kotak suara should leave sealed
        ["BELUM DISEGEL: kotak suara keluar dari gudang Kabupaten Serang tanpa segel."],
    )
    assert response.json()["occurred_at"] == "2024-02-10T08:15:00+07:00"
    assert batches.recorder.max_notification_id() == before + 1


def test_a_retried_scan_id_gets_the_first_answer_and_appends_nothing(client, batches):
    first = client.post("/api/v1/scans", json=scan())
    after_first = batches.recorder.max_notification_id()
    retry = client.post("/api/v1/scans", json=scan())
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert batches.recorder.max_notification_id() == after_first


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (scan(label=make_label("36.04", 99_999)), 404, "tidak dikenal"),
        (scan(label=LABEL[:-1] + ("X" if LABEL[-1] != "X" else "Y")), 422, "salah baca"),
        (scan(location="36.99.01"), 422, "Lokasi '36.99.01' tidak dikenal"),
        (scan(action="teleport"), 400, "action"),
        (scan(occurred_at="2024-02-10T08:15:00"), 400, "zona waktu"),
        (scan(occurred_at="9999-12-31T23:59:59-14:00"), 422, "tidak mungkin benar"),
        (scan(occurred_at="0001-01-01T00:00:00+14:00"), 422, "tidak mungkin benar"),
        (scan(label=""), 400, "label"),
        ({"label": LABEL}, 400, "scan_id"),
    ],
)
def test_bad_input_gets_a_4xx_that_says_what_is_wrong_and_appends_nothing(
    client, batches, body, status, says
):
    before = batches.recorder.max_notification_id()
    response = client.post("/api/v1/scans", json=body)
    assert response.status_code == status
    assert says in response.text
    assert batches.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "content",
    [b'{"scan_id": "x",', b'{"scan_id": "\xff"}', b"[" * 100_000 + b"]" * 100_000, b""],
    ids=["truncated", "not-utf-8", "nested-too-deep", "empty"],
)
def test_a_body_that_is_not_json_is_refused_with_a_400(client, batches, content):
    before = batches.recorder.max_notification_id()
    response = client.post(
        "/api/v1/scans", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert batches.recorder.max_notification_id() == before


def test_the_board_json_lists_every_kecamatan_of_the_kabupaten(client):
    board = client.get("/api/v1/board").json()
    assert board["kabupaten"]["code"] == "36.04"
    assert len(board["kecamatan"]) == 29


def test_the_board_page_has_a_row_per_kecamatan_listening_to_the_stream(client):
    page = client.get("/").text
    assert 'sse-connect="/board/stream?area=36.04"' in page
    assert '<div hidden sse-swap="papan" hx-swap="none"></div>' in page
    assert page.count('<tr id="kecamatan-') == 29
    assert "/static/vendor/htmx/htmx.min.js" in page
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert client.get("/static/vendor/htmx-ext-sse/sse.min.js").status_code == 200


def test_the_openapi_document_describes_the_scan_api(client):
    schema = client.get("/schema/openapi.json").json()
    assert {"/api/v1/scans", "/api/v1/board"} <= set(schema["paths"])


def test_a_box_received_at_the_wrong_kecamatan_is_recorded_with_a_warning(client, batches):
    client.post("/api/v1/scans", json=scan()).raise_for_status()
    before = batches.recorder.max_notification_id()
    response = client.post(
        "/api/v1/scans", json=scan(scan_id="r1", action="receive", location="36.04.09")
    )
    answer = response.json()
    assert response.status_code == 201
    assert answer["status"] == "warning"
    assert answer["warnings"] == [
        "SALAH TUJUAN: tujuan berikutnya Kec. Kramatwatu, bukan Kec. Ciruas"
        " (kotak untuk TPS 001 Kramatwatu)."
    ]
    assert batches.recorder.max_notification_id() == before + 2  # the receipt and the anomaly
    retry = client.post(
        "/api/v1/scans", json=scan(scan_id="r1", action="receive", location="36.04.09")
    )
    assert retry.json() == answer


def test_an_anomaly_is_acknowledged_then_resolved_through_the_api(client):
    client.post("/api/v1/scans", json=scan()).raise_for_status()
    received = client.post(
        "/api/v1/scans", json=scan(scan_id="r1", action="receive", location="36.04.09")
    ).json()
    [anomaly_id] = received["anomalies"]
    seen = client.post(f"/api/v1/anomalies/{anomaly_id}/acknowledge", json={"by": "Siti"})
    assert (seen.status_code, seen.json()["status"]) == (200, "acknowledged")
    done = client.post(f"/api/v1/anomalies/{anomaly_id}/resolve", json={"by": "Siti", "note": "ok"})
    assert done.json() == {
        "anomaly_id": anomaly_id,
        "kind": "wrong_destination",
        "status": "resolved",
    }
    unknown = client.post(f"/api/v1/anomalies/{LABEL}-99/resolve", json={"by": "Siti"})
    assert unknown.status_code == 404


def test_a_box_packed_sealed_and_sent_arrives_short_and_resealed_and_both_are_flagged(client):
    steps = [
        scan(scan_id="p", action="pack", quantity=DPR_BOX.quantity, dapil=DPR_BOX.dapil),
        scan(scan_id="s", action="seal", seals=["SG-001", "SG-002"]),
        scan(scan_id="d", action="dispatch", to="36.04.05", surat_jalan="SJ/12", driver="Asep"),
    ]
    for body in steps:
        answer = client.post("/api/v1/scans", json=body).json()
        assert answer["status"] == "ok", answer
    receipt = scan(
        scan_id="r",
        action="receive",
        location="36.04.05",
        counted=200,
        condition="baik",
        seals=["SG-001", "SG-999"],
        officer="Budi",
        witness="Ani",
    )
    answer = client.post("/api/v1/scans", json=receipt).json()
    assert answer["status"] == "warning"
    assert answer["warnings"] == [
        "SEGEL TIDAK COCOK: seharusnya SG-001, SG-002, ditemukan SG-001, SG-999.",
        f"JUMLAH KURANG: seharusnya {kit_plan(ONE_TPS)[1].quantity}, terhitung 200.",
    ]


def test_a_seal_scan_without_seal_numbers_is_refused_and_says_what_is_missing(client, batches):
    before = batches.recorder.max_notification_id()
    response = client.post("/api/v1/scans", json=scan(action="seal"))
    assert response.status_code == 422
    assert "nomor segel" in response.json()["detail"]
    assert batches.recorder.max_notification_id() == before


def test_an_offline_queue_of_scans_is_recorded_in_order_or_not_at_all(client, batches):
    queue = [
        scan(scan_id="q1", action="dispatch"),
        scan(scan_id="q2", action="receive", location="36.04.05"),
    ]
    before = batches.recorder.max_notification_id()
    refused = client.post("/api/v1/scans/queue", json=[*queue, scan(scan_id="q3", location="9")])
    assert refused.status_code == 422
    assert batches.recorder.max_notification_id() == before
    assert client.post("/api/v1/scans/queue", json=[]).status_code == 400
    answers = client.post("/api/v1/scans/queue", json=queue)
    assert answers.status_code == 201
    assert [a["status"] for a in answers.json()] == ["warning", "ok"]  # dispatched unsealed
    assert batches.recorder.max_notification_id() == before + 2


def test_the_kpps_count_at_the_close_is_recorded_and_a_mismatch_warned(client):
    tps = SERANG.tps[0].code
    count = scan(scan_id="c", action="account", location=tps, used=200, spoiled=2, unused=10)
    answer = client.post("/api/v1/scans", json=count).json()
    assert answer["status"] == "warning"
    assert answer["warnings"] == [
        f"HITUNGAN TIDAK COCOK: diterima {DPR_BOX.quantity}, terpakai + rusak + sisa = 212."
    ]
