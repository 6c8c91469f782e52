"""The reasons a studio contact or a partner gives when asking for redelivery; studio
contacts manage them in the admin, migration 0002 ships the default set."""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language, gettext_lazy


class RedeliveryReason(models.Model):
    code = models.SlugField(gettext_lazy("code"), max_length=60, unique=True)
    name = models.CharField(gettext_lazy("name"), max_length=120)
    description = models.TextField(gettext_lazy("description"))
    name_es = models.CharField(gettext_lazy("name (Español)"), max_length=120, blank=True)
    description_es = models.TextField(gettext_lazy("description (Español)"), blank=True)
    active = models.BooleanField(gettext_lazy("active"), default=True)
    order = models.PositiveSmallIntegerField(gettext_lazy("order"), default=0)

    class Meta:
        app_label = "deliveries"
        ordering = ["order", "name"]
        verbose_name = gettext_lazy("redelivery reason")
        verbose_name_plural = gettext_lazy("redelivery reasons")

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        if (get_language() or "").startswith("es") and self.name_es:
            return self.name_es
        return self.name

    @property
    def localized_description(self) -> str:
        if (get_language() or "").startswith("es") and self.description_es:
            return self.description_es
        return self.description
