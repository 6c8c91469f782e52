"""Figures A–K: submitting a request and asking for redelivery."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import (
    assert_not_reloaded,
    file_row,
    file_rows,
    mark_page,
    messages,
    open_details,
    redelivery_dialog,
    remove_dialog,
    row_menu_button,
    status_badge,
)

pytestmark = pytest.mark.browser


def test_submit_shows_processing_then_processed_without_a_reload(partner_page, make_request, shoot):
    page = partner_page
    delivery_request = make_request(status="open", files=2)
    open_details(page, delivery_request)
    expect(status_badge(page)).to_have_text("Open")
    mark_page(page)
    submit = page.get_by_role("button", name="Submit", exact=True)
    submit.hover()
    shoot(page, "figure-A-submit")

    submit.click()

    expect(status_badge(page)).to_have_text("Submitted")
    banner = page.locator(".banner-processing")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("heading", name="Processing")).to_be_visible()
    expect(banner).to_contain_text("of 2 files")
    expect(page.get_by_role("button", name="Submit", exact=True)).to_have_count(0)
    expect(messages(page)).to_contain_text("Submitted.")
    assert_not_reloaded(page)
    shoot(page, "figure-B-submitted")
    shoot(page, "figure-C-processing")

    # The worker's job, run here in the live server's process and database; the page
    # polls and shows the result by itself.
    from deliveries.tasks import process_request

    process_request.call(delivery_request.pk)

    expect(status_badge(page)).to_have_text("Processed", timeout=15_000)
    expect(page.locator(".banner-processing")).to_have_count(0)
    expect(file_rows(page).first.locator(".proc")).to_have_text(re.compile("Passed|Failed"))
    assert_not_reloaded(page)
    shoot(page, "figure-D-processed")


def _open_redelivery_modal(page, shoot=None):
    page.get_by_label("More actions").click()
    item = page.get_by_role("link", name="Ask For Redelivery")
    expect(item).to_be_visible()
    if shoot:
        shoot(page, "figure-E-menu")
    item.click()
    dialog = redelivery_dialog(page)
    expect(dialog).to_be_visible()
    return dialog


def test_asking_for_redelivery_with_clear_leaves_the_request_blank(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="processed", files=3)
    open_details(page, delivery_request)
    expect(status_badge(page)).to_have_text("Processed")
    mark_page(page)

    dialog = _open_redelivery_modal(page, shoot)
    confirm = dialog.get_by_role("button", name="Ask for Redelivery")
    expect(confirm).to_be_disabled()

    dialog.get_by_text("Select one or more reasons").click()
    timecode = dialog.get_by_label("Incorrect Timecode", exact=True)
    expect(timecode).to_be_visible()
    shoot(page, "figure-F-reasons")

    timecode.check()
    expect(confirm).to_be_enabled()
    dialog.get_by_label("Incorrect Channel Mapping", exact=True).check()
    help_button = dialog.get_by_role("button", name="What “Incorrect Channel Mapping” means")
    help_button.hover()
    tooltip = dialog.get_by_role("tooltip").filter(has_text="Audio channels are in the wrong")
    expect(tooltip).to_be_visible()
    expect(help_button).to_have_accessible_description(tooltip.inner_text())
    shoot(page, "figure-G-reason-help")

    dialog.get_by_label("Clear existing files from this request").check()
    expect(dialog.locator("[data-reason-summary]")).to_have_text(
        "Incorrect Timecode, Incorrect Channel Mapping"
    )
    shoot(page, "figure-H-clear-files")
    confirm.hover()
    shoot(page, "figure-I-ask")

    confirm.click()

    expect(status_badge(page)).to_have_text("Redelivery")
    expect(dialog).to_have_count(0)
    banner = page.get_by_role("region", name="Redelivery requested")
    expect(banner).to_contain_text("Asked by partner-admin")
    expect(banner).to_contain_text("3 delivered files were cleared.")
    expect(banner.get_by_role("listitem")).to_have_text(
        [re.compile(r"^Incorrect Timecode:"), re.compile(r"^Incorrect Channel Mapping:")]
    )
    expect(file_rows(page)).to_have_count(0)
    expect(page.get_by_text("No files have been delivered to this request yet.")).to_be_visible()
    expect(messages(page)).to_contain_text("This request is now ready for redelivery.")
    assert_not_reloaded(page)
    shoot(page, "figure-J-redelivery-blank")
    assert delivery_request.files.count() == 0


def test_asking_for_redelivery_without_clear_keeps_files_that_can_be_removed_one_by_one(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="processed", files=3)
    open_details(page, delivery_request)

    dialog = _open_redelivery_modal(page)
    dialog.get_by_text("Select one or more reasons").click()
    dialog.get_by_label("Missing Asset", exact=True).check()
    dialog.get_by_role("button", name="Ask for Redelivery").click()

    expect(status_badge(page)).to_have_text("Redelivery")
    expect(page.get_by_role("region", name="Redelivery requested")).to_contain_text("Missing Asset")
    expect(file_rows(page)).to_have_count(3)
    file_row(page, "file_001.mov").hover()
    row_menu_button(page, "file_001.mov").click()
    page.get_by_role("link", name="Remove", exact=True).click()
    remove_dialog(page).get_by_role("button", name="Remove").click()

    expect(file_rows(page)).to_have_count(2)
    expect(file_row(page, "file_001.mov")).to_have_count(0)
    expect(status_badge(page)).to_have_text("Redelivery")
    shoot(page, "figure-K-redelivery-keep-files")
