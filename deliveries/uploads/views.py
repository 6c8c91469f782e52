"""The tus 1.0.0 server: core, creation, creation-with-upload, termination, expiration,
checksum and concatenation. https://tus.io/protocols/resumable-upload

Who may upload: a signed-in member of the request's organization whose role delivers,
while the request is Open or Redelivery; the same rules as every other file change,
through the same access helper (404 for outsiders, 403 for roles). Requests are
cookie-authenticated, so Django's CSRF check applies to every POST, PATCH and DELETE:
browsers send the page's token in X-CSRFToken, command-line clients the same header
(see README, "Delivering from a terminal").
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..files import manifests, naming
from ..files.models import DeliveredFile
from ..partners.access import delivers_anywhere
from ..partners.roles import Can
from ..requests.access import get_request_for_user
from ..requests.models import FILE_CHANGES_ALLOWED, ActionRefused, DeliveryRequest
from . import concat, early, names, staging
from .errors import TusError
from .models import PARTIAL, Upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..partners.roles import AnyUser

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum,concatenation"
CHECKSUMS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# Not in HTTP's registry: the tus checksum extension's "Checksum Mismatch".
CHECKSUM_MISMATCH = 460


def _tus(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _answer(status: int, message: str = "", **headers: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _tus(response)


def _expires(upload: Upload) -> str:
    return http_date(upload.expires_at.timestamp())


def _method(request: HttpRequest) -> str:
    # Some proxies pass only GET and POST: tus clients can send the method in a header.
    override = request.headers.get("X-HTTP-Method-Override", "").upper()
    if request.method == "POST" and override in ("PATCH", "DELETE", "HEAD"):
        return override
    return request.method or ""


def _check_version(request: HttpRequest) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusError(
            412,
            _("This server speaks tus %(version)s.") % {"version": TUS_VERSION},
            Tus_Version=TUS_VERSION,
        )


def _answerable(user: AnyUser, request_id: int) -> None:
    """The caller still belongs to the request's organization with a delivering role."""
    try:
        get_request_for_user(user, request_id, needs=Can.DELIVER)
    except Http404:
        raise TusError(404, _("No such request.")) from None
    except PermissionDenied:
        raise TusError(403, _("Your role does not allow delivering files.")) from None


def _deliverable(user: AnyUser, request_id: int) -> DeliveryRequest:
    """The request, if `user` may deliver files to it now."""
    if not user.is_authenticated:
        raise TusError(403, _("Sign in to deliver files."))
    try:
        delivery_request = get_request_for_user(user, request_id, needs=Can.DELIVER)
    except Http404:
        raise TusError(404, _("No such request.")) from None
    except PermissionDenied:
        raise TusError(403, _("Your role does not allow delivering files.")) from None
    if delivery_request.status not in FILE_CHANGES_ALLOWED:
        raise TusError(403, delivery_request.why_files_locked())
    return delivery_request


def _users_upload(request: HttpRequest, upload_id: UUID, *, terminating: bool = False) -> Upload:
    """An upload is its creator's alone: to anyone else it does not exist."""
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None or upload.created_by_id != getattr(request.user, "pk", None):
        if not request.user.is_authenticated:
            raise TusError(403, _("Sign in to deliver files."))
        raise TusError(404, _("No such upload."))
    if upload.request_id is None:
        pass  # a part naming no request: its creator's alone (above) is the rule
    elif upload.is_delivered or terminating:
        # Answered even after the request moved on (submitted automatically, say): a
        # client may still learn that its file arrived, or drop bytes it can't deliver.
        _answerable(request.user, upload.request_id)
        return upload
    else:
        _deliverable(request.user, upload.request_id)
    if upload.is_delivered or terminating:
        return upload
    if upload.is_expired:
        names.discard(upload)
        raise TusError(410, _("This upload expired; start it again."))
    return upload


def _discard_quietly(upload: Upload) -> None:
    """An upload whose address nobody was given yet: nothing else can hold its lock."""
    Upload.objects.filter(pk=upload.pk).delete()
    staging.remove(upload.pk)


def parse_metadata(header: str) -> dict[str, str]:
    metadata = {}
    for pair in header.split(","):
        key, _sep, value = pair.strip().partition(" ")
        if not key:
            continue
        try:
            metadata[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, _("Upload-Metadata is not valid base64 text.")) from None
    return metadata


