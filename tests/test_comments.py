"""The comment thread on the Details Page, the redelivery note that opens it, and the
studio contact every request names."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deliveries.models import Comment, HistoryEntry, RedeliveryReason


def detail(request) -> str:
    return reverse("request-detail", args=[request.pk])


def comment_url(request) -> str:
    return reverse("request-comment", args=[request.pk])


@pytest.mark.parametrize("who", ["admin_user", "uploader", "reviewer", "staff"])
def test_everyone_who_sees_a_request_may_comment_on_it(client, make_request, who, request):
    user = request.getfixturevalue(who)
    delivery = make_request(status="processed")
    client.force_login(user)
    response = client.post(comment_url(delivery), {"body": "Reel 2 looks right now."})
    assert response.status_code == 302
    assert response["Location"] == detail(delivery) + "#comments"
    comment = Comment.objects.get(request=delivery)
    assert comment.author == user and comment.body == "Reel 2 looks right now."
    page = client.get(detail(delivery)).content.decode()
    assert "Reel 2 looks right now." in page
    assert 'id="comment-body"' in page


def test_a_reviewer_sees_the_comment_form_on_a_read_only_page(client, reviewer, make_request):
    delivery = make_request(status="accepted")
    client.force_login(reviewer)
    page = client.get(detail(delivery)).content.decode()
    assert "You have read-only access to this request." in page
    assert "Post comment" in page


def test_an_outsider_can_neither_post_nor_read_the_thread(
    client, outsider, admin_user, make_request
):
    delivery = make_request()
    Comment.post(delivery, admin_user, "Internal: the reel is late.")
    client.force_login(outsider)
    assert client.post(comment_url(delivery), {"body": "Hello?"}).status_code == 404
    assert client.get(detail(delivery)).status_code == 404
    assert Comment.objects.count() == 1


def test_signing_in_is_needed_to_comment(client, make_request):
    delivery = make_request()
    response = client.post(comment_url(delivery), {"body": "Hello?"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Comment.objects.exists()


def test_a_comment_is_posted_only_by_post(client, admin_user, make_request):
    delivery = make_request()
    client.force_login(admin_user)
    assert client.get(comment_url(delivery)).status_code == 405


def test_markup_in_a_comment_is_shown_as_text_and_links_become_clickable(
    client, admin_user, make_request
):
    delivery = make_request()
    client.force_login(admin_user)
    body = (
        '<script>alert("x")</script> <b>bold</b> <a href="javascript:evil()">me</a>\n'
        "see https://specs.example/v2?a=1&b=2"
    )
    client.post(comment_url(delivery), {"body": body})
    page = client.get(detail(delivery)).content.decode()
    thread = page[page.index('id="comments"') : page.index('id="history-title"')]
    assert "<script>" not in thread and "<b>" not in thread
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in thread
    assert "&lt;b&gt;bold&lt;/b&gt;" in thread
    assert '<a href="javascript' not in thread
    assert '<a href="https://specs.example/v2?a=1&amp;b=2" rel="nofollow">' in thread
    assert "<br>" in thread  # its line break kept


def test_an_empty_or_overlong_comment_is_refused_with_the_text_kept(
    client, admin_user, make_request
):
    delivery = make_request()
    client.force_login(admin_user)
    empty = client.post(comment_url(delivery), {"body": "   "})
    assert empty.status_code == 400
    assert "Write a comment before you post it." in empty.content.decode()
    long_text = "x" * 5001
    overlong = client.post(comment_url(delivery), {"body": long_text})
    assert overlong.status_code == 400
    page = overlong.content.decode()
    assert "A comment may be at most 5000 characters (this one has 5001)." in page
    assert long_text in page
    assert not Comment.objects.exists()
    assert not HistoryEntry.objects.filter(action="commented").exists()


def test_with_htmx_the_page_comes_back_with_the_comment_and_its_history_entry(
    client, uploader, make_request
):
    delivery = make_request()
    client.force_login(uploader)
    response = client.post(
        comment_url(delivery), {"body": "On its way."}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="request-main"')
    assert "On its way." in html
    assert "Commented: “On its way.”" in html
    assert "Your comment is posted." in html
    assert "<html" not in html


def test_comments_are_in_the_history_and_in_the_order_they_were_posted(
    client, admin_user, staff, make_request
):
    delivery = make_request()
    Comment.post(delivery, admin_user, "First.")
    Comment.post(delivery, staff, "Second.")
    client.force_login(admin_user)
    page = client.get(detail(delivery)).content.decode()
    assert page.index("First.") < page.index("Second.")
    assert "Commented: “First.”" in page and "Commented: “Second.”" in page


def test_the_redelivery_note_becomes_a_comment_beside_the_reasons(client, admin_user, make_request):
    delivery = make_request(status="processed")
    reason = RedeliveryReason.objects.get(code="missing-asset")
    client.force_login(admin_user)
    client.post(
        reverse("request-redelivery", args=[delivery.pk]),
        {"reasons": [reason.pk], "note": "Reel 3 never <arrived>.", "status_seen": "processed"},
    )
    comment = Comment.objects.get(request=delivery)
    assert comment.body == "Reel 3 never <arrived>." and comment.author == admin_user
    assert comment.redelivery == delivery.redeliveries.get()
    assert delivery.redeliveries.get().note == "Reel 3 never <arrived>."
    page = client.get(detail(delivery)).content.decode()
    banner = page[page.index('id="redelivery-banner-title"') : page.index('id="files-heading"')]
    assert "Missing Asset" in banner and "Reel 3 never &lt;arrived&gt;." in banner
    assert "Note to a redelivery" in page
    assert "Noted with the redelivery: “Reel 3 never &lt;arrived&gt;.”" in page


def test_a_redelivery_without_a_note_adds_no_comment(client, admin_user, make_request):
    delivery = make_request(status="processed")
    client.force_login(admin_user)
    client.post(
        reverse("request-redelivery", args=[delivery.pk]),
        {"reasons": [RedeliveryReason.objects.first().pk], "note": "  "},
    )
    assert delivery.redeliveries.exists() and not Comment.objects.exists()


def test_a_new_request_takes_its_partners_default_studio_contact(org, staff, make_request):
    staff.first_name, staff.last_name, staff.email = "Sam", "Okafor", "sam@studio.example"
    staff.save()
    org.default_studio_contact = staff
    org.save()
    assert make_request().studio_contact == staff


def test_the_header_names_the_studio_contact_with_a_mailto_link(
    client, reviewer, staff, make_request
):
    staff.first_name, staff.last_name, staff.email = "Sam", "Okafor", "sam@studio.example"
    staff.save()
    delivery = make_request()
    delivery.studio_contact = staff
    delivery.save()
    client.force_login(reviewer)
    page = client.get(detail(delivery)).content.decode()
    assert '<a href="mailto:sam@studio.example">Sam Okafor &lt;sam@studio.example&gt;</a>' in page


def test_messages_about_the_studio_contact_name_them(client, admin_user, staff, make_request):
    staff.first_name, staff.last_name, staff.email = "Sam", "Okafor", "sam@studio.example"
    staff.save()
    delivery = make_request(status="accepted")
    delivery.studio_contact = staff
    delivery.save()
    client.force_login(admin_user)
    page = client.get(detail(delivery)).content.decode()
    assert (
        "This request is Accepted. Contact your studio contact, Sam Okafor "
        "(sam@studio.example), to reopen it for redelivery."
    ) in page
    assert "Contact your studio contact, Sam Okafor (sam@studio.example), to reopen it." in page


def test_the_page_says_when_no_studio_contact_is_named(client, admin_user, make_request):
    delivery = make_request()
    client.force_login(admin_user)
    assert "Not named yet" in client.get(detail(delivery)).content.decode()
