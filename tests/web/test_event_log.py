"""The event log browser: every event a row, filtered, paged and downloaded, on the live stack."""

import csv
import io
import time
from datetime import UTC, datetime

import msgspec

from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import REGISTERED, SERANG

TWO_TPS = msgspec.structs.replace(SERANG, tps=SERANG.tps[:2])


def test_the_log_filters_by_type_kecamatan_officer_anomaly_and_time_and_downloads_csv(live_lacak):
    plans = kit_plan(TWO_TPS)
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    batches.register(plans, at=REGISTERED)
    kecamatan = kecamatan_of(plans[0].destination)
    batches.scan(
        Scan(
            scan_id="d1",
            label=plans[0].label,
            action="dispatch",
            location="36.04",
            occurred_at=datetime(2024, 2, 10, 1, tzinfo=UTC),
            officer="Rina Gudang",
        )
    )
    batches.scan(
        Scan(
            scan_id="r1",
            label=plans[0].label,
            action="receive",
            location="36.04.09",
            occurred_at=datetime(2024, 2, 10, 5, tzinfo=UTC),
            officer="Agus PPK",
        )
    )
    batches.close()
    total = len(plans) + 3  # registrations, the dispatch, the receipt and the anomaly it raised
    with live_lacak.signed_in(timeout=10) as client:

        def events(**query) -> list[dict]:
            answer = client.get("/api/v1/events", params=query)
            assert answer.status_code == 200, answer.text
            return answer.json()["events"]

        deadline = time.monotonic() + 15
        while len(events(kecamatan=kecamatan)) < total:
            assert time.monotonic() < deadline, "the log did not catch up"
            time.sleep(0.1)
        assert [e["event"] for e in events(event="BatchDispatched")] == ["BatchDispatched"]
        assert [e["officer"] for e in events(officer="agus")] == ["Agus PPK"]
        [raised] = events(anomaly="wrong_destination")
        assert (raised["label"], raised["kecamatan"]) == (plans[0].label, kecamatan)
        in_window = events(since="2024-02-10T07:00:00+07:00", until="2024-02-10T09:00:00+07:00")
        assert [e["event"] for e in in_window] == ["BatchDispatched"]  # 08:00 WIB
        assert client.get("/api/v1/events", params={"kecamatan": "36.04.99"}).status_code == 422
        newest = events()[0]["position"]
        assert all(e["position"] < newest for e in events(before=newest))

        download = client.get("/log.csv", params={"kecamatan": kecamatan})
        assert download.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert len(rows) == total
        assert [int(r["position"]) for r in rows] == sorted(int(r["position"]) for r in rows)
        page = client.get("/log", params={"jenis": "BatchReceived"})
        assert page.status_code == 200 and "diterima di Kec." in page.text
