"""A big request in the browser: the partner scrolls, filters, selects every file and
removes them all, and the page keeps up. bench/walkthrough.py walks the same path at
250,000 files and times it."""

from playwright.sync_api import expect

from deliveries.management.commands.create_big_request import create_big_request
from deliveries.requests import cleanup
from deliveries.tasks import clean_up_removed_files

from .pages import assert_not_reloaded, file_rows, mark_page, messages, open_details, remove_dialog

FILES = 1_500


def test_a_big_request_is_scrolled_filtered_and_removed_whole(partner_page, org, shoot):
    page = partner_page
    big = create_big_request(FILES, organization=org.name, write_content=True)
    open_details(page, big)
    mark_page(page)
    expect(page.locator("#file-count")).to_have_text("1,500")
    expect(file_rows(page)).to_have_count(100)

    # Scrolling to the end of the list brings the next hundred, twice.
    for shown in (200, 300):
        page.locator("#file-more").scroll_into_view_if_needed()
        expect(file_rows(page)).to_have_count(shown)
    expect(file_rows(page).last).to_contain_text("frame_0000299.dpx")

    # The name filter narrows the list to the names starting with the text.
    page.get_by_label("Show files whose names start with").fill("frame_000124")
    page.get_by_role("button", name="Filter").click()
    expect(file_rows(page)).to_have_count(10)
    expect(file_rows(page).first).to_contain_text("frame_0001240.dpx")
    page.get_by_label("Show files whose names start with").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(file_rows(page)).to_have_count(100)

    # Select all means every file of the request, not only the rows on screen.
    page.get_by_label("Select all 1,500 files").check()
    expect(page.locator("[data-selection-status]")).to_have_text("All 1,500 files selected")
    shoot(page, "scale-select-all")
    page.get_by_role("button", name="Remove selected files").click()
    dialog = remove_dialog(page)
    expect(dialog).to_contain_text("All 1,500 files of this request will be removed.")
    dialog.get_by_role("button", name="Remove").click()

    expect(messages(page)).to_contain_text("Removed 1,500 files.")
    expect(file_rows(page)).to_have_count(0)
    expect(page.locator("#file-count")).to_have_text("0")
    banner = page.locator("#cleanup-banner")
    expect(banner).to_contain_text("Cleaning up storage: 1,500 files left")
    shoot(page, "scale-cleaning-up")

    # The worker's run; the banner follows it without a reload.
    clean_up_removed_files.call()
    expect(banner).to_be_empty()
    assert_not_reloaded(page)
    assert not cleanup.work_left()
