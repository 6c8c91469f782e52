"""tus's concatenation extension: a large file sent as parts over several connections
at once (tus-js-client's parallelUploads), then one final upload that names them.
https://tus.io/protocols/resumable-upload#concatenation

A part ("Upload-Concat: partial") is bytes only: it has no name, is not hashed, and is
never delivered by itself. The final upload ("Upload-Concat: final;<URL> <URL> …")
names the request and the file; the parts are its creator's own and complete, and
their bytes become the final upload's (staging.assemble), hashed once, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from uuid import UUID

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from . import staging
from .errors import TusError
from .models import PARTIAL, Upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# tus-js-client sends a few parts (parallelUploads); a file split finer than this
# gains nothing from more connections and costs a row and a lock each.
MAX_PARTS = 64


def part_ids(header: str) -> list[UUID]:
    """The parts named by `Upload-Concat: final;<URL> <URL> …`, in order."""
    urls = header.removeprefix("final;").split()
    if not urls:
        raise TusError(400, _("Name the parts after “final;” in Upload-Concat."))
    if len(urls) > MAX_PARTS:
        raise TusError(
            400, _("A file may be sent in at most %(count)d parts.") % {"count": MAX_PARTS}
        )
    ids = []
    for url in urls:
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is None or match.url_name != "tus-upload":
            raise TusError(
                400,
                _("“%(url)s” in Upload-Concat is not an upload's address.") % {"url": url[:200]},
            )
        ids.append(match.kwargs["upload_id"])
    if len(set(ids)) != len(ids):
        raise TusError(400, _("Upload-Concat names the same part twice."))
    return ids


def parts_of(user: User, ids: list[UUID]) -> list[Upload]:
    """The caller's own complete parts, in the order named."""
    found = {
        part.pk: part for part in Upload.objects.filter(pk__in=ids, created_by=user, concat=PARTIAL)
    }
    parts = []
    for number, upload_id in enumerate(ids, start=1):
        part = found.get(upload_id)
        if part is None or part.is_expired:
            raise TusError(
                404,
                _(
                    "Part %(number)d of Upload-Concat is not a partial upload of yours; "
                    "send it again."
                )
                % {"number": number},
            )
        if not part.is_delivered:
            raise TusError(
                400,
                _(
                    "Part %(number)d has %(have)d of its %(length)d bytes: finish every part "
                    "before the final upload."
                )
                % {"number": number, "have": part.offset, "length": part.length},
            )
        parts.append(part)
    return parts


def final_header(request: HttpRequest, parts: list[Upload]) -> str:
    """What HEAD answers in Upload-Concat for the final upload."""
    urls = (request.build_absolute_uri(reverse("tus-upload", args=[part.pk])) for part in parts)
    return "final;" + " ".join(urls)


def discard(parts: list[Upload]) -> None:
    """Used up by their delivered final upload: their rows and staged bytes go."""
    Upload.objects.filter(pk__in=[part.pk for part in parts]).delete()
    for part in parts:
        staging.remove(part.pk)
