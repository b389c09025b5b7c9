"""Warehouse and PPK staff scanning boxes in Chromium: a truck load, a receipt, the camera."""

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
import segno
from playwright.sync_api import Browser, Page, expect

from services.custody.batch import Scan
from services.custody.batches import Batches
from services.custody.plan import kit_plan
from services.wilayah import kecamatan_of
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    open_page,
)
from tests.data import REGISTERED, SERANG

HOME_TPS = SERANG.tps[0]  # Kramatwatu
KECAMATAN = kecamatan_of(HOME_TPS.code)
OTHER_TPS = next(t for t in SERANG.tps if kecamatan_of(t.code) != KECAMATAN)
PLANS = kit_plan(msgspec.structs.replace(SERANG, tps=(HOME_TPS, OTHER_TPS)))
HOME = [p for p in PLANS if p.destination == HOME_TPS.code and p.item == "kotak_suara"]
ELSEWHERE = next(p for p in PLANS if p.destination == OTHER_TPS.code)
SURAT_JALAN = "014/SJ/KPU-SRG/II/2024"


def seed(live_lacak, sealed: bool = False) -> None:
    """The two TPS's kit registered; with `sealed`, the home TPS's kotak suara packed and sealed
    at the gudang, as they are before a truck is loaded."""
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    batches.register(PLANS, at=REGISTERED)
    if sealed:
        at = REGISTERED + timedelta(days=1)
        for n, box in enumerate(HOME):
            for action, details in (("pack", {"quantity": box.quantity, "dapil": box.dapil}),
                                    ("seal", {"seals": [f"SG-{n}"]})):  # fmt: skip
                batches.scan(Scan(scan_id=f"{action}-{n}", label=box.label, action=action,
                                  location="36.04", occurred_at=at, **details))  # fmt: skip
    batches.close()


def misread(label: str) -> str:
    """The label with its check character changed: what a smudged label reads as."""
    check = label[-1]
    return label[:-1] + ("1" if check != "1" else "2")


def scan_one(page: Page, label: str) -> None:
    page.keyboard.type(label)
    page.keyboard.press("Enter")


def start_session(page: Page, **fields: str) -> None:
    """Fill the session form (a mode radio first, if given) and start scanning."""
    mode = fields.pop("mode", None)
    if mode:
        page.locator(f"input[name=mode][value={mode}]").check()
    for name, value in fields.items():
        page.locator(f"#scan-session [name={name}]").fill(value)
    page.get_by_role("button", name="Mulai memindai").click()
    expect(page.locator("#scan-panel")).to_be_visible()
    expect(page.locator("#scan-input")).to_be_focused()


def test_a_worker_loads_a_truck_by_keyboard_and_the_arrival_shows_what_is_missing_or_extra(
    live_lacak, page: Page, artifacts: Path, browser_console: list[str]
):
    seed(live_lacak, sealed=True)
    page.goto(f"{live_lacak.base_url}/muatan?sj={SURAT_JALAN}&tahap=muat")
    start_session(
        page, location="36.04", officer="Rina", to=KECAMATAN, vehicle="A 1234 BC", driver="Asep"
    )
    result = page.locator("#scan-result")

    # A handheld scanner types fast and ends with Enter: two boxes in a row, no pause.
    scan_one(page, HOME[0].label)
    scan_one(page, HOME[1].label.lower())
    expect(page.locator("#scan-list li.st-ok")).to_have_count(2)
    expect(result).to_have_attribute("data-status", "ok")
    expect(page.locator("#scan-input")).to_have_value("")
    expect(page.locator("#scan-input")).to_be_focused()

    scan_one(page, misread(HOME[2].label))
    expect(result).to_have_attribute("data-status", "refused")
    expect(result).to_contain_text("salah baca")
    expect(result).to_have_css("background-color", "rgb(253, 232, 231)")  # red

    scan_one(page, ELSEWHERE.label)
    expect(result).to_have_attribute("data-status", "warning")
    expect(result).to_contain_text("SALAH TUJUAN")
    expect(result).to_have_css("background-color", "rgb(255, 243, 214)")  # amber
    expect(result).to_have_attribute("data-tone", "warning")

    expect(page.locator("[data-count=ok]")).to_have_text("2")
    expect(page.locator("[data-count=warning]")).to_have_text("1")
    expect(page.locator("[data-count=refused]")).to_have_text("1")
    expect(page.locator("[data-count=pending]")).to_have_text("0")
    lines = page.locator("#load-lines")
    expect(lines).to_contain_text("3 kiriman", timeout=10_000)  # live from the projection
    page.screenshot(path=artifacts / "load-desktop-1280x800.png", full_page=True)

    # At the kecamatan: the same surat jalan, what arrived. One box never came, one was not on it.
    page.goto(f"{live_lacak.base_url}/muatan?sj={SURAT_JALAN}&tahap=terima")
    expect(page.locator("#scan-session [name=location]")).to_have_value(KECAMATAN)
    start_session(page, officer="Budi", witness="Ani")
    for label in (HOME[0].label, HOME[1].label, HOME[3].label):
        scan_one(page, label)
    expect(page.locator("#scan-list li")).to_have_count(3)
    expect(page.locator("#scan-list li.st-warning")).to_contain_text("TANPA PENGIRIMAN")
    expect(lines).to_contain_text("1 belum diterima", timeout=10_000)
    expect(lines).to_contain_text("1 lebih")
    expect(lines.locator("tr.status-belum-diterima")).to_contain_text(ELSEWHERE.label)
    expect(lines.locator("tr.status-lebih")).to_contain_text(HOME[3].label)
    page.screenshot(path=artifacts / "arrival-desktop-1280x800.png", full_page=True)
    assert not [line for line in browser_console if line.startswith("pageerror")]


