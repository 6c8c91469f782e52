"""What a partner sees on the Details Page is true and current: no leftover
no-JavaScript form, no stale message, no clean-up banner for a single file, paused
uploads saying so, bulk removals that name their files, one unit system for sizes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import (
    file_row,
    file_rows,
    messages,
    open_details,
    redelivery_dialog,
    remove_dialog,
    row_menu_button,
    status_badge,
)

pytestmark = pytest.mark.browser


def test_the_no_javascript_upload_form_is_hidden_when_javascript_runs(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="open", files=1)
    open_details(page, delivery_request)
    expect(page.locator("#uploader .uppy-DragDrop-container")).to_be_visible()
    expect(page.get_by_text("Without JavaScript, choose files")).to_be_hidden()
    expect(page.locator("#plain-files")).to_be_hidden()


def test_the_plain_upload_form_shows_without_javascript(no_js_context, admin_user, make_request):
    from .conftest import sign_in

    page = no_js_context.new_page()
    sign_in(page, admin_user.username)
    delivery_request = make_request(status="open", files=1)
    open_details(page, delivery_request)
    expect(page.get_by_text("Without JavaScript, choose files")).to_be_visible()
    expect(page.locator("#plain-files")).to_be_visible()


def test_the_submitted_message_goes_once_processing_has_ended(partner_page, make_request):
    from deliveries.models import DeliveryRequest, ProcessingStatus

    page = partner_page
    delivery_request = make_request(status="open", files=1)
    open_details(page, delivery_request)
    page.get_by_role("button", name="Submit").click()
    expect(status_badge(page)).to_have_text("Submitted")
    expect(messages(page)).to_contain_text("Your files are now processing")

    # The worker finishes processing while the partner watches the page.
    processed = DeliveryRequest.objects.get(pk=delivery_request.pk)
    processed.files.update(processing_status=ProcessingStatus.PASSED)
    processed.act(processed.finish_processing, by=None)

    expect(status_badge(page)).to_have_text("Processed", timeout=15_000)
    expect(messages(page)).not_to_contain_text("processing")
    expect(messages(page)).to_have_text("")


def test_removing_one_file_shows_no_clean_up_banner(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="open", files=3)
    open_details(page, delivery_request)
    file_row(page, "file_001.mov").hover()
    row_menu_button(page, "file_001.mov").click()
    page.get_by_role("link", name="Remove", exact=True).click()
    remove_dialog(page).get_by_role("button", name="Remove").click()

    expect(messages(page)).to_contain_text("Removed 1 file.")
    # The stored content waits for the worker (none runs here), a moment's work that
    # the partner need not watch: no banner, and no poll for one.
    expect(page.locator("#cleanup-banner")).to_be_empty()
    expect(page.locator("#progress")).not_to_have_attribute("hx-get", re.compile("."))
    page.wait_for_timeout(2_500)
    expect(page.locator("#cleanup-banner")).to_be_empty()


def test_a_paused_upload_says_paused_and_shows_no_rate(partner_page, make_request, shoot):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    open_details(page, delivery_request)
    # A slow line, so that the upload is still under way when the partner pauses it.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 100_000},
    )
    page.locator("#uploader [data-drop-zone] input[type=file]").set_input_files(
        [{"name": "reel_09.mov", "mimeType": "video/quicktime", "buffer": b"x" * 3_000_000}]
    )
    row = page.locator("#uploader .upload-row").filter(has_text="reel_09.mov")
    expect(row.locator(".upload-detail")).to_contain_text("/s", timeout=15_000)
    row.get_by_role("button", name="Pause").click()

    expect(row.locator(".upload-state")).to_have_text("Paused")
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    page.wait_for_timeout(1_500)  # any progress event still in flight has arrived
    detail = row.locator(".upload-detail")
    expect(detail).to_contain_text(" of ")
    expect(detail).not_to_contain_text("/s")
    expect(detail).not_to_contain_text("left")
    shoot(page, "upload-paused")


def test_a_bulk_removal_names_its_files_in_the_confirmation_and_the_history(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="open", files=9)
    open_details(page, delivery_request)
    for n in (0, 1, 2, 4, 5, 6, 8):
        page.get_by_label(f"Select file_{n:03d}.mov").check()
    page.get_by_role("button", name="Remove selected files").click()
    dialog = remove_dialog(page)
    expect(dialog).to_contain_text("7 files will be removed from this request.")
    expect(dialog.locator("[data-remove-names]")).to_have_text(
        "file_000.mov, file_001.mov, file_002.mov, file_004.mov, file_005.mov and 2 more"
    )
    shoot(page, "remove-names-confirm")
    dialog.get_by_role("button", name="Remove").click()
    expect(messages(page)).to_contain_text("Removed 7 files.")
    history = page.locator(".history-list li").first
    expect(history).to_contain_text(
        "Removed 7 files. file_000.mov, file_001.mov, file_002.mov, file_004.mov, "
        "file_005.mov and 2 more"
    )

    # Select all: the first names of the request, and how many others.
    page.get_by_label("Select all 2 files").check()
    page.get_by_role("button", name="Remove selected files").click()
    expect(dialog).to_contain_text("All 2 files of this request will be removed.")
    expect(dialog.locator("[data-remove-names]")).to_have_text("file_003.mov, file_007.mov")
    dialog.get_by_role("button", name="Remove").click()
    expect(page.locator(".history-list li").first).to_contain_text(
        "Removed all 2 files. file_003.mov, file_007.mov"
    )


def _overlaps(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_greyed_out_ask_button_says_why_and_reason_help_covers_no_control(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="processed", files=1)
    open_details(page, delivery_request)
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Ask For Redelivery").click()
    dialog = redelivery_dialog(page)
    confirm = dialog.get_by_role("button", name="Ask for Redelivery")
    expect(confirm).to_be_disabled()
    why = dialog.get_by_text("Choose at least one reason")
    expect(why).to_be_visible()
    expect(confirm).to_have_accessible_description("Choose at least one reason")

    dialog.get_by_text("Select one or more reasons").click()
    controls = [dialog.locator("summary.dropdown-toggle")]
    options = dialog.locator(".reason-options li")
    for index in range(options.count()):
        controls += [options.nth(index).locator("input"), options.nth(index).locator("label")]
    for index in (0, 3):
        help_button = options.nth(index).locator(".help-tip")
        help_button.hover()
        tooltip = options.nth(index).get_by_role("tooltip")
        expect(tooltip).to_be_visible()
        box = tooltip.bounding_box()
        for control in controls:
            assert not _overlaps(box, control.bounding_box()), control
        assert not _overlaps(box, help_button.bounding_box())
    shoot(page, "redelivery-reason-help")

    dialog.get_by_label("Incorrect Timecode", exact=True).check()
    expect(confirm).to_be_enabled()
    expect(why).to_be_hidden()
    dialog.get_by_label("Incorrect Timecode", exact=True).uncheck()
    expect(confirm).to_be_disabled()
    expect(why).to_be_visible()


@pytest.mark.parametrize(
    ("language", "sizes"),
    [("en", ("843.8 KB", "17 bytes")), ("es-419", ("843.8 KB", "17 bytes"))],
)
def test_the_uploader_and_the_file_list_write_sizes_alike(
    partner_page, make_request, language, sizes
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    open_details(page, delivery_request)
    if language != "en":
        with page.expect_navigation():
            page.locator("#language-select").select_option(language)
        expect(page.get_by_role("heading", name="Entregar archivos")).to_be_visible()
    page.locator("#uploader [data-drop-zone] input[type=file]").set_input_files(
        [
            {"name": "mix_51.wav", "mimeType": "audio/wav", "buffer": b"x" * 864_000},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"x" * 17},
        ]
    )
    for name, size in zip(("mix_51.wav", "notes.txt"), sizes, strict=True):
        upload = page.locator("#uploader .upload-row").filter(has_text=name)
        expect(upload.locator(".upload-detail")).to_have_text(size, timeout=20_000)
        expect(file_row(page, name)).to_contain_text(size)


def test_a_row_menu_closes_on_its_choice_and_opens_upward_at_the_bottom(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="open", files=30)
    open_details(page, delivery_request)
    first = file_rows(page).first
    first.hover()
    first.locator("summary").click()
    menu = first.locator("details.row-menu")
    expect(menu).to_have_attribute("open", "")
    with page.expect_download():
        first.get_by_role("link", name="Download").click()
    expect(menu).not_to_have_attribute("open", "")

    # The last row sits at the bottom of the window: its menu opens above its button.
    last = file_rows(page).last
    last.evaluate("row => row.scrollIntoView({block: 'end'})")
    last.hover()
    last.locator("summary").click()
    items = last.locator(".menu-items")
    expect(items).to_be_visible()
    box = items.bounding_box()
    assert box is not None
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert box["y"] + box["height"] <= height, (box, height)
    # Esc closes it; another row's menu opening closes the first.
    page.keyboard.press("Escape")
    expect(last.locator("details.row-menu")).not_to_have_attribute("open", "")


# The characters after which a line of the link's text starts anew.
LINE_STARTS = """link => {
  const text = link.textContent, starts = [];
  const node = document.createTreeWalker(link, NodeFilter.SHOW_TEXT);
  let top = null, offset = 0;
  for (let current = node.nextNode(); current; current = node.nextNode()) {
    for (let i = 0; i < current.length; i++, offset++) {
      const range = document.createRange();
      range.setStart(current, i); range.setEnd(current, i + 1);
      const rect = range.getBoundingClientRect();
      if (top !== null && rect.top > top + 2) starts.push(offset);
      top = rect.top;
    }
  }
  return starts.map(i => text[i - 1]);
}"""


def test_long_names_break_after_separators_and_times_never_wrap(partner_page, make_request):
    from django.core.files.base import ContentFile

    page = partner_page
    page.set_viewport_size({"width": 760, "height": 800})
    delivery_request = make_request(status="open", files=0)
    name = "LongTide_Feature_UHD_Reel2_Printmaster_Final_v3.mp4"
    delivery_request.add_file(name, ContentFile(b"x"), by=None)
    open_details(page, delivery_request)
    link = file_row(page, name).locator(".file-link")
    breaks = link.evaluate(LINE_STARTS)
    assert breaks, "the name fits on one line: the window is not narrow enough to tell"
    assert set(breaks) <= {"_", "-", "."}, breaks
    time = file_row(page, name).locator("time")
    assert time.evaluate("t => t.getClientRects().length") == 1


def _on_top(locator) -> bool:
    """Nothing covers the middle of this element: a click there reaches it."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return hit !== null && (hit === el || el.contains(hit)); }"""
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_side_panel_leaves_the_header_usable(partner_page, make_request, width):
    page = partner_page
    page.set_viewport_size({"width": width, "height": 800})
    delivery_request = make_request(status="open", files=3)
    open_details(page, delivery_request)
    page.get_by_role("link", name="file_001.mov", exact=True).click()
    panel = page.locator("#side-panel")
    expect(panel).to_have_class(re.compile("is-open"))
    sign_out = page.get_by_role("button", name="Sign out")
    for control in (
        sign_out,
        page.locator("#language-select"),
        panel.locator("[data-close-panel]"),
    ):
        expect(control).to_be_visible()
        assert _on_top(control), control
    # Scrolled down, the header is still there, and the panel still below it.
    page.mouse.wheel(0, 2_000)
    assert _on_top(sign_out)
    header = page.locator(".topbar").bounding_box()
    box = panel.bounding_box()
    assert header and box and box["y"] >= header["y"] + header["height"] - 1


