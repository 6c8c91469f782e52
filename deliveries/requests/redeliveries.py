"""What each ask for redelivery said: its reasons, who asked and when, whether the
files were cleared. The request's transitions write these (requests/models.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .reasons import RedeliveryReason


class Redelivery(models.Model):
    request = models.ForeignKey(
        "deliveries.DeliveryRequest", on_delete=models.CASCADE, related_name="redeliveries"
    )
    reasons = models.ManyToManyField(
        RedeliveryReason, related_name="+", verbose_name=gettext_lazy("reasons")
    )
    cleared_files = models.BooleanField(gettext_lazy("cleared the files"), default=False)
    cleared_count = models.PositiveIntegerField(gettext_lazy("files cleared"), default=0)
    note = models.TextField(gettext_lazy("note"), blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=gettext_lazy("asked by"),
    )
    asked_at = models.DateTimeField(gettext_lazy("asked at"), default=timezone.now)

    class Meta:
        app_label = "deliveries"
        ordering = ["-asked_at", "-id"]
        verbose_name = gettext_lazy("redelivery")
        verbose_name_plural = gettext_lazy("redeliveries")

    def __str__(self) -> str:
        return f"{self.request} · {self.asked_at:%Y-%m-%d %H:%M}"
