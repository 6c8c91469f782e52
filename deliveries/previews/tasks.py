"""The preview task. It lives here, not in deliveries/tasks.py with the others, because
the processing runner enqueues it, and deliveries/tasks.py imports the runner."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from . import making


@task()
def make_previews(request_id: int) -> dict[str, Any]:
    """Make the missing previews of a request's processed files. Safe to run any number
    of times: files that have one are skipped."""
    return making.make_for_request(request_id)
