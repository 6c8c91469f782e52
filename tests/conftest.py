"""Shared fixtures: three standing members of one partner (Admin, Uploader, Reviewer),
an outsider from another partner, a studio contact, a request factory, and a test that
needs PostgreSQL (`postgres_only`)."""

import datetime
import importlib
import os
from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.db import connection

# Playwright's sync API runs an event loop in the test thread; Django's async-safety
# check would otherwise refuse every database call made by browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a Spanish request of an earlier test
    leaves its language active in the test's thread (LocaleMiddleware activates it and
    nothing resets it after the response)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }


def ensure_default_reasons() -> None:
    """Tests with transaction=True flush every table, the migrated reasons included."""
    from django.apps import apps

    from deliveries.models import RedeliveryReason

    if not RedeliveryReason.objects.exists():
        migration = importlib.import_module("deliveries.migrations.0002_default_redelivery_reasons")
        migration.add_reasons(apps, None)


@pytest.fixture
def org(db):
    from deliveries.models import Organization

    ensure_default_reasons()
    return Organization.objects.create(name="Lumen Post")


@pytest.fixture
def other_org(db):
    from deliveries.models import Organization

    return Organization.objects.create(name="Harbor Subtitles")


def _member(django_user_model, org, username: str, role: str):
    from deliveries.models import Membership

    user = django_user_model.objects.create_user(username=username, password="pw-for-tests")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def admin_user(django_user_model, org):
    return _member(django_user_model, org, "partner-admin", "admin")


@pytest.fixture
def uploader(django_user_model, org):
    return _member(django_user_model, org, "partner-uploader", "uploader")


@pytest.fixture
def reviewer(django_user_model, org):
    return _member(django_user_model, org, "partner-reviewer", "reviewer")


@pytest.fixture
def outsider(django_user_model, other_org):
    return _member(django_user_model, other_org, "other-admin", "admin")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        username="studio-contact", password="pw-for-tests", is_staff=True, is_superuser=True
    )


@pytest.fixture
def title(db):
    from deliveries.models import Title

    return Title.objects.create(name="The Long Tide")


@pytest.fixture
def make_request(org, title) -> Callable:
    """make_request(status="processed", files=3, checksum=False) → a DeliveryRequest.

    Files are delivered while Open, then the request is walked through the real
    transitions to the wanted status, so history is what a real one would hold.
    """
    from deliveries.models import DeliveryRequest, ProcessingStatus, RedeliveryReason

    def make(
        status: str = "open",
        files: int = 2,
        checksum: bool = False,
        organization=None,
        name: str = "Primary Video",
    ):
        request = DeliveryRequest.objects.create(
            organization=organization or org,
            title=title,
            name=name,
            asset_type="primary_video",
            due_date=datetime.date(2026, 12, 24),
        )
        for n in range(files):
            request.add_file(f"file_{n:03d}.mov", ContentFile(b"x" * (n + 1)), by=None)
        if checksum:
            lines = "".join(f"{'0' * 16}  file_{n:03d}.mov\n" for n in range(files))
            request.add_file("checksum.txt", ContentFile(lines.encode()), by=None)
        if status == "open":
            return request
        request.act(request.submit, by=None)
        if status == "submitted":
            return request
        request.files.update(processing_status=ProcessingStatus.PASSED)
        request.act(request.finish_processing, by=None)
        if status == "processed":
            return request
        if status == "accepted":
            request.act(request.accept, by=None)
            return request
        if status == "redelivery":
            request.act(
                request.ask_for_redelivery, by=None, reasons=RedeliveryReason.objects.all()[:1]
            )
            return request
        raise ValueError(status)

    return make


@pytest.fixture
def deliver(org, title) -> Callable:
    """deliver(asset_type, {name: bytes}, language="") → a Submitted request."""
    from deliveries.models import DeliveryRequest

    def make(asset_type: str, files: dict[str, bytes], language: str = ""):
        request = DeliveryRequest.objects.create(
            organization=org,
            title=title,
            name=f"{asset_type} delivery",
            asset_type=asset_type,
            language=language,
            due_date=datetime.date(2026, 12, 24),
        )
        for name, content in files.items():
            request.add_file(name, ContentFile(content), by=None)
        request.act(request.submit, by=None)
        return request

    return make


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def processed(org, title) -> Callable:
    """processed({name: bytes}, overrides=None, spec=UHD, language="") → the request,
    its files delivered, submitted and processed (tests/processed.py)."""
    from .processed import make_processed

    def make(files: dict[str, bytes], overrides: dict | None = None, **options):
        return make_processed(org, title, files, overrides, **options)

    return make


@pytest.fixture
def checked(processed) -> Callable:
    """checked(spec name, {name: bytes}, overrides=None, language="") → the request
    "Checked delivery", its files delivered, submitted and checked against that spec."""
    return lambda spec, files, overrides=None, language="": processed(
        files, overrides, spec=spec, language=language, name="Checked delivery"
    )
