"""The board's pages and JSON at every level, through the Litestar test client on a real store."""

import asyncio
import re
import time
from datetime import date, datetime, timedelta, timezone

import msgspec
import pytest
from litestar.testing import TestClient

from services.custody.batch import Scan
from services.custody.batches import BatchPlan
from services.custody.plan import kit_plan
from services.views.board.reducer import tps_at_risk
from services.wilayah import kecamatan_of
from tests.data import SERANG
from tests.integration.counting import assert_risk_kept_as_the_rule_counts
from tests.web.conftest import Lacak
from tests.web.signin import sign_in
from web.app import create_app
from web.live import Broadcaster, Channel, Follows

TPS = SERANG.tps[0]  # 3604052001001, Desa Kramatwatu, Kec. Kramatwatu
OTHER_TPS = SERANG.tps[1]
PLANS = kit_plan(msgspec.structs.replace(SERANG, tps=(TPS, OTHER_TPS)))
FIRST, SECOND = (p for p in PLANS if p.destination == TPS.code and p.ballot_type in ("PPWP", "DPR"))
DESA, KECAMATAN = TPS.desa, kecamatan_of(TPS.code)


T = datetime(2024, 2, 10, 8, tzinfo=timezone(timedelta(hours=7)))


def scan(label: str, action: str, location: str, n: int) -> Scan:
    return Scan(
        scan_id=f"{label}/{n}",
        label=label,
        action=action,
        location=location,
        occurred_at=T + timedelta(hours=n),
    )


@pytest.fixture
def plans() -> list[BatchPlan]:
    return PLANS


@pytest.fixture
def projected(lacak: Lacak) -> Lacak:
    """Two TPS planned; one box of the first delivered to its TPS, one at its PPK."""
    route = [
        ("dispatch", "36.04"),
        ("receive", KECAMATAN),
        ("dispatch", KECAMATAN),
        ("receive", DESA),
        ("dispatch", DESA),
        ("receive", TPS.code),
    ]
    for n, (action, location) in enumerate(route):
        lacak.batches.scan(scan(FIRST.label, action, location, n))
    for n, (action, location) in enumerate(route[:2]):
        lacak.batches.scan(scan(SECOND.label, action, location, n))
    lacak.project()
    return lacak


@pytest.fixture
def client(projected: Lacak) -> TestClient:
    return projected.client


def row(html: str, row_id: str) -> str:
    [found] = re.findall(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, flags=re.DOTALL)
    return found


def cell(html: str, row_id: str, column: str) -> str:
    """The text of one cell of a row."""
    [value] = re.findall(rf'<td class="n {column}[^"]*">(.*?)</td>', row(html, row_id))
    return re.sub(r"<[^>]+>", "", value).strip()


def test_the_kecamatan_page_has_a_row_per_desa_and_a_trail_back_to_the_kabupaten(client):
    page = client.get(f"/wilayah/{KECAMATAN}").text
    desa = [d for d in SERANG.desa if d.kecamatan == KECAMATAN]
    assert page.count('<tr id="desa-') == len(desa)
    assert f'sse-connect="/board/stream?area={KECAMATAN}"' in page
    assert '<a href="/">Kabupaten Serang</a>' in page
    assert f'<a href="/wilayah/{DESA}">' in page
    desa_id = "desa-" + DESA.replace(".", "")
    assert cell(page, desa_id, "planned") == "14"
    assert cell(page, desa_id, "delivered") == "1"
    assert cell(page, desa_id, "place ppk") == "1"
    assert cell(page, "total", "planned") == "14"


def test_the_desa_page_has_a_row_per_tps_linking_to_the_tps_page(client):
    page = client.get(f"/wilayah/{DESA}").text
    tps_in_desa = [t for t in SERANG.tps if t.desa == DESA]
    assert page.count('<tr id="tps-') == len(tps_in_desa)
    assert f'<a href="/tps/{TPS.code}">TPS 001</a>' in page
    assert f'<a href="/wilayah/{KECAMATAN}">Kec. Kramatwatu</a>' in page
    assert cell(page, f"tps-{TPS.code}", "percent") == "14,3%"  # 1 of 7 delivered


def test_the_tps_page_lists_each_batch_where_it_is_and_whether_it_arrived(client):
    page = client.get(f"/tps/{TPS.code}").text
    assert page.count("<tr class=") == 7
    first, second = (
        re.search(rf'<th scope="row"><a href="/kotak/{b.label}"[^>]*>{b.label}</a></th>(.*?)</tr>',
                  page, re.DOTALL)[1]
        for b in (FIRST, SECOND)
    )  # fmt: skip
    assert "TPS 001 Kramatwatu" in first and "<td>sudah</td>" in first
    assert "Kec. Kramatwatu" in second and "<td>belum</td>" in second
    assert f'<a href="/wilayah/{DESA}">Desa Kramatwatu</a>' in page
    assert f'sse-connect="/board/stream?area={TPS.code}"' in page


