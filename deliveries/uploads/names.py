"""Who may take an upload's name: an earlier upload of it, a delivered file of it, and
a replacement of that file (its creator may remove files)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from ..files import manifests, naming
from ..partners.access import capabilities
from ..partners.roles import Can
from . import staging
from .errors import TusError
from .models import Upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..requests.models import DeliveryRequest

# The answer to a name that is taken says whether the one delivering may replace it.
CAN_REPLACE = "Portal-Can-Replace"


def discard(upload: Upload) -> None:
    upload_id = upload.pk  # delete() forgets it
    upload.delete()
    staging.remove(upload_id)


def why_not_replace(delivery_request: DeliveryRequest, name: str, user: User) -> str:
    """'' when `user` may replace the delivered file `name` by a new delivery: replacing
    removes the old file, so it takes the right to remove files."""
    if manifests.is_manifest_name(name):
        return _(
            "“%(name)s” is this request's checksum manifest and can't be replaced by "
            "an upload. Remove it first, then deliver the new one."
        ) % {"name": name}
    if Can.REMOVE not in capabilities(user, delivery_request.organization_id):
        return _(
            "“%(name)s” is delivered already, and replacing it removes it: your role "
            "does not allow removing files. Ask an Admin of your company, or deliver it "
            "under another name."
        ) % {"name": name}
    return ""


def taken(delivery_request: DeliveryRequest, name: str, user: User) -> TusError:
    """The refusal of a name a delivered file has; it offers Replace when allowed, and
    tells one who may not remove files who can. (It always begins with the words of
    naming.duplicate_name_error: scripts/deliver.py skips such a file by them.)"""
    message = naming.duplicate_name_error(name).messages[0]
    if not why_not_replace(delivery_request, name, user):
        return TusError(400, message, **{CAN_REPLACE: "1"})
    if manifests.is_manifest_name(name):
        return TusError(400, message)
    return TusError(
        400,
        _(
            "Another file in this request is already named “%(name)s”. Choose a different "
            "name, or ask an Admin of your company to replace it: your role does not allow "
            "removing files."
        )
        % {"name": name},
    )


def make_way_for(
    delivery_request: DeliveryRequest, name: str, user: User, *, replacing: bool = False
) -> None:
    """An earlier unfinished upload of the same name: the same person starting over
    replaces it (their browser lost it, say); anyone else's blocks the name while
    bytes still arrive, and no longer once it has stalled (a laptop that died)."""
    earlier = Upload.objects.filter(request=delivery_request, name=name).first()
    if earlier is None:
        return
    if not earlier.is_delivered:
        if earlier.created_by_id != user.pk and earlier.is_receiving():
            raise TusError(400, being_uploaded(name))
        # Only while it is still unfinished: a parallel creation of this name may
        # deliver it between our read and our lock (its folder then goes).
        unfinished = Upload.objects.filter(pk=earlier.pk).under_way()
        try:
            with staging.locked(earlier.pk):
                if unfinished.exists():
                    discard(earlier)
                    return
        except staging.UploadLocked:
            raise TusError(400, being_uploaded(name)) from None
        except staging.UploadGone:
            if unfinished.delete()[0]:
                return
    # Delivered: while its file keeps the name, the name is taken (unless replaced).
    if not replacing and delivery_request.files.filter(name=name).exists():
        raise taken(delivery_request, name, user)
    # Its file was removed or renamed since: the name is free again.
    Upload.objects.filter(pk=earlier.pk).delete()


def being_uploaded(name: str) -> str:
    return _(
        "“%(name)s” is being uploaded to this request already. Wait for that upload to "
        "finish, or cancel it."
    ) % {"name": name}
