"""The exceptions queue and the activity feed: pages, forms, JSON and the live stream."""

from litestar.testing import TestClient

from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import ONE_TPS, REGISTERED, SERANG
from tests.web.test_board_stream import row_events

PLANS = kit_plan(ONE_TPS)
LABELS = [plan.label for plan in PLANS]
KECAMATAN = kecamatan_of(SERANG.tps[0].code)
OTHER_KECAMATAN = next(k.code for k in SERANG.kecamatan if k.code != KECAMATAN)


def scan(n: int, label: str, action: str, location: str, **details) -> dict:
    return {
        "scan_id": f"s{n}",
        "label": label,
        "action": action,
        "location": location,
        "occurred_at": "2024-02-12T09:00:00+07:00",
        "officer": "Rina",
        **details,
    }


def receive_short(client: TestClient, n: int = 1, label: str = LABELS[1]) -> str:
    """A box dispatched from the gudang and received at its PPK with sheets missing."""
    client.post("/api/v1/scans", json=scan(n * 10, label, "dispatch", "36.04")).raise_for_status()
    answer = client.post(
        "/api/v1/scans", json=scan(n * 10 + 1, label, "receive", KECAMATAN, counted=250)
    )
    [anomaly_id] = answer.json()["anomalies"]
    return anomaly_id


def test_an_open_anomaly_is_queued_with_what_is_wrong_where_and_when_in_bahasa(lacak):
    client = lacak.client
    anomaly_id = receive_short(client)
    lacak.project()
    page = client.get("/anomali")
    assert page.status_code == 200
    assert "Antrean anomali" in page.text
    assert f'id="anomali-{anomaly_id}"' in page.text
    assert ">JUMLAH KURANG</span>" in page.text
    assert "seharusnya 297, terhitung 250." in page.text  # 291 DPT + 2%, rounded up
    assert "12-02-2024 09:00 WIB" in page.text  # the device's time, as Serang reads it
    assert 'sse-connect="/anomali/stream?' in page.text
    assert 'href="/anomali"' in client.get("/").text  # linked from the board's header


def test_the_queue_filters_by_kind_and_kecamatan_and_an_htmx_request_gets_the_list_only(lacak):
    client = lacak.client
    anomaly_id = receive_short(client)
    lacak.project()
    row = f'id="anomali-{anomaly_id}"'
    assert row in client.get("/anomali", params={"kind": "count_short"}).text
    assert row not in client.get("/anomali", params={"kind": "damaged"}).text
    assert row not in client.get("/anomali", params={"kecamatan": OTHER_KECAMATAN}).text
    partial = client.get(
        "/anomali", params={"kecamatan": KECAMATAN}, headers={"HX-Request": "true"}
    )
    assert row in partial.text and "<html" not in partial.text
    assert partial.text.lstrip().startswith('<div id="antrean"')
    refused = client.get("/anomali", params={"kind": "hilang"})
    assert refused.status_code == 400 and "tidak dikenal: hilang" in refused.text


def test_acknowledging_and_resolving_from_the_row_answer_with_the_row_in_its_new_state(lacak):
    client = lacak.client
    anomaly_id = receive_short(client)
    lacak.project()
    acknowledged = client.post(
        f"/anomali/{anomaly_id}/tangani", data={"by": "Budi (PPK)", "note": "dihitung ulang"}
    )
    assert acknowledged.status_code == 200
    assert "Sedang ditangani" in acknowledged.text and "Budi (PPK)" in acknowledged.text
    assert acknowledged.text.lstrip().startswith(f'<tr id="anomali-{anomaly_id}"')
    resolved = client.post(f"/anomali/{anomaly_id}/selesai", data={"by": "Sari", "note": ""})
    assert "Selesai" in resolved.text and "<form" not in resolved.text
    lacak.project()
    [row] = client.get("/api/v1/anomalies", params={"status": "resolved"}).json()["anomalies"]
    assert (row["acknowledged_by"], row["resolved_by"]) == ("Budi (PPK)", "Sari")
    assert client.get("/api/v1/anomalies").json()["anomalies"] == []  # none open any more