def test_the_board_json_answers_for_any_area_keyed_by_its_level(client):
    kabupaten = client.get("/api/v1/board").json()
    assert (kabupaten["kabupaten"]["planned"], len(kabupaten["kecamatan"])) == (14, 29)
    desa = client.get(f"/api/v1/board?area={DESA}").json()
    assert desa["desa"]["code"] == DESA
    assert [t["code"] for t in desa["tps"]][:2] == [TPS.code, OTHER_TPS.code]
    tps = client.get(f"/api/v1/board?area={TPS.code}").json()
    assert (tps["tps"]["delivered"], tps["tps"]["percent_ready"]) == (1, 14.3)
    assert {b["label"]: b["place"] for b in tps["batches"]}[SECOND.label] == "ppk"
    assert tps["deadline"] == "2024-02-14T00:00:00+07:00"


def test_an_unknown_area_or_a_tps_asked_as_a_wilayah_is_not_found(client):
    assert client.get("/wilayah/36.04.99").status_code == 404
    assert "tidak dikenal" in client.get("/api/v1/board?area=36.99").json()["detail"]
    assert client.get(f"/wilayah/{TPS.code}").status_code == 404
    assert client.get(f"/tps/{DESA}").status_code == 404


def test_after_h1_every_tps_with_a_box_not_delivered_is_at_risk_up_to_the_kabupaten(client):
    board = client.get("/api/v1/board").json()  # voting day 14 Feb 2024 is long past
    assert board["kabupaten"]["at_risk"] == 2
    assert next(k for k in board["kecamatan"] if k["code"] == KECAMATAN)["at_risk"] == 2
    assert next(k for k in board["kecamatan"] if k["code"] != KECAMATAN)["at_risk"] == 0


def test_long_before_h1_no_tps_is_at_risk(projected: Lacak):
    settings = projected.settings.replace(voting_day=date(2099, 4, 1))
    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings)
        board = client.get("/api/v1/board").json()
        assert board["kabupaten"]["at_risk"] == 0
        assert board["deadline"] == "2099-04-01T00:00:00+07:00"


@pytest.mark.parametrize(
    ("before_h1", "tps_at_risk_then"),
    [(timedelta(days=4), 0), (timedelta(days=2), 2), (timedelta(hours=12), 2), (timedelta(0), 2)],
)
def test_the_view_asks_sql_for_the_tps_at_risk_by_the_same_rule_as_tps_at_risk(
    projected: Lacak, before_h1: timedelta, tps_at_risk_then: int
):
    deadline = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    board = projected.board
    now = deadline - before_h1
    by_rule = [r.area for r in board.tps_behind("36.04") if tps_at_risk(r, now, deadline)]
    assert board.at_risk("36.04", now, deadline) == by_rule
    assert len(by_rule) == tps_at_risk_then
    assert board.at_risk(TPS.code, now, deadline) == by_rule[:1]


def test_the_charts_page_draws_a_bar_per_kecamatan_and_the_arrivals_against_h1(client):
    page = client.get("/grafik").text
    assert page.count('<div class="bar-row"') == 29
    bar = re.search(rf'data-code="{KECAMATAN}">(.*?)</div>', page, re.DOTALL)[1]
    # 14 planned: 1 delivered at its TPS, 1 at the PPK, 12 still at the gudang.
    assert re.search(r'<rect class="tps" x="0\.0" y="0" width="7\.143"', bar)
    assert re.search(r'<rect class="ppk" x="7\.143" y="0" width="7\.143"', bar)
    assert re.search(r'<rect class="gudang" x="14\.286" y="0" width="85\.714"', bar)
    assert "Batas H-1" in page and '<line class="deadline"' in page
    assert "1 dari 14" in page  # delivered, of planned
    assert 'sse-connect="/board/stream?area=36.04&amp;view=charts"' in page


def test_the_wall_screen_shows_the_kabupaten_and_asks_for_the_next_kecamatan_itself(client):
    page = client.get("/layar").text
    assert '<section id="layar-kab"' in page
    assert 'hx-get="/layar/kecamatan/1?area=36.04" hx-trigger="every 10s"' in page
    last = client.get("/layar/kecamatan/28").text
    assert "Kec. Lebakwangi" in last and "29/29" in last
    assert 'hx-get="/layar/kecamatan/0?area=36.04"' in last  # and round again


