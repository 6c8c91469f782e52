"""The Details Page is served again from memory while nothing it shows has changed,
and every change shows on the very next view (deliveries/page_cache.py).

These tests turn off the suite's verification (which renders every cached page
again) so that they see what a partner would see."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries import removal
from deliveries.models import (
    DeliveredFile,
    HistoryEntry,
    Membership,
    RedeliveryReason,
)
from deliveries.processing import runner


@pytest.fixture(autouse=True)
def _cache_unverified(settings):
    settings.PORTAL_PAGE_CACHE = True
    settings.PORTAL_PAGE_CACHE_VERIFY = False


def detail_url(request, **params):
    url = reverse("request-detail", args=[request.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def view(client, request, **params) -> str:
    response = client.get(detail_url(request, **params))
    assert response.status_code == 200
    return response.content.decode()


def messages_shown(page: str) -> str:
    return page.split('id="messages"', 1)[1].split("</div>", 1)[0]


def kept(client, request) -> str:
    """View the page until it is served from the cache; returns it."""
    view(client, request)  # sets the CSRF cookie
    view(client, request)  # rendered and kept
    return view(client, request)


def test_an_unchanged_page_is_served_without_rendering(
    client, admin_user, make_request, django_assert_num_queries
):
    request = make_request(files=3)
    client.force_login(admin_user)
    first = kept(client, request)
    # the session, then the user read together with the rest of the cache key
    with django_assert_num_queries(2):
        again = view(client, request)
    assert again == first
    assert "file_002.mov" in again


def test_a_cached_page_still_takes_its_forms(client, admin_user, make_request):
    """The CSRF token of a cached page belongs to the same browser: its forms work."""
    request = make_request(files=2)
    client = type(client)(enforce_csrf_checks=True)
    client.force_login(admin_user)
    page = kept(client, request)
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    file = request.files.get(name="file_000.mov")
    response = client.post(
        reverse("file-rename", args=[request.pk, file.pk]),
        {"name": "renamed_000.mov", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert request.files.filter(name="renamed_000.mov").exists()
    assert "renamed_000.mov" in view(client, request)


def test_each_viewer_gets_their_own_page(client, admin_user, reviewer, make_request):
    request = make_request(files=2)
    client.force_login(admin_user)
    assert "data-select-all" in kept(client, request)
    client.force_login(reviewer)
    page = kept(client, request)
    assert "data-select-all" not in page
    assert reviewer.username in page


def test_an_outsider_still_gets_not_found(client, admin_user, outsider, make_request):
    request = make_request(files=2)
    client.force_login(admin_user)
    kept(client, request)
    client.force_login(outsider)
    client.get(detail_url(request))
    assert client.get(detail_url(request)).status_code == 404


def test_a_message_shows_once_and_is_never_kept(client, admin_user, make_request):
    request = make_request(files=2)
    client.force_login(admin_user)
    kept(client, request)
    file = request.files.get(name="file_000.mov")
    response = client.post(
        reverse("file-rename", args=[request.pk, file.pk]), {"name": "clip_000.mov"}
    )
    assert response.status_code == 302
    message = "Renamed “file_000.mov” to “clip_000.mov”."
    assert message in messages_shown(view(client, request))
    assert message not in messages_shown(view(client, request))
    assert message not in messages_shown(view(client, request))


def test_a_submitted_page_is_never_kept(client, admin_user, make_request):
    """Its banner follows the processing queue, which other requests move."""
    request = make_request(status="submitted", files=2)
    client.force_login(admin_user)
    assert "Waiting for a processing worker." in kept(client, request)
    lease = runner._claim(request.files.get(name="file_000.mov").pk)
    assert runner.process_file(request, lease)  # what a worker does for each file
    assert "Processing 1 of 2 files · 1 failed so far" in view(client, request)


# Every change shows on the next view ---------------------------------------------------


def _deliver(request, user):
    request.add_file("new_file.mov", ContentFile(b"new"), by=user)
    return "new_file.mov"


def _rename(request, user):
    request.rename_file(request.files.get(name="file_000.mov"), "renamed.mov", by=user)
    return "renamed.mov"


def _remove_one(request, user):
    request.remove_files([request.files.get(name="file_001.mov").pk], by=user)
    return lambda page: 'id="file-count">2<' in page and 'data-name="file_001.mov"' not in page


def _remove_all(request, user):
    request.remove_files(None, by=user)
    return lambda page: 'class="file-row"' not in page and "Cleaning up storage" in page


def _submit(request, user):
    request.act("submit", by=user)
    return "Submitted"


def _request_edited(request, user):
    request.name = "Textless Video"
    request.due_date = datetime.date(2027, 1, 31)
    request.save()
    return "Textless Video"


def _title_renamed(request, user):
    request.title.name = "The Short Tide"
    request.title.save()
    return "The Short Tide"


def _partner_renamed(request, user):
    request.organization.name = "Lumen Post Madrid"
    request.organization.save()
    return "Lumen Post Madrid"


def _role_changed(request, user):
    Membership.objects.filter(user=user).update(role="reviewer")
    return lambda page: "data-select-all" not in page


def _username_changed(request, user):
    user.username = "renamed-partner"
    user.save()
    return "renamed-partner"


def _history_written_in_bulk(request, user):
    HistoryEntry.objects.bulk_create(
        [
            HistoryEntry(
                request=request,
                actor=user,
                action=HistoryEntry.Action.RENAMED,
                before="old_take.mov",
                after="new_take.mov",
            )
        ]
    )
    return "new_take.mov"


CHANGES = {
    "a file is delivered": _deliver,
    "a file is renamed": _rename,
    "a file is removed": _remove_one,
    "every file is removed": _remove_all,
    "the request is submitted": _submit,
    "the request row is edited": _request_edited,
    "the title is renamed": _title_renamed,
    "the partner is renamed": _partner_renamed,
    "the viewer's role changes": _role_changed,
    "the viewer's user name changes": _username_changed,
    "history is written in bulk": _history_written_in_bulk,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_change_shows_on_the_next_view(client, admin_user, make_request, change):
    request = make_request(files=3)
    client.force_login(admin_user)
    kept(client, request)
    expected = change(request, admin_user)
    page = view(client, request)
    if callable(expected):
        assert expected(page)
    else:
        assert expected in page


def test_the_cleanup_banner_ends_when_the_worker_is_done(client, admin_user, make_request):
    request = make_request(files=3)
    client.force_login(admin_user)
    request.remove_files(None, by=admin_user)
    assert 'class="banner banner-cleanup"' in kept(client, request)
    removal.purge_removed_files()
    assert 'class="banner banner-cleanup"' in kept(client, request)  # content still queued
    removal.clean_storage()
    assert 'class="banner banner-cleanup"' not in view(client, request)


def test_a_deleted_deliverer_shows_as_no_one(client, admin_user, make_request, django_user_model):
    request = make_request(files=1)
    leaver = django_user_model.objects.create_user(username="leaving-uploader")
    Membership.objects.create(user=leaver, organization=request.organization, role="uploader")
    request.add_file("from_leaver.mov", ContentFile(b"x"), by=leaver)
    client.force_login(admin_user)
    assert "leaving-uploader" in kept(client, request)
    leaver.delete()
    assert "leaving-uploader" not in view(client, request)


def test_a_changed_reason_text_shows_on_a_redelivery_page(client, admin_user, make_request):
    request = make_request(status="redelivery", files=1)
    reason = request.redeliveries.get().reasons.get()
    client.force_login(admin_user)
    assert reason.name in kept(client, request)
    RedeliveryReason.objects.filter(pk=reason.pk).get()  # the admin saves the model
    reason.name = "Frames out of order"
    reason.save()
    assert "Frames out of order" in view(client, request)


def test_the_suite_notices_a_write_that_forgets_the_cache(
    settings, client, admin_user, make_request
):
    """The guard behind every other test: with verification on (the suite's default),
    a cached page that no longer matches a fresh render fails the request."""
    settings.PORTAL_PAGE_CACHE_VERIFY = True
    request = make_request(files=2)
    client.force_login(admin_user)
    kept(client, request)
    # A write behind the model's back, which no code of ours makes.
    DeliveredFile.objects.filter(request=request, name="file_000.mov").update(name="sneaky.mov")
    with pytest.raises(AssertionError, match="stale"):
        client.get(detail_url(request))


def test_a_page_is_kept_per_path(client, admin_user, make_request):
    """The sign-out form sends the page's own path back: another spelling of the same
    URL is another page."""
    request = make_request(files=1)
    client.force_login(admin_user)
    kept(client, request)
    odd = client.get(f"/requests/{request.pk:04d}/").content.decode()
    assert f'value="/requests/{request.pk:04d}/"' in odd
    page = view(client, request)
    assert f'value="/requests/{request.pk}/"' in page
