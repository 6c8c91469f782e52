"""Figures L–U: removing files one by one and in bulk, and renaming a file."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .pages import (
    assert_not_reloaded,
    file_row,
    file_rows,
    mark_page,
    messages,
    open_details,
    remove_dialog,
    row_menu_button,
    side_panel,
)

pytestmark = pytest.mark.browser


def test_one_file_is_removed_through_its_row_menu_after_a_cancelled_first_try(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="open", files=3)
    open_details(page, delivery_request)
    mark_page(page)
    dots = row_menu_button(page, "file_001.mov")
    # The ellipsis shows itself on hover (and on keyboard focus), not before.
    expect(dots).to_have_css("opacity", "0")
    file_row(page, "file_001.mov").hover()
    expect(dots).to_have_css("opacity", "1")
    # The dots are drawn from a sprite that itself takes no room on the page.
    assert dots.bounding_box()["width"] > 0
    assert page.locator("svg[hidden]").bounding_box() is None
    shoot(page, "figure-L-row-ellipsis")

    dots.click()
    remove = page.get_by_role("link", name="Remove", exact=True)
    expect(remove).to_be_visible()
    shoot(page, "figure-M-row-menu")
    remove.click()
    dialog = remove_dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("“file_001.mov” will be removed from this request.")
    expect(dialog.get_by_role("heading")).to_have_text("Remove this file?")
    shoot(page, "figure-N-confirm-remove")

    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(file_rows(page)).to_have_count(3)
    assert delivery_request.files.count() == 3

    file_row(page, "file_001.mov").hover()
    dots.click()
    page.get_by_role("link", name="Remove", exact=True).click()
    expect(dialog).to_contain_text("“file_001.mov” will be removed from this request.")
    dialog.get_by_role("button", name="Remove").click()

    expect(file_rows(page)).to_have_count(2)
    expect(file_row(page, "file_001.mov")).to_have_count(0)
    expect(messages(page)).to_contain_text("Removed 1 file.")
    expect(page.locator("#file-count")).to_have_text("2")
    assert_not_reloaded(page)
    assert sorted(delivery_request.files.values_list("name", flat=True)) == [
        "file_000.mov",
        "file_002.mov",
    ]


def test_ticked_files_and_then_all_files_are_removed_with_the_trash_icon(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="open", files=4)
    open_details(page, delivery_request)
    mark_page(page)
    trash = page.get_by_role("button", name="Remove selected files")
    expect(trash).to_be_disabled()

    page.get_by_label("Select file_000.mov").check()
    page.get_by_label("Select file_002.mov").check()
    expect(page.locator("[data-selection-status]")).to_have_text("2 selected")
    expect(trash).to_be_enabled()
    shoot(page, "figure-O-ticked")

    trash.click()
    dialog = remove_dialog(page)
    expect(dialog).to_contain_text("2 files will be removed from this request.")
    expect(dialog.get_by_role("heading")).to_have_text("Remove files?")
    shoot(page, "figure-Q-confirm-count")
    dialog.get_by_role("button", name="Remove").click()

    expect(file_rows(page)).to_have_count(2)
    expect(messages(page)).to_contain_text("Removed 2 files.")
    expect(file_row(page, "file_000.mov")).to_have_count(0)
    expect(file_row(page, "file_002.mov")).to_have_count(0)

    page.get_by_label("Select all 2 files").check()
    for name in ("file_001.mov", "file_003.mov"):
        expect(page.get_by_label(f"Select {name}")).to_be_checked()
    expect(page.locator("[data-selection-status]")).to_have_text("All 2 files selected")
    shoot(page, "figure-P-select-all")
    trash.click()
    expect(dialog).to_contain_text("All 2 files of this request will be removed.")
    dialog.get_by_role("button", name="Remove").click()

    expect(file_rows(page)).to_have_count(0)
    expect(page.get_by_text("No files have been delivered to this request yet.")).to_be_visible()
    expect(messages(page)).to_contain_text("Removed 2 files.")
    assert_not_reloaded(page)
    assert delivery_request.files.count() == 0


def test_a_file_is_renamed_in_the_side_panel_after_a_name_with_a_space_is_refused(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="open", files=2)
    open_details(page, delivery_request)
    mark_page(page)

    # A click anywhere on the row, not only on the name, opens the panel.
    file_row(page, "file_001.mov").get_by_role("cell", name="MOV", exact=True).click()
    panel = side_panel(page)
    expect(panel).to_be_visible()
    expect(panel.locator("#panel-file-name")).to_have_text("file_001.mov")
    shoot(page, "figure-R-side-panel")

    edit = panel.get_by_role("link", name="Edit")
    edit.hover()
    shoot(page, "figure-S-edit")
    edit.click()
    name = panel.get_by_label("File name")
    expect(name).to_be_focused()
    expect(name).to_have_value("file_001.mov")
    name.select_text()
    shoot(page, "figure-T-edit-name")

    name.fill("final mix.mov")
    panel.get_by_role("button", name="Save").click()
    error = panel.get_by_role("alert")
    expect(error).to_contain_text("Remove this character: space.")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_value("final mix.mov")
    expect(name).to_be_focused()
    shoot(page, "figure-T-refused-name")
    assert delivery_request.files.filter(name="file_001.mov").exists()

    name.fill("final_mix.mov")
    panel.get_by_role("button", name="Save").click()

    expect(panel.locator("#panel-file-name")).to_have_text("final_mix.mov")
    expect(file_row(page, "final_mix.mov")).to_be_visible()
    expect(file_row(page, "file_001.mov")).to_have_count(0)
    expect(messages(page)).to_contain_text("Renamed “file_001.mov” to “final_mix.mov”.")
    assert_not_reloaded(page)
    shoot(page, "figure-U-renamed")
    assert delivery_request.files.filter(name="final_mix.mov").exists()