async def test_a_burst_of_changes_reaches_each_page_as_few_messages_rendered_once():
    rendered: list[tuple[Channel, frozenset[str] | None]] = []

    def render(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        """As the board renders: nothing for a page whose area did not change."""
        rendered.append((channel, None if changed is None else frozenset(changed)))
        return f"{channel[1]}:{len(changed or ())}" if channel[1] in (changed or ()) else ""

    broadcaster = Broadcaster({"rows": Follows("board", render)}, pause=0.25)
    runner = asyncio.create_task(broadcaster.run())
    desa = [f"36.04.05.{2001 + n}" for n in range(100)]
    async with (
        broadcaster.listen(("rows", "36.04.05")) as first,
        broadcaster.listen(("rows", "36.04.05")) as second,
        broadcaster.listen(("rows", "36.04.09")) as elsewhere,
    ):
        for code in desa:  # a busy moment: a hundred notices at once
            broadcaster.notice("board", ["36.04", "36.04.05", code])
        message = await first.get()
        assert message == "36.04.05:102"  # one message for the whole burst ...
        assert first.empty()
        assert await second.get() == message  # ... the same for every page of that area ...
        assert [r for r in rendered if r[0] == ("rows", "36.04.05")] == [  # ... rendered once
            (("rows", "36.04.05"), frozenset(["36.04", "36.04.05", *desa]))
        ]
        for code in ("36.04.09", "36.04.09.2001", "36.04.05"):  # more while it pauses:
            broadcaster.notice("board", ["36.04", code])  # together, in the next message
        assert await first.get() == "36.04.05:4"
        assert await elsewhere.get() == "36.04.09:4"  # its first: nothing before was its own
        assert first.empty() and elsewhere.empty()
    runner.cancel()


@pytest.mark.parametrize("before_h1", [timedelta(days=4), timedelta(days=2), timedelta(0)])
def test_the_view_counts_the_tps_at_risk_per_area_as_the_rule_does(
    projected: Lacak, before_h1: timedelta
):
    deadline = datetime(2024, 2, 14, tzinfo=timezone(timedelta(hours=7)))
    board = projected.board
    now = deadline - before_h1
    assert_risk_kept_as_the_rule_counts(board, ["36.04"], now, deadline)
    if before_h1 < timedelta(days=3):
        assert board.at_risk_in("", "nasional", now, deadline).total() > 0  # it can fail


async def test_a_message_is_encoded_once_for_every_page_that_shows_it():
    encoded: list[str] = []

    def encode(html: str) -> bytes:
        encoded.append(html)
        return html.encode()

    def render(channel: Channel, changed: set[str] | None, listening: bool) -> str:
        return f"<tr>{channel[1]}</tr>"

    broadcaster = Broadcaster({"rows": Follows("board", render, encode=encode)}, pause=0.05)
    runner = asyncio.create_task(broadcaster.run())
    async with (
        broadcaster.listen(("rows", "36.04")) as first,
        broadcaster.listen(("rows", "36.04")) as second,
    ):
        broadcaster.notice("board", ["36.04"])
        message = await first.get()
        assert message == b"<tr>36.04</tr>"
        assert await second.get() is message
        assert encoded == ["<tr>36.04</tr>"]
        assert broadcaster.render(("rows", "36.04")) == "<tr>36.04</tr>"  # a new page's: as is
    runner.cancel()


def test_the_board_says_it_is_catching_up_until_its_view_has_every_event(lacak: Lacak, monkeypatch):
    """A board behind its store (a fresh demo's first minutes) says how far, on its pages, and
    the notice goes once the view is through, asked again now and then; here any lag counts
    (LACAK_CATCHING_UP_SECONDS=0)."""
    settings = lacak.settings.replace(catching_up_seconds=0.0)
    stored = lacak.batches.recorder.max_notification_id()
    with TestClient(create_app(settings, SERANG)) as client:
        sign_in(client, settings)
        page = client.get("/", params={"area": KECAMATAN}).text
        assert 'hx-get="/papan/menyusul" hx-trigger="load"' in page
        behind = client.get("/papan/menyusul")
        assert behind.status_code == 200
        assert f"Papan masih menyusul catatan: {stored} peristiwa belum terhitung" in behind.text
        assert 'hx-trigger="every 3s"' in behind.text  # it asks again
        lacak.project()
        deadline = time.monotonic() + 10  # the lag is read at most every two seconds
        while "Papan masih" in (through := client.get("/papan/menyusul").text):
            assert time.monotonic() < deadline, through
            time.sleep(0.2)
        assert 'hidden hx-get="/papan/menyusul" hx-trigger="every 30s"' in through  # less often
