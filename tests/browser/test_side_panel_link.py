"""The file side panel's address: opening a file's panel puts ?file=<id> in the
address bar, so the address can be copied and a reload shows the same panel; closing
the panel takes it out."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .pages import file_row, open_details, side_panel

pytestmark = pytest.mark.browser


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_an_open_panel_is_in_the_address_and_a_reload_shows_it_again(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="open", files=3)
    first, second = delivery_request.files.order_by("name")[1:3]
    page.goto(f"/requests/{delivery_request.pk}/?q=file")
    file_row(page, first.name).get_by_role("link", name=first.name).click()
    expect(side_panel(page).locator("#panel-file-name")).to_have_text(first.name)
    expect(page).to_have_url(re.compile(rf"[?&]file={first.pk}(&|$)"))
    assert query(page) == {"q": ["file"], "file": [str(first.pk)]}

    # Another file's panel takes the place of the first in the address too.
    file_row(page, second.name).get_by_role("link", name=second.name).click()
    expect(side_panel(page).locator("#panel-file-name")).to_have_text(second.name)
    expect(page).to_have_url(re.compile(rf"[?&]file={second.pk}(&|$)"))
    page.reload()
    expect(side_panel(page).locator("#panel-file-name")).to_have_text(second.name)

    side_panel(page).get_by_role("link", name="Close the side panel").click()
    expect(side_panel(page)).to_have_count(0)
    expect(page).not_to_have_url(re.compile(r"[?&]file="))
    assert query(page) == {"q": ["file"]}
    page.reload()
    expect(page.locator("#side-panel")).not_to_have_class(re.compile("is-open"))


def test_a_panel_closed_with_escape_leaves_the_address(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="open", files=2)
    shown = delivery_request.files.order_by("name").first()
    open_details(page, delivery_request)
    page.get_by_role("link", name=shown.name, exact=True).click()
    expect(page).to_have_url(re.compile(rf"\?file={shown.pk}$"))
    page.keyboard.press("Escape")
    expect(page.locator("#side-panel")).not_to_have_class(re.compile("is-open"))
    expect(page).to_have_url(re.compile(rf"/requests/{delivery_request.pk}/$"))
