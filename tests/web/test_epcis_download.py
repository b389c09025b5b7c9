"""The EPCIS 2.0 download of a filtered range, through the web app on a real store."""

import json

from jsonschema import Draft7Validator
from litestar.testing import TestClient

from services.custody.plan import kit_plan
from tests.data import ONE_TPS
from tests.gs1 import gs1_file

LABEL = kit_plan(ONE_TPS)[1].label  # the DPR kotak suara of the first TPS
TPS = ONE_TPS.tps[0].code
KECAMATAN = f"{TPS[0:2]}.{TPS[2:4]}.{TPS[4:6]}"
SCHEMA = json.loads(gs1_file("EPCIS-JSON-Schema.json").read_text())


def scan(scan_id: str, action: str, location: str, at: str, **details) -> dict:
    return {
        "scan_id": scan_id,
        "label": LABEL,
        "action": action,
        "location": location,
        "occurred_at": at,
        **details,
    }


def post(client: TestClient, body: dict) -> dict:
    response = client.post("/api/v1/scans", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_download_is_an_epcis_document_of_the_range_asked_for(client):
    post(
        client,
        scan(
            "d", "dispatch", "36.04", "2024-02-10T08:00:00+07:00", to=KECAMATAN, surat_jalan="SJ-1"
        ),
    )
    wrong = post(client, scan("r1", "receive", KECAMATAN, "2024-02-10T10:00:00+07:00", counted=3))
    right = scan("r2", "receive", KECAMATAN, "2024-02-10T10:00:00+07:00", counted=306)
    fixed = client.post(
        f"/api/v1/batches/{LABEL}/events/{wrong['version']}/correct",
        json={"by": "Agus", "reason": "salah ketik", "scan": right},
    )
    assert fixed.status_code == 200, fixed.text

    response = client.get("/api/v1/export/epcis", params={"from": "2024-02-10T09:00+07:00"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert Draft7Validator(SCHEMA).is_valid(document)
    received = [e for e in document["epcisBody"]["eventList"] if e.get("bizStep") == "receiving"]
    assert [e["lacak:counted"] for e in received] == [3, 306]
    assert received[0]["errorDeclaration"]["correctiveEventIDs"] == [received[1]["eventID"]]
    assert all(e["eventTime"] >= "2024-02-10T09" for e in document["epcisBody"]["eventList"])


def test_the_download_takes_a_kecamatan_and_a_position_range(client):
    post(client, scan("d", "dispatch", "36.04", "2024-02-10T08:00:00+07:00", to=KECAMATAN))
    everything = client.get("/api/v1/export/epcis").json()["epcisBody"]["eventList"]
    assert len(everything) == len(kit_plan(ONE_TPS)) + 1  # the registrations and the dispatch

    elsewhere = client.get("/api/v1/export/epcis", params={"kecamatan": "36.04.06"})
    assert elsewhere.json()["epcisBody"]["eventList"] == []
    here = client.get("/api/v1/export/epcis", params={"kecamatan": KECAMATAN})
    assert len(here.json()["epcisBody"]["eventList"]) == len(everything)
    two = client.get("/api/v1/export/epcis", params={"from_position": 2, "to_position": 3})
    assert [e["eventID"] for e in two.json()["epcisBody"]["eventList"]] == [
        e["eventID"] for e in everything[1:3]
    ]


def test_a_time_that_cannot_be_read_is_refused_with_a_message(client):
    response = client.get("/api/v1/export/epcis", params={"until": "kemarin"})
    assert response.status_code == 400
    assert "Waktu tidak dikenali" in response.json()["detail"]
