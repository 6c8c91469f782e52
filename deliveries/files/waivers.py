"""The waiver of a file's finding, as stored: who let which code stand, when and why.
Given, and counted, by deliveries/requests/waivers.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import DeliveredFile


class Waiver(models.Model):
    file = models.ForeignKey(
        DeliveredFile,
        on_delete=models.CASCADE,
        related_name="waivers",
        verbose_name=gettext_lazy("file"),
    )
    code = models.CharField(gettext_lazy("code"), max_length=60)
    reason = models.TextField(gettext_lazy("reason"))
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=gettext_lazy("waived by"),
    )
    waived_at = models.DateTimeField(gettext_lazy("waived at"), default=timezone.now)

    class Meta:
        app_label = "deliveries"
        ordering = ["-waived_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["file", "code"], name="one_waiver_per_finding")
        ]
        verbose_name = gettext_lazy("waiver")
        verbose_name_plural = gettext_lazy("waivers")

    def __str__(self) -> str:
        return f"{self.code} · {self.file}"

    def sentence(self) -> str:
        """ "Waived by studio-contact on 2 Dec 2026, 10:04: <reason>", for the partner."""
        return _("Waived by %(who)s on %(when)s: %(reason)s") % {
            "who": self.waived_by or _("the studio"),
            "when": date_format(timezone.localtime(self.waived_at), "DATETIME_FORMAT"),
            "reason": self.reason,
        }
