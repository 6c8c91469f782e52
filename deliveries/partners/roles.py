"""Who may do what, as plain data: the roles of a partner's members and the studio
contacts' share. Imports nothing of the portal, so every layer can read it."""

import enum
from typing import TYPE_CHECKING, TypeAlias

from django.db import models
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    # Who asks: request.user, signed in or not (the portal keeps Django's User model).
    AnyUser: TypeAlias = User | AnonymousUser


class Role(models.TextChoices):
    ADMIN = "admin", gettext_lazy("Admin")
    UPLOADER = "uploader", gettext_lazy("Uploader")
    REVIEWER = "reviewer", gettext_lazy("Reviewer")


class Can(enum.Enum):
    VIEW = "view"
    DELIVER = "deliver"  # upload, rename, submit
    REMOVE = "remove"  # remove files one by one or in bulk
    REDELIVER = "redeliver"  # ask for redelivery of a Processed request
    ACCEPT = "accept"  # accept a Processed request
    REOPEN = "reopen"  # ask for redelivery of an Accepted request
    COMMENT = "comment"  # post in the request's comment thread


ROLE_CAPABILITIES: dict[str, frozenset[Can]] = {
    Role.ADMIN: frozenset({Can.VIEW, Can.COMMENT, Can.DELIVER, Can.REMOVE, Can.REDELIVER}),
    Role.UPLOADER: frozenset({Can.VIEW, Can.COMMENT, Can.DELIVER}),
    # Read-only for the delivery, not for the conversation: they read, and they talk.
    Role.REVIEWER: frozenset({Can.VIEW, Can.COMMENT}),
}
# Studio contacts open any Details Page, ask for redelivery, and alone accept a
# request or reopen an Accepted one; delivering and fixing files is the partner's work.
STAFF_CAPABILITIES = frozenset({Can.VIEW, Can.COMMENT, Can.REDELIVER, Can.ACCEPT, Can.REOPEN})