def test_a_receipt_with_a_shortage_from_the_form_answers_with_a_warning(
    live_lacak, page: Page, artifacts: Path
):
    seed(live_lacak)
    box = HOME[0]
    dispatched = {
        "scan_id": "sj-1",
        "label": box.label,
        "action": "dispatch",
        "location": "36.04",
        "occurred_at": "2024-02-10T08:00:00+07:00",
        "to": KECAMATAN,
    }
    live_lacak.api.post(live_lacak.base_url + "/api/v1/scans", json=dispatched, timeout=5)
    page.goto(live_lacak.base_url + "/pindai")
    start_session(page, mode="terima", location=KECAMATAN, officer="Budi", witness="Ani")

    page.locator("#scan-form [name=counted]").fill(str(box.quantity - 6))
    page.locator("#scan-form input[name=reasons][value=kurang]").check()
    page.locator("#scan-input").click()
    scan_one(page, box.label)

    result = page.locator("#scan-result")
    expect(result).to_have_attribute("data-status", "warning")
    expect(result).to_contain_text(f"JUMLAH KURANG: seharusnya {box.quantity}")
    expect(page.locator("#scan-form [name=counted]")).to_have_value("")  # that box only
    expect(page.locator("#scan-form input[name=reasons][value=kurang]")).not_to_be_checked()
    page.screenshot(path=artifacts / "scan-desktop-1280x800.png", full_page=True)

    page.reload()  # the session and its list are kept on the device
    expect(page.locator("#scan-panel")).to_be_visible()
    expect(page.locator("#session-summary")).to_contain_text("Terima · Kec. Kramatwatu")
    expect(page.locator("#scan-list li.st-warning")).to_contain_text("JUMLAH KURANG")


def test_at_the_gudang_a_box_is_packed_with_its_planned_count_and_sealed_with_typed_numbers(
    live_lacak, page: Page
):
    seed(live_lacak)
    box = HOME[0]
    page.goto(live_lacak.base_url + "/pindai")
    start_session(page, mode="kemas", location="36.04", officer="Rina")
    scan_one(page, box.label)  # no count typed: the plan's
    result = page.locator("#scan-result")
    expect(result).to_have_attribute("data-status", "ok")
    expect(result).to_contain_text(f"Kotak {box.label} dicatat dikemas")

    page.locator("#scan-form [name=quantity]").fill(str(box.quantity + 3))
    page.locator("#scan-input").click()
    scan_one(page, HOME[1].label)
    expect(result).to_have_attribute("data-status", "warning")
    expect(result).to_contain_text("JUMLAH LEBIH")

    page.get_by_role("button", name="Ubah").click()
    start_session(page, mode="segel")
    scan_one(page, box.label)  # a seal needs its numbers: the label waits for them
    expect(page.locator("#scan-form [name=seals]")).to_be_focused()
    expect(result).to_contain_text(f"Ketik nomor segel untuk {box.label}")
    page.keyboard.type("SG-0001, SG-0002")
    page.keyboard.press("Enter")
    expect(result).to_have_attribute("data-status", "ok")
    expect(result).to_contain_text(f"Kotak {box.label} dicatat disegel")
    expect(page.locator("#scan-input")).to_be_focused()


