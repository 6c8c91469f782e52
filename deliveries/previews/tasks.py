"""The preview task. It lives here, not in deliveries/tasks.py with the others, because
the processing runner enqueues it, and deliveries/tasks.py imports the runner."""

from __future__ import annotations

from typing import Any

from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from ..files.models import UNPROCESSED, DeliveredFile
from . import making


@task()
def make_previews(request_id: int) -> dict[str, Any]:
    """Make the missing previews of a request's processed files. Safe to run any number
    of times: files that have one are skipped."""
    return making.make_for_request(request_id)


def resume_stalled_previews() -> list[int]:
    """Enqueue the previews of requests whose processed files still lack one and for
    which no preview task waits: django-tasks-db never reruns a dead worker's task."""
    waiting = set(
        DBTaskResult.objects.filter(
            task_path=make_previews.module_path, status=TaskResultStatus.READY
        ).values_list("args_kwargs__kwargs__request_id", flat=True)
    )
    lacking = (
        DeliveredFile.objects.filter(preview__isnull=True)
        .exclude(processing_status__in=UNPROCESSED)
        .order_by()
        .values_list("request_id", flat=True)
        .distinct()
    )
    resumed = [request_id for request_id in lacking if request_id not in waiting]
    for request_id in resumed:
        make_previews.enqueue(request_id=request_id)
    return resumed
