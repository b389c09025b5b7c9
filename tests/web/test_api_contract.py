"""What the fuzzer (test_api_fuzz.py) found, each pinned by a plain test: limits that were declared
but not checked, a 500, and an OpenAPI document that did not say what the API answers."""

import pytest
from litestar.testing import TestClient

from services.custody.plan import kit_plan
from tests.data import ONE_TPS

LABEL = kit_plan(ONE_TPS)[1].label
TOO_BIG = str(2**70)  # past a 64-bit notification id


@pytest.fixture
def openapi(client: TestClient) -> dict:
    return client.get("/schema/openapi.json").json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/activity?limit=1001",
        "/api/v1/anomalies?limit=501",
        "/api/v1/activity?limit=0",
        f"/api/v1/activity?before={TOO_BIG}",
        f"/api/v1/anomalies?before={TOO_BIG}",
        f"/api/v1/events?before={TOO_BIG}",
        f"/api/v1/export/epcis?from_position={TOO_BIG}",
        f"/api/v1/events?officer={'x' * 65}",
        f"/api/v1/places?q={'x' * 65}",
    ],
)
def test_a_query_parameter_past_its_limit_is_a_400_not_a_500_nor_ignored(client, url):
    response = client.get(url)
    assert response.status_code == 400, response.text


def test_a_scan_version_below_one_is_refused_before_the_store_is_asked(client):
    response = client.post(
        f"/api/v1/batches/{LABEL}/events/0/void", json={"by": "a", "reason": "b"}
    )
    assert response.status_code == 400
    assert "version" in response.text


def test_the_checkpoint_file_is_there_before_the_ledger_projection_first_ran(client):
    response = client.get("/api/v1/ledger/checkpoints")
    assert response.status_code == 200
    assert response.json()["checkpoints"] == []
    assert client.get("/audit").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?kecamatan=36.04.99",
        "/api/v1/anomalies?kecamatan=36.04.99",
        "/api/v1/export/epcis?kecamatan=36.04.05&kecamatan=36.04.99",  # found fuzzing PostgreSQL
    ],
)
def test_a_well_formed_kecamatan_the_master_data_lacks_is_a_422_that_names_it(client, url):
    response = client.get(url)
    assert response.status_code == 422
    assert response.json()["detail"] == "Kecamatan '36.04.99' tidak dikenal."


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/api/v1/events?until=0", 400, "tidak bisa dibaca"),
        ("/api/v1/events?until=2024-13-45", 422, "Tanggal atau jam '2024-13-45' tidak ada."),
        ("/api/v1/export/epcis?from=kemarin", 400, "Waktu tidak dikenali"),
        ("/api/v1/export/epcis?from=2024-02-30", 422, "Tanggal atau jam '2024-02-30' tidak ada."),
    ],
)
def test_an_unreadable_time_is_a_400_and_a_time_that_does_not_exist_a_422(
    client, url, status, says
):
    response = client.get(url)
    assert (response.status_code, response.headers["content-type"]) == (status, "application/json")
    assert says in response.json()["detail"]


def test_the_openapi_document_declares_every_error_a_device_can_get(openapi):
    declared = {
        (path, method): set(operation["responses"])
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    }
    assert {"404", "409", "422", "503"} <= declared[("/api/v1/scans", "post")]
    assert {"404", "409", "422", "503"} <= declared[("/api/v1/scans/queue", "post")]
    assert {"404", "422"} <= declared[("/api/v1/labels/{label}", "get")]
    assert "404" in declared[("/api/v1/anomalies/{anomaly_id}/resolve", "post")]
    assert "404" in declared[("/api/v1/board", "get")]
    error = openapi["paths"]["/api/v1/scans"]["post"]["responses"]["422"]["content"]
    assert error["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"


def test_the_openapi_document_says_of_a_scan_what_msgspec_checks(openapi):
    scan = openapi["components"]["schemas"]["ScanIn"]
    assert scan["additionalProperties"] is False  # forbid_unknown_fields
    [seals, _null] = scan["properties"]["seals"]["anyOf"]
    assert seals["items"]["minLength"] == 1  # an empty seal number is refused
    [quantity, _null] = scan["properties"]["quantity"]["anyOf"]
    assert quantity["minimum"] == 0  # Litestar dropped a ge=0
    queue = openapi["paths"]["/api/v1/scans/queue"]["post"]["requestBody"]["content"]
    assert (
        queue["application/json"]["schema"]["minItems"],
        queue["application/json"]["schema"]["maxItems"],
    ) == (1, 1000)


def test_the_openapi_document_gives_the_true_shape_of_the_downloads(openapi):
    epcis = openapi["paths"]["/api/v1/export/epcis"]["get"]["responses"]["200"]["content"]
    assert list(epcis) == ["application/ld+json"]
    checkpoints = openapi["paths"]["/api/v1/ledger/checkpoints"]["get"]["responses"]["200"]
    schema = checkpoints["content"]["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/CheckpointFile"