def test_a_hand_to_hand_handover_and_a_return_up_the_chain_are_recorded_without_a_truck(
    live_lacak, page: Page
):
    seed(live_lacak)
    box = HOME[0]
    desa = HOME_TPS.desa
    page.goto(live_lacak.base_url + "/pindai")
    start_session(
        page,
        mode="serah",
        location=desa,
        officer="Sari (PPS)",
        handed_over_by="Dedi (PPK)",
        witness="Ani",
    )
    scan_one(page, box.label)
    result = page.locator("#scan-result")
    expect(result).to_contain_text("dicatat diterima di Desa")
    expect(result).not_to_contain_text("TANPA PENGIRIMAN")  # the handover is its release

    page.get_by_role("button", name="Ubah").click()  # the PPS sends it back to the PPK
    page.locator("input[name=mode][value=kembalikan]").check()
    page.locator("#scan-session [name=to]").fill("")
    page.locator("#scan-session [name=location]").dispatch_event("change")
    expect(page.locator("#scan-session [name=to]")).to_have_value(KECAMATAN)  # one level up
    start_session(page)
    scan_one(page, box.label)
    expect(result).to_have_attribute("data-status", "ok")
    expect(result).to_contain_text(f"Kotak {box.label} dicatat keluar dari Desa")


def test_a_scan_made_without_a_connection_waits_in_the_queue_and_is_sent_when_back_online(
    live_lacak, page: Page
):
    seed(live_lacak, sealed=True)
    page.goto(live_lacak.base_url + "/pindai")
    start_session(page, mode="kirim", location="36.04", officer="Rina", to=KECAMATAN)
    page.context.set_offline(True)
    scan_one(page, HOME[0].label)
    expect(page.locator("[data-count=pending]")).to_have_text("1")
    expect(page.locator("#scan-list li.st-pending")).to_have_count(1)

    page.context.set_offline(False)
    expect(page.locator("[data-count=pending]")).to_have_text("0", timeout=40_000)
    expect(page.locator("#scan-list li.st-ok")).to_have_count(1)
    board = live_lacak.api.get(live_lacak.base_url + "/api/v1/board", timeout=5).json()
    assert board["kabupaten"]["planned"] == len(PLANS)


def test_a_box_packed_without_a_connection_is_kept_with_its_planned_count_and_sent_later(
    live_lacak, page: Page
):
    """The pack screen keeps the plan of the place it packs for; offline, a box packed with no
    count typed waits on the device (TERSIMPAN), then is recorded with the planned count."""
    seed(live_lacak)
    wait_until_catalogued(live_lacak, HOME[0].label)
    page.goto(live_lacak.base_url + "/pindai")
    start_session(page, mode="kemas", location="36.04", officer="Rina")
    kept = "() => Object.keys(JSON.parse(localStorage.getItem('lacak.rencana') || '{}')).length"
    deadline = time.monotonic() + 10  # polled from here: the page's CSP forbids eval
    while not page.evaluate(kept):
        assert time.monotonic() < deadline, "the pack screen did not keep the plan"
        time.sleep(0.1)
    page.context.set_offline(True)
    scan_one(page, HOME[2].label)  # never read on this device before
    result = page.locator("#scan-result")
    expect(result).to_have_attribute("data-status", "pending")
    expect(result).to_contain_text(f"TERSIMPAN · {HOME[2].label}")
    expect(page.locator("#scan-list li.st-pending time")).to_contain_text("WIB")  # its zone
    scan_one(page, HOME[3].label.lower())  # typed by hand, in lower case
    expect(page.locator("[data-count=pending]")).to_have_text("2")

    page.context.set_offline(False)
    expect(page.locator("[data-count=pending]")).to_have_text("0", timeout=40_000)
    expect(page.locator("#scan-list li.st-ok")).to_have_count(2)
    batches = Batches(live_lacak.settings.store, wilayah=SERANG)
    try:
        box = batches.batch(HOME[2].label)
    finally:
        batches.close()
    packs = [r for r in box.scans.values() if r.action == "pack"]
    assert [(r.quantity, r.counts) for r in packs] == [(HOME[2].quantity, True)]


