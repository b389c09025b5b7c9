"""The board's SSE stream, from a running web + relay + projection, over real HTTP."""

import re
from collections.abc import Iterator

import msgspec

from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.data import REGISTERED, SERANG

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


def rows_in(html: str) -> dict[str, str]:
    """The rows of one message, by id, each with what it says."""
    return dict(re.findall(r'<tr id="([^"]+)"[^>]*>(.*?)</tr>', html, flags=re.DOTALL))


def test_a_scan_reaches_an_open_board_stream_as_its_kecamatan_row_alone(live_lacak):
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(TPS,)))
    batches.register(plans, at=REGISTERED)
    batches.close()
    row_id = "kecamatan-" + kecamatan_of(TPS.code).replace(".", "")
    with live_lacak.signed_in(timeout=10) as client:
        with client.stream("GET", "/board/stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": tersambung"
            messages = row_events(lines, "papan")
            catch_up = rows_in(next(messages))  # every row of the page, at once
            assert len(catch_up) == 29 + 1  # and the kabupaten's total
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
            html = next(m for m in messages if '<td class="n place transit">1</td>' in m)
    assert set(rows_in(html)) == {row_id, "total"}  # only what changed
    assert f'<tr id="{row_id}" hx-swap-oob="true"' in html
    assert '<td class="n place transit">1</td>' in rows_in(html)[row_id]


def test_a_desa_stream_carries_its_tps_rows_and_a_tps_stream_its_batches(live_lacak):
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    plans = kit_plan(msgspec.structs.replace(SERANG, tps=(TPS,)))
    batches.register(plans, at=REGISTERED)
    batches.close()
    with live_lacak.signed_in(timeout=10) as client:
        with client.stream("GET", f"/board/stream?area={TPS.desa}") as stream:
            messages = row_events(stream.iter_lines(), "papan")
            rows = rows_in(next(m for m in messages if '<td class="n planned">7</td>' in m))
        assert f"tps-{TPS.code}" in rows
        assert all(r == "total" or r.startswith("tps-") for r in rows)
        with client.stream("GET", f"/board/stream?area={TPS.code}") as stream:
            messages = row_events(stream.iter_lines(), "papan")
            html = next(m for m in messages if plans[0].label in m)
        assert '<template><tbody id="tps-batches" hx-swap-oob="true">' in html
        for view, swapped in [
            ("charts", '<section id="grafik" hx-swap-oob="true"'),
            ("wall", '<section id="layar-kab" class="wall-panel wall-total" hx-swap-oob="true">'),
        ]:
            with client.stream("GET", f"/board/stream?area=36.04&view={view}") as stream:
                assert swapped in next(row_events(stream.iter_lines(), "papan"))
        assert client.get("/board/stream?area=36.99").status_code == 404
