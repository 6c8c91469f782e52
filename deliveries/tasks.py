"""Background tasks, run by ``manage.py db_worker`` (django-tasks, database backend),
and what starts them: the one module where the request side reaches the worker's code.

The models never import this module. They announce what happened (django-fsm's
``post_transition``, ``deliveries.requests.signals``) and the receivers below enqueue
the work once the transaction that did it commits: a worker never sees a request
before its change is committed, and a refused or rolled-back change enqueues nothing.
"""

from __future__ import annotations

import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django_fsm.signals import post_transition
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from .people import notify, sending
from .processing import runner
from .requests import cleanup
from .requests.history import HistoryEntry
from .requests.models import DeliveryRequest, Status
from .requests.signals import files_removed


@task()
def process_request(request_id: int, rerun: bool = False) -> dict[str, Any]:
    """Process a Submitted request's files and finish it. Safe to run any number of
    times: see deliveries/processing/runner.py for retries after a worker dies."""
    return runner.process_request(
        request_id, rerun=rerun, come_back_later=partial(_watchdog, request_id)
    )


def _watchdog(request_id: int, *, rerun: bool = False) -> None:
    run_after = timezone.now() + datetime.timedelta(seconds=runner.lease_seconds())
    kwargs: dict[str, Any] = {"request_id": request_id, **({"rerun": True} if rerun else {})}
    process_request.using(run_after=run_after).enqueue(**kwargs)


@task()
def clean_up_removed_files() -> dict[str, Any]:
    """Delete the rows and stored content of removed files. Safe to run any number of
    times, on any number of workers: see deliveries/requests/cleanup.py."""
    return cleanup.run_cleanup(come_back_later=_cleanup_follow_up)


def _cleanup_follow_up() -> None:
    """Enqueue a deferred run unless one waits already: if this worker dies, the next
    worker run finishes the work (django-tasks-db never reruns a dead worker's task)."""
    waiting = DBTaskResult.objects.filter(
        task_path=clean_up_removed_files.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return
    run_after = timezone.now() + datetime.timedelta(seconds=cleanup.retry_seconds())
    clean_up_removed_files.using(run_after=run_after).enqueue()


def resume_stalled() -> list[int]:
    """Enqueue processing for Submitted requests nobody is working on or waiting for."""
    resumed = []
    for request in DeliveryRequest.objects.filter(status=Status.SUBMITTED).only("pk", "status"):
        if runner.waiting_or_held(request):
            continue
        process_request.enqueue(request_id=request.pk)
        resumed.append(request.pk)
    return resumed


@receiver(post_transition, sender=DeliveryRequest)
def _process_when_submitted(sender: type, instance: DeliveryRequest, target: str, **_: Any) -> None:
    if target == Status.SUBMITTED:
        request_id = instance.pk
        transaction.on_commit(lambda: process_request.enqueue(request_id=request_id))


@receiver(files_removed)
def _clean_up_when_removed(sender: type, **_: Any) -> None:
    transaction.on_commit(clean_up_removed_files.enqueue)


# Email ------------------------------------------------------------------------------


@task()
def send_notification(notification_id: int) -> str:
    """Send one email now; a failed send comes back later (deliveries/people/sending.py)."""
    retry_at = sending.send_notification(notification_id)
    if retry_at is not None:
        send_notification.using(run_after=retry_at).enqueue(notification_id=notification_id)
        return f"retry at {retry_at.isoformat()}"
    return "done"


@task()
def send_digest(user_id: int, until: str) -> str:
    """One person's daily digest of what happened up to `until` (an ISO time)."""
    retry_at = sending.send_digest(user_id, datetime.datetime.fromisoformat(until))
    if retry_at is not None:
        send_digest.using(run_after=retry_at).enqueue(user_id=user_id, until=until)
        return f"retry at {retry_at.isoformat()}"
    return "done"


def enqueue_digests(now: datetime.datetime) -> list[int]:
    """A digest task for each person with digest items from before `now` (run daily by
    ``manage.py send_digests``, from cron)."""
    recipients = sending.digest_recipients(now)
    for user_id in recipients:
        send_digest.enqueue(user_id=user_id, until=now.isoformat())
    return recipients


@receiver(post_save, sender=HistoryEntry)
def _notify(sender: type, instance: HistoryEntry, created: bool, **_: Any) -> None:
    # Every status change and comment is a history entry: the one place to hear of them.
    # The rows are written with the change; the emails go once it commits.
    if not created:
        return
    for notification_id in notify.record(instance):
        transaction.on_commit(partial(send_notification.enqueue, notification_id=notification_id))