def wait_until_catalogued(live_lacak, label: str) -> None:
    """The board projection has the label in its catalogue (what the screens read)."""
    deadline = time.monotonic() + 20
    while live_lacak.api.get(f"/api/v1/labels/{label}", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the label never reached the catalogue"
        time.sleep(0.2)


def test_on_a_phone_the_scan_and_load_screens_fit_the_screen(
    live_lacak, phone_page: Page, artifacts: Path
):
    seed(live_lacak, sealed=True)
    phone_page.goto(live_lacak.base_url + "/pindai")
    phone_page.screenshot(path=artifacts / "scan-session-phone-390x844.png", full_page=True)
    # A place may be typed by its name instead of its code.
    start_session(
        phone_page,
        mode="kirim",
        location="36.04",
        officer="Rina",
        to="Kec. Kramatwatu",
        surat_jalan=SURAT_JALAN,
    )
    expect(phone_page.locator("#session-summary")).to_contain_text("ke Kec. Kramatwatu")
    assert phone_page.locator("#scan-session [name=to]").input_value() == KECAMATAN
    scan_one(phone_page, HOME[0].label)
    expect(phone_page.locator("#scan-result")).to_have_attribute("data-status", "ok")
    scan_one(phone_page, misread(HOME[1].label))
    expect(phone_page.locator("#scan-result")).to_have_attribute("data-status", "refused")
    assert_fits(phone_page)
    phone_page.screenshot(path=artifacts / "scan-phone-390x844.png", full_page=True)

    phone_page.goto(f"{live_lacak.base_url}/muatan?sj={SURAT_JALAN}&tahap=terima")
    expect(phone_page.locator("#load-lines")).to_contain_text("1 kiriman", timeout=10_000)
    assert_fits(phone_page)
    phone_page.screenshot(path=artifacts / "load-phone-390x844.png", full_page=True)


def assert_fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page is {width} px wide: it scrolls sideways"


# ---- the camera -------------------------------------------------------------------------------


def qr_video(text: str, path: Path, width: int = 640, height: int = 480, frames: int = 5) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of a label's QR code, black on white."""
    rows = list(segno.make_qr(text, error="m").matrix_iter(scale=8, border=4))
    top, left = (height - len(rows)) // 2, (width - len(rows[0])) // 2
    luma = bytearray(b"\xeb" * (width * height))  # white
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                luma[(top + r) * width + left + c] = 0x10  # black
    chroma = b"\x80" * (width * height // 4)  # no colour
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + (b"FRAME\n" + bytes(luma) + chroma + chroma) * frames)
    return path


@pytest.fixture(scope="module")
def camera_browser(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A second Chromium, from the same Playwright, whose camera films a Kramatwatu label."""
    video = qr_video(HOME[0].label, tmp_path_factory.mktemp("camera") / "label.y4m")
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *fake_camera]
    )
    yield camera
    camera.close()


@pytest.fixture
def camera_page(
    camera_browser: Browser, request: pytest.FixtureRequest, browser_console: list[str]
) -> Iterator[Page]:
    yield from open_page(camera_browser, request, browser_console, viewport=DESKTOP)


def test_a_label_held_up_to_the_camera_is_read_and_recorded_with_nothing_from_a_cdn(
    live_lacak, camera_page: Page, artifacts: Path
):
    seed(live_lacak, sealed=True)
    requested: list[str] = []
    camera_page.on("request", lambda request: requested.append(request.url))
    camera_page.context.grant_permissions(["camera"], origin=live_lacak.base_url)
    camera_page.goto(live_lacak.base_url + "/pindai")
    start_session(camera_page, mode="kirim", location="36.04", officer="Rina", to=KECAMATAN)

    camera_page.get_by_role("button", name="Kamera").click()
    result = camera_page.locator("#scan-result")
    expect(result).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(result).to_contain_text(f"Kotak {HOME[0].label} dicatat keluar dari gudang")
    camera_page.screenshot(path=artifacts / "scan-camera-desktop-1280x800.png", full_page=True)
    # Held in view for longer than the camera takes to forget a code, it is recorded once.
    camera_page.wait_for_timeout(2_000)
    expect(camera_page.locator("#scan-list li")).to_have_count(1)
    if not camera_page.evaluate("'BarcodeDetector' in window"):  # Chromium on Linux: polyfill
        wasm = f"{live_lacak.base_url}/static/vendor/zxing-wasm/zxing_reader.wasm"
        assert wasm in requested, "the polyfill did not load its wasm from Lacak"
    outside = [url for url in requested if not url.startswith(live_lacak.base_url)]
    assert not outside, f"fetched from outside Lacak: {outside}"
