"""Deleting stored content: the queue of paths whose file rows are gone
(``StorageDeletion``), drained by the worker in batches."""

from __future__ import annotations

import contextlib
import os

from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connections, transaction

from .models import StorageDeletion

STORAGE_BATCH = 500


def delete_stored(storage: Storage, path: str) -> None:
    storage.delete(path)
    if isinstance(storage, FileSystemStorage) and path.count("/") >= 2:
        # storage_key() gives each file its own folder; leave no empty ones behind.
        with contextlib.suppress(OSError):  # not empty: other files share the folder
            os.rmdir(os.path.dirname(storage.path(path)))


def clean_storage(batch: int = STORAGE_BATCH, max_batches: int | None = None) -> int:
    """Delete queued stored content, a batch per transaction. Returns how many."""
    connection = connections[StorageDeletion.objects.db]
    skip_locked = connection.features.has_select_for_update_skip_locked
    deleted = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            queue = StorageDeletion.objects.order_by("pk")
            if skip_locked:
                # Workers on several machines share the queue without waiting.
                queue = queue.select_for_update(skip_locked=True)
            rows = list(queue.values_list("pk", "path")[:batch])
            if not rows:
                break
            for _pk, path in rows:
                delete_stored(default_storage, path)
            StorageDeletion.objects.filter(pk__in=[pk for pk, _path in rows])._raw_delete(
                connection.alias
            )
        deleted += len(rows)
        batches += 1
    return deleted


def left_to_delete(request_id: int) -> int:
    return StorageDeletion.objects.filter(request_id=request_id).count()