def _parse_checksum(request: HttpRequest) -> tuple[Any, bytes] | None:
    header = request.headers.get("Upload-Checksum", "")
    if not header:
        return None
    algorithm, _sep, encoded = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUMS:
        raise TusError(
            400,
            _("Unsupported checksum algorithm; use one of: %(names)s.")
            % {"names": ", ".join(CHECKSUMS)},
        )
    try:
        expected = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise TusError(400, _("Upload-Checksum is not valid base64.")) from None
    return CHECKSUMS[algorithm.lower()](), expected


def _content_length(request: HttpRequest) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise TusError(400, _("Content-Length is not a number.")) from None
    if length < 0:
        raise TusError(400, _("Content-Length is not a number."))
    return length


# Creation --------------------------------------------------------------------------


@require_http_methods(["OPTIONS", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _answer(
            204,
            Tus_Version=TUS_VERSION,
            Tus_Extension=EXTENSIONS,
            Tus_Checksum_Algorithm=",".join(CHECKSUMS),
            Tus_Max_Size=str(settings.PORTAL_UPLOAD_MAX_BYTES),
        )
    try:
        _check_version(request)
        return _create(request)
    except TusError as error:
        return _answer(error.status, error.message, **error.headers)


def _create(request: HttpRequest) -> HttpResponse:
    if "Upload-Defer-Length" in request.headers:
        raise TusError(400, _("Send Upload-Length: deferred lengths are not supported."))
    concat_header = request.headers.get("Upload-Concat", "").strip()
    if concat_header.startswith("final;"):
        return _create_final(request, concat_header)
    if concat_header not in ("", PARTIAL):
        raise TusError(400, _("Upload-Concat is “partial” or “final;” and the parts' URLs."))
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        raise TusError(400, _("Send the file's size in Upload-Length.")) from None
    if length < 0:
        raise TusError(400, _("Send the file's size in Upload-Length."))
    _check_max_size(length)
    sent_along = _content_length(request) if request.content_type == OFFSET_CONTENT_TYPE else 0
    if sent_along > length:
        # Refused before anything exists: an empty file would otherwise be delivered
        # at once, and its name taken by bytes the client was told were refused.
        raise TusError(413, _("These bytes would exceed the Upload-Length."))
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    if concat_header == PARTIAL:
        upload = _partial(request, metadata, length)
        return _store(request, upload, sent_along)
    delivery_request = _deliverable(request.user, _request_id(metadata))
    user = cast("User", request.user)  # _deliverable refuses anyone signed out
    name = metadata.get("filename", metadata.get("name", ""))
    replacing = _check_name(delivery_request, name, length, user, metadata.get("replace") == "1")
    upload = Upload(
        request=delivery_request, name=name, length=length, created_by=user, replaces=replacing
    )
    upload.extend_expiry()
    if sent_along and sent_along == length:
        return _create_whole(request, upload)
    return _store(request, upload, sent_along)


def _check_max_size(length: int) -> None:
    if length > settings.PORTAL_UPLOAD_MAX_BYTES:
        raise TusError(
            413,
            _(
                "This file is larger than the %(limit)s a file may be. Split it, or ask "
                "your studio contact how to deliver it."
            )
            % {"limit": filesizeformat(settings.PORTAL_UPLOAD_MAX_BYTES)},
        )


def _request_id(metadata: dict[str, str]) -> int:
    request_id = metadata.get("request", "")
    if not (request_id.isascii() and request_id.isdigit() and len(request_id) <= 18):
        raise TusError(400, _("Name the request in Upload-Metadata (key “request”)."))
    return int(request_id)


def _check_name(
    delivery_request: DeliveryRequest, name: str, length: int, user: User, replace: bool
) -> bool:
    """Refuse a name this request can't take from `user` now, before any byte is
    stored; returns whether the upload replaces the delivered file of that name."""
    try:
        naming.check_name_shape(name)
    except ValidationError as error:
        raise TusError(400, error.messages[0]) from None
    if manifests.is_manifest_name(name):
        try:
            manifests.check_size(length)
        except manifests.ManifestError as error:
            raise TusError(413, str(error)) from None
    replacing = replace and delivery_request.files.filter(name=name).exists()
    if replacing:
        refusal = names.why_not_replace(delivery_request, name, user)
        if refusal:
            raise TusError(403, refusal)
    elif delivery_request.files.filter(name=name).exists():
        raise names.taken(delivery_request, name, user)
    refusal = delivery_request.why_name_not_deliverable(name)
    if refusal:
        raise TusError(400, refusal)  # before any byte is sent
    names.make_way_for(delivery_request, name, user, replacing=replacing)
    return replacing


def _partial(request: HttpRequest, metadata: dict[str, str], length: int) -> Upload:
    """A part of a file sent over several connections (tus concatenation): bytes only,
    with no name; the final upload names the file and is checked like any other. Its
    creator must deliver to the request it names, or, naming none (tus-js-client's
    parts carry no metadata), somewhere."""
    delivery_request = None
    if "request" in metadata:
        delivery_request = _deliverable(request.user, _request_id(metadata))
    elif not request.user.is_authenticated:
        raise TusError(403, _("Sign in to deliver files."))
    elif not delivers_anywhere(request.user):
        raise TusError(403, _("Your role does not allow delivering files."))
    upload = Upload(
        request=delivery_request,
        name="",
        length=length,
        created_by=cast("User", request.user),
        concat=PARTIAL,
    )
    upload.extend_expiry()
    return upload


def _store(request: HttpRequest, upload: Upload, sent_along: int) -> HttpResponse:
    """A new upload's row and staging folder, and the bytes sent along, if any."""
    name, length = upload.name, upload.length
    # The staging folder exists, and this creation holds its lock, before the row can
    # be seen: another creation of the same name then finds an upload being written
    # (and refuses), never one whose folder is missing (which it would discard).
    staging.create(upload.pk)
    with staging.locked(upload.pk):
        try:
            with transaction.atomic():
                upload.save(force_insert=True)
        except IntegrityError:
            staging.remove(upload.pk)
            raise TusError(400, names.being_uploaded(name)) from None
        location = request.build_absolute_uri(reverse("tus-upload", args=[upload.pk]))
        if length == 0 and not upload.is_partial:
            # No PATCH will ever come for an empty file: deliver it now.
            _deliver(request, upload, staging.Digests())
        headers = {"Location": location}
        if sent_along:
            # creation-with-upload: the first bytes ride along with the creation.
            try:
                response = _append(request, upload, offset=0)
            except TusError:
                # The client never learns this upload's address: it must not hold the
                # name.
                _discard_quietly(upload)
                raise
            headers["Upload-Offset"] = response["Upload-Offset"]
            headers.update((k, v) for k, v in response.items() if k.startswith("Portal-"))
    return _answer(201, Upload_Expires=_expires(upload), **headers)


def _create_final(request: HttpRequest, header: str) -> HttpResponse:
    """tus concatenation's final upload: the file, assembled from its parts, delivered
    in the creation's answer (tus-js-client reports success on it). The parts are the
    caller's own, complete; a refused file discards them with it: nothing stays half
    assembled."""
    metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    delivery_request = _deliverable(request.user, _request_id(metadata))
    user = cast("User", request.user)
    parts = concat.parts_of(user, concat.part_ids(header))
    length = sum(part.length for part in parts)
    _check_max_size(length)
    name = metadata.get("filename", metadata.get("name", ""))
    replacing = _check_name(delivery_request, name, length, user, metadata.get("replace") == "1")
    upload = Upload(
        request=delivery_request,
        name=name,
        length=length,
        offset=length,
        created_by=user,
        replaces=replacing,
        concat=concat.final_header(request, parts),
    )
    upload.extend_expiry()
    try:
        with contextlib.ExitStack() as held:
            for part in parts:
                held.enter_context(staging.locked(part.pk))
            staging.create(upload.pk)
            try:
                digests = staging.assemble(upload.pk, [(part.pk, part.length) for part in parts])
                early.look(upload, length)
            except BaseException:
                staging.remove(upload.pk)
                raise
            try:
                _deliver(request, upload, digests, insert=True)
            finally:
                concat.discard(parts)
    except staging.UploadLocked:
        raise TusError(423, _locked_message()) from None
    except staging.UploadGone:
        raise TusError(404, _("No such upload.")) from None
    return _answer(
        201,
        Location=request.build_absolute_uri(reverse("tus-upload", args=[upload.pk])),
        Upload_Expires=_expires(upload),
        **early.answer_headers(upload),
    )


def _create_whole(request: HttpRequest, upload: Upload) -> HttpResponse:
    """creation-with-upload of a whole file: the common case of a sequence's frames,
    one small file each, where per-file cost decides how long 250,000 take.

    Nobody knows this upload's address before it is answered, so the bytes are staged
    without a lock and without a row; the row is written once, complete, in the
    transaction that delivers the file (a client that lost the answer and asks HEAD of
    the address it never got can't exist; one that re-sends the file learns the name
    is taken). Another creation of the same name meanwhile holds the name by its row:
    the unique constraint refuses this one's, and its delivery rolls back whole.
    """
    checksum = _parse_checksum(request)
    staging.create(upload.pk)
    digests = staging.Digests()
    try:
        received = staging.append(
            upload.pk,
            request,
            offset=0,
            length=upload.length,
            digests=digests,
            chunk_hash=checksum[0] if checksum else None,
            **early.watcher(upload),
        )
        if received < upload.length:
            raise TusError(400, _("The chunk arrived incomplete and was discarded."))
        if checksum and checksum[0].digest() != checksum[1]:
            raise TusError(
                CHECKSUM_MISMATCH, _("Checksum mismatch: the chunk was discarded. Send it again.")
            )
    except BaseException:
        staging.remove(upload.pk)
        raise
    upload.offset = upload.length
    _deliver(request, upload, digests, insert=True)
    return _answer(
        201,
        Location=request.build_absolute_uri(reverse("tus-upload", args=[upload.pk])),
        Upload_Offset=str(upload.offset),
        Upload_Expires=_expires(upload),
        **early.answer_headers(upload),
    )


# One upload ----------------------------------------------------------------------


@require_http_methods(["HEAD", "PATCH", "DELETE", "OPTIONS", "POST"])
def upload(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    method = _method(request)
    if method == "OPTIONS":
        return create(request)
    if method == "POST":
        return _answer(405, _("Use PATCH to send bytes."))
    try:
        _check_version(request)
        found = _users_upload(request, upload_id, terminating=method == "DELETE")
        if method == "HEAD":
            concatenation = {"Upload_Concat": found.concat} if found.concat else {}
            return _answer(
                200,
                Upload_Offset=str(found.offset),
                Upload_Length=str(found.length),
                Upload_Expires=_expires(found),
                **concatenation,
                **early.answer_headers(found),
            )
        if method == "DELETE":
            return _terminate(found)
        if request.content_type != OFFSET_CONTENT_TYPE:
            raise TusError(415, _("Send bytes as %(type)s.") % {"type": OFFSET_CONTENT_TYPE})
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            raise TusError(400, _("Send the offset in Upload-Offset.")) from None
        return _append(request, found, offset=offset)
    except TusError as error:
        return _answer(error.status, error.message, **error.headers)


def _terminate(found: Upload) -> HttpResponse:
    try:
        with staging.locked(found.pk):
            names.discard(found)
    except staging.UploadLocked:
        raise TusError(423, _locked_message()) from None
    except staging.UploadGone:
        found.delete()
    return _answer(204)


def _locked_message() -> str:
    return _("Another connection is sending bytes to this upload; try again in a moment.")


def _append(request: HttpRequest, found: Upload, *, offset: int) -> HttpResponse:
    checksum = _parse_checksum(request)
    length = _content_length(request)
    if found.is_delivered:
        # Every byte arrived and the file was delivered; a client that lost that answer
        # may send the end again: it learns the offset, as HEAD would tell it.
        if offset != found.offset:
            raise TusError(409, _offset_mismatch(offset, found.offset))
        if length:
            raise TusError(413, _("These bytes would exceed the Upload-Length."))
        return _answer(204, Upload_Offset=str(found.offset), Upload_Expires=_expires(found))
    try:
        with staging.locked(found.pk):
            found = Upload.objects.filter(pk=found.pk).first() or _gone()
            staged = staging.staged_size(found.pk)
            if staged < found.offset:
                # Bytes recorded but lost from disk (a crash before they were written
                # out): resume from what is really there.
                found.offset = staged
                found.save(update_fields=["offset"])
            if offset != found.offset:
                raise TusError(409, _offset_mismatch(offset, found.offset))
            if offset + length > found.length:
                raise TusError(413, _("These bytes would exceed the Upload-Length."))
            # A part is hashed with the others when its final upload assembles them.
            digests = (
                staging.Behind(staging.Digests())
                if found.is_partial
                else staging.digests_at(found.pk, offset)
            )
            before = digests.copy() if checksum else None
            received = staging.append(
                found.pk,
                request,
                offset=offset,
                length=length,
                digests=digests,
                chunk_hash=checksum[0] if checksum else None,
                keepalive=lambda: _keep_alive(found),
                **({} if found.is_partial else early.watcher(found)),
            )
            if (
                checksum
                and before is not None
                and (received < length or checksum[0].digest() != checksum[1])
            ):
                # An unverified chunk is never kept, whole or in part.
                staging.truncate(found.pk, offset)
                staging.remember(found.pk, offset, before)
                early.forget_beyond(found, offset)
                if received < length:
                    raise TusError(400, _("The chunk arrived incomplete and was discarded."))
                raise TusError(
                    CHECKSUM_MISMATCH,
                    _("Checksum mismatch: the chunk was discarded. Send it again."),
                )
            found.offset = offset + received
            found.extend_expiry()
            if found.offset == found.length and not found.is_partial:
                # The row says "complete" only in the transaction that delivers the
                # file: a crash before it leaves the last bytes to be sent again.
                _deliver(request, found, digests)
            else:
                found.save(update_fields=["offset", "expires_at"])
                if not found.is_partial:
                    staging.remember(found.pk, found.offset, digests)
    except staging.UploadLocked:
        raise TusError(423, _locked_message()) from None
    except staging.UploadGone:
        raise TusError(404, _("No such upload.")) from None
    headers = early.answer_headers(found)
    return _answer(204, Upload_Offset=str(found.offset), Upload_Expires=_expires(found), **headers)


def _offset_mismatch(sent: int, have: int) -> str:
    return _("Upload-Offset %(sent)d does not match the %(have)d bytes received.") % {
        "sent": sent,
        "have": have,
    }


def _keep_alive(upload: Upload) -> None:
    upload.extend_expiry()
    Upload.objects.filter(pk=upload.pk).update(expires_at=upload.expires_at)


def _gone() -> Upload:
    raise staging.UploadGone


def _drop(found: Upload, *, written: bool) -> None:
    if written:
        names.discard(found)
    else:
        staging.remove(found.pk)


def _deliver(
    request: HttpRequest, found: Upload, digests: staging.Digests, *, insert: bool = False
) -> None:
    """The last byte arrived: the file joins the request, through the same rules and
    history as any other delivery, and the staging data goes. `insert`: the upload's
    row was never written (_create_whole); it is written complete with the delivery.

    The upload's row stays, complete, until it expires: a client whose answer to the
    last PATCH was lost asks HEAD, learns every byte arrived, and reports success
    instead of starting again.
    """
    upload_id = found.pk
    staged = staging.StagedFile(upload_id)

    def complete(delivered: DeliveredFile) -> None:
        # The row says "complete" in the transaction that delivers the file, and an
        # upload removed meanwhile delivers nothing.
        if insert:
            found.save(force_insert=True)
        elif not Upload.objects.filter(pk=upload_id).update(
            offset=found.offset, expires_at=found.expires_at
        ):
            raise staging.UploadGone

    try:
        digests = staging.complete(upload_id, digests, found.length)
        # Not inside a transaction of ours: add_file stores the bytes before it takes
        # any lock, and deletes them when its transaction does not commit. The
        # upload's creator, who alone may send its bytes (_users_upload), delivers it.
        by = cast("User", request.user)
        # A part (request None) is never delivered by itself: its final upload is.
        delivering_to = cast("DeliveryRequest", found.request)
        delivering_to.add_file(
            found.name,
            staged,
            by=by,
            in_transaction=complete,
            replacing=found.replaces,
            **digests.hexdigests(),
        )
    except ActionRefused as refusal:
        # The request changed meanwhile (submitted, say): these bytes can't be delivered.
        _drop(found, written=not insert)
        raise TusError(403 if refusal.field != "name" else 400, refusal.message) from None
    except staging.UploadGone:
        staging.remove(upload_id)
        raise TusError(404, _("No such upload.")) from None
    except IntegrityError:
        _drop(found, written=not insert)
        if not insert:
            raise
        # Another upload of this name began meanwhile and holds it (see _create_whole).
        raise TusError(400, names.being_uploaded(found.name)) from None
    except BaseException:
        # Never leave an upload that says "all bytes received" with nothing delivered:
        # the client would report success. Gone, it answers 404 and the client starts
        # again.
        _drop(found, written=not insert)
        raise
    finally:
        staged.close()
    staging.forget(upload_id)
    staging.remove(upload_id)
