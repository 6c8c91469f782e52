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

import contextlib
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..files import manifests, naming
from ..partners.access import delivers_anywhere
from ..partners.roles import Can
from ..requests.access import get_request_for_user
from ..requests.models import FILE_CHANGES_ALLOWED, DeliveryRequest
from . import concat, early, names, protocol, receiving, staging
from .errors import TusError
from .models import PARTIAL, Upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..partners.roles import AnyUser


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
        # Its own row only: a delivery reads the spec (the early verdict) and the
        # manifest (a request with a checksum) when it needs them, and never the
        # title or partner, whose joins cost more per file than those two reads.
        delivery_request = get_request_for_user(
            user, request_id, needs=Can.DELIVER, with_related=False
        )
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


# Creation --------------------------------------------------------------------------


@require_http_methods(["OPTIONS", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return protocol.answer(
            204,
            Tus_Version=protocol.TUS_VERSION,
            Tus_Extension=protocol.EXTENSIONS,
            Tus_Checksum_Algorithm=",".join(protocol.CHECKSUMS),
            Tus_Max_Size=str(settings.PORTAL_UPLOAD_MAX_BYTES),
        )
    try:
        protocol.check_version(request)
        return _create(request)
    except TusError as error:
        return protocol.answer(error.status, error.message, **error.headers)


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
    sent_along = (
        protocol.content_length(request)
        if request.content_type == protocol.OFFSET_CONTENT_TYPE
        else 0
    )
    if sent_along > length:
        # Refused before anything exists: an empty file would otherwise be delivered
        # at once, and its name taken by bytes the client was told were refused.
        raise TusError(413, _("These bytes would exceed the Upload-Length."))
    metadata = protocol.parse_metadata(request.headers.get("Upload-Metadata", ""))
    if concat_header == PARTIAL:
        upload = _partial(request, metadata, length)
        return _store(request, upload, sent_along)
    delivery_request = _deliverable(request.user, _request_id(metadata))
    user = cast("User", request.user)  # _deliverable refuses anyone signed out
    name = metadata.get("filename", metadata.get("name", ""))
    whole = bool(sent_along) and sent_along == length
    replacing = _check_name(
        delivery_request,
        name,
        length,
        user,
        metadata.get("replace") == "1",
        in_hand=whole and length <= staging.SMALL_BODY,
    )
    upload = Upload(
        request=delivery_request, name=name, length=length, created_by=user, replaces=replacing
    )
    upload.extend_expiry()
    if whole:
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
    delivery_request: DeliveryRequest,
    name: str,
    length: int,
    user: User,
    replace: bool,
    *,
    in_hand: bool = False,
) -> bool:
    """Refuse a name this request can't take from `user` now, before any byte is
    stored; returns whether the upload replaces the delivered file of that name.
    `in_hand`: the whole file came with the creation, read in memory, so nothing is
    saved by refusing a delivered name now: the delivery refuses it under the
    request's lock, as it must anyway (a query fewer for each frame of a sequence)."""
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
    elif not in_hand and delivery_request.files.filter(name=name).exists():
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
    if "request" in metadata:
        _deliverable(request.user, _request_id(metadata))
    elif not request.user.is_authenticated:
        raise TusError(403, _("Sign in to deliver files."))
    elif not delivers_anywhere(request.user):
        raise TusError(403, _("Your role does not allow delivering files."))
    # No request on the row even when the client named one: a name is unique per
    # request, and every part's is empty (the second part named the request would be
    # refused as "being uploaded already").
    upload = Upload(
        request=None,
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
            receiving.deliver(request, upload, staging.Digests())
        headers = {"Location": location}
        if sent_along:
            # creation-with-upload: the first bytes ride along with the creation.
            try:
                response = receiving.append(request, upload, offset=0)
            except TusError:
                # The client never learns this upload's address: it must not hold the
                # name.
                _discard_quietly(upload)
                raise
            headers["Upload-Offset"] = response["Upload-Offset"]
            headers.update((k, v) for k, v in response.items() if k.startswith("Portal-"))
    return protocol.answer(201, Upload_Expires=protocol.expires(upload), **headers)


def _create_final(request: HttpRequest, header: str) -> HttpResponse:
    """tus concatenation's final upload: the file, assembled from its parts, delivered
    in the creation's answer (tus-js-client reports success on it). The parts are the
    caller's own, complete; a refused file leaves them as they were (staging.assemble),
    to be named by a final upload again, with "replace" say, without their bytes being
    sent again. Unused, they expire as any upload does."""
    metadata = protocol.parse_metadata(request.headers.get("Upload-Metadata", ""))
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
                receiving.deliver(request, upload, digests, insert=True)
            except BaseException:
                # Refused or failed: nothing half assembled stays, and the first part
                # gives back the bytes appended to it (see staging.assemble).
                staging.remove(upload.pk)
                staging.trim(parts[0].pk, parts[0].length)
                raise
            concat.discard(parts)
    except staging.UploadLocked:
        raise TusError(423, protocol.locked_message()) from None
    except staging.UploadGone:
        raise TusError(404, _("No such upload.")) from None
    return protocol.answer(
        201,
        Location=request.build_absolute_uri(reverse("tus-upload", args=[upload.pk])),
        Upload_Expires=protocol.expires(upload),
        **early.answer_headers(upload),
    )


def _create_whole(request: HttpRequest, upload: Upload) -> HttpResponse:
    """creation-with-upload of a whole file: the common case of a sequence's frames,
    one small file each, where per-file cost decides how long 250,000 take.

    Nobody knows this upload's address before it is answered, so the bytes need no
    lock and no row; the row is written once, complete, in the transaction that
    delivers the file (a client that lost the answer and asks HEAD of the address it
    never got can't exist; one that re-sends the file learns the name is taken).
    Another creation of the same name meanwhile holds the name by its row: the unique
    constraint refuses this one's, and its delivery rolls back whole.

    A small file (a frame) is read in memory, hashed and looked at there, and written
    once, into storage; a larger one is staged on disk as PATCHes are.
    """
    checksum = protocol.parse_checksum(request)
    chunk_hash = checksum[0] if checksum else None
    content: File | None = None
    digests = staging.Digests()
    if upload.length <= staging.SMALL_BODY:
        hashers = [digests.update] + ([chunk_hash.update] if chunk_hash else [])
        body = staging.read_body(request, upload.length, hashers)
        _check_whole(len(body), upload, checksum)
        early.look(upload, len(body), data=body)
        content = ContentFile(body, name=upload.name)
    else:
        staging.create(upload.pk)
        try:
            received = staging.append(
                upload.pk,
                request,
                offset=0,
                length=upload.length,
                digests=digests,
                chunk_hash=chunk_hash,
                whole=True,
                **early.watcher(upload),
            )
            _check_whole(received, upload, checksum)
        except BaseException:
            staging.remove(upload.pk)
            raise
    upload.offset = upload.length
    receiving.deliver(request, upload, digests, insert=True, content=content)
    return protocol.answer(
        201,
        Location=request.build_absolute_uri(reverse("tus-upload", args=[upload.pk])),
        Upload_Offset=str(upload.offset),
        Upload_Expires=protocol.expires(upload),
        **early.answer_headers(upload),
    )


def _check_whole(received: int, upload: Upload, checksum: Any) -> None:
    if received < upload.length:
        raise TusError(400, _("The chunk arrived incomplete and was discarded."))
    if checksum and checksum[0].digest() != checksum[1]:
        raise TusError(
            protocol.CHECKSUM_MISMATCH,
            _("Checksum mismatch: the chunk was discarded. Send it again."),
        )


# One upload ----------------------------------------------------------------------


@require_http_methods(["HEAD", "PATCH", "DELETE", "OPTIONS", "POST"])
def upload(request: HttpRequest, upload_id: UUID) -> HttpResponse:
    method = protocol.method(request)
    if method == "OPTIONS":
        return create(request)
    if method == "POST":
        return protocol.answer(405, _("Use PATCH to send bytes."))
    try:
        protocol.check_version(request)
        found = _users_upload(request, upload_id, terminating=method == "DELETE")
        if method == "HEAD":
            concatenation = {"Upload_Concat": found.concat} if found.concat else {}
            return protocol.answer(
                200,
                Upload_Offset=str(found.offset),
                Upload_Length=str(found.length),
                Upload_Expires=protocol.expires(found),
                **concatenation,
                **early.answer_headers(found),
            )
        if method == "DELETE":
            return _terminate(found)
        if request.content_type != protocol.OFFSET_CONTENT_TYPE:
            raise TusError(
                415, _("Send bytes as %(type)s.") % {"type": protocol.OFFSET_CONTENT_TYPE}
            )
        try:
            offset = int(request.headers.get("Upload-Offset", ""))
        except ValueError:
            raise TusError(400, _("Send the offset in Upload-Offset.")) from None
        return receiving.append(request, found, offset=offset)
    except TusError as error:
        return protocol.answer(error.status, error.message, **error.headers)


def _terminate(found: Upload) -> HttpResponse:
    try:
        with staging.locked(found.pk):
            names.discard(found)
    except staging.UploadLocked:
        raise TusError(423, protocol.locked_message()) from None
    except staging.UploadGone:
        found.delete()
    return protocol.answer(204)
