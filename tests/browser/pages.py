"""Small helpers shared by the browser tests: where things are on the Details Page."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page


def open_details(page: Page, delivery_request) -> None:
    page.goto(f"/requests/{delivery_request.pk}/")


def status_badge(page: Page) -> Locator:
    return page.locator("#request-status")


def file_rows(page: Page) -> Locator:
    return page.locator("#file-rows tr.file-row")


def file_row(page: Page, name: str) -> Locator:
    return file_rows(page).filter(has=page.get_by_role("link", name=name, exact=True))


def row_menu_button(page: Page, name: str) -> Locator:
    return page.get_by_label(f"Actions for {name}", exact=True)


def remove_dialog(page: Page) -> Locator:
    # Titled "Remove this file?" for one file, "Remove files?" for several.
    return page.get_by_role("dialog", name=re.compile(r"^Remove (this file|files)\?$"))


def redelivery_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Ask for Redelivery")


def side_panel(page: Page) -> Locator:
    return page.get_by_role("complementary", name="File details")


def messages(page: Page) -> Locator:
    return page.locator("#messages")


def mark_page(page: Page) -> None:
    """Leave a mark on the window; if it is still there later, the page never reloaded."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page reloaded"
