"""The auditors' page on the live stack: verify now, keep the checkpoints, export EPCIS."""

import json
import sqlite3
import time

import msgspec

from services.audit.chain import CheckpointFile
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from tests.data import ONE_TPS, REGISTERED, SERANG


def test_an_auditor_verifies_from_the_page_and_sees_a_tampered_event_named(live_lacak):
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    batches.register(kit_plan(ONE_TPS), at=REGISTERED)
    last = batches.recorder.max_notification_id()
    batches.close()
    with live_lacak.signed_in(timeout=30) as client:
        deadline = time.monotonic() + 15
        while f"mencatat {last} peristiwa" not in client.get("/audit").text:
            assert time.monotonic() < deadline, "the ledger did not catch up"
            time.sleep(0.2)
        intact = client.post("/audit/periksa")
        assert intact.status_code == 200 and "UTUH." in intact.text
        checkpoints = msgspec.json.decode(
            client.get("/api/v1/ledger/checkpoints").content, type=CheckpointFile
        )
        assert checkpoints.source  # a file, even with no checkpoint yet (one per 10,000 events)
        epcis = client.get("/api/v1/export/epcis", params={"from": "", "kecamatan": ""})
        assert epcis.status_code == 200
        assert len(json.loads(epcis.content)["epcisBody"]["eventList"]) == last

        with sqlite3.connect(live_lacak.settings.store["SQLITE_DBNAME"]) as db:
            db.execute(
                "UPDATE stored_events SET state = replace(state, 'kotak_suara', 'kotak_palsu') "
                "WHERE rowid = 3"
            )
        tampered = client.post("/audit/periksa")
        assert "TIDAK UTUH." in tampered.text and "changed pada posisi 3" in tampered.text
