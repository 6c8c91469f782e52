"""Who may see and do what. Every view goes through these helpers.

An object of another organization answers 404, exactly like one that does not exist;
a member whose role does not allow the action gets 403.
"""

import enum

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import DeliveredFile, DeliveryRequest, Membership, Role


class Can(enum.Enum):
    VIEW = "view"
    DELIVER = "deliver"  # upload, rename, submit
    REMOVE = "remove"  # remove files one by one or in bulk
    REDELIVER = "redeliver"  # ask for redelivery


ROLE_CAPABILITIES = {
    Role.ADMIN: {Can.VIEW, Can.DELIVER, Can.REMOVE, Can.REDELIVER},
    Role.UPLOADER: {Can.VIEW, Can.DELIVER},
    Role.REVIEWER: {Can.VIEW},
}
# Studio contacts open any Details Page and may ask for redelivery; delivering and
# fixing files is the partner's work.
STAFF_CAPABILITIES = {Can.VIEW, Can.REDELIVER}


def capabilities(user, delivery_request: DeliveryRequest) -> set[Can]:
    caps: set[Can] = set()
    if not user.is_authenticated:
        return caps
    if user.is_staff:
        caps |= STAFF_CAPABILITIES
    role = delivery_request.role_of(user)
    if role:
        caps |= ROLE_CAPABILITIES[Role(role)]
    return caps


def requests_visible_to(user) -> QuerySet[DeliveryRequest]:
    requests = DeliveryRequest.objects.all()
    if user.is_staff:
        return requests
    return requests.filter(
        organization__in=Membership.objects.filter(user=user).values("organization")
    )


def get_request_for_user(user, pk: int, needs: Can = Can.VIEW) -> DeliveryRequest:
    try:
        delivery_request = (
            requests_visible_to(user)
            .select_related("title", "organization", "checksum_manifest")
            .get(pk=pk)
        )
    except DeliveryRequest.DoesNotExist:
        raise Http404("No such request.") from None
    if needs not in capabilities(user, delivery_request):
        raise PermissionDenied("Your role does not allow this action.")
    return delivery_request


def get_file_in_request(delivery_request: DeliveryRequest, file_pk: int) -> DeliveredFile:
    """A file of a request the caller already fetched through get_request_for_user."""
    try:
        return delivery_request.files.select_related("delivered_by").get(pk=file_pk)
    except DeliveredFile.DoesNotExist:
        raise Http404("No such file.") from None
