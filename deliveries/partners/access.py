"""What a user may do in a partner organization: their role there, and a studio
contact's share everywhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Membership
from .roles import ROLE_CAPABILITIES, STAFF_CAPABILITIES, Can

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .roles import AnyUser


def role_in(user: AnyUser | None, organization_id: int) -> str | None:
    """The user's role in the organization, or None for outsiders."""
    if user is None or not user.is_authenticated:
        return None
    roles = _known_roles(user)
    if organization_id not in roles:
        roles[organization_id] = (
            Membership.objects.filter(user=user, organization_id=organization_id)
            .values_list("role", flat=True)
            .first()
        )
    return roles[organization_id]


def role_subquery(user: User, organization: OuterRef) -> Subquery:
    """The user's role in `organization` (a reference to the outer query's column), to
    read with an object of that organization instead of in a query of its own."""
    memberships = Membership.objects.filter(user=user, organization_id=organization)
    return Subquery(memberships.values("role")[:1])


def remember_role(user: AnyUser, organization_id: int, role: str | None) -> None:
    """A role read with an object (role_subquery): role_in needs no query for it."""
    _known_roles(user)[organization_id] = role


def _known_roles(user: AnyUser) -> dict[int, str | None]:
    # Kept on the user object, so for one request cycle at most.
    roles: dict[int, str | None] | None = getattr(user, "_portal_roles", None)
    if roles is None:
        roles = {}
        user._portal_roles = roles  # type: ignore[union-attr]
    return roles


def capabilities(user: AnyUser | None, organization_id: int) -> frozenset[Can]:
    if user is None or not user.is_authenticated:
        return frozenset()
    caps: frozenset[Can] = STAFF_CAPABILITIES if is_studio_contact(user) else frozenset()
    role = role_in(user, organization_id)
    if role:
        caps |= ROLE_CAPABILITIES[role]
    return caps


def is_studio_contact(user: AnyUser | None) -> bool:
    return bool(getattr(user, "is_staff", False))


def organizations_of(user: User) -> QuerySet[Membership, Mapping[str, object]]:
    """The ids of the user's organizations, as a subquery."""
    return Membership.objects.filter(user=user).values("organization")


def delivers_anywhere(user: AnyUser | None) -> bool:
    """Whether the user's role delivers files in any of their organizations."""
    if user is None or not user.is_authenticated:
        return False
    roles = [role for role, caps in ROLE_CAPABILITIES.items() if Can.DELIVER in caps]
    return Membership.objects.filter(user=user, role__in=roles).exists()
