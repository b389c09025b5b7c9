"""An auditor in Chromium: a box's timeline found by its label, the log, the board at an earlier
position beside now, and the chain verified from the page; every page fits a phone."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_board_in_chromium import PLANS, TPS, seed_one_tps, wait_until_projected

KECAMATAN = ".".join(TPS.desa.split(".")[:3])


def post(live_lacak, body: dict) -> dict:
    answer = live_lacak.api.post(live_lacak.base_url + "/api/v1/scans", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()


def a_corrected_receipt(live_lacak) -> str:
    label = PLANS[1].label
    scan = {"label": label, "occurred_at": "2024-02-12T10:00:00+07:00"}
    post(live_lacak, scan | {"scan_id": "a1", "action": "dispatch", "location": "36.04"})
    wrong = post(
        live_lacak,
        scan
        | {
            "scan_id": "a2",
            "action": "receive",
            "location": KECAMATAN,
            "counted": 30,
            "officer": "Budi",
        },
    )
    right = scan | {"scan_id": "a3", "action": "receive", "location": KECAMATAN, "counted": 297}
    with live_lacak.signed_in("monitor", "36.04") as monitor:  # a scanner's token may not correct
        monitor.post(
            f"/api/v1/batches/{label}/events/{wrong['version']}/correct",
            json={"by": "Budi", "reason": "salah ketik", "scan": right},
        ).raise_for_status()
    return label


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_an_auditor_follows_a_box_the_log_the_past_board_and_the_chain(
    live_lacak, browser, artifacts: Path, viewport: dict[str, int]
):
    seed_one_tps(live_lacak)
    wait_until_projected(live_lacak, len(PLANS))
    label = a_corrected_receipt(live_lacak)
    phone = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.add_cookies([live_lacak.session_cookie()])  # signed in
    page: Page = context.new_page()
    size = f"{'phone' if phone else 'desktop'}-{viewport['width']}x{viewport['height']}"

    def fits(name: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, f"{name} scrolls sideways on {size}: {width}px"
        page.screenshot(path=artifacts / f"{name}-{size}.png", full_page=True)

    page.goto(live_lacak.base_url + "/kotak")
    page.locator("#scan-input").fill(label.lower())
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(label)
    expect(page.locator("li.voided")).to_contain_text("Dibatalkan oleh")
    expect(page.locator("li.ev-AnomalyRaised")).to_contain_text("Jumlah kurang")
    fits("riwayat-kotak")

    page.goto(live_lacak.base_url + f"/log?label={label}")
    expect(page.locator("table.log tbody tr")).to_have_count(
        len(["reg", "d", "r", "a", "void", "resolve", "r2"])
    )
    broken = page.eval_on_selector_all(
        "table.log tbody a[href^='/kotak/']",
        "links => links.filter(a => a.getClientRects().length > 1).length",
    )
    assert broken == 0, f"{broken} labels break over two lines on {size}"
    fits("log")

    page.goto(live_lacak.base_url + f"/waktu?posisi={len(PLANS)}&banding_posisi=999999")
    sides = page.locator("section.side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0).locator("tfoot td.planned")).to_have_text(str(len(PLANS)))
    expect(sides.locator("h2")).to_have_text([f"Posisi {len(PLANS)}", "Posisi 999999"])
    first, second = (sides.nth(n).bounding_box() for n in (0, 1))
    assert second["y"] >= first["y"] + first["height"], "the two moments stand side by side"
    if not phone:  # each board whole, with no column behind a sideways scroll
        hidden = page.eval_on_selector_all(
            "section.side .scroll", "boxes => boxes.map(b => b.scrollWidth - b.clientWidth)"
        )
        assert max(hidden) <= 1, f"columns hidden behind a scroll on {size}: {hidden}px"
    fits("papan-waktu")

    page.goto(live_lacak.base_url + "/audit")
    page.get_by_role("button", name="Periksa sekarang").click()
    expect(page.locator(".verdict.ok")).to_contain_text("UTUH.")
    fits("audit")
    context.close()
