"""Prove that removal leaves nothing behind: compare stored content with the database.

    manage.py check_storage [--delete] [--min-age-minutes 60]

A stored file under ``deliveries/`` is *known* when a file row points at it (a removed
file's row stays until the worker purges it) or a preview part does, and *queued* when
it waits in the cleanup queue for the worker. Anything else is an *orphan*; --delete deletes the
orphans. Files younger than --min-age-minutes are left alone: a delivery stores its
bytes a moment before its row commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import Storage, default_storage
from django.core.management.base import BaseCommand, CommandParser
from django.db.models import QuerySet
from django.utils import timezone

from deliveries.files.storage import delete_stored
from deliveries.models import DeliveredFile, PreviewPart, StorageDeletion

PREFIX = "deliveries"
SHOWN = 20


def stored_paths(storage: Storage, top: str = PREFIX) -> Iterator[str]:
    try:
        folders, files = storage.listdir(top)
    except FileNotFoundError:
        return
    for name in files:
        yield f"{top}/{name}"
    for folder in folders:
        yield from stored_paths(storage, f"{top}/{folder}")


def _paths(queryset: QuerySet[Any, str]) -> set[str]:
    return {path for path in queryset.iterator(chunk_size=20_000) if path}


class Command(BaseCommand):
    help = "Compare stored content with the database; list (and --delete) orphaned files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--delete", action="store_true", help="delete orphaned files")
        parser.add_argument("--min-age-minutes", type=float, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        storage = default_storage
        known = _paths(DeliveredFile._base_manager.values_list("content", flat=True))
        previews = _paths(PreviewPart.objects.values_list("path", flat=True))
        queued = _paths(StorageDeletion.objects.values_list("path", flat=True))
        cutoff = timezone.now() - datetime.timedelta(minutes=options["min_age_minutes"])
        stored = set(stored_paths(storage))
        orphans = sorted(
            path
            for path in stored - known - previews - queued
            if options["min_age_minutes"] <= 0 or storage.get_modified_time(path) <= cutoff
        )
        self.stdout.write(
            f"{len(stored)} stored files; {len(known)} file rows; "
            f"{len(queued)} queued for the cleanup worker."
        )
        known |= previews
        missing = len(known - stored)
        if missing:
            self.stdout.write(f"{missing} file rows point at content that is not stored.")
        if not orphans:
            self.stdout.write("No orphaned stored files.")
            return
        for path in orphans[:SHOWN]:
            self.stdout.write(f"  orphan: {path}")
        if len(orphans) > SHOWN:
            self.stdout.write(f"  … and {len(orphans) - SHOWN} more")
        if options["delete"]:
            for path in orphans:
                delete_stored(storage, path)
            self.stdout.write(f"Deleted {len(orphans)} orphaned stored files.")
        else:
            self.stdout.write(f"{len(orphans)} orphaned stored files; --delete deletes them.")
