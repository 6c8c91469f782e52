"""A request's comments, what each person chose to be emailed about, and the emails
owed to them (one row per person and event: the outbox the worker sends from)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..requests.history import HistoryEntry
from .events import DEFAULTS, Event, Frequency

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..requests.models import DeliveryRequest
    from ..requests.redeliveries import Redelivery

# Longer than any note a person types; a pasted log is refused with a clear message.
COMMENT_MAX_LENGTH = 5000
# How much of a comment its history entry and an email's subject line quote.
EXCERPT_LENGTH = 120


def excerpt(text: str, length: int = EXCERPT_LENGTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


class Comment(models.Model):
    request = models.ForeignKey(
        "deliveries.DeliveryRequest", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=gettext_lazy("author"),
    )
    body = models.TextField(gettext_lazy("comment"), max_length=COMMENT_MAX_LENGTH)
    # Set when the comment is the note of an ask for redelivery.
    redelivery = models.OneToOneField(
        "deliveries.Redelivery",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comment",
    )
    created_at = models.DateTimeField(gettext_lazy("posted"), default=timezone.now)

    class Meta:
        app_label = "deliveries"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"])]
        verbose_name = gettext_lazy("comment")
        verbose_name_plural = gettext_lazy("comments")

    def __str__(self) -> str:
        return excerpt(self.body, 60)

    @classmethod
    def post(
        cls,
        request: DeliveryRequest,
        author: User | None,
        body: str,
        *,
        redelivery: Redelivery | None = None,
    ) -> Comment:
        """Add a comment and its history entry (which tells people: tasks.py listens)."""
        comment = cls.objects.create(
            request=request, author=author, body=body.strip(), redelivery=redelivery
        )
        details: dict[str, object] = {"comment_id": comment.pk, "excerpt": excerpt(comment.body)}
        if redelivery is not None:
            details["redelivery_id"] = redelivery.pk
        HistoryEntry.objects.create(
            request=request,
            actor=author,
            at=comment.created_at,
            action=HistoryEntry.Action.COMMENTED,
            details=details,
        )
        return comment


class NotificationSetting(models.Model):
    """One person's choice for one event; without a row, the event's default holds."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    event = models.CharField(gettext_lazy("event"), max_length=20, choices=Event.choices)
    frequency = models.CharField(
        gettext_lazy("frequency"), max_length=20, choices=Frequency.choices
    )

    class Meta:
        app_label = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_setting_per_event")
        ]
        verbose_name = gettext_lazy("notification setting")
        verbose_name_plural = gettext_lazy("notification settings")

    def __str__(self) -> str:
        return f"{self.user}: {self.event} {self.frequency}"

    @classmethod
    def choices_of(cls, user: User) -> dict[str, str]:
        """The user's frequency for every event, defaults filled in."""
        chosen = dict(cls.objects.filter(user=user).values_list("event", "frequency"))
        return {event: chosen.get(event, DEFAULTS[Event(event)]) for event in Event.values}

    @classmethod
    def choose(cls, user: User, event: str, frequency: str) -> None:
        cls.objects.update_or_create(user=user, event=event, defaults={"frequency": frequency})


class Notification(models.Model):
    """An email owed to one person about one event, sent alone or in their digest.

    (recipient, key) is unique: an event written twice (a retried receiver, two
    workers) is still one email. The worker claims a row before sending it, so that
    two workers never both send it (deliveries/people/sending.py)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    request = models.ForeignKey(
        "deliveries.DeliveryRequest", on_delete=models.CASCADE, related_name="+"
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    # The event's identity: "history:<entry id>".
    key = models.CharField(max_length=60)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What the email says, as it was when the event happened.
    context = models.JSONField(default=dict)
    digest = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    given_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "deliveries"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="one_email_per_event")
        ]
        indexes = [
            models.Index(
                fields=["recipient", "created_at"],
                condition=models.Q(digest=True, sent_at__isnull=True),
                name="digest_pending",
            )
        ]
        verbose_name = gettext_lazy("notification")
        verbose_name_plural = gettext_lazy("notifications")

    def __str__(self) -> str:
        return f"{self.recipient} · {self.event} · {self.key}"
