"""Keyboard only: Tab reaches the controls, Enter/Space open the 3-dot menus, Escape
closes a menu, a modal and the side panel, and focus goes where the user expects."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from .pages import open_details, redelivery_dialog, remove_dialog, row_menu_button, side_panel

pytestmark = pytest.mark.browser


def tab_to(page: Page, target: Locator, limit: int = 40) -> None:
    """Press Tab until `target` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def expect_focus_inside(page: Page, container_id: str) -> None:
    """Focus is on the container or within it (waits, as htmx settles after a swap)."""
    expect(page.locator(f"#{container_id}:focus-within")).to_have_count(1)


def test_keyboard_opens_the_header_menu_and_the_redelivery_modal_and_escape_closes_them(
    partner_page, make_request, shoot
):
    page = partner_page
    open_details(page, make_request(status="processed", files=2))
    more = page.get_by_label("More actions")
    tab_to(page, more)
    page.keyboard.press("Enter")
    ask = page.get_by_role("link", name="Ask For Redelivery")
    expect(ask).to_be_visible()
    page.keyboard.press("Escape")
    expect(ask).to_be_hidden()
    expect(more).to_be_focused()

    page.keyboard.press(" ")
    expect(ask).to_be_visible()
    page.keyboard.press("Tab")
    expect(ask).to_be_focused()
    page.keyboard.press("Enter")
    dialog = redelivery_dialog(page)
    expect(dialog).to_be_visible()
    reasons_toggle = dialog.locator("summary.dropdown-toggle")
    expect_focus_inside(page, "redelivery-dialog")
    expect(reasons_toggle).to_be_focused()

    # Open the reasons, tick one with Space, read a "?" by keyboard focus.
    page.keyboard.press("Enter")
    first_reason = dialog.get_by_label("Incorrect Asset Type", exact=True)
    page.keyboard.press("Tab")
    expect(first_reason).to_be_focused()
    page.keyboard.press(" ")
    expect(first_reason).to_be_checked()
    expect(dialog.get_by_role("button", name="Ask for Redelivery")).to_be_enabled()
    page.keyboard.press("Tab")
    tooltip = dialog.get_by_role("tooltip").filter(has_text="not the asset this request asks")
    expect(tooltip).to_be_visible()
    shoot(page, "keyboard-reason-help")

    # Escape closes the innermost thing first: the reasons, then the modal.
    page.keyboard.press("Escape")
    expect(first_reason).to_be_hidden()
    expect(dialog).to_be_visible()
    expect(reasons_toggle).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(more).to_be_focused()


def test_keyboard_opens_a_row_menu_and_the_removal_modal_returns_focus_when_closed(
    partner_page, make_request
):
    page = partner_page
    open_details(page, make_request(status="open", files=2))
    dots = row_menu_button(page, "file_001.mov")
    tab_to(page, dots)
    expect(dots).to_have_css("opacity", "1")
    page.keyboard.press(" ")
    remove = page.get_by_role("link", name="Remove", exact=True)
    expect(remove).to_be_visible()
    page.keyboard.press("Escape")
    expect(remove).to_be_hidden()
    expect(dots).to_be_focused()

    page.keyboard.press("Enter")
    remove.focus()
    page.keyboard.press("Enter")
    dialog = remove_dialog(page)
    expect(dialog).to_be_visible()
    # A destructive confirmation starts on Cancel, not on Remove.
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(dots).to_be_focused()
    expect(page.locator("#file-rows tr.file-row")).to_have_count(2)


def test_keyboard_opens_the_side_panel_from_a_file_and_escape_returns_to_it(
    partner_page, make_request, shoot
):
    page = partner_page
    open_details(page, make_request(status="open", files=2))
    link = page.get_by_role("link", name="file_000.mov", exact=True)
    tab_to(page, link)
    page.keyboard.press("Enter")
    panel = side_panel(page)
    expect(panel).to_be_visible()
    expect(panel.locator("#panel-file-name")).to_have_text("file_000.mov")
    expect_focus_inside(page, "side-panel")

    edit = panel.get_by_role("link", name="Edit")
    tab_to(page, edit)
    page.keyboard.press("Enter")
    name = panel.get_by_label("File name")
    expect(name).to_be_focused()
    shoot(page, "keyboard-side-panel-edit")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()
