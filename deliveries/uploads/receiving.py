"""Bytes arriving for an upload (a PATCH, or those sent along with its creation), and
the delivery of its file once the last byte is in."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.files import File
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from ..files.models import DeliveredFile
from ..requests.errors import NameTaken
from ..requests.models import ActionRefused, DeliveryRequest
from . import early, names, protocol, staging
from .errors import TusError
from .models import Upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def append(request: HttpRequest, found: Upload, *, offset: int) -> HttpResponse:
    checksum = protocol.parse_checksum(request)
    length = protocol.content_length(request)
    if found.is_delivered:
        # Every byte arrived and the file was delivered; a client that lost that answer
        # may send the end again: it learns the offset, as HEAD would tell it.
        if offset != found.offset:
            raise TusError(409, _offset_mismatch(offset, found.offset))
        if length:
            raise TusError(413, _("These bytes would exceed the Upload-Length."))
        return protocol.answer(
            204, Upload_Offset=str(found.offset), Upload_Expires=protocol.expires(found)
        )
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
            digests = None if found.is_partial else staging.digests_at(found.pk, offset)
            before = digests.copy() if checksum and digests is not None else None
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
            if checksum and (received < length or checksum[0].digest() != checksum[1]):
                # An unverified chunk is never kept, whole or in part.
                staging.truncate(found.pk, offset)
                if before is not None:
                    staging.remember(found.pk, offset, before)
                early.forget_beyond(found, offset)
                if received < length:
                    raise TusError(400, _("The chunk arrived incomplete and was discarded."))
                raise TusError(
                    protocol.CHECKSUM_MISMATCH,
                    _("Checksum mismatch: the chunk was discarded. Send it again."),
                )
            found.offset = offset + received
            found.extend_expiry()
            if digests is not None and found.offset == found.length:
                # The row says "complete" only in the transaction that delivers the
                # file: a crash before it leaves the last bytes to be sent again.
                deliver(request, found, digests)
            else:
                found.save(update_fields=["offset", "expires_at"])
                if digests is not None:
                    staging.remember(found.pk, found.offset, digests)
    except staging.UploadLocked:
        raise TusError(423, protocol.locked_message()) from None
    except staging.UploadGone:
        raise TusError(404, _("No such upload.")) from None
    headers = early.answer_headers(found)
    return protocol.answer(
        204, Upload_Offset=str(found.offset), Upload_Expires=protocol.expires(found), **headers
    )


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


def deliver(
    request: HttpRequest,
    found: Upload,
    digests: staging.Digests,
    *,
    insert: bool = False,
    content: File | None = None,
) -> None:
    """The last byte arrived: the file joins the request, through the same rules and
    history as any other delivery, and the staging data goes. `insert`: the upload's
    row was never written (_create_whole); it is written complete with the delivery.
    `content`: the file's bytes when they were never staged (a small whole file, read
    in memory); otherwise the staged data is moved into storage.

    The upload's row stays, complete, until it expires: a client whose answer to the
    last PATCH was lost asks HEAD, learns every byte arrived, and reports success
    instead of starting again.
    """
    upload_id = found.pk
    staged = content if content is not None else staging.StagedFile(upload_id)

    def complete(delivered: DeliveredFile) -> None:
        # The row says "complete" in the transaction that delivers the file, and an
        # upload removed meanwhile delivers nothing.
        if insert:
            found.save(force_insert=True)
        elif not Upload.objects.filter(pk=upload_id).update(
            offset=found.offset, expires_at=found.expires_at
        ):
            raise staging.UploadGone

    # The upload's creator, who alone may send its bytes (_users_upload), delivers it.
    by = cast("User", request.user)
    # A part (request None) is never delivered by itself: its final upload is.
    delivering_to = cast("DeliveryRequest", found.request)
    try:
        digests = staging.complete(upload_id, digests, found.length)
        # Not inside a transaction of ours: add_file stores the bytes before it takes
        # any lock, and deletes them when its transaction does not commit.
        delivering_to.add_file(
            found.name,
            staged,
            by=by,
            in_transaction=complete,
            replacing=found.replaces,
            **digests.hexdigests(),
        )
    except NameTaken:
        # A file of this name was delivered meanwhile, or, for a small whole file, any
        # time before (its creation leaves that check to the delivery's lock).
        _drop(found, written=not insert)
        raise names.taken(delivering_to, found.name, by) from None
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
    if content is None:
        staging.forget(upload_id)
        staging.remove(upload_id)
