"""Where files can't be changed, the controls are absent and the page says why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import sign_in
from .pages import file_row, open_details, row_menu_button, side_panel, status_badge

pytestmark = pytest.mark.browser


def _expect_no_file_changes(page, name="file_000.mov"):
    expect(page.get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove selected files")).to_have_count(0)
    file_row(page, name).hover()
    row_menu_button(page, name).click()
    menu = file_row(page, name).locator(".menu-items")
    expect(menu.get_by_role("link")).to_have_text(["Details", "Download"])
    menu.get_by_role("link", name="Details").click()
    panel = side_panel(page)
    expect(panel.locator("#panel-file-name")).to_have_text(name)
    expect(panel.get_by_role("link", name="Edit")).to_have_count(0)
    return panel


def test_an_accepted_request_offers_no_removal_or_rename_and_says_why(
    partner_page, make_request, shoot
):
    page = partner_page
    open_details(page, make_request(status="accepted", files=2))
    expect(status_badge(page)).to_have_text("Accepted")
    expect(page.locator("#files-locked")).to_have_text(
        "This request is Accepted, so its files can't be changed. "
        "Contact your studio contact to reopen it."
    )
    expect(page.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
    page.get_by_label("More actions").click()
    ask = page.get_by_role("button", name="Ask For Redelivery")
    expect(ask).to_have_attribute("aria-disabled", "true")
    expect(ask).to_have_accessible_description(
        "This request is Accepted. Contact your studio contact to reopen it for redelivery."
    )
    shoot(page, "refusal-accepted-menu")
    page.keyboard.press("Escape")

    _expect_no_file_changes(page)


def test_a_request_with_a_checksum_offers_no_removal_or_rename_and_says_why(
    partner_page, make_request, shoot
):
    page = partner_page
    open_details(page, make_request(status="open", files=2, checksum=True))
    expect(page.locator("#files-locked")).to_contain_text(
        "This is a request with a checksum: its manifest pins every file's name and content"
    )
    expect(page.locator(".facts")).to_contain_text("Request with a checksum (checksum.txt)")
    shoot(page, "refusal-checksum")

    panel = _expect_no_file_changes(page)
    expect(panel).to_contain_text("files can't be renamed or removed one by one")


def test_a_reviewer_sees_no_action_controls(
    browser_context, reviewer, make_request, redelivery_reasons, shoot
):
    page = browser_context.new_page()
    sign_in(page, reviewer.username)
    open_details(page, make_request(status="open", files=2))
    expect(status_badge(page)).to_have_text("Open")
    expect(page.locator("#files-locked")).to_have_text("You have read-only access to this request.")
    expect(page.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
    expect(page.get_by_label("More actions")).to_have_count(0)
    shoot(page, "refusal-reviewer")

    _expect_no_file_changes(page)