@pytest.mark.parametrize("language", ["en", "es-419"])
def test_no_page_scrolls_sideways_on_a_phone(partner_page, make_request, shoot, language):
    """Screenshots of the list and the Details Page at 1400 px and 390 px in
    test-results/; on neither width does a page scroll sideways."""
    page = partner_page
    delivery_request = make_request(status="open", files=3)
    page.goto("/requests/")
    if language != "en":
        with page.expect_navigation():
            page.locator("#language-select").select_option(language)
    sign_out = "Sign out" if language == "en" else "Cerrar sesión"
    for width in (1400, 390):
        page.set_viewport_size({"width": width, "height": 844})
        for url, name in (("/requests/", "list"), (f"/requests/{delivery_request.pk}/", "details")):
            page.goto(url)
            shoot(page, f"{name}-{language}-{width}")
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, (url, width, scroll_width)
            expect(page.get_by_role("button", name=sign_out)).to_be_visible()
            # Badges keep to one line ("Nueva entrega" wrapped), placeholders fit.
            for badge in page.locator(".badge").all():
                assert badge.evaluate("b => b.getClientRects().length") == 1, badge.inner_text()
        placeholder_fits = page.goto("/requests/") and page.locator("#request-search").evaluate(
            """input => { const style = getComputedStyle(input);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            const room = input.clientWidth - parseFloat(style.paddingLeft)
                - parseFloat(style.paddingRight);
            return context.measureText(input.placeholder).width <= room; }"""
        )
        assert placeholder_fits, (language, width)
