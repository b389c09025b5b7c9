"""A Panwaslu files a finding with a photo from a phone; KPU answers it on a desktop; the
Panwaslu closes it."""

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, open_page

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def signed_in_page(browser, request, console, live_lacak, role, scope, **options) -> Iterator[Page]:
    pages = open_page(browser, request, console, **options)
    page = next(pages)
    page.context.clear_cookies()
    page.context.add_cookies([live_lacak.session_cookie(role, scope)])
    yield page
    next(pages, None)


@pytest.fixture
def panwaslu(browser: Browser, request, browser_console, live_lacak) -> Iterator[Page]:
    yield from signed_in_page(
        browser, request, browser_console, live_lacak, "bawaslu", "36.04.05",
        viewport=PHONE, is_mobile=True, has_touch=True,
    )  # fmt: skip


@pytest.fixture
def kpu(browser: Browser, request, browser_console, live_lacak) -> Iterator[Page]:
    yield from signed_in_page(
        browser, request, browser_console, live_lacak, "monitor", "36.04", viewport=DESKTOP
    )


def test_a_finding_with_a_photo_from_a_phone_is_answered_and_closed(
    live_lacak, panwaslu: Page, kpu: Page, artifacts: Path, tmp_path: Path, browser_console
):
    photo = tmp_path / "segel.png"
    photo.write_bytes(PNG)
    panwaslu.goto(live_lacak.base_url + "/temuan/baru?area=36.04.05")
    panwaslu.select_option("select[name=kind]", "segel")
    panwaslu.fill("textarea[name=text]", "Segel kotak DPR di PPK diganti tanpa berita acara.")
    panwaslu.set_input_files("input[name=photos]", str(photo))
    panwaslu.click("form.finding-form button[type=submit]")  # not the header's Keluar
    expect(panwaslu.locator("h1")).to_contain_text("Temuan TM-3604-")
    expect(panwaslu.locator(".photos img")).to_have_count(1)
    assert panwaslu.evaluate("document.querySelector('.photos img').naturalWidth") == 1
    width = panwaslu.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{width}px wide on a {PHONE['width']}px phone"
    panwaslu.screenshot(path=artifacts / "temuan-phone.png", full_page=True)
    number = panwaslu.locator("h1").inner_text().split()[-1]

    kpu.goto(live_lacak.base_url + "/temuan?area=36.04")
    expect(kpu.locator("table.findings")).to_contain_text(number, timeout=15_000)
    kpu.click(f"text={number}")
    kpu.fill("textarea[name=action]", "Kotak disegel ulang di depan Panwascam; petugas ditegur.")
    kpu.click("text=Kirim jawaban")
    expect(kpu.locator(".finding-history")).to_contain_text("Dijawab KPU")
    kpu.screenshot(path=artifacts / "temuan-desktop.png", full_page=True)

    panwaslu.reload()
    panwaslu.select_option("select[name=accepted]", "ya")
    panwaslu.click("button:has-text('Tutup')")
    expect(panwaslu.locator(".pill").first).to_contain_text("ditutup")
    assert not [line for line in browser_console if line.startswith(("error", "pageerror"))]
