"""Who is told of what: from a request's new history entry, the emails owed (one
Notification row per person), each as its recipient chose. Runs inside the
transaction of the change, so a refused or rolled-back change owes nobody anything;
deliveries/tasks.py sends the immediate ones once it commits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from ..partners.models import Membership
from ..requests.history import HistoryEntry
from ..requests.redeliveries import Redelivery
from ..requests.states import Status
from .events import DEFAULTS, Event, Frequency
from .models import Comment, Notification, NotificationSetting

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..requests.models import DeliveryRequest

STATUS_EVENTS = {
    Status.SUBMITTED: Event.SUBMITTED,
    Status.PROCESSED: Event.PROCESSED,
    Status.ACCEPTED: Event.ACCEPTED,
    Status.REDELIVERY: Event.REDELIVERY,
}


def event_of(entry: HistoryEntry) -> Event | None:
    if entry.action == HistoryEntry.Action.STATUS_CHANGED:
        return STATUS_EVENTS.get(Status(entry.after)) if entry.after in Status.values else None
    if entry.action == HistoryEntry.Action.COMMENTED:
        # A redelivery's note is told in the redelivery's own email, not a second one.
        return None if (entry.details or {}).get("redelivery_id") else Event.COMMENT
    return None


def members_of(request: DeliveryRequest) -> list[User]:
    ids = Membership.objects.filter(organization_id=request.organization_id).values("user")
    return list(get_user_model().objects.filter(pk__in=ids))


def audience(event: Event, request: DeliveryRequest, context: dict[str, Any]) -> list[User]:
    """Who hears of `event` on `request`: the partner's members, its studio contact."""
    people: list[User] = []
    if event in (Event.REDELIVERY, Event.PROCESSED, Event.ACCEPTED, Event.COMMENT):
        people += members_of(request)
    studio_hears = event in (Event.SUBMITTED, Event.COMMENT) or (
        event == Event.PROCESSED and (context["blockers"] or context["delivery_blockers"])
    )
    if studio_hears and request.studio_contact_id:
        people += list(get_user_model().objects.filter(pk=request.studio_contact_id))
    return people


def context_of(event: Event, entry: HistoryEntry, request: DeliveryRequest) -> dict[str, Any]:
    """What the email will say, as it was when the event happened."""
    details = entry.details or {}
    if event == Event.PROCESSED:
        return {
            "files": request.file_count,
            "blockers": request.files_failed,
            "issues": request.files_with_issues,
            "fyi": request.files_with_fyi,
            "delivery_blockers": request.delivery_blockers,
        }
    if event == Event.REDELIVERY:
        note = (
            Redelivery.objects.filter(pk=details.get("redelivery_id") or 0)
            .values_list("note", flat=True)
            .first()
        )
        return {
            "reasons": details.get("reasons", []),
            "cleared_count": details.get("cleared_count", 0) if details.get("cleared_files") else 0,
            "note": note or "",
        }
    if event == Event.COMMENT:
        body = (
            Comment.objects.filter(pk=details.get("comment_id") or 0)
            .values_list("body", flat=True)
            .first()
        )
        return {"comment_id": details.get("comment_id"), "body": body or ""}
    return {}


def record(entry: HistoryEntry) -> list[int]:
    """Write the emails `entry` owes; the ids of those to send now."""
    event = event_of(entry)
    if event is None:
        return []
    request = entry.request
    context = context_of(event, entry, request)
    recipients = {
        user.pk: user
        for user in audience(event, request, context)
        if user.is_active and user.email and user.pk != entry.actor_id
    }
    if not recipients:
        return []
    chosen = dict(
        NotificationSetting.objects.filter(user__in=recipients, event=event).values_list(
            "user", "frequency"
        )
    )
    rows = []
    for pk, user in recipients.items():
        frequency = chosen.get(pk, DEFAULTS[event])
        if frequency == Frequency.OFF:
            continue
        rows.append(
            Notification(
                recipient=user,
                request=request,
                event=event,
                key=f"history:{entry.pk}",
                actor_id=entry.actor_id,
                context=context,
                digest=frequency == Frequency.DIGEST,
                created_at=entry.at,
            )
        )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # bulk_create with ignore_conflicts returns no ids: read back the ones to send now.
    return list(
        Notification.objects.filter(
            key=f"history:{entry.pk}", digest=False, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
