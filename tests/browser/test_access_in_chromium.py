"""Logging in, the admin pages and the access log, in Chromium on a phone and a desktop."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.web.signin import PASSWORD, add_user

WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_admin_logs_in_issues_a_token_and_every_page_fits_the_screen(
    live_lacak, browser: Browser, artifacts: Path, viewport: dict[str, int]
):
    phone = viewport == PHONE
    size = f"{'phone' if phone else 'desktop'}-{viewport['width']}x{viewport['height']}"
    add_user(live_lacak.settings, "rina", "admin")
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(live_lacak.base_url + "/admin/perangkat")
    expect(page).to_have_url(live_lacak.base_url + "/masuk?lanjut=/admin/perangkat")
    page.get_by_label("Nama pengguna").fill("rina")
    page.get_by_label("Kata sandi").fill("salah-sekali-123")
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("alert")).to_contain_text("salah")
    expect(page.get_by_label("Kata sandi")).to_be_focused()  # the name stays, typed once
    page.screenshot(path=artifacts / f"login-refused-{size}.png", full_page=True)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page).to_have_url(live_lacak.base_url + "/admin/perangkat")

    page.get_by_label("Nama perangkat").fill("Pemindai gudang 1")
    page.get_by_role("button", name="Terbitkan").click()
    expect(page.locator(".token-value")).to_be_visible()
    page.screenshot(path=artifacts / f"admin-devices-{size}.png", full_page=True)
    for path in ("/admin/perangkat", "/admin/pengguna", "/akses"):
        page.goto(live_lacak.base_url + path)
        width, inner = page.evaluate(WIDTH)
        assert width <= inner + 1, f"{path} scrolls sideways on {size}: {width}px"
        page.screenshot(
            path=artifacts / f"admin{path.replace('/', '-')}-{size}.png", full_page=True
        )
    expect(page.locator("table.access-log")).to_contain_text("gagal masuk")
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(live_lacak.base_url + "/masuk")
    assert not [line for line in console if "Content Security Policy" in line], console
    context.close()
