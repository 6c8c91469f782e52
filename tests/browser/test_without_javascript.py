"""With JavaScript off, removing and renaming still work through plain links and forms:
the server renders the dialog or the side panel open from the URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in
from .pages import (
    file_row,
    file_rows,
    messages,
    open_details,
    remove_dialog,
    row_menu_button,
    side_panel,
    status_badge,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def plain_page(no_js_context, admin_user):
    page = no_js_context.new_page()
    sign_in(page, admin_user.username)
    return page


def test_without_javascript_one_file_is_removed_through_the_confirmation_page(
    plain_page, make_request, shoot
):
    page = plain_page
    delivery_request = make_request(status="open", files=3)
    target = delivery_request.files.get(name="file_001.mov")
    open_details(page, delivery_request)

    file_row(page, "file_001.mov").hover()
    row_menu_button(page, "file_001.mov").click()
    page.get_by_role("link", name="Remove", exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?confirm=remove&file={target.pk}$"))
    dialog = remove_dialog(page)
    expect(dialog).to_contain_text("“file_001.mov” will be removed from this request.")
    shoot(page, "no-js-figure-N-confirm-remove")

    dialog.get_by_role("link", name="Cancel").click()
    expect(remove_dialog(page)).to_have_count(0)
    expect(file_rows(page)).to_have_count(3)

    page.goto(f"/requests/{delivery_request.pk}/?confirm=remove&file={target.pk}")
    remove_dialog(page).get_by_role("button", name="Remove").click()

    expect(messages(page)).to_contain_text("Removed 1 file.")
    expect(file_rows(page)).to_have_count(2)
    expect(file_row(page, "file_001.mov")).to_have_count(0)


def test_without_javascript_ticked_files_and_then_all_files_are_removed(
    plain_page, make_request, shoot
):
    page = plain_page
    delivery_request = make_request(status="open", files=4)
    open_details(page, delivery_request)

    page.get_by_label("Select file_000.mov").check()
    page.get_by_label("Select file_002.mov").check()
    page.get_by_role("button", name="Remove selected files").click()
    dialog = remove_dialog(page)
    expect(dialog).to_contain_text("2 files will be removed from this request.")
    shoot(page, "no-js-figure-Q-confirm-count")
    dialog.get_by_role("button", name="Remove").click()

    expect(messages(page)).to_contain_text("Removed 2 files.")
    expect(file_rows(page)).to_have_count(2)

    page.get_by_label("Select all 2 files").check()
    page.get_by_role("button", name="Remove selected files").click()
    expect(page).to_have_url(re.compile(r"\?confirm=remove&all=1$"))
    expect(dialog).to_contain_text("All 2 files of this request will be removed.")
    dialog.get_by_role("button", name="Remove").click()

    expect(messages(page)).to_contain_text("Removed 2 files.")
    expect(file_rows(page)).to_have_count(0)
    assert delivery_request.files.count() == 0


def test_without_javascript_a_file_is_renamed_after_a_refused_name(plain_page, make_request, shoot):
    page = plain_page
    delivery_request = make_request(status="open", files=2)
    open_details(page, delivery_request)

    page.get_by_role("link", name="file_001.mov", exact=True).click()
    panel = side_panel(page)
    expect(panel.locator("#panel-file-name")).to_have_text("file_001.mov")
    panel.get_by_role("link", name="Edit").click()
    name = panel.get_by_label("File name")
    name.fill("final mix.mov")
    panel.get_by_role("button", name="Save").click()

    expect(panel.get_by_role("alert")).to_contain_text("Remove this character: space.")
    expect(name).to_have_value("final mix.mov")
    shoot(page, "no-js-figure-T-refused-name")
    name.fill("final_mix.mov")
    panel.get_by_role("button", name="Save").click()

    expect(messages(page)).to_contain_text("Renamed “file_001.mov” to “final_mix.mov”.")
    expect(file_row(page, "final_mix.mov")).to_be_visible()
    expect(file_row(page, "file_001.mov")).to_have_count(0)


def test_without_javascript_a_submitted_page_follows_processing_by_itself(plain_page, make_request):
    delivery_request = make_request(status="submitted", files=1)
    open_details(plain_page, delivery_request)
    expect(plain_page.locator("#processing-banner")).to_be_visible()
    delivery_request.files.update(processing_status="passed")
    delivery_request.act(delivery_request.finish_processing, by=None)
    # The page refreshes itself every 10 s while Submitted, then stops.
    expect(plain_page.locator("#processing-banner")).to_have_count(0, timeout=15_000)
    expect(status_badge(plain_page)).to_have_text(re.compile("Processed"))
    assert 'http-equiv="refresh"' not in plain_page.content()


def test_without_javascript_files_are_delivered_through_a_plain_form(
    plain_page, make_request, tmp_path
):
    delivery_request = make_request(status="open", files=0)
    reel = tmp_path / "reel_01.mov"
    reel.write_bytes(b"reel one")
    open_details(plain_page, delivery_request)
    plain_page.get_by_label("Files to deliver").set_input_files(str(reel))
    plain_page.get_by_role("button", name="Deliver", exact=True).click()
    expect(messages(plain_page)).to_contain_text("Delivered 1 file.")
    expect(file_row(plain_page, "reel_01.mov")).to_be_visible()
