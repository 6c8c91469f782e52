"""The request list and the Details Page: what partners see, and every action as a
plain form and through htmx."""

import datetime
import re

import pytest
from django.urls import reverse

from deliveries.models import DeliveryRequest, RedeliveryReason, Status

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "request-main"}


def detail_url(request):
    return reverse("request-detail", args=[request.pk])


def row(name: str) -> str:
    """The file list's link for a file (history entries name files too). A long name
    may break after "_", "-" and ".": each is followed by <wbr>."""
    return '">' + re.sub(r"([_.\-])", r"\1<wbr>", name) + "</a></td>"


def status_of(request) -> str:
    return DeliveryRequest.objects.get(pk=request.pk).status


# Viewing ---------------------------------------------------------------------------


def test_the_list_shows_only_the_partners_own_requests(client, admin_user, make_request, other_org):
    mine = make_request(name="Mine")
    theirs = make_request(name="Theirs", organization=other_org)
    client.force_login(admin_user)
    page = client.get(reverse("request-list")).content.decode()
    assert detail_url(mine) in page
    assert detail_url(theirs) not in page


def test_the_list_filters_by_status_and_searches_titles(client, admin_user, make_request):
    make_request(name="Still open")
    make_request(status="processed", name="Done processing")
    client.force_login(admin_user)
    page = client.get(reverse("request-list"), {"status": "processed"}).content.decode()
    assert "Done processing" in page and "Still open" not in page
    page = client.get(reverse("request-list"), {"q": "nothing like it"}).content.decode()
    assert "No request matches." in page


def test_staff_see_every_partners_requests(client, staff, make_request, other_org):
    theirs = make_request(name="Theirs", organization=other_org)
    client.force_login(staff)
    assert detail_url(theirs) in client.get(reverse("request-list")).content.decode()


def test_anonymous_users_are_sent_to_sign_in(client, make_request):
    request = make_request()
    response = client.get(detail_url(request))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_details_page_shows_header_files_and_submit(client, admin_user, make_request):
    request = make_request(files=2)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "The Long Tide" in page and "Primary Video" in page
    assert 'class="badge status-open"' in page
    assert "file_000.mov" in page and "file_001.mov" in page
    assert 'id="submit-button"' in page
    assert 'id="submit-button" disabled' not in page


def test_submit_is_disabled_with_the_reason_when_there_is_no_file(client, admin_user, make_request):
    request = make_request(files=0)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert 'id="submit-button" disabled' in page
    assert "Deliver at least one file before you submit this request." in page


def test_an_accepted_request_explains_who_can_reopen_it(client, admin_user, make_request):
    request = make_request(status="accepted")
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Contact your studio contact to reopen it" in page
    assert "data-remove-one" not in page
    assert "edit=1" not in page
    assert 'id="submit-button"' not in page


def test_a_request_with_a_checksum_explains_why_files_are_locked(client, admin_user, make_request):
    request = make_request(files=2, checksum=True)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "request with a checksum" in page
    assert "data-remove-one" not in page and "edit=1" not in page


def test_a_reviewer_sees_no_action_controls(client, reviewer, make_request):
    request = make_request(status="processed")
    client.force_login(reviewer)
    page = client.get(detail_url(request)).content.decode()
    assert "read-only access" in page
    for control in ("submit-button", "data-remove-one", "data-trash", "Ask For Redelivery"):
        assert control not in page


def test_the_processing_state_shows_while_submitted_and_polls(client, admin_user, make_request):
    request = make_request(status="submitted", files=3)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Processing 0 of 3 files" in page
    assert 'hx-trigger="every 3s"' in page
    assert "data-remove-one" not in page


def test_the_redelivery_banner_names_reasons_and_who_asked(client, admin_user, make_request):
    request = make_request(status="processed")
    request.act(
        request.ask_for_redelivery,
        by=admin_user,
        reasons=RedeliveryReason.objects.filter(code__in=["missing-asset", "incorrect-timecode"]),
    )
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Redelivery requested" in page
    assert "Missing Asset" in page and "Incorrect Timecode" in page
    assert "Asked by partner-admin" in page


def test_the_banner_and_the_history_name_a_person_by_their_full_name(
    client, admin_user, staff, make_request
):
    staff.first_name, staff.last_name = "Sam", "Okafor"
    staff.save()
    request = make_request(status="processed")
    request.act(
        request.ask_for_redelivery,
        by=staff,
        reasons=RedeliveryReason.objects.filter(code="missing-asset"),
    )
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Asked by Sam Okafor" in page
    assert '<span class="actor">Sam Okafor</span>' in page
    assert f">{staff.username}<" not in page and f"by {staff.username}" not in page


