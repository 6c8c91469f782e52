"""Delete uploads left unfinished past their expiry, and their staging data.

Run it from cron or a scheduler (hourly is plenty), for example:

    .venv/bin/python manage.py expire_uploads

An upload's expiry is PORTAL_UPLOAD_EXPIRY_HOURS (24 by default) after its last bytes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from deliveries.uploads import expiry


class Command(BaseCommand):
    help = "Delete expired unfinished uploads and their staging data."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = expiry.delete_expired(now=timezone.now())
        self.stdout.write(f"Deleted {removed} expired upload(s).")
