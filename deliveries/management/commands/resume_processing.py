"""Enqueue processing for Submitted requests that no worker is processing or waiting for.

Run it before starting workers (``make run`` does). It is safe at any time: a request
already queued or held by a live worker is left alone, and processing is idempotent.
It also enqueues the previews of processed files that still have none.
"""

from typing import Any

from django.core.management.base import BaseCommand

from deliveries.previews.tasks import resume_stalled_previews
from deliveries.tasks import resume_stalled


class Command(BaseCommand):
    help = "Re-enqueue processing for Submitted requests that nothing is processing."

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = resume_stalled()
        self.stdout.write(f"Resumed processing of {len(resumed)} request(s).")
        previews = resume_stalled_previews()
        self.stdout.write(f"Resumed the previews of {len(previews)} request(s).")
