"""Every request names its studio contact: a staff user set in the admin, by default
its partner organization's. Messages that send a partner to them name them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..partners.models import Organization


class StudioContact(models.Model):
    studio_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True},
        verbose_name=gettext_lazy("studio contact"),
        help_text=gettext_lazy(
            "Named on the Details Page and emailed about the request. Left empty on a new "
            "request, the partner's default studio contact is taken."
        ),
    )

    if TYPE_CHECKING:  # the concrete request's field
        organization_id: int

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.studio_contact_id is None and self.organization_id:
            self.studio_contact_id = (
                Organization.objects.filter(pk=self.organization_id)
                .values_list("default_studio_contact", flat=True)
                .first()
            )
        super().save(*args, **kwargs)

    @property
    def studio_contact_named(self) -> str:
        """The studio contact as a sentence names them ("Ana Ruiz (ana@…)"), '' if none."""
        contact = self.studio_contact
        if contact is None:
            return ""
        name = contact.get_full_name() or contact.get_username()
        return f"{name} ({contact.email})" if contact.email else name

    def accepted_refusal(self, about: Literal["submit", "redeliver", "files"]) -> str:
        """Why an Accepted request refuses what a partner tried: only its studio contact
        can reopen it, named when the request has one."""
        named = {"contact": self.studio_contact_named}
        if about == "files":
            if self.studio_contact_id:
                return (
                    _(
                        "This request is Accepted, so its files can't be changed. "
                        "Contact your studio contact, %(contact)s, to reopen it."
                    )
                    % named
                )
            return _(
                "This request is Accepted, so its files can't be changed. "
                "Contact your studio contact to reopen it."
            )
        if about == "redeliver":
            if self.studio_contact_id:
                return (
                    _(
                        "This request is Accepted. Contact your studio contact, %(contact)s, to "
                        "reopen it for redelivery."
                    )
                    % named
                )
            return _(
                "This request is Accepted. Contact your studio contact to reopen it for redelivery."
            )
        if self.studio_contact_id:
            return (
                _(
                    "This request is Accepted. Contact your studio contact, %(contact)s, "
                    "to reopen it."
                )
                % named
            )
        return _("This request is Accepted. Contact your studio contact to reopen it.")
