"""Isolation, roles and hardening: every URL for every kind of user, CSRF, sign-in
lockout, security headers and the production settings check."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from deliveries.models import DeliveryRequest
from deliveries.previews import storage

from .tus import metadata

ROLES = ["anonymous", "outsider", "reviewer", "uploader", "admin", "staff"]
LOGIN = "login-redirect"
# url name: (method, request status, expected answer per role in ROLES order).
# 302 after a POST is the plain form's redirect back to the page.
MATRIX = {
    "request-list": ("get", None, [LOGIN, 200, 200, 200, 200, 200]),
    "request-detail": ("get", "open", [LOGIN, 404, 200, 200, 200, 200]),
    "request-progress": ("get", "submitted", [LOGIN, 404, 200, 200, 200, 200]),
    "file-download": ("get", "open", [LOGIN, 404, 200, 200, 200, 200]),
    "file-preview": ("get", "open", [LOGIN, 404, 200, 200, 200, 200]),
    "request-submit": ("post", "open", [LOGIN, 404, 403, 302, 302, 403]),
    "delivery-complete": ("post", "open", [LOGIN, 404, 403, 302, 302, 403]),
    # tus answers in its own terms: no sign-in redirect; an upload is its creator's
    # (here the Admin's) and to anyone else does not exist.
    "tus-create": ("post", "open", [403, 404, 403, 201, 201, 403]),
    "tus-upload": ("head", "open", [403, 404, 404, 404, 200, 404]),
    "request-redelivery": ("post", "processed", [LOGIN, 404, 403, 403, 302, 302]),
    # Everyone who sees a request may talk on it, Reviewers included.
    "request-comment": ("post", "open", [LOGIN, 404, 302, 302, 302, 302]),
    "notification-settings": ("get", None, [LOGIN, 200, 200, 200, 200, 200]),
    # The token is the credential, not a session: a forged one is refused to all alike.
    "unsubscribe": ("get", None, [404, 404, 404, 404, 404, 404]),
    "files-deliver": ("post", "open", [LOGIN, 404, 403, 302, 302, 403]),
    "files-remove": ("post", "open", [LOGIN, 404, 403, 403, 302, 403]),
    "file-rename": ("post", "open", [LOGIN, 404, 403, 302, 302, 403]),
    "login": ("get", None, [200, 200, 200, 200, 200, 200]),
    "logout": ("post", None, [302, 302, 302, 302, 302, 302]),
    "password_change": ("get", None, [LOGIN, 200, 200, 200, 200, 200]),
    "password_change_done": ("get", None, [LOGIN, 200, 200, 200, 200, 200]),
    "set_language": ("post", None, [302, 302, 302, 302, 302, 302]),
    "root": ("get", None, [302, 302, 302, 302, 302, 302]),
    "healthz": ("get", None, [200, 200, 200, 200, 200, 200]),
    "favicon": ("get", None, [301, 301, 301, 301, 301, 301]),
    "finding-codes": ("get", None, [LOGIN, 200, 200, 200, 200, 200]),
}
# The admin has its own staff-only gate, tested in test_admin.py.
NOT_IN_MATRIX = {"admin"}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in NOT_IN_MATRIX:
                continue
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield pattern.name or ("root" if prefix + str(pattern.pattern) == "" else None)


def test_every_url_is_in_the_access_matrix():
    names = set(walk(get_resolver().url_patterns))
    assert None not in names, "a URL without a name: name it and add it to MATRIX"
    assert names == set(MATRIX), f"add {names - set(MATRIX)} to MATRIX in this file"


@pytest.fixture
def users(admin_user, uploader, reviewer, outsider, staff):
    return {
        "anonymous": None,
        "outsider": outsider,
        "reviewer": reviewer,
        "uploader": uploader,
        "admin": admin_user,
        "staff": staff,
    }


def args_and_data(name: str, request: DeliveryRequest | None) -> tuple[list, dict]:
    if request is None:
        if name == "unsubscribe":
            return ["forged-token"], {}
        data = {"language": "en", "next": "/requests/"} if name == "set_language" else {}
        return [], data
    if name == "tus-create":
        return [], {}
    if name == "tus-upload":
        return [start_upload(request).pk], {}
    first = request.files.order_by("name").first()
    if name == "file-preview":
        storage.record(first, storage.Made(kind="image", parts={"thumb.jpg": b"\xff\xd8"}))
        return [request.pk, first.pk, "thumb.jpg"], {}
    if name in ("file-download", "file-rename"):
        return [request.pk, first.pk], {"name": "renamed.mov"}
    data = {
        "request-redelivery": {"reasons": ["1"]},
        "files-remove": {"file": [first.pk]},
        "request-comment": {"body": "Looks good."},
    }.get(name, {})
    return [request.pk], data


def start_upload(request: DeliveryRequest):
    from deliveries.models import Membership
    from deliveries.uploads import staging
    from deliveries.uploads.models import Upload

    admin = Membership.objects.get(organization=request.organization, role="admin").user
    upload = Upload(request=request, name="new.mov", length=3, created_by=admin)
    upload.extend_expiry()
    upload.save()
    staging.create(upload.pk)
    return upload


def tus_headers(name: str, request: DeliveryRequest | None) -> dict:
    if not name.startswith("tus-"):
        return {}
    headers = {"HTTP_TUS_RESUMABLE": "1.0.0"}
    if name == "tus-create":
        headers["HTTP_UPLOAD_LENGTH"] = "3"
        headers["HTTP_UPLOAD_METADATA"] = metadata(request.pk, "new.mov")
    return headers


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", MATRIX)
def test_each_url_answers_each_kind_of_user_as_the_matrix_says(
    client, users, make_request, name, role
):
    method, status, expected = MATRIX[name]
    request = make_request(status=status, files=2) if status else None
    args, data = args_and_data(name, request)
    url = "/" if name == "root" else reverse(name, args=args)
    if users[role] is not None:
        client.force_login(users[role])
    response = getattr(client, method)(url, data, **tus_headers(name, request))
    wanted = expected[ROLES.index(role)]
    if wanted == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == wanted, response.content[:300]


def test_an_outsider_gets_the_same_answer_as_for_a_request_that_does_not_exist(
    client, outsider, make_request
):
    request = make_request()
    client.force_login(outsider)
    their_url = reverse("request-detail", args=[request.pk])
    missing_url = reverse("request-detail", args=[request.pk + 1000])
    theirs = client.get(their_url)
    missing = client.get(missing_url)
    assert theirs.status_code == missing.status_code == 404

    # The pages differ only by the address the user typed (the language form's "next")
    # and by the CSRF token, masked anew on every page.
    def normalized(response, url: str) -> bytes:
        body = response.content.replace(url.encode(), b"URL")
        return re.sub(rb'(value="|X-CSRFToken": ")[A-Za-z0-9]{64}', rb"\1TOKEN", body)

    assert normalized(theirs, their_url) == normalized(missing, missing_url)


def test_a_forged_cross_site_post_is_refused(admin_user, make_request):
    request = make_request(files=2)
    forger = Client(enforce_csrf_checks=True)
    forger.force_login(admin_user)
    response = forger.post(
        reverse("files-remove", args=[request.pk]),
        {"all": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert request.files.count() == 2


def test_an_htmx_post_with_the_pages_token_is_accepted(admin_user, make_request):
    request = make_request(files=2)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    browser.get(reverse("request-detail", args=[request.pk]))
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        reverse("files-remove", args=[request.pk]),
        {"all": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert request.files.count() == 0


def test_pages_carry_a_strict_content_security_policy(client, admin_user, make_request):
    request = make_request()
    client.force_login(admin_user)
    response = client.get(reverse("request-detail", args=[request.pk]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.content.decode()


def test_repeated_failed_sign_ins_lock_the_user_out(client, admin_user):
    for _ in range(5):
        client.post(reverse("login"), {"username": "partner-admin", "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": "partner-admin", "password": "pw-for-tests"}
    )
    assert response.status_code == 429
    assert "Sign-in locked for a while" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("logout")).status_code == 405


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SECRET_KEY": "x" * 60 + "-production-like-key-for-the-check",
        "DJANGO_ALLOWED_HOSTS": "portal.example.com",
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def manage_check_without(tmp_path, *unset: str, **extra: str) -> subprocess.CompletedProcess:
    """`manage.py check` in a fresh process, with some variables unset."""
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, **extra, "PORTAL_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = manage_check_without(tmp_path, "DJANGO_SECRET_KEY", "DJANGO_DEBUG")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_each_failed_sign_in_is_answered_more_slowly(client, admin_user, settings, monkeypatch):
    from deliveries.partners import signin

    settings.PORTAL_SIGNIN_DELAY_STEP = 0.25
    waits: list[float] = []
    monkeypatch.setattr(signin.time, "sleep", waits.append)
    for _ in range(4):
        response = client.post(reverse("login"), {"username": "partner-admin", "password": "no"})
        assert response.status_code == 200
    assert waits == [0.25, 0.5, 1.0, 2.0]


def test_a_member_of_two_organizations_has_each_organizations_role(
    client, django_user_model, org, other_org, make_request
):
    from deliveries.models import Membership

    user = django_user_model.objects.create_user(username="freelancer")
    Membership.objects.create(user=user, organization=org, role="admin")
    Membership.objects.create(user=user, organization=other_org, role="reviewer")
    here = make_request(files=2, name="Here")
    there = make_request(files=2, name="There", organization=other_org)
    client.force_login(user)
    for delivery, expected in ((here, 302), (there, 403)):
        response = client.post(reverse("files-remove", args=[delivery.pk]), {"all": "1"})
        assert response.status_code == expected
    assert here.files.count() == 0 and there.files.count() == 2


def test_production_settings_refuse_to_start_without_a_database_url(tmp_path):
    result = manage_check_without(
        tmp_path, "DATABASE_URL", "DJANGO_DEBUG", DJANGO_SECRET_KEY="x" * 60
    )
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
