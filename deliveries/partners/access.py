"""What a user may do in a partner organization: their role there, and a studio
contact's share everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import Membership
from .roles import ROLE_CAPABILITIES, STAFF_CAPABILITIES, Can

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


def role_in(user: AnyUser | None, organization_id: int) -> str | None:
    """The user's role in the organization, or None for outsiders."""
    if user is None or not user.is_authenticated:
        return None
    roles: dict[int, str] | None = getattr(user, "_portal_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))
        user._portal_roles = roles  # type: ignore[union-attr]  # once per user and request
    return roles.get(organization_id)


def capabilities(user: AnyUser | None, organization_id: int) -> frozenset[Can]:
    if user is None or not user.is_authenticated:
        return frozenset()
    caps: frozenset[Can] = STAFF_CAPABILITIES if is_studio_contact(user) else frozenset()
    role = role_in(user, organization_id)
    if role:
        caps |= ROLE_CAPABILITIES[role]
    return caps


def is_studio_contact(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False))


def organizations_of(user: AnyUser) -> Any:
    """The ids of the user's organizations, as a subquery."""
    return Membership.objects.filter(user=user).values("organization")
