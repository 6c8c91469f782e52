"""Partner organizations, their members with a role each, and what a person chose
for themselves."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy

from .roles import Role


class Organization(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=200, unique=True)
    default_studio_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_staff": True},
        verbose_name=gettext_lazy("default studio contact"),
        help_text=gettext_lazy("Named on each new request of this partner."),
    )

    class Meta:
        app_label = "deliveries"
        ordering = ["name"]
        verbose_name = gettext_lazy("partner organization")
        verbose_name_plural = gettext_lazy("partner organizations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(gettext_lazy("role"), max_length=20, choices=Role.choices)

    class Meta:
        app_label = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_role_per_org")
        ]
        verbose_name = gettext_lazy("member")
        verbose_name_plural = gettext_lazy("members")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class Preference(models.Model):
    """What a person chose for themselves, kept across browsers and devices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preference"
    )
    language = models.CharField(
        gettext_lazy("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        app_label = "deliveries"
        verbose_name = gettext_lazy("preference")
        verbose_name_plural = gettext_lazy("preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or '-'}"
