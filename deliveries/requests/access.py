"""Who may see and do what with requests and their files. Every view goes through
these helpers.

An object of another organization answers 404, exactly like one that does not exist;
a member whose role does not allow the action gets 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from ..files.models import DeliveredFile
from ..partners.access import capabilities, is_studio_contact, organizations_of
from ..partners.roles import Can
from .models import DeliveryRequest


def requests_visible_to(user: Any) -> QuerySet[DeliveryRequest]:
    requests = DeliveryRequest.objects.all()
    if is_studio_contact(user):
        return requests
    return requests.filter(organization__in=organizations_of(user))


def get_request_for_user(user: Any, pk: int, needs: Can = Can.VIEW) -> DeliveryRequest:
    try:
        delivery_request = (
            requests_visible_to(user)
            .select_related("title", "organization", "checksum_manifest")
            .get(pk=pk)
        )
    except DeliveryRequest.DoesNotExist:
        raise Http404("No such request.") from None
    if needs not in capabilities(user, delivery_request.organization_id):
        raise PermissionDenied("Your role does not allow this action.")
    return delivery_request


def get_file_in_request(delivery_request: DeliveryRequest, file_pk: int) -> DeliveredFile:
    """A file of a request the caller already fetched through get_request_for_user."""
    try:
        return delivery_request.files.select_related("delivered_by").get(pk=file_pk)
    except DeliveredFile.DoesNotExist:
        raise Http404("No such file.") from None
