"""Queue each person's daily digest for the worker: run once a day by cron (README,
"Running in production"). The portal has no scheduler of its own: django-tasks has no recurring
tasks, and a cron line is one thing an operator already knows how to watch."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from deliveries.tasks import enqueue_digests


class Command(BaseCommand):
    help = "Queue a digest email for everyone with digest items waiting (run daily by cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        recipients = enqueue_digests(timezone.now())
        self.stdout.write(f"Queued {len(recipients)} digest(s); the worker sends them.")
