"""Background tasks, run by ``manage.py db_worker`` (django-tasks, database backend)."""

from typing import Any

from django_tasks import task


@task()
def process_request(request_id: int, rerun: bool = False) -> dict[str, Any]:
    """Process a Submitted request's files and finish it. Safe to run any number of
    times: see deliveries.processing.runner for retries after a worker dies."""
    from .processing import runner

    return runner.process_request(request_id, rerun=rerun)


@task()
def clean_up_removed_files() -> dict[str, Any]:
    """Delete the rows and stored content of removed files. Safe to run any number of
    times, on any number of workers: see deliveries.removal."""
    from . import removal

    return removal.run_cleanup()
