"""Corrections, voids and replacement batches through the device API, on a real store."""

from datetime import datetime, timedelta, timezone

from litestar.testing import TestClient

from services.custody.labels import make_label
from services.custody.plan import kit_plan
from tests.data import ONE_TPS

LABEL = kit_plan(ONE_TPS)[1].label  # the DPR kotak suara of the first TPS
TPS = ONE_TPS.tps[0].code
KECAMATAN = f"{TPS[0:2]}.{TPS[2:4]}.{TPS[4:6]}"


def scan(scan_id: str, action: str, location: str, **details) -> dict:
    return {
        "scan_id": scan_id,
        "label": LABEL,
        "action": action,
        "location": location,
        "occurred_at": "2024-02-10T08:15:00+07:00",
        **details,
    }


def post(client: TestClient, body: dict) -> dict:
    response = client.post("/api/v1/scans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_mistyped_count_is_corrected_by_a_new_scan_that_names_the_wrong_one(client, batches):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    wrong = post(client, scan("r1", "receive", KECAMATAN, counted=30))
    assert wrong["status"] == "warning"
    right = scan("r2", "receive", KECAMATAN, counted=batches.batch(LABEL).planned)
    correction = {"by": "Agus (PPK)", "reason": "salah ketik: 306 terketik 30", "scan": right}
    answer = client.post(
        f"/api/v1/batches/{LABEL}/events/{wrong['version']}/correct", json=correction
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["warnings"]) == ("ok", [])
    batch = batches.batch(LABEL)
    assert batch.scans["r1"].voided and not batch.scans["r2"].voided
    assert [a.status for a in batch.anomalies.values()] == ["resolved"]
    again = client.post(
        f"/api/v1/batches/{LABEL}/events/{wrong['version']}/correct", json=correction
    )
    assert again.json() == answer.json()  # a retried correction: the first answer, nothing more


def test_a_scan_of_the_wrong_box_is_voided_with_a_reason(client, batches):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    wrong = post(client, scan("r", "receive", KECAMATAN))
    void = {"by": "Agus (PPK)", "reason": "kotak lain yang terpindai"}
    answer = client.post(f"/api/v1/batches/{LABEL}/events/{wrong['version']}/void", json=void)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["location"], answer.json()["in_transit"]) == ("36.04", True)
    missing = client.post(f"/api/v1/batches/{LABEL}/events/1/void", json=void)  # registration
    assert (missing.status_code, "nomor urut 1" in missing.json()["detail"]) == (404, True)
    blank = client.post(f"/api/v1/batches/{LABEL}/events/{wrong['version']}/void", json={"by": "A"})
    assert blank.status_code == 400  # a void needs its reason


def test_resolving_with_a_replacement_registers_a_new_batch_and_withdraws_the_wet_one(
    client, batches
):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    wet = post(client, scan("r", "receive", KECAMATAN, condition="basah"))
    [anomaly_id] = wet["anomalies"]
    body = {"by": "Rina (KPU)", "note": "surat suara basah", "replacement": {"void_original": True}}
    answer = client.post(f"/api/v1/anomalies/{anomaly_id}/resolve", json=body)
    assert answer.status_code == 200, answer.text
    new_label = answer.json()["replacement"]
    assert new_label == make_label("36.04", 32**4 // 2)  # the first replacement serial
    original, replacement = batches.batch(LABEL), batches.batch(new_label)
    assert original.voided.startswith(f"diganti {new_label}")
    assert original.replaced_by == (new_label,)
    assert (replacement.replaces, replacement.destination, replacement.planned) == (
        LABEL,
        TPS,
        original.planned,
    )
    assert client.post(f"/api/v1/anomalies/{anomaly_id}/resolve", json=body).json() == {
        "anomaly_id": anomaly_id,
        "kind": "damaged",
        "status": "resolved",
        "replacement": new_label,
    }  # a retry: the first answer, no second replacement
    scanned = post(client, scan("late", "receive", TPS))  # the withdrawn box turns up anyway
    assert any("DIBATALKAN" in warning for warning in scanned["warnings"])


def test_a_short_box_is_topped_up_by_a_replacement_for_the_shortfall(client, batches):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    short = post(client, scan("r", "receive", KECAMATAN, counted=200))
    [anomaly_id] = short["anomalies"]
    shortfall = batches.batch(LABEL).planned - 200
    body = {"by": "Rina (KPU)", "replacement": {"quantity": shortfall}}
    new_label = client.post(f"/api/v1/anomalies/{anomaly_id}/resolve", json=body).json()[
        "replacement"
    ]
    assert batches.batch(new_label).planned == shortfall
    assert batches.batch(LABEL).voided == ""  # the short box still goes on
    assert new_label == make_label("36.04", 32**4 // 2)


def test_the_h1_check_flags_a_late_replacement_and_not_the_withdrawn_original(client, batches):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    [anomaly_id] = post(client, scan("r", "receive", KECAMATAN, condition="rusak"))["anomalies"]
    body = {"by": "Rina (KPU)", "replacement": {"void_original": True}}
    new_label = client.post(f"/api/v1/anomalies/{anomaly_id}/resolve", json=body).json()[
        "replacement"
    ]
    voting_day = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    assert batches.flag_late([LABEL], deadline=voting_day) == 1
    assert [a.kind for a in batches.batch(new_label).anomalies.values()] == ["late"]
    assert "late" not in [a.kind for a in batches.batch(LABEL).anomalies.values()]


def test_the_timeline_shows_both_clocks_the_anomaly_and_the_correction(client, batches):
    post(client, scan("d", "dispatch", "36.04", to=KECAMATAN))
    wrong = post(client, scan("r1", "receive", KECAMATAN, counted=30))
    right = scan("r2", "receive", KECAMATAN, counted=batches.batch(LABEL).planned)
    correction = {"by": "Agus (PPK)", "reason": "salah ketik", "scan": right}
    client.post(f"/api/v1/batches/{LABEL}/events/{wrong['version']}/correct", json=correction)
    entries = client.get(f"/api/v1/batches/{LABEL}/timeline").json()["entries"]
    kinds = [e["event"] for e in entries]
    assert kinds == [
        "BatchRegistered",
        "BatchDispatched",
        "BatchReceived",
        "AnomalyRaised",
        "ScanVoided",
        "AnomalyResolved",
        "BatchReceived",
    ]
    first_receipt, corrective = entries[2], entries[6]
    assert first_receipt["voided_by"] == 5 and first_receipt["corrected_by"] == 7
    assert first_receipt["raised"] == [wrong["anomalies"][0]]
    assert corrective["corrects"] == wrong["version"]
    assert first_receipt["occurred_at"] == "2024-02-10T08:15:00+07:00"  # the device's clock
    assert first_receipt["recorded_at"] != first_receipt["occurred_at"]  # and the server's
    page = client.get(f"/kotak/{LABEL}")
    assert page.status_code == 200
    assert "Dibatalkan oleh" in page.text and "Koreksi atas" in page.text
    found = client.get("/kotak", params={"label": LABEL.lower()}, follow_redirects=False)
    assert found.headers["location"] == f"/kotak/{LABEL}"
    misread = client.get("/kotak", params={"label": LABEL[:-1] + "0"})
    assert "salah baca" in misread.text
    assert client.get("/kotak/3604-ZZZZ-1").status_code in (404, 422)
