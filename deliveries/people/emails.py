"""The emails themselves: one per event or one digest a day, each with a text and an
HTML part in its recipient's language, a link to the Details Page and a one-click
unsubscribe link (also in the List-Unsubscribe headers, RFC 2369 and RFC 8058)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..numbers import grouped
from ..partners.models import Preference
from ..requests.reasons import RedeliveryReason
from .events import Event
from .models import Notification
from .unsubscribe import DIGEST, token_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..requests.models import DeliveryRequest


def language_of(user: User) -> str:
    chosen = Preference.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen or settings.LANGUAGE_CODE


def absolute(path: str) -> str:
    return settings.PORTAL_SITE_URL.rstrip("/") + path


def person(user: User | None) -> str:
    if user is None:
        return _("The portal")
    return user.get_full_name() or user.get_username()


@dataclass
class Told:
    """One event as an email tells it (in the active language)."""

    headline: str
    details: list[str]
    quote: str  # a comment or note, shown as the person wrote it


def told(notification: Notification) -> Told:
    context: dict[str, Any] = notification.context
    request = notification.request
    who = person(notification.actor)
    event = notification.event
    if event == Event.REDELIVERY:
        codes = context.get("reasons", [])
        names = {r.code: r.localized_name for r in RedeliveryReason.objects.filter(code__in=codes)}
        details = [
            _("Reasons: %(reasons)s.")
            % {"reasons": ", ".join(names.get(code, code) for code in codes)}
        ]
        if context.get("cleared_count"):
            count = context["cleared_count"]
            details.append(
                ngettext("%(count)s file was cleared.", "%(count)s files were cleared.", count)
                % {"count": grouped(count)}
            )
        return Told(
            _("%(who)s asked for redelivery of %(request)s.") % {"who": who, "request": request},
            details,
            context.get("note", ""),
        )
    if event == Event.PROCESSED:
        blockers = context.get("blockers", 0)
        if blockers:
            verdict = ngettext(
                "%(count)s file has blockers.", "%(count)s files have blockers.", blockers
            ) % {"count": grouped(blockers)}
        elif context.get("delivery_blockers"):
            verdict = _("The delivery as a whole has blockers.")
        else:
            verdict = _("No blockers: ready for review.")
        counts = _("Files by their worst finding: Blocker %(b)s · Issue %(i)s · FYI %(f)s.") % {
            "b": grouped(blockers),
            "i": grouped(context.get("issues", 0)),
            "f": grouped(context.get("fyi", 0)),
        }
        return Told(
            _("Processing of %(request)s finished. %(verdict)s")
            % {"request": request, "verdict": verdict},
            [counts],
            "",
        )
    if event == Event.ACCEPTED:
        return Told(_("The studio accepted %(request)s.") % {"request": request}, [], "")
    if event == Event.COMMENT:
        return Told(
            _("%(who)s commented on %(request)s:") % {"who": who, "request": request},
            [],
            context.get("body", ""),
        )
    return Told(
        _("%(who)s submitted %(request)s; its files are processing.")
        % {"who": who, "request": request},
        [],
        "",
    )


def subject_of(notification: Notification) -> str:
    return {
        Event.REDELIVERY: _("Redelivery asked: %(request)s"),
        Event.PROCESSED: _("Processing finished: %(request)s"),
        Event.ACCEPTED: _("Accepted: %(request)s"),
        Event.COMMENT: _("New comment: %(request)s"),
        Event.SUBMITTED: _("Submitted: %(request)s"),
    }[Event(notification.event)] % {"request": notification.request}


def page_url(request: DeliveryRequest) -> str:
    return absolute(reverse("request-detail", args=[request.pk]))


def _message(
    recipient: User, subject: str, template: str, context: dict[str, Any], unsubscribe: str
) -> EmailMultiAlternatives:
    context = {
        **context,
        "recipient": person(recipient),
        "language": translation.get_language(),
        "unsubscribe_url": unsubscribe,
        "settings_url": absolute(reverse("notification-settings")),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"people/email/{template}.txt", context),
        to=[recipient.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            # Mail clients' one-click button POSTs to the link (RFC 8058).
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string(f"people/email/{template}.html", context), "text/html"
    )
    return message


def unsubscribe_url(user_id: int, event: str) -> str:
    return absolute(reverse("unsubscribe", args=[token_for(user_id, event)]))


def event_message(notification: Notification) -> EmailMultiAlternatives:
    recipient = notification.recipient
    with translation.override(language_of(recipient)):
        context = {
            "told": told(notification),
            "page_url": page_url(notification.request),
            "event_name": Event(notification.event).label,
        }
        return _message(
            recipient,
            subject_of(notification),
            "event",
            context,
            unsubscribe_url(recipient.pk, notification.event),
        )


def digest_message(
    recipient: User, notifications: Iterable[Notification]
) -> EmailMultiAlternatives:
    """One email listing what happened on each request, oldest first."""
    with translation.override(language_of(recipient)):
        by_request: dict[int, dict[str, Any]] = {}
        count = 0
        for notification in notifications:
            count += 1
            group = by_request.setdefault(
                notification.request_id,
                {
                    "request": str(notification.request),
                    "page_url": page_url(notification.request),
                    "items": [],
                },
            )
            when = timezone.localtime(notification.created_at)
            group["items"].append(
                {
                    "at": formats.date_format(when, "SHORT_DATETIME_FORMAT"),
                    "told": told(notification),
                }
            )
        subject = ngettext(
            "Your daily digest: %(count)s update", "Your daily digest: %(count)s updates", count
        ) % {"count": grouped(count)}
        return _message(
            recipient,
            subject,
            "digest",
            {"groups": list(by_request.values())},
            unsubscribe_url(recipient.pk, DIGEST),
        )
