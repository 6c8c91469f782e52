"""Who is looking: the session and the signed-in user, read with fewer round trips.

Django reads a signed-in viewer with two ORM queries on every request, the session
and then the user, and builds both queries afresh each time; on PostgreSQL each
round trip costs about as much as building the query. Here:

* ``SessionStore`` is Django's database session store, reading its row with SQL
  written once (``SESSION_ENGINE = "deliveries.viewer"``): the same table, rows and
  encoding, so sessions, sign-out and ``clearsessions`` work as before.
* ``ModelBackend`` is Django's, except that it takes a user a view has already read
  together with its own data (``reading_user``). The Details Page reads the viewer
  and the request's state in one query (deliveries/page_cache.py). Django still
  checks the session against that user (its password hash, ``is_active``) exactly as
  it checks a user it read itself. Sessions signed in under Django's own backend
  path (before this one) are read as signed in under this one.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from contextvars import ContextVar

from django.contrib.auth import BACKEND_SESSION_KEY, backends, get_user_model
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

_user_read_ahead: ContextVar = ContextVar("user_read_ahead", default=None)
DJANGO_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
PORTAL_MODEL_BACKEND = "deliveries.viewer.ModelBackend"


@functools.cache
def _session_sql(vendor: str, model: type) -> str:
    quote = connections[router.db_for_read(model)].ops.quote_name
    return (
        f"SELECT {quote('session_data')} FROM {quote(model._meta.db_table)} "
        f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
    )


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        key = self.session_key  # None when the cookie held no valid key
        if key is not None:
            connection = connections[router.db_for_read(self.model)]
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cursor:
                cursor.execute(_session_sql(connection.vendor, self.model), [key, now])
                row = cursor.fetchone()
            if row is not None:
                data = self.decode(row[0])
                if data.get(BACKEND_SESSION_KEY) == DJANGO_MODEL_BACKEND:
                    # Signed in before this backend replaced Django's: still checked in
                    # full by Django, instead of being signed out at the deploy.
                    data[BACKEND_SESSION_KEY] = PORTAL_MODEL_BACKEND
                return data
        # As Django's store does for a missing or expired session: a new key on save.
        self._session_key = None
        return {}


def user_columns() -> list[str]:
    """The user table's columns in the order ``user_from_row`` expects them."""
    return [field.column for field in get_user_model()._meta.concrete_fields]


def user_from_row(values: tuple, connection):
    """The user of a row of ``user_columns()``, its values converted as the ORM would
    (SQLite hands back booleans as 0/1 and times as text)."""
    connection = connections[connection.alias]  # the thread's own, not a proxy
    attnames, converters = _user_converters(connection)
    values = list(values)
    for index, column, convert in converters:
        values[index] = convert(values[index], column, connection)
    return get_user_model().from_db(connection.alias, attnames, values)


# Per thread, as Django's connections are: what the ORM applies to each user column
# it reads, bound to this thread's connection and gone with the thread.
_per_thread = threading.local()


def _user_converters(connection) -> tuple[list[str], list[tuple]]:
    known_by_alias = _per_thread.__dict__.setdefault("converters", {})
    known = known_by_alias.get(connection.alias)
    if known is None:
        user_model = get_user_model()
        fields = user_model._meta.concrete_fields
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(user_model._meta.db_table)
            for convert in connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            ):
                converters.append((index, column, convert))
        known = [field.attname for field in fields], converters
        known_by_alias[connection.alias] = known
    return known


@contextlib.contextmanager
def reading_user(user) -> Iterator[None]:
    """While inside, resolving ``request.user`` for this user's id takes ``user``
    instead of reading it again."""
    token = _user_read_ahead.set(user)
    try:
        yield
    finally:
        _user_read_ahead.reset(token)


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        user = _user_read_ahead.get()
        if user is not None and user.pk == user_id:
            return user if self.user_can_authenticate(user) else None
        return super().get_user(user_id)
