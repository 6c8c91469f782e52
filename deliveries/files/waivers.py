"""The waiver of a finding, as stored: who let which code stand, when and why, on one
file or (`file` empty) on the delivery as a whole (a sequence's frame count, say).
Given, and counted, by deliveries/requests/waivers.py."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import DeliveredFile


def is_waived(finding: dict[str, Any]) -> bool:
    """Whether a stored finding carries a waiver's mark ("waiver": <its id>)."""
    return "waiver" in finding


def carry_waivers(
    before: list[dict[str, Any]], after: list[dict[str, Any]], request_id: int
) -> list[dict[str, Any]]:
    """The findings of a new processing run of the delivery as a whole (`after`), each
    marked with the waiver of the same finding in the run before (same code, expected,
    found and words), if it had one: what the studio let stand still stands, and only
    that. The request's delivery waivers that now mark nothing go: their finding changed
    (another frame count) or went."""
    marks = {_unmarked(f): f["waiver"] for f in before if is_waived(f)}
    findings = [{**f, "waiver": marks[key]} if (key := _unmarked(f)) in marks else f for f in after]
    kept = [f["waiver"] for f in findings if is_waived(f)]
    Waiver.objects.filter(request_id=request_id).exclude(pk__in=kept).delete()
    return findings


def _unmarked(finding: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in finding.items() if k != "waiver"}, sort_keys=True)


class Waiver(models.Model):
    file = models.ForeignKey(
        DeliveredFile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waivers",
        verbose_name=gettext_lazy("file"),
    )
    # Set for a finding about the delivery as a whole, which belongs to no file.
    request = models.ForeignKey(
        "deliveries.DeliveryRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery_waivers",
        verbose_name=gettext_lazy("request"),
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
            models.UniqueConstraint(fields=["file", "code"], name="one_waiver_per_finding"),
            models.UniqueConstraint(
                fields=["request", "code"], name="one_waiver_per_delivery_finding"
            ),
            models.CheckConstraint(
                condition=models.Q(file__isnull=False, request__isnull=True)
                | models.Q(file__isnull=True, request__isnull=False),
                name="waiver_of_a_file_or_a_delivery",
            ),
        ]
        verbose_name = gettext_lazy("waiver")
        verbose_name_plural = gettext_lazy("waivers")

    def __str__(self) -> str:
        return f"{self.code} · {self.file or self.request}"

    def sentence(self) -> str:
        """ "Waived by studio-contact on 2 Dec 2026, 10:04: <reason>", for the partner."""
        return _("Waived by %(who)s on %(when)s: %(reason)s") % {
            # Named as the rest of the page names people: by their full name.
            "who": (self.waived_by.get_full_name() or self.waived_by.get_username())
            if self.waived_by
            else _("the studio"),
            "when": date_format(timezone.localtime(self.waived_at), "DATETIME_FORMAT"),
            "reason": self.reason,
        }
