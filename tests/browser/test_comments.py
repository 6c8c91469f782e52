"""The comment thread in a real browser: a Reviewer posts with JavaScript on (htmx swaps
the page in place) and with it off (a plain form and a redirect), and the redelivery
modal's note opens the thread."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import sign_in
from .pages import assert_not_reloaded, mark_page, messages, open_details, redelivery_dialog

pytestmark = pytest.mark.browser


def thread(page):
    return page.locator("#comments .comment")


def test_a_reviewer_posts_a_comment_with_javascript_without_a_reload(
    browser_context, reviewer, make_request, redelivery_reasons, shoot
):
    page = browser_context.new_page()
    sign_in(page, reviewer.username)
    delivery_request = make_request(status="processed")
    open_details(page, delivery_request)
    expect(page.locator("#comments")).to_contain_text("No comments yet.")
    mark_page(page)

    page.get_by_label("Add a comment").fill("Reel 2 <b>sync</b>: see https://notes.example/r2")
    page.get_by_role("button", name="Post comment").click()

    expect(thread(page)).to_have_count(1)
    comment = thread(page).first
    expect(comment).to_contain_text("partner-reviewer")
    expect(comment).to_contain_text("Reel 2 <b>sync</b>: see")
    expect(comment.get_by_role("link", name="https://notes.example/r2")).to_have_attribute(
        "href", "https://notes.example/r2"
    )
    expect(messages(page)).to_contain_text("Your comment is posted.")
    expect(page.locator(".history-list")).to_contain_text("Commented: “Reel 2 <b>sync</b>")
    expect(page.get_by_label("Add a comment")).to_have_value("")
    assert_not_reloaded(page)
    shoot(page, "comments-posted")


def test_without_javascript_a_comment_is_posted_by_a_plain_form(
    no_js_context, uploader, make_request
):
    page = no_js_context.new_page()
    sign_in(page, uploader.username)
    delivery_request = make_request(status="open")
    open_details(page, delivery_request)

    page.get_by_label("Add a comment").fill("Delivered the last reel.")
    page.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(rf"/requests/{delivery_request.pk}/#comments$"))
    expect(thread(page)).to_have_count(1)
    expect(thread(page).first).to_contain_text("Delivered the last reel.")
    expect(messages(page)).to_contain_text("Your comment is posted.")


def test_the_redelivery_note_is_posted_as_a_comment_beside_the_reasons(partner_page, make_request):
    page = partner_page
    delivery_request = make_request(status="processed")
    open_details(page, delivery_request)
    page.get_by_label("More actions").click()
    page.get_by_role("link", name="Ask For Redelivery").click()
    dialog = redelivery_dialog(page)
    dialog.get_by_text("Select one or more reasons").click()
    dialog.get_by_label("Missing Asset", exact=True).check()
    dialog.get_by_label("Note (optional)").fill("Reel 3 never arrived.")
    dialog.get_by_role("button", name="Ask for Redelivery").click()

    expect(page.locator(".banner-redelivery")).to_contain_text("Reel 3 never arrived.")
    expect(thread(page)).to_have_count(1)
    expect(thread(page).first).to_contain_text("Note to a redelivery")
    expect(thread(page).first).to_contain_text("Reel 3 never arrived.")
