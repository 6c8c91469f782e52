"""The Details Page served again without rendering, when nothing it shows has changed.

A rendered page is kept (in each process's memory, the ``pages`` cache) under a key
that holds everything the page is made of:

* the request's whole row and the viewer's role in its partner, read on every view
  in one indexed query together with the signed-in user (which Django would
  otherwise read on its own: deliveries/viewer.py);
* ``page_version``, a counter on the request bumped in the same transaction as every
  write to the rows the page shows beside it (files, history, redeliveries, storage
  still to clean, its title and partner) and by the few edits seen on every page
  (reason texts, user names);
* who is looking (user, staff flag, CSRF secret), in which language and time zone,
  at which URL (query string and htmx target).

A page is never kept while it shows pending messages, while its request is
Submitted (its banner follows the processing queue, which other requests move), or
for a browser that has no CSRF cookie yet. A write can never hide behind an old key:
each bump commits with its write, and the key is read before the page is rendered,
so a stored page is at least as new as its key.

Tests run with ``PORTAL_PAGE_CACHE_VERIFY``: every page served from the cache is also
rendered afresh and must match, so the whole suite looks for a missed bump.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from . import models as m
from . import viewer

CACHE_ALIAS = "pages"
# Masked CSRF tokens differ on every render of the same secret; they are equally valid.
_CSRF_TOKEN = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+')


def bump(request_ids: Iterable[int] | None = None) -> None:
    """The page of these requests (of every request when None) changed: forget it.
    Call it in the transaction of the write, after the write."""
    requests = m.DeliveryRequest.objects.all()
    if request_ids is not None:
        requests = requests.filter(pk__in=request_ids)
    requests.update(page_version=F("page_version") + 1)


@functools.cache
def _state_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    request = quote(m.DeliveryRequest._meta.db_table)
    membership = quote(m.Membership._meta.db_table)
    user = quote(get_user_model()._meta.db_table)
    user_columns = ", ".join(f"u.{quote(column)}" for column in viewer.user_columns())
    # Written out because it runs on every view of the page: the ORM took longer to
    # build it than the database to answer. The signed-in user's row (which Django
    # would otherwise read on its own), the request's row and the user's role in its
    # partner, probed on the unique (user, organization) index.
    return (
        f"SELECT {user_columns}, r.{quote('status')}, (SELECT mb.{quote('role')} "
        f"FROM {membership} mb WHERE mb.{quote('user_id')} = u.{quote('id')} "
        f"AND mb.{quote('organization_id')} = r.{quote('organization_id')}), r.* "
        f"FROM {user} u LEFT JOIN {request} r ON r.{quote('id')} = %s "
        f"WHERE u.{quote('id')} = %s"
    )


def reads_viewer_with_state(view: Callable) -> Callable:
    """Put this outside ``login_required``: a GET of the page reads the signed-in user
    together with the request's state (the cache key's part from the database), in
    one query instead of two. Django then checks the session against that user as
    it would against its own read."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        request.portal_page_state = _read_viewer_with_state(request, pk)
        return view(request, pk, *args, **kwargs)

    return wrapper


def _read_viewer_with_state(request: HttpRequest, pk: int) -> tuple | None:
    if not settings.PORTAL_PAGE_CACHE or request.method != "GET":
        return None
    try:
        user_id = get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
    except (KeyError, ValidationError):
        return None  # not signed in: login_required answers
    with connection.cursor() as cursor:
        cursor.execute(_state_sql(connection.vendor), [pk, user_id])
        row = cursor.fetchone()
    if row is None:
        return None  # no such user: Django signs the session out
    width = len(viewer.user_columns())
    with viewer.reading_user(viewer.user_from_row(row[:width], connection)):
        signed_in = request.user.is_authenticated  # Django checks the session here
    if not signed_in or request.user.pk != user_id:
        return None
    return row[width:]


def page_key(request: HttpRequest, pk: int) -> str | None:
    """The cache key of this view of the page, or None when it must be rendered."""
    # Set by reads_viewer_with_state, only for a signed-in GET with the cache on.
    state = getattr(request, "portal_page_state", None)
    if state is None:
        return None
    csrf_secret = request.META.get("CSRF_COOKIE")
    if not csrf_secret or len(messages.get_messages(request)):
        return None
    user = request.user
    status, role = state[:2]
    if status is None:
        return None  # no such request: the usual path answers 404
    if status == m.Status.SUBMITTED or (role is None and not user.is_staff):
        return None  # outsiders get their 404 from the usual path
    parts = (
        state,
        user.pk,
        user.get_username(),
        user.is_staff,
        csrf_secret,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        # The whole path (the sign-out form sends it back as ?next=) and the htmx
        # details as the view reads them, decoded.
        request.get_full_path(),
        bool(request.htmx),
        request.htmx.target if request.htmx else None,
        request.htmx.history_restore_request if request.htmx else None,
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached_page(key: str) -> bytes | None:
    # The page holds a token of this browser's CSRF secret (part of the key), valid
    # as it is: nothing to mask again, and the cookie is renewed by the next render.
    return caches[CACHE_ALIAS].get(key)


def keep_page(key: str, body: bytes) -> None:
    caches[CACHE_ALIAS].set(key, body)


def same_page(cached: bytes, fresh: bytes) -> bool:
    return _CSRF_TOKEN.sub(r"\1", cached.decode()) == _CSRF_TOKEN.sub(r"\1", fresh.decode())


# Edits seen on every page, rare enough to forget every page -------------------------


def _title_or_partner_changed(sender, instance, **kwargs) -> None:
    bump(instance.requests.values_list("pk", flat=True))


def _reason_changed(sender, **kwargs) -> None:
    bump()  # reason texts show in redelivery banners and dialogs


def _note_username_change(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and "username" not in update_fields):
        return
    before = sender._base_manager.filter(pk=instance.pk).values_list("username", flat=True)
    instance._portal_renamed = before.first() not in (None, instance.get_username())


def _user_renamed(sender, instance, **kwargs) -> None:
    if getattr(instance, "_portal_renamed", False):
        instance._portal_renamed = False
        bump()  # names show beside files and history entries


def _user_deleted(sender, **kwargs) -> None:
    bump()  # their files and entries now show no one


def connect_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models import signals

    user_model = get_user_model()
    signals.post_save.connect(_title_or_partner_changed, sender=m.Title)
    signals.post_save.connect(_title_or_partner_changed, sender=m.Organization)
    signals.post_save.connect(_reason_changed, sender=m.RedeliveryReason)
    signals.post_delete.connect(_reason_changed, sender=m.RedeliveryReason)
    signals.pre_save.connect(_note_username_change, sender=user_model)
    signals.post_save.connect(_user_renamed, sender=user_model)
    signals.post_delete.connect(_user_deleted, sender=user_model)
