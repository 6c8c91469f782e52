"""Who may see and do what with requests and their files. Every view goes through
these helpers.

An object of another organization answers 404, exactly like one that does not exist;
a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet
from django.http import Http404

from ..files.models import DeliveredFile
from ..partners.access import (
    capabilities,
    is_studio_contact,
    organizations_of,
    remember_role,
    role_subquery,
)
from ..partners.roles import Can
from .models import DeliveryRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..partners.roles import AnyUser


def requests_visible_to(user: User) -> QuerySet[DeliveryRequest]:
    requests = DeliveryRequest.objects.all()
    if is_studio_contact(user):
        return requests
    return requests.filter(organization__in=organizations_of(user))


def get_request_for_user(
    user: AnyUser, pk: int, needs: Can = Can.VIEW, *, with_related: bool = True
) -> DeliveryRequest:
    """`with_related=False`: the request's own row only, for what reads no more (a
    poll); its title, partner, manifest and spec are then read when asked for."""
    requests = DeliveryRequest.objects.all()
    if with_related:
        requests = requests.select_related(
            "title", "organization", "checksum_manifest", "spec", "studio_contact"
        )
    if user.is_authenticated:
        # The viewer's role, read with the request: who may do what on its page.
        requests = requests.annotate(viewer_role=role_subquery(user, OuterRef("organization_id")))
    try:
        delivery_request = requests.get(pk=pk)
    except DeliveryRequest.DoesNotExist:
        raise Http404("No such request.") from None
    role = getattr(delivery_request, "viewer_role", None)
    if role is None and not is_studio_contact(user):
        raise Http404("No such request.")  # another partner's: as if it did not exist
    remember_role(user, delivery_request.organization_id, role)
    if needs not in capabilities(user, delivery_request.organization_id):
        raise PermissionDenied("Your role does not allow this action.")
    return delivery_request


def get_file_in_request(delivery_request: DeliveryRequest, file_pk: int) -> DeliveredFile:
    """A file of a request the caller already fetched through get_request_for_user."""
    try:
        return delivery_request.files.select_related("delivered_by").get(pk=file_pk)
    except DeliveredFile.DoesNotExist:
        raise Http404("No such file.") from None
