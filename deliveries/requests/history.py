"""The history of a request: every status change and file operation, with who and
when. Nothing changes without a trace."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .states import Status

# How many files a sentence about many names before "and 1,234 more" (History, the
# removal's confirmation). A removal's entry stores more (details["names"], up to 50).
NAMES_NAMED = 5


class HistoryEntry(models.Model):
    class Action(models.TextChoices):
        STATUS_CHANGED = "status", gettext_lazy("Status changed")
        DELIVERED = "delivered", gettext_lazy("File delivered")
        RENAMED = "renamed", gettext_lazy("File renamed")
        REMOVED = "removed", gettext_lazy("Files removed")
        EDITED = "edited", gettext_lazy("Request edited")
        WAIVED = "waived", gettext_lazy("Finding waived")
        WAIVER_WITHDRAWN = "unwaived", gettext_lazy("Waiver withdrawn")
        COMMENTED = "commented", gettext_lazy("Comment")

    request = models.ForeignKey(
        "deliveries.DeliveryRequest", on_delete=models.CASCADE, related_name="history"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # None: the system (the processing worker, automatic submission).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    before = models.CharField(max_length=300, blank=True)
    after = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        app_label = "deliveries"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["request", "-at"])]
        verbose_name = gettext_lazy("history entry")
        verbose_name_plural = gettext_lazy("history")

    def __str__(self) -> str:
        # Shown by the admin above each row: statuses by their labels, as everywhere.
        if self.action == self.Action.STATUS_CHANGED:
            before, after = (status_label(value) for value in (self.before, self.after))
            return f"{self.get_action_display()}: {before} → {after}"
        names = " → ".join(name for name in (self.before, self.after) if name)
        return f"{self.get_action_display()}: {names}" if names else str(self.get_action_display())


def status_label(value: str) -> str:
    """A status as people read it ("Submitted"), whatever was stored."""
    return str(Status(value).label) if value in Status.values else value
