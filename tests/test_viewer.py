"""The session and the signed-in user are read with fewer queries (deliveries/viewer.py),
and still sign out whoever Django would sign out: on the Details Page, where the user
is read together with the page's own data, and everywhere else."""

import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from deliveries import viewer


@pytest.fixture(autouse=True)
def _cache_unverified(settings):
    settings.PORTAL_PAGE_CACHE = True
    settings.PORTAL_PAGE_CACHE_VERIFY = False


def detail_url(request) -> str:
    return reverse("request-detail", args=[request.pk])


def signed_in_with_page_kept(client, user, request) -> None:
    client.force_login(user)
    for _ in range(3):  # the CSRF cookie, then rendered and kept, then served kept
        assert client.get(detail_url(request)).status_code == 200


def sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_password_changed_elsewhere_signs_the_page_out(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    admin_user.set_password("a-new-password-0451")
    admin_user.save()
    assert sent_to_sign_in(client.get(detail_url(request)))
    assert SESSION_KEY not in client.session


def test_a_deactivated_user_is_signed_out_of_the_page(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    admin_user.is_active = False
    admin_user.save()
    assert sent_to_sign_in(client.get(detail_url(request)))


def test_a_deleted_user_is_signed_out_of_the_page(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    admin_user.delete()
    assert sent_to_sign_in(client.get(detail_url(request)))


def test_an_expired_session_signs_the_page_out(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert sent_to_sign_in(client.get(detail_url(request)))
    assert sent_to_sign_in(client.get(reverse("request-list")))


def test_signing_out_ends_the_session_on_every_page(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    cookie = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    client.cookies["sessionid"] = cookie  # a copy of the old cookie, replayed
    assert sent_to_sign_in(client.get(detail_url(request)))
    assert sent_to_sign_in(client.get(reverse("request-list")))
    assert not Session.objects.filter(session_key=cookie).exists()


def test_a_missing_request_answers_404(client, admin_user, make_request):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    response = client.get(reverse("request-detail", args=[request.pk + 1000]))
    assert response.status_code == 404


def test_other_pages_read_the_session_and_the_user_once_each(
    client, admin_user, make_request, django_assert_num_queries
):
    """Other pages read the session and the user with one query each, as before."""
    make_request(files=1)
    client.force_login(admin_user)
    client.get(reverse("request-list"))
    with django_assert_num_queries(3):  # session, user, the requests
        page = client.get(reverse("request-list")).content.decode()
    assert "partner-admin" in page


def test_a_user_read_ahead_counts_only_for_its_own_id(admin_user, uploader):
    backend = viewer.ModelBackend()
    with viewer.reading_user(admin_user):
        assert backend.get_user(admin_user.pk) is admin_user
        # Another id is read from the database as Django reads it.
        assert backend.get_user(uploader.pk) == uploader
        assert backend.get_user(uploader.pk) is not uploader
    assert backend.get_user(admin_user.pk) is not admin_user


def test_a_user_read_ahead_must_still_be_active(admin_user):
    admin_user.is_active = False
    with viewer.reading_user(admin_user):
        assert viewer.ModelBackend().get_user(admin_user.pk) is None


def test_the_user_read_with_the_page_is_the_user_django_would_read(
    client, admin_user, make_request
):
    request = make_request(files=2)
    signed_in_with_page_kept(client, admin_user, request)
    read = client.get(detail_url(request)).wsgi_request.user
    fresh = type(admin_user).objects.get(pk=admin_user.pk)
    assert read is not fresh
    assert {f.attname: getattr(read, f.attname) for f in read._meta.concrete_fields} == {
        f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields
    }
    assert read.is_active is True and read.last_login == fresh.last_login


def test_a_session_signed_in_under_djangos_own_backend_stays_signed_in(
    client, admin_user, make_request
):
    """Sessions from before the portal's backend replaced Django's are not signed out
    at the deploy."""
    request = make_request(files=2)
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    for _ in range(3):
        assert client.get(detail_url(request)).status_code == 200
    assert client.get(reverse("request-list")).status_code == 200
    admin_user.set_password("a-new-password-0451")
    admin_user.save()
    assert sent_to_sign_in(client.get(detail_url(request)))
