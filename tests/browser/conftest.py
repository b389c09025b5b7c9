"""Debian's Chromium driven by Playwright; a screenshot of every failing page is kept."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def chromium_or_skip() -> None:
    """Install Debian's Chromium if missing; without it CI fails and elsewhere the test skips."""
    if CHROMIUM.exists():
        return
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as error:
        reason = f"Chromium is not at {CHROMIUM} and `apt-get install chromium` failed: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)  # read by `page` teardown
    return report


@pytest.fixture(scope="module")  # Playwright's loop must be gone before asyncio tests run
def browser() -> Iterator[Browser]:
    chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def open_page(
    browser: Browser, request: pytest.FixtureRequest, console: list[str], **context_options
) -> Iterator[Page]:
    """A page in its own context; a failed test keeps its screenshot and prints its console."""
    context = browser.new_context(**context_options)
    if "live_lacak" in request.fixturenames:  # signed in, as an admin
        context.add_cookies([request.getfixturevalue("live_lacak").session_cookie()])
    page = context.new_page()
    page.on("console", lambda message: console.append(describe(message)))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on("requestfailed", lambda req: console.append(f"requestfailed: {req.url} {req.failure}"))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and console.append(f"http {response.status}: {response.url}")
        ),
    )
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"failed-{request.node.name}.png"
        page.screenshot(path=shot, full_page=True)
        print(f"\nscreenshot of the failed page: {shot}")
        print("browser console:", *console or ["(empty)"], sep="\n  ")
    context.close()


def describe(message: ConsoleMessage) -> str:
    where = message.location
    return f"{message.type}: {message.text} ({where.get('url')}:{where.get('lineNumber')})"


@pytest.fixture
def browser_console() -> list[str]:
    """What the test's page wrote to its console, and its uncaught errors, one line each."""
    return []


@pytest.fixture
def page(
    browser: Browser, request: pytest.FixtureRequest, browser_console: list[str]
) -> Iterator[Page]:
    """A desktop-sized page (1280x800)."""
    yield from open_page(browser, request, browser_console, viewport=DESKTOP)


@pytest.fixture
def phone_page(
    browser: Browser, request: pytest.FixtureRequest, browser_console: list[str]
) -> Iterator[Page]:
    """A phone-sized page (390x844) with touch, as a phone's Chromium lays it out."""
    yield from open_page(
        browser,
        request,
        browser_console,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def artifacts() -> Path:
    """The directory for screenshots kept from passing tests (`test-artifacts/`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