@pytest.mark.parametrize("files", [1, 200])
def test_the_page_query_count_does_not_grow_with_files(
    client, admin_user, make_request, django_assert_num_queries, files
):
    request = make_request(files=files)
    client.force_login(admin_user)
    client.get(detail_url(request))  # warm the session
    # session, user, the request with the viewer's role, cleanup backlog, one page of
    # files, history, comments
    with django_assert_num_queries(7):
        response = client.get(detail_url(request))
    assert response.status_code == 200


def test_the_list_query_count_does_not_grow_with_requests(
    client, admin_user, make_request, django_assert_num_queries
):
    for n in range(5):
        make_request(name=f"Request {n}", files=1)
    client.force_login(admin_user)
    client.get(reverse("request-list"))
    # session, user, the count of each status, the requests with their file counts
    with django_assert_num_queries(4):
        page = client.get(reverse("request-list")).content.decode()
    assert page.count('<span class="badge status-open">') == 5


def test_the_file_list_pages_by_name(client, admin_user, make_request):
    request = make_request(files=105)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert row("file_099.mov") in page and row("file_100.mov") not in page
    assert "?after=file_099.mov" in page
    more = client.get(
        detail_url(request),
        {"after": "file_099.mov"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="file-more",
    ).content.decode()
    assert "<html" not in more
    assert row("file_100.mov") in more and row("file_104.mov") in more
    assert row("file_099.mov") not in more


def test_the_name_filter_keeps_names_starting_with_the_text(client, admin_user, make_request):
    request = make_request(files=12)
    client.force_login(admin_user)
    page = client.get(detail_url(request), {"q": "file_01"}).content.decode()
    assert row("file_010.mov") in page and row("file_011.mov") in page
    assert row("file_001.mov") not in page
    page = client.get(detail_url(request), {"q": "_01"}).content.decode()
    assert "No file name starts with “_01”." in page
    page = client.get(detail_url(request), {"q": "FILE_01"}).content.decode()
    assert row("file_010.mov") not in page


def test_the_name_filter_stays_after_an_action(client, admin_user, make_request):
    request = make_request(files=12)
    client.force_login(admin_user)
    page = client.get(detail_url(request), {"q": "file_01"}).content.decode()
    assert '<input type="hidden" name="q" value="file_01">' in page  # in each action's form
    gone = request.files.get(name="file_010.mov")
    # With htmx the answer is the list, still narrowed.
    page = client.post(
        reverse("files-remove", args=[request.pk]), {"file": gone.pk, "q": "file_01"}, **HTMX
    ).content.decode()
    assert row("file_011.mov") in page and row("file_001.mov") not in page
    assert 'value="file_01"' in page
    # A plain form is sent back to the narrowed list.
    renamed = request.files.get(name="file_011.mov")
    response = client.post(
        reverse("file-rename", args=[request.pk, renamed.pk]),
        {"name": "file_012.mov", "q": "file_01"},
    )
    assert response.url == detail_url(request) + "?q=file_01"


def test_a_file_of_another_request_is_not_found(client, admin_user, make_request):
    request = make_request(name="One")
    other = make_request(name="Two")
    client.force_login(admin_user)
    stray = other.files.first()
    assert client.get(detail_url(request), {"file": stray.pk}).status_code == 404


def test_download_sends_the_stored_bytes_under_the_files_name(client, admin_user, make_request):
    request = make_request(files=2)
    delivered = request.files.get(name="file_001.mov")
    client.force_login(admin_user)
    response = client.get(reverse("file-download", args=[request.pk, delivered.pk]))
    assert b"".join(response.streaming_content) == b"xx"
    assert 'filename="file_001.mov"' in response["Content-Disposition"]


# Actions: each as plain form, htmx, wrong method, outsider, role, wrong status --------


def action_cases(request, reasons):
    first, second = request.files.order_by("name")[:2]
    return {
        "submit": (reverse("request-submit", args=[request.pk]), {}),
        "redelivery": (
            reverse("request-redelivery", args=[request.pk]),
            {"reasons": [r.pk for r in reasons], "clear_files": "on"},
        ),
        "remove": (reverse("files-remove", args=[request.pk]), {"file": [first.pk]}),
        "remove_many": (
            reverse("files-remove", args=[request.pk]),
            {"file": [first.pk, second.pk]},
        ),
        "remove_all": (reverse("files-remove", args=[request.pk]), {"all": "1"}),
        "rename": (
            reverse("file-rename", args=[request.pk, first.pk]),
            {"name": "renamed_000.mov"},
        ),
    }


# action: (status it works in, role lacking the right, expected outcome check)
ACTIONS = {
    "submit": ("open", "reviewer"),
    "redelivery": ("processed", "uploader"),
    "remove": ("open", "uploader"),
    "remove_many": ("open", "uploader"),
    "remove_all": ("redelivery", "uploader"),
    "rename": ("open", "reviewer"),
}


def outcome(request, action):
    request = DeliveryRequest.objects.get(pk=request.pk)
    names = sorted(request.files.values_list("name", flat=True))
    return {
        "submit": request.status == Status.SUBMITTED,
        "redelivery": request.status == Status.REDELIVERY and names == [],
        "remove": names == ["file_001.mov", "file_002.mov"],
        "remove_many": names == ["file_002.mov"],
        "remove_all": names == [],
        "rename": "renamed_000.mov" in names,
    }[action]


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_works_as_a_plain_form_and_redirects(client, admin_user, make_request, action):
    request = make_request(status=ACTIONS[action][0], files=3)
    url, data = action_cases(request, RedeliveryReason.objects.all()[:2])[action]
    client.force_login(admin_user)
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(detail_url(request))
    assert outcome(request, action)
    assert request.history.count() > 0
    page = client.get(response["Location"]).content.decode()
    assert 'class="message message-success"' in page


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_answers_htmx_with_fragments_only(client, admin_user, make_request, action):
    request = make_request(status=ACTIONS[action][0], files=3)
    url, data = action_cases(request, RedeliveryReason.objects.all()[:2])[action]
    client.force_login(admin_user)
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="request-main"')
    assert 'id="messages" class="messages" role="status" aria-live="polite" hx-swap-oob="true"' in (
        body
    )
    assert outcome(request, action)


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_refuses_get(client, admin_user, make_request, action):
    request = make_request(status=ACTIONS[action][0], files=3)
    url, _data = action_cases(request, RedeliveryReason.objects.all()[:2])[action]
    client.force_login(admin_user)
    assert client.get(url).status_code == 405
    assert not outcome(request, action)


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_not_found_for_another_partner(client, outsider, make_request, action):
    request = make_request(status=ACTIONS[action][0], files=3)
    url, data = action_cases(request, RedeliveryReason.objects.all()[:2])[action]
    client.force_login(outsider)
    assert client.post(url, data).status_code == 404
    assert not outcome(request, action)


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_is_forbidden_to_a_role_without_the_right(
    client, request, make_request, action
):
    status, role = ACTIONS[action]
    user = request.getfixturevalue(role)
    delivery = make_request(status=status, files=3)
    url, data = action_cases(delivery, RedeliveryReason.objects.all()[:2])[action]
    client.force_login(user)
    assert client.post(url, data).status_code == 403
    assert not outcome(delivery, action)


WRONG_STATUS = {
    "submit": "accepted",
    "redelivery": "open",
    "remove": "submitted",
    "remove_many": "processed",
    "remove_all": "accepted",
    "rename": "processed",
}


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_in_the_wrong_status_is_refused_and_changes_nothing(
    client, admin_user, make_request, action, htmx
):
    request = make_request(status=WRONG_STATUS[action], files=3)
    url, data = action_cases(request, RedeliveryReason.objects.all()[:2])[action]
    history = request.history.count()
    names = sorted(request.files.values_list("name", flat=True))
    client.force_login(admin_user)
    response = client.post(url, data, **(HTMX if htmx else {}))
    if htmx:
        assert response.status_code == 400
        body = response.content.decode()
    else:
        assert response.status_code == 302
        body = client.get(response["Location"]).content.decode()
    assert 'class="message message-error"' in body
    assert status_of(request) == WRONG_STATUS[action]
    assert request.history.count() == history
    assert sorted(request.files.values_list("name", flat=True)) == names


def test_ask_for_redelivery_without_a_reason_is_refused(client, admin_user, make_request):
    request = make_request(status="processed")
    client.force_login(admin_user)
    response = client.post(reverse("request-redelivery", args=[request.pk]), {}, **HTMX)
    assert response.status_code == 400
    assert "Choose at least one reason for redelivery." in response.content.decode()
    assert status_of(request) == Status.PROCESSED


def test_the_redelivery_modal_lists_active_reasons_from_the_database(
    client, admin_user, make_request
):
    RedeliveryReason.objects.filter(code="other").update(active=False)
    RedeliveryReason.objects.create(
        code="wrong-frame-rate", name="Wrong Frame Rate", description="Deliver at 23.976."
    )
    request = make_request(status="processed")
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Wrong Frame Rate" in page and "Deliver at 23.976." in page
    assert 'data-reason-name="Other"' not in page


def test_a_refused_rename_is_explained_beside_the_field(client, admin_user, make_request):
    request = make_request(files=2)
    delivered = request.files.get(name="file_000.mov")
    client.force_login(admin_user)
    url = reverse("file-rename", args=[request.pk, delivered.pk])
    response = client.post(url, {"name": "with space.mov"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="rename-error" class="field-error" role="alert"' in body
    assert "Remove this character: space." in body
    assert 'value="with space.mov"' in body
    response = client.post(url, {"name": "with space.mov"}, **HTMX)
    assert response.status_code == 400
    assert 'id="side-panel"' in response.content.decode()
    assert sorted(request.files.values_list("name", flat=True)) == ["file_000.mov", "file_001.mov"]


def test_the_side_panel_opens_by_url_and_as_a_fragment(client, admin_user, make_request):
    request = make_request(files=2)
    delivered = request.files.get(name="file_001.mov")
    client.force_login(admin_user)
    page = client.get(detail_url(request), {"file": delivered.pk}).content.decode()
    assert 'class="side-panel is-open"' in page and 'id="panel-file-name"' in page
    fragment = client.get(
        detail_url(request),
        {"file": delivered.pk, "edit": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="side-panel",
    ).content.decode()
    assert fragment.lstrip().startswith('<aside id="side-panel"')
    assert 'id="rename-input"' in fragment and 'value="file_001.mov"' in fragment


def test_the_remove_confirmation_names_the_count(client, admin_user, make_request):
    request = make_request(files=3)
    ids = list(request.files.values_list("pk", flat=True))
    client.force_login(admin_user)
    page = client.get(detail_url(request), {"confirm": "remove", "file": ids[:2]}).content.decode()
    assert "2 files will be removed from this request." in page
    page = client.get(detail_url(request), {"confirm": "remove", "all": "1"}).content.decode()
    assert "All 3 files of this request will be removed." in page


def test_file_names_are_escaped(client, admin_user, make_request):
    request = make_request(files=1)
    RedeliveryReason.objects.create(
        code="html", name="<b>Bold</b>", description="<script>alert(1)</script>"
    )
    request.files.update(name="<img src=x onerror=alert(1)>.mov")
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.mov" in page


def test_history_times_show_in_the_viewers_time_zone(client, admin_user, make_request):
    import datetime

    request = make_request(files=1)
    request.history.update(at=datetime.datetime(2026, 11, 29, 15, 0, tzinfo=datetime.UTC))
    client.force_login(admin_user)
    client.cookies["portal_tz"] = "America/Bogota"
    page = client.get(detail_url(request)).content.decode()
    assert 'datetime="2026-11-29T10:00:00-05:00"' in page
    client.cookies["portal_tz"] = "Not/AZone"
    page = client.get(detail_url(request)).content.decode()
    assert 'datetime="2026-11-29T15:00:00+00:00"' in page


def test_older_history_entries_are_one_link_away(client, admin_user, make_request):
    request = make_request(status="processed", files=40)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Status changed from Submitted to Processed." in page
    assert "Delivered “file_000.mov”." not in page
    older = re.search(r'\?history_before=(\d+)#history-title">Older entries', page)
    assert older
    page = client.get(detail_url(request), {"history_before": older.group(1)}).content.decode()
    assert "Delivered “file_000.mov”." in page
    assert "Status changed from Submitted to Processed." not in page
    assert "Newest entries" in page


def test_the_request_list_pages_by_due_date(client, admin_user, make_request, monkeypatch):
    from deliveries.requests import listing

    monkeypatch.setattr(listing, "LIST_LIMIT", 3)
    for n in range(5):
        request = make_request(name=f"Request {n}", files=0)
        DeliveryRequest.objects.filter(pk=request.pk).update(
            due_date=datetime.date(2027, 1, 10 - n)  # Request 4 is due first
        )
    client.force_login(admin_user)
    page = client.get(reverse("request-list")).content.decode()
    assert [n for n in range(5) if f"Request {n}<" in page] == [2, 3, 4]
    assert page.index("Request 4<") < page.index("Request 3<") < page.index("Request 2<")
    following = re.search(r'sort=due&amp;q=&amp;page=(\d+)">Next page', page)
    assert following and following.group(1) == "2"
    page = client.get(reverse("request-list"), {"page": "2"}).content.decode()
    assert [n for n in range(5) if f"Request {n}<" in page] == [0, 1]
    assert "Previous page" in page and "Next page" not in page


def test_htmx_restoring_the_page_from_history_gets_all_of_it(client, admin_user, make_request):
    request = make_request(files=2)
    client.force_login(admin_user)
    restore = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
    for _ in range(3):  # rendered, kept, then from the cache
        page = client.get(detail_url(request) + "?q=file_00", **restore).content.decode()
        assert page.lstrip().startswith("<!doctype html>")
    fragment = client.get(detail_url(request) + "?q=file_00", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="request-main"')


def test_the_page_tells_browser_caches_it_varies_with_htmx(client, admin_user, make_request):
    """The same URL answers htmx with a fragment: Back must never show the fragment."""
    request = make_request(files=1)
    client.force_login(admin_user)
    for _ in range(3):  # rendered, kept, served from the page cache
        vary = client.get(detail_url(request)).headers["Vary"]
        assert "HX-Request" in vary and "HX-History-Restore-Request" in vary


def test_a_refusal_fragment_is_not_replaced_by_the_debug_page_in_development(
    client, admin_user, make_request, settings
):
    """django-htmx's DEBUG helper replaces the whole document with any 400/403/404
    answer to htmx; ours carry fragments to swap (make run runs with DEBUG on)."""
    settings.DEBUG = True
    request = make_request(status="open", files=1)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in page
    assert "django-htmx.js" not in page


def test_a_form_from_before_someone_elses_change_is_told_the_request_changed(
    client, admin_user, staff, make_request
):
    """PRODUCT.md: of two people acting at once, the other is told the request changed."""
    request = make_request(status="processed")
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert '<input type="hidden" name="status_seen" value="processed">' in page
    # Meanwhile the studio contact asks for redelivery in the admin.
    reasons = RedeliveryReason.objects.filter(code="missing-asset")
    fresh = DeliveryRequest.objects.get(pk=request.pk)
    fresh.act(fresh.ask_for_redelivery, by=staff, reasons=reasons)
    response = client.post(
        reverse("request-redelivery", args=[request.pk]),
        {
            "reasons": [RedeliveryReason.objects.get(code="other").pk],
            "clear_files": "on",
            "status_seen": "processed",
        },
        **HTMX,
    )
    body = response.content.decode()
    assert "Someone else changed this request while you were working" in body
    assert "it is now Redelivery" in body
    request.refresh_from_db()
    assert request.redeliveries.count() == 1 and request.files.exists()


def test_an_uploader_is_pointed_at_who_can_ask_for_redelivery(
    client, admin_user, uploader, make_request
):
    request = make_request(status="processed")
    client.force_login(uploader)
    page = client.get(detail_url(request)).content.decode()
    assert "Your partner&#x27;s Admin or your studio contact can ask for redelivery." in page
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert "Ask for redelivery to deliver again." in page
    assert "The reasons show on this page, for your team and the studio." in page


def test_a_plain_form_delivers_files_without_javascript(client, uploader, make_request):
    from django.core.files.uploadedfile import SimpleUploadedFile

    request = make_request(status="open", files=0)
    client.force_login(uploader)
    page = client.get(detail_url(request)).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="file" multiple' in page
    response = client.post(
        reverse("files-deliver", args=[request.pk]),
        {
            "file": [
                SimpleUploadedFile("reel_01.mov", b"reel one"),
                SimpleUploadedFile("reel 02.mov", b"a space in the name"),
            ]
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Delivered 1 file." in page
    assert "“reel 02.mov” was not delivered:" in page
    delivered = request.files.get()
    assert delivered.name == "reel_01.mov" and delivered.delivered_by == uploader
    assert delivered.content.read() == b"reel one"


def test_the_plain_delivery_form_asks_for_a_file(client, uploader, make_request):
    request = make_request(status="open", files=0)
    client.force_login(uploader)
    page = client.post(reverse("files-deliver", args=[request.pk]), follow=True)
    assert "Choose at least one file to deliver." in page.content.decode()
    assert not request.files.exists()


def test_the_plain_delivery_form_keeps_the_size_limit(client, uploader, make_request, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PORTAL_UPLOAD_MAX_BYTES = 5
    request = make_request(status="open", files=0)
    client.force_login(uploader)
    page = client.post(
        reverse("files-deliver", args=[request.pk]),
        {"file": [SimpleUploadedFile("reel_01.mov", b"six by")]},
        follow=True,
    ).content.decode()
    assert "“reel_01.mov” was not delivered: a file may be at most 5" in page
    assert not request.files.exists()
