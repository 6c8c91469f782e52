"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's
live server.

The fixtures are our own (not pytest-playwright's `browser`/`page`) so that the
executable is the system Chromium, and their names do not collide with the plugin's.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-tests"
RESULTS = Path(__file__).resolve().parents[2] / "test-results"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = (
            f"Chromium is not installed at {CHROMIUM}. Install it with "
            "`apt-get install -y --no-install-recommends chromium`."
        )
        if "CI" in os.environ:
            pytest.fail(message)  # CI must run the browser tests, never skip them.
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _new_context(browser: Browser, live_server, **options) -> BrowserContext:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 860},
        locale="en-US",
        reduced_motion="reduce",
        **options,
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def browser_context(chromium_browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = _new_context(chromium_browser, live_server)
    yield context
    context.close()


@pytest.fixture
def no_js_context(chromium_browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = _new_context(chromium_browser, live_server, java_script_enabled=False)
    yield context
    context.close()


def sign_in(page: Page, username: str) -> None:
    """Sign in through the sign-in page, as a partner does."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()


@pytest.fixture
def redelivery_reasons(transactional_db) -> None:
    """The default reasons. The data migration's rows do not survive the flush that
    ends each live-server test, so they are put back here."""
    from deliveries.models import RedeliveryReason

    if RedeliveryReason.objects.exists():
        return
    migration = importlib.import_module("deliveries.migrations.0002_default_redelivery_reasons")
    RedeliveryReason.objects.bulk_create(
        RedeliveryReason(
            code=code,
            name=name,
            description=description,
            name_es=name_es,
            description_es=description_es,
            order=order * 10,
        )
        for order, (code, name, description, name_es, description_es) in enumerate(
            migration.REASONS
        )
    )


@pytest.fixture
def partner_page(browser_context: BrowserContext, admin_user, redelivery_reasons) -> Page:
    """A page signed in as the partner organization's Admin."""
    page = browser_context.new_page()
    sign_in(page, admin_user.username)
    return page


@pytest.fixture
def shoot(pytestconfig: pytest.Config) -> Callable[[Page, str], None]:
    """shoot(page, "figure-E-menu") saves test-results/figure-E-menu.png.

    The folder follows pytest-playwright's --output when that plugin is loaded: the
    plugin empties its output folder as each session starts.
    """
    try:
        folder = Path(pytestconfig.getoption("--output")).absolute()
    except ValueError:
        folder = RESULTS
    folder.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> None:
        page.screenshot(path=folder / f"{name}.png", animations="disabled", caret="hide")

    return save
