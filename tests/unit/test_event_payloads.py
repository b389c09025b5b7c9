"""Stored events stay readable: payloads written before a field was added still decode."""

from datetime import UTC, datetime
from uuid import UUID

import events
from events import BatchDispatched, BatchReceived, BatchRegistered

ID = "5f0c2a9e-0b6d-4d7e-9a51-6c0f1d2e3b4a"
CLOCKS = '"occurred_at":"2024-02-10T01:00:00Z","recorded_at":"2024-02-10T01:00:01Z"'


def test_a_batch_registered_before_quantity_and_dapil_decodes_with_their_defaults():
    stored = (
        f'{{"type":"BatchRegistered","originator_id":"{ID}","originator_version":1,'
        f'"label":"3604-0001-7","destination":"3604052001001",{CLOCKS},'
        '"item":"kotak_suara","ballot_type":"DPR"}'
    )
    event = events.decode(stored.encode())
    assert isinstance(event, BatchRegistered)
    assert (event.quantity, event.dapil, event.originator_id) == (0, "", UUID(ID))


def test_a_dispatch_and_a_receipt_from_the_first_slice_decode_with_empty_details():
    for kind in ("BatchDispatched", "BatchReceived"):
        stored = (
            f'{{"type":"{kind}","originator_id":"{ID}","originator_version":2,'
            f'"label":"3604-0001-7","destination":"3604052001001",{CLOCKS},'
            '"scan_id":"s1","location":"36.04"}'
        )
        event = events.decode(stored.encode())
        assert event.occurred_at == datetime(2024, 2, 10, 1, tzinfo=UTC)
        if isinstance(event, BatchReceived):
            assert (event.counted, event.seals, event.reasons, event.surat_jalan) == (
                None,
                None,
                [],
                "",
            )
        else:
            assert isinstance(event, BatchDispatched)
            assert (event.to, event.surat_jalan, event.officer) == ("", "", "")
