"""The studio contact's change page of a request: its decisions at the top, and a
History that reads as the partner's does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def studio_page(browser_context, staff, redelivery_reasons):
    page = browser_context.new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    return page


def test_accept_and_ask_for_redelivery_are_at_the_top_and_the_history_reads_well(
    studio_page, make_request, shoot
):
    page = studio_page
    request = make_request(status="processed", files=2)
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    accept = page.get_by_role("button", name="Accept", exact=True)
    redeliver = page.get_by_role("button", name="Ask for redelivery", exact=True)
    # Seen without scrolling, above the request's fields.
    expect(accept).to_be_in_viewport()
    expect(redeliver).to_be_in_viewport()
    first_field = page.locator("fieldset").first.bounding_box()
    assert accept.bounding_box()["y"] < first_field["y"]
    assert page.locator("button[name=_fsm_transition_to]").count() == 2  # not twice over
    shoot(page, "admin-request-change")

    history = page.locator("#history-group")
    expect(history).to_contain_text("Status changed from Submitted to Processed.")
    expect(history).to_contain_text("Delivered “file_000.mov”.")
    expect(history).to_contain_text("System")
    expect(history).not_to_contain_text('{"size"')
    expect(history).not_to_contain_text("submitted")
    # Once: the row's sentence, not the entry's name above it again.
    expect(history.get_by_text("Submitted → Processed")).to_be_hidden()
    history.scroll_into_view_if_needed()
    shoot(page, "admin-request-history")

    accept.click()
    expect(page.locator(".messagelist")).to_contain_text("The request is now Accepted.")


def test_a_studio_contact_waives_a_finding_from_the_change_page(studio_page, org, title, shoot):
    from deliveries.management import samples
    from tests.processed import ONLY_RESOLUTION, make_processed

    page = studio_page
    request = make_processed(org, title, {"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    findings = page.locator("#findings")
    expect(findings).to_contain_text("Expected 3840×2160, found 320×180.")
    findings.get_by_role("link", name="Waive…").click()
    page.get_by_label("Why this finding may stand").fill("Screener: the proxy is approved.")
    shoot(page, "admin-waive-finding")
    page.get_by_role("button", name="Waive", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Waived VIDEO-Resolution on “Main.mp4”.")
    expect(page.locator("#findings")).to_contain_text("Waived by studio-contact on")
    page.locator("#findings").scroll_into_view_if_needed()
    shoot(page, "admin-request-findings")
    expect(page.locator("#history-group")).to_contain_text(
        "Waived VIDEO-Resolution on “Main.mp4”: Screener: the proxy is approved."
    )
    # The Details Page (a studio contact opens any) says so on the file.
    page.goto(f"/requests/{request.pk}/")
    expect(page.locator("#verdict")).to_contain_text("Ready for review: no blockers")
    page.get_by_role("link", name="Main.mp4").first.click()
    panel = page.locator("#side-panel")
    expect(panel).to_contain_text("Waived by studio-contact on")
    expect(panel).to_contain_text("Screener: the proxy is approved.")
    shoot(page, "details-page-waived-finding")
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    # Nothing left to explain: Accept takes one click.
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("The request is now Accepted.")


def test_a_studio_contact_withdraws_a_waiver_given_by_mistake(
    studio_page, staff, org, title, shoot
):
    from deliveries.management import samples
    from deliveries.requests.waivers import waive
    from tests.processed import ONLY_RESOLUTION, make_processed

    page = studio_page
    request = make_processed(org, title, {"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    waive(
        request,
        request.files.get().pk,
        "VIDEO-Resolution",
        by=staff,
        reason="Screener: the proxy is approved.",
    )
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    page.locator("#findings").get_by_role("link", name="Withdraw…").click()
    expect(page.locator("#the-waiver")).to_contain_text("Screener: the proxy is approved.")
    page.get_by_label("Why the waiver is withdrawn").fill("Waived on the wrong request.")
    shoot(page, "admin-withdraw-waiver")
    page.get_by_role("button", name="Withdraw the waiver").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Withdrew the waiver of VIDEO-Resolution on “Main.mp4”."
    )
    expect(page.locator("#findings").get_by_role("link", name="Waive…")).to_be_visible()
    expect(page.locator("#history-group")).to_contain_text(
        "Withdrew the waiver of VIDEO-Resolution on “Main.mp4”: Waived on the wrong request."
    )
    page.goto(f"/requests/{request.pk}/")
    expect(page.locator("#verdict")).not_to_contain_text("Ready for review: no blockers")


def test_a_studio_contact_waives_the_frame_count_of_a_whole_sequence(
    studio_page, org, title, shoot
):
    from deliveries.management import samples
    from tests.processed import make_processed

    page = studio_page
    png = samples.png_image(64, 36)
    request = make_processed(
        org,
        title,
        {f"Show_{n:07d}.png": png for n in range(1, 6)},
        {"width": 64, "height": 36, "bit_depth": 8, "frame_count": 3},
        spec="DCI 4K image sequence 16-bit",
        name="Picture Master Frames",
    )
    page.goto(f"/requests/{request.pk}/")
    expect(page.locator("#verdict")).to_contain_text("The delivery as a whole has blockers")
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    whole = page.locator("#findings tr").filter(has_text="The delivery as a whole")
    expect(whole).to_contain_text("Expected 3, found 5.")
    whole.get_by_role("link", name="Waive…").click()
    page.get_by_label("Why this finding may stand").fill("Two head handles, as agreed.")
    page.get_by_role("button", name="Waive", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Waived SEQUENCE-FrameCount on the delivery as a whole."
    )
    expect(whole).to_contain_text("Waived by studio-contact on")
    page.goto(f"/requests/{request.pk}/")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Ready for review: no blockers")
    expect(verdict.locator(".delivery-findings .is-waived")).to_contain_text(
        "Two head handles, as agreed."
    )
    shoot(page, "details-page-waived-delivery-finding")
    page.goto(f"/admin/deliveries/deliveryrequest/{request.pk}/change/")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("The request is now Accepted.")
