"""The board's SSE stream, from a running web + relay + projection, over real HTTP."""

from collections.abc import Iterator

import httpx
import msgspec

from services.batches import Batches
from services.plan import kit_plan
from services.serang import kabupaten_serang

SERANG = kabupaten_serang()
TPS = SERANG.tps[0]


def row_events(lines: Iterator[str], event: str) -> Iterator[str]:
    """The data of each SSE message named `event`, as the HTML it carries."""
    name, data = None, []
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif not line:
            if name == event:
                yield "\n".join(data)
            name, data = None, []


def test_a_scan_reaches_an_open_board_stream_as_its_kecamatan_row(live_lacak):
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(TPS,)))
    batches.register(plans)
    batches.close()
    kecamatan_event = "kec-" + SERANG.kecamatan_of_tps(TPS.code).replace(".", "")
    with httpx.Client(base_url=live_lacak.base_url, timeout=10) as client:
        with client.stream("GET", "/board/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": tersambung"
            client.post(
                "/api/v1/scans",
                json={
                    "scan_id": "a1",
                    "label": plans[0].label,
                    "action": "dispatch",
                    "location": "36.04",
                    "occurred_at": "2024-02-10T08:15:00+07:00",
                },
            ).raise_for_status()
            rows = row_events(lines, kecamatan_event)
            html = next(row for row in rows if '<td class="n dispatched">1</td>' in row)
    assert f'id="{kecamatan_event}"' in html
