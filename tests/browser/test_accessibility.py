"""axe-core finds no serious or critical accessibility violation on the partner pages."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import sign_in
from .pages import file_row, open_details, redelivery_dialog, side_panel

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}


def _violations(axe: Axe, page: Page, state: str) -> list[str]:
    found = axe.run(page).response["violations"]
    return [
        f"{state}: {violation['id']} ({violation['impact']}) {violation['help']} → "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in found
        if violation["impact"] in BLOCKING
    ]


def test_the_partner_pages_have_no_serious_or_critical_accessibility_violations(
    browser_context, admin_user, make_request, redelivery_reasons
):
    axe = Axe()
    page = browser_context.new_page()
    problems: list[str] = []

    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    problems += _violations(axe, page, "sign-in page")

    open_request = make_request(status="open", files=3, name="Audio 5.1")
    processed = make_request(status="processed", files=3, name="Primary Video")
    accepted = make_request(status="accepted", files=2, name="Timed Text")
    sign_in(page, admin_user.username)
    problems += _violations(axe, page, "request list")

    for state, delivery_request in [
        ("Open", open_request),
        ("Processed", processed),
        ("Accepted", accepted),
    ]:
        open_details(page, delivery_request)
        expect(page.locator("#request-status")).to_have_text(state)
        problems += _violations(axe, page, f"Details Page ({state})")

    open_details(page, processed)
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Ask For Redelivery").click()
    dialog = redelivery_dialog(page)
    dialog.get_by_text("Select one or more reasons").click()
    expect(dialog.get_by_label("Other", exact=True)).to_be_visible()
    problems += _violations(axe, page, "redelivery modal")

    open_details(page, open_request)
    file_row(page, "file_001.mov").get_by_role("link", name="file_001.mov").click()
    expect(side_panel(page)).to_be_visible()
    problems += _violations(axe, page, "side panel")
    side_panel(page).get_by_role("link", name="Edit").click()
    expect(side_panel(page).get_by_label("File name")).to_be_visible()
    problems += _violations(axe, page, "side panel (edit)")

    assert not problems, "\n".join(problems)
