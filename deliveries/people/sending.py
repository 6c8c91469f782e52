"""Sending what Notification rows owe, in the worker (deliveries/tasks.py runs these).

Nobody is emailed twice for one event: a sender first claims its rows with one
conditional UPDATE (only rows unsent and unclaimed, or whose claim has lapsed), sends
outside any transaction (an SMTP exchange must not hold the database's write lock),
then marks them sent. Two workers given the same row: one claims it, the other finds
nothing to do. Only a worker that dies between the SMTP server's "250 OK" and the
mark can cause a second send, once its claim lapses (CLAIM_SECONDS).

A failed send is logged and retried later, each wait longer than the last, then
given up (the row keeps the last error for the studio admin)."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from .emails import digest_message, event_message
from .models import Notification

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 300
MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30
LAST_RETRY_SECONDS = 3600


def retry_delay(attempts: int) -> datetime.timedelta:
    """30 s, 2 min, 8 min, 32 min, then hourly: a server down for a minute or a night."""
    seconds = min(FIRST_RETRY_SECONDS * 4 ** (attempts - 1), LAST_RETRY_SECONDS)
    return datetime.timedelta(seconds=seconds)


def _claim(rows: QuerySet[Notification], now: datetime.datetime) -> uuid.UUID | None:
    token = uuid.uuid4()
    claimed = (
        rows.filter(sent_at__isnull=True, given_up_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim=token, claimed_until=now + datetime.timedelta(seconds=CLAIM_SECONDS))
    )
    return token if claimed else None


def _send_claimed(
    token: uuid.UUID, build: Callable[[list[Notification]], EmailMultiAlternatives]
) -> datetime.datetime | None:
    """Send the rows claimed with `token` as one email; when to try again, or None."""
    rows = list(
        Notification.objects.filter(claim=token)
        .select_related("recipient", "actor", "request__title")
        .order_by("created_at", "id")
    )
    claimed = Notification.objects.filter(claim=token)
    try:
        build(rows).send()
    except Exception as error:  # any failure of the SMTP exchange: retried
        attempts = (claimed.aggregate(most=Max("attempts"))["most"] or 0) + 1
        now = timezone.now()
        recipient = rows[0].recipient_id
        if attempts >= MAX_ATTEMPTS:
            logger.error(
                "Gave up emailing user %s (%s rows) after %s attempts: %s",
                recipient, len(rows), attempts, error,
            )  # fmt: skip
            claimed.update(
                attempts=attempts, last_error=str(error)[:2000], given_up_at=now, claimed_until=None
            )
            return None
        retry_at = now + retry_delay(attempts)
        logger.warning(
            "Emailing user %s failed (attempt %s), retrying at %s: %s",
            recipient, attempts, retry_at.isoformat(), error,
        )  # fmt: skip
        claimed.update(attempts=attempts, last_error=str(error)[:2000], claimed_until=None)
        return retry_at
    claimed.update(sent_at=timezone.now(), claimed_until=None, last_error="")
    return None


def send_notification(notification_id: int) -> datetime.datetime | None:
    """Send one immediate email; when to try again if it failed."""
    token = _claim(Notification.objects.filter(pk=notification_id, digest=False), timezone.now())
    if token is None:
        return None  # sent already, given up, or another worker has it
    return _send_claimed(token, lambda rows: event_message(rows[0]))


def digest_recipients(until: datetime.datetime) -> list[int]:
    """Who has digest items waiting from before `until`."""
    waiting = Notification.objects.filter(
        digest=True, sent_at__isnull=True, given_up_at__isnull=True, created_at__lte=until
    )
    return sorted(set(waiting.values_list("recipient", flat=True)))


def send_digest(user_id: int, until: datetime.datetime) -> datetime.datetime | None:
    """Send one person's digest of everything waiting from before `until`."""
    rows = Notification.objects.filter(recipient_id=user_id, digest=True, created_at__lte=until)
    token = _claim(rows, timezone.now())
    if token is None:
        return None
    recipient = get_user_model().objects.get(pk=user_id)
    return _send_claimed(token, lambda claimed: digest_message(recipient, claimed))
