"""A gudang officer on a tablet counts a short delivery in and a sortir-lipat session; a monitor
on a phone sees the gudang page flag it, live."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, open_page

TABLET = {"width": 800, "height": 1280}
NOTE = b"item,ballot_type,dapil,quantity\nsegel,,,5000\nsurat_suara,DPR,BANTEN II,1000\n"


@pytest.fixture
def tablet(
    browser: Browser, request: pytest.FixtureRequest, browser_console: list[str], live_lacak
) -> Iterator[Page]:
    """A tablet-sized page, signed in as the gudang officer of Kabupaten Serang."""
    pages = open_page(browser, request, browser_console, viewport=TABLET, has_touch=True)
    page = next(pages)
    page.context.clear_cookies()
    page.context.add_cookies([live_lacak.session_cookie("gudang", "36.04")])
    yield page
    next(pages, None)


@pytest.fixture
def phone(
    browser: Browser, request: pytest.FixtureRequest, browser_console: list[str], live_lacak
) -> Iterator[Page]:
    """A phone-sized page, signed in as KPU's monitor of the kabupaten."""
    pages = open_page(
        browser, request, browser_console, viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = next(pages)
    page.context.clear_cookies()
    page.context.add_cookies([live_lacak.session_cookie("monitor", "36.04")])
    yield page
    next(pages, None)


def announce_t1(officer) -> None:
    """The supplier's note of delivery T1, stage 1, posted by the gudang's officer."""
    noticed = officer.post(
        "/api/v1/gudang/36.04/deliveries.csv",
        params={"delivery": "T1", "stage": 1, "supplier": "PT Contoh", "expected_on": "2024-01-10"},
        content=NOTE,
        headers={"content-type": "text/csv"},
    )
    assert noticed.status_code == 201, noticed.text


def sign_and_send(receipt, courier: str, witness: str = "") -> None:
    """The receipt form's signatures (the courier's, officer Ani's, a witness's), then send."""
    receipt.locator("input[name=courier]").fill(courier)
    receipt.locator("input[name=officer]").fill("Ani")
    if witness:
        receipt.locator("input[name=witness]").fill(witness)
    receipt.locator("button[type=submit]").click()


def test_a_short_delivery_counted_on_a_tablet_is_flagged_on_a_phone(
    live_lacak, tablet: Page, phone: Page, artifacts: Path, browser_console: list[str]
):
    officer = live_lacak.signed_in("gudang", "36.04")
    announce_t1(officer)
    officer.close()
    phone.goto(live_lacak.base_url + "/gudang?area=36.04")
    expect(phone.locator("h1")).to_contain_text("Gudang logistik")
    expect(phone.locator(".deliveries")).to_contain_text("belum tiba")

    tablet.goto(live_lacak.base_url + "/gudang/catat?area=36.04")
    receipt = tablet.locator('form[data-kind="receipt"]')
    expect(receipt.locator("select[name=delivery]")).to_have_value("T1")
    dpr = receipt.locator('.line[data-dapil="BANTEN II"]')
    dpr.locator('input[name="quantity"]').fill("900")
    dpr.locator('input[name="damaged"]').fill("4")
    sign_and_send(receipt, "Kurir PT Contoh", witness="Budi (Bawaslu)")
    expect(receipt.locator("output.answer")).to_contain_text("Tercatat, dengan selisih: kurang")
    expect(receipt.locator("output.answer")).to_contain_text("; rusak saat tiba: DPR BANTEN II")
    expect(receipt.locator("output.answer a")).to_have_attribute(
        "href", "/gudang/36.04/ba?pengiriman=T1"
    )
    tablet.screenshot(path=artifacts / "gudang-catat-tablet.png", full_page=True)

    # The phone's page swaps in the receipt and its flags without a reload.
    expect(phone.locator(".flags")).to_contain_text(
        "Pengiriman T1 (tahap 1): kurang", timeout=15_000
    )
    expect(phone.locator(".deliveries")).not_to_contain_text("belum tiba")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    phone.screenshot(path=artifacts / "gudang-phone.png", full_page=True)

    tablet.reload()
    tally = tablet.locator('form[data-kind="tally"]')
    tally.locator("select[name=kind]").select_option(label="DPR RI BANTEN II")
    tally.locator("input[name=team]").fill("Tim 1")
    tally.locator("input[name=sorted]").fill("880")
    tally.locator('input[name="damaged:sobek"]').fill("16")
    tally.locator("button[type=submit]").click()
    expect(tally.locator("output.answer")).to_have_text("Tercatat.")
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the form is {width}px wide on an {TABLET['width']}px tablet"
    expect(phone.locator("table.stock")).to_contain_text("880", timeout=15_000)
    assert not [line for line in browser_console if line.startswith(("error", "pageerror"))]


def test_the_flags_a_monitor_folded_stay_folded_while_the_page_updates_live(
    live_lacak, phone: Page, artifacts: Path, browser_console: list[str]
):
    officer = live_lacak.signed_in("gudang", "36.04")
    announce_t1(officer)
    short = {
        "command_id": "r1",
        "delivery": "T1",
        "lines": [{"item": "surat_suara", "ballot_type": "DPR", "dapil": "BANTEN II",
                   "quantity": 900}],
        "courier": "Kurir PT Contoh",
        "officer": "Ani",
    }  # fmt: skip
    assert officer.post("/api/v1/gudang/36.04/receipts", json=short).status_code == 201
    phone.goto(live_lacak.base_url + "/gudang?area=36.04")
    flags = phone.locator("details.flags")
    expect(flags).to_contain_text("Pengiriman T1 (tahap 1): kurang", timeout=15_000)
    expect(flags).to_have_attribute("open", "")  # a few flags: shown unfolded
    flags.locator("summary").click()
    expect(flags).not_to_have_attribute("open", "")

    def tallied(command_id: str, sheets: int, done: str) -> None:
        tally = {"command_id": command_id, "session": "pagi", "team": "Tim 1",
                 "ballot_type": "DPR", "dapil": "BANTEN II", "sorted": sheets}  # fmt: skip
        assert officer.post("/api/v1/gudang/36.04/tallies", json=tally).status_code == 201
        expect(phone.locator("table.stock")).to_contain_text(done, timeout=15_000)

    tallied("t1", 123, "123")  # the live part is swapped in again
    expect(flags).not_to_have_attribute("open", "")
    flags.locator("summary").click()  # unfolded by hand, it stays so too
    tallied("t2", 234, "357")
    expect(flags).to_have_attribute("open", "")
    phone.screenshot(path=artifacts / "gudang-flags-kept.png", full_page=True)
    officer.close()
    assert not [line for line in browser_console if line.startswith(("error", "pageerror"))]


def test_a_contract_and_goods_nobody_announced_are_recorded_from_the_tablet(
    live_lacak, tablet: Page, artifacts: Path, browser_console: list[str]
):
    officer = live_lacak.signed_in("gudang", "36.04")
    announce_t1(officer)
    officer.close()
    tablet.goto(live_lacak.base_url + "/gudang/catat?area=36.04")

    contract = tablet.locator('form[data-kind="contract"]')
    contract.locator("input[name=supplier]").fill("PT Contoh")
    contract.locator("input[name=contract]").fill("SP-001/2024")
    first = contract.locator("fieldset.free-line").nth(0)
    first.locator("select[name=ballot_type]").select_option("DPR")
    first.locator("input[name=dapil]").fill("BANTEN II")
    first.locator("input[name=quantity]").fill("1000")
    contract.locator("button.add-line").click()
    second = contract.locator("fieldset.free-line").nth(1)
    second.locator("select[name=item]").select_option("segel")
    expect(second.locator("input[name=dapil]")).to_be_disabled()  # a seal has no dapil
    second.locator("input[name=quantity]").fill("5000")
    contract.locator("button[type=submit]").click()
    expect(contract.locator("output.answer")).to_have_text("Tercatat.")

    receipt = tablet.locator('form[data-kind="receipt"]')
    expect(receipt.locator("input[name=unannounced]")).to_be_hidden()
    receipt.locator("button.add-line").click()  # ballots of another dapil came along
    extra = receipt.locator("fieldset.free-line")
    extra.locator("select[name=ballot_type]").select_option("DPR")
    extra.locator("input[name=dapil]").fill("BANTEN III")
    extra.locator("input[name=quantity]").fill("50")
    sign_and_send(receipt, "Kurir PT Contoh")
    expect(receipt.locator("output.answer")).to_contain_text("tertukar: DPR BANTEN III")

    tablet.reload()  # T1 is in; a truck nobody announced comes
    receipt.locator("select[name=delivery]").select_option("")
    receipt.locator("input[name=unannounced]").fill("SJ-X/9")
    receipt.locator("fieldset.free-line select[name=item]").select_option("tinta")
    receipt.locator("fieldset.free-line input[name=quantity]").fill("100")
    sign_and_send(receipt, "Kurir lain")
    expect(receipt.locator("output.answer")).to_contain_text("tanpa pemberitahuan: tinta")
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the form is {width}px wide on an {TABLET['width']}px tablet"
    tablet.screenshot(path=artifacts / "gudang-catat-unannounced.png", full_page=True)
    receipt.locator("output.answer a").click()
    expect(tablet.locator("h1")).to_have_text("Berita Acara Penerimaan Logistik")
    expect(tablet.locator("table")).to_contain_text("Tinta")
    assert not [line for line in browser_console if line.startswith(("error", "pageerror"))]