def test_a_row_form_without_an_officer_is_refused_in_bahasa_and_keeps_the_note(lacak):
    client, batches = lacak.client, lacak.batches
    anomaly_id = receive_short(client)
    lacak.project()
    before = batches.recorder.max_notification_id()
    refused = client.post(f"/anomali/{anomaly_id}/tangani", data={"by": "  ", "note": "catatan"})
    assert refused.status_code == 422
    assert "Isi nama petugas yang menangani." in refused.text
    assert ">catatan</textarea>" in refused.text and "<details open>" in refused.text
    assert batches.recorder.max_notification_id() == before


def test_an_unknown_anomaly_on_a_row_form_is_a_404(lacak):
    client = lacak.client
    answer = client.post(f"/anomali/{LABELS[0]}-99/tangani", data={"by": "Budi"})
    assert answer.status_code == 404


def test_the_anomaly_json_pages_newest_first(lacak):
    client = lacak.client
    ids = [receive_short(client, n, label) for n, label in enumerate(LABELS[:3], start=1)]
    lacak.project()
    first = client.get("/api/v1/anomalies", params={"limit": 2}).json()
    assert [row["anomaly_id"] for row in first["anomalies"]] == ids[::-1][:2]
    second = client.get("/api/v1/anomalies", params={"limit": 2, "before": first["before"]}).json()
    assert [row["anomaly_id"] for row in second["anomalies"]] == [ids[0]]
    assert second["before"] is None
    assert first["anomalies"][0]["location"] == KECAMATAN


def test_the_activity_feed_lists_the_latest_scans_newest_first(lacak):
    client = lacak.client
    receive_short(client)
    lacak.project()
    items = client.get("/api/v1/activity").json()["activity"]
    assert [(i["action"], i["location"], i["anomalies"]) for i in items] == [
        ("receive", KECAMATAN, ["count_short"]),
        ("dispatch", "36.04", []),
    ]
    page = client.get("/aktivitas")
    assert "Aktivitas terbaru" in page.text and "Diterima" in page.text
    assert 'sse-swap="aktivitas-baru"' in page.text


def test_a_new_anomaly_reaches_an_open_queue_stream_and_its_resolution_follows(live_lacak):
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    batches.register(PLANS, at=REGISTERED)
    batches.close()
    with live_lacak.signed_in(timeout=10) as client:
        with client.stream("GET", "/anomali/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": tersambung"
            anomaly_id = receive_short(client)  # type: ignore[arg-type]
            new = next(row_events(lines, "anomali-baru"))
            assert f'id="anomali-{anomaly_id}"' in new and "JUMLAH KURANG" in new
            client.post(
                f"/api/v1/anomalies/{anomaly_id}/resolve", json={"by": "Sari"}
            ).raise_for_status()
            swapped = next(row_events(lines, f"anomali-{anomaly_id}"))
    assert "Diselesaikan Sari" in swapped


def test_resolving_from_the_row_can_send_a_replacement_and_withdraw_the_original(lacak):
    client, batches = lacak.client, lacak.batches
    anomaly_id = receive_short(client)
    lacak.project()
    form = {"by": "Sari", "note": "basah", "replacement": "ganti"}
    resolved = client.post(f"/anomali/{anomaly_id}/selesai", data=form)
    assert resolved.status_code == 200
    original = batches.batch(LABELS[1])
    [new_label] = original.replaced_by
    assert original.voided.startswith(f"diganti {new_label}")
    assert batches.batch(new_label).replaces == LABELS[1]
    other = receive_short(client, 2, LABELS[2])
    lacak.project()
    odd = client.post(f"/anomali/{other}/selesai", data={"by": "Sari", "replacement": "semua"})
    assert odd.status_code == 422 and "tidak dikenal" in odd.text
