"""A monitor drilling down the board in Chromium, losing the server and getting it back."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.settings import Settings
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_board_in_chromium import (
    KECAMATAN,
    PLANS,
    SSE_OPEN_FLAG,
    TPS,
    is_script_error,
    seed_one_tps,
    wait_until_projected,
)
from tests.conftest import LiveLacak

DESA = TPS.desa


def open_live(page: Page, url: str) -> None:
    page.add_init_script(SSE_OPEN_FLAG)
    page.goto(url)
    page.wait_for_function("() => window.__sseOpen === true", timeout=10_000)


def test_a_monitor_clicks_from_the_board_down_to_a_tps_and_sees_its_boxes_move(
    live_lacak, page: Page, artifacts: Path, browser_console: list[str]
):
    seed_one_tps(live_lacak)
    wait_until_projected(live_lacak, len(PLANS))
    open_live(page, live_lacak.base_url + "/")

    page.locator("#kecamatan-" + KECAMATAN.replace(".", "")).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/wilayah/{re.escape(KECAMATAN)}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kec. Kramatwatu")
    page.locator("#desa-" + DESA.replace(".", "")).get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/wilayah/{re.escape(DESA)}$"))
    tps_row = page.locator(f"#tps-{TPS.code}")
    expect(tps_row.locator("td.planned")).to_have_text(str(len(PLANS)))
    page.wait_for_function("() => window.__sseOpen === true", timeout=10_000)
    page.screenshot(path=artifacts / "board-desa-desktop-1280x800.png", full_page=True)
    tps_row.get_by_role("link").click()

    expect(page).to_have_url(re.compile(rf"/tps/{TPS.code}$"))
    batches = page.locator("#tps-batches tr")
    expect(batches).to_have_count(len(PLANS))
    first = batches.filter(has_text=PLANS[0].label)
    expect(first).to_contain_text("Gudang (belum dipindai)")
    expect(page.get_by_role("navigation", name="Jejak wilayah")).to_contain_text(
        "Kabupaten Serang \u203a Kec. Kramatwatu \u203a Desa Kramatwatu"
    )
    page.wait_for_function("() => window.__sseOpen === true", timeout=10_000)
    live_lacak.api.post(
        live_lacak.base_url + "/api/v1/scans",
        json={
            "scan_id": "drill-1",
            "label": PLANS[0].label,
            "action": "dispatch",
            "location": "36.04",
            "occurred_at": "2024-02-10T08:15:00+07:00",
        },
        timeout=5,
    ).raise_for_status()
    expect(first).to_contain_text("Dalam perjalanan dari gudang Kabupaten Serang", timeout=10_000)
    expect(page.locator("#total td.transit")).to_have_text("1")
    assert not [line for line in browser_console if is_script_error(line)]
    page.screenshot(path=artifacts / "board-tps-desktop-1280x800.png", full_page=True)


def test_the_board_says_it_is_stale_while_the_server_is_away_and_catches_up_when_back(
    live_lacak, sqlite_settings: Settings, page: Page, artifacts: Path
):
    open_live(page, live_lacak.base_url + "/")
    stale = page.get_by_role("status")
    expect(stale).to_be_hidden()
    row = page.locator("#kecamatan-" + KECAMATAN.replace(".", ""))
    expect(row.locator("td.planned")).to_have_text("0")

    live_lacak.stop()
    expect(stale).to_be_visible(timeout=10_000)
    expect(stale).to_have_text(re.compile("Terputus — angka mungkin usang"))
    page.screenshot(path=artifacts / "board-stale-desktop-1280x800.png")
    seed_one_tps(live_lacak)  # recorded while the web is away: the event store is the truth

    again = LiveLacak(sqlite_settings, port=live_lacak.settings.port).start()
    try:
        expect(stale).to_be_hidden(timeout=30_000)
        expect(row.locator("td.planned")).to_have_text(str(len(PLANS)), timeout=10_000)
    finally:
        again.stop()


PAGES = {
    "board": "/",
    "desa": f"/wilayah/{DESA}",
    "tps": f"/tps/{TPS.code}",
    "charts": "/grafik",
    "wall": "/layar",
}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_board_page_fits_a_phone_and_a_desktop_and_is_kept_as_a_screenshot(
    live_lacak, browser, artifacts: Path, viewport: dict[str, int]
):
    seed_one_tps(live_lacak)
    wait_until_projected(live_lacak, len(PLANS))
    live_lacak.api.post(
        live_lacak.base_url + "/api/v1/scans",
        json={
            "scan_id": "shot-1",
            "label": PLANS[0].label,
            "action": "receive",
            "location": TPS.code,
            "occurred_at": "2024-02-12T10:00:00+07:00",
        },
        timeout=5,
    ).raise_for_status()
    phone = viewport == PHONE
    context = browser.new_context(
        viewport=viewport, device_scale_factor=3 if phone else 1, is_mobile=phone, has_touch=phone
    )
    context.add_cookies([live_lacak.session_cookie()])  # signed in
    page = context.new_page()
    size = f"{'phone' if phone else 'desktop'}-{viewport['width']}x{viewport['height']}"
    for name, path in PAGES.items():
        open_live(page, live_lacak.base_url + path)
        expect(page.locator("#total, #layar-kab, #grafik").first).to_be_visible()
        if name == "tps":  # every box is listed, at any width
            expect(page.locator("#tps-batches tr:visible")).to_have_count(len(PLANS))
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name} scrolls sideways on {size}: {width}px"
        page.screenshot(path=artifacts / f"{name}-{size}.png", full_page=True)
    context.close()


def test_the_wall_screen_moves_on_to_the_next_kecamatan_by_itself_and_counts_live(
    live_lacak, page: Page
):
    open_live(page, live_lacak.base_url + "/layar")
    panel = page.locator("#layar-kec")
    expect(panel).to_have_attribute("data-code", "36.04.05")
    expect(panel).to_have_attribute("data-code", "36.04.06", timeout=15_000)  # after ~10 s
    planned = page.locator("#layar-kab dt", has_text="Rencana").locator("xpath=../dd")
    expect(planned).to_have_text("0")
    seed_one_tps(live_lacak)
    expect(planned).to_have_text(str(len(PLANS)), timeout=10_000)
