"""Removing files at any scale, by one path: one file, a selection, select-all and the
redelivery "clear" all end in :func:`purge`, and stored content is always deleted by
the worker.

How it stays fast at 250,000 files
----------------------------------
* A selection (the files a partner ticked) is purged in the partner's transaction:
  a fixed number of set-based statements whatever the count, never a row at a time
  in Python and never through Django's deletion collector (which loads every row to
  cascade and SET_NULL).
* *Every* file of a request (select-all, clear) goes in O(1): the request records the
  highest file id in the table (``files_removed_through``) and
  ``DeliveredFile.objects`` hides those rows from then on. The worker then purges the
  hidden rows in chunks, each its own short transaction. The answer to the partner
  does not wait for 250,000 DELETEs.
* :func:`purge` copies the rows' content paths into ``StorageDeletion`` with an
  INSERT … SELECT in the same transaction as the DELETE, and the worker deletes the
  stored content in batches (:func:`clean_storage`).

Why nothing is lost or orphaned when a worker dies
--------------------------------------------------
Hidden rows stay until a chunk's transaction deletes them *and* queues their paths;
a queued path leaves the queue only in the transaction after its content was deleted
(deleting twice is harmless). Each run first enqueues a deferred follow-up run while
work remains, so a worker killed half-way is finished by the next worker run.
``manage.py check_storage`` compares storage with the database to prove it.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from typing import TYPE_CHECKING, Any

from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connections, transaction
from django.db.models import Exists, F, Max, OuterRef, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from . import models as m
from . import page_cache

if TYPE_CHECKING:
    from .models import DeliveredFile, DeliveryRequest

logger = logging.getLogger(__name__)

TASK_PATH = "deliveries.tasks.clean_up_removed_files"
PURGE_CHUNK = 10_000
STORAGE_BATCH = 500


def retry_seconds() -> float:
    return float(os.environ.get("PORTAL_CLEANUP_RETRY_SECONDS", "60"))


# In the partner's transaction (the request row is locked) ------------------------------


def remove_all_files(request: DeliveryRequest) -> int:
    """Hide every file of the request now; the worker deletes them. Returns how many."""
    count = request.file_count
    if count == 0 and request.files.exists():
        count = request.files.count()  # a drifted counter never blocks a removal
    if count == 0:
        return 0
    # Any file delivered later gets a higher id: the id sequence only grows, and
    # deliveries to this request wait for its row lock.
    through = m.DeliveredFile._base_manager.aggregate(last=Max("pk"))["last"] or 0
    m.DeliveryRequest.objects.filter(pk=request.pk).update(
        file_count=0,
        files_removed_through=through,
        files_to_purge=F("files_to_purge") + count,
        checksum_manifest=None,
    )
    request.file_count = 0
    request.files_removed_through = through
    request.files_to_purge += count
    request.checksum_manifest = None
    _enqueue_cleanup_on_commit()
    return count


def remove_selected_files(request: DeliveryRequest, file_ids: list[int]) -> int:
    rows = m.DeliveredFile._base_manager.filter(
        request_id=request.pk, pk__in=file_ids, pk__gt=request.files_removed_through
    )
    count = purge(rows)
    if count:
        m.DeliveryRequest.objects.filter(pk=request.pk).update(
            file_count=Greatest(F("file_count") - count, 0)
        )
        request.file_count = max(request.file_count - count, 0)
        _enqueue_cleanup_on_commit()
    return count


def free_name(request: DeliveryRequest, name: str) -> None:
    """A removed file waiting for the worker still holds its name in the unique
    (request, name) index: purge it now so the name can be delivered again."""
    if not request.files_to_purge:
        return
    rows = m.DeliveredFile._base_manager.filter(
        request_id=request.pk, name=name, pk__lte=request.files_removed_through
    )
    gone = purge(rows)
    if gone:
        m.DeliveryRequest.objects.filter(pk=request.pk).update(
            files_to_purge=Greatest(F("files_to_purge") - gone, 0)
        )
        request.files_to_purge = max(request.files_to_purge - gone, 0)
        _enqueue_cleanup_on_commit()


def count_delivered(request: DeliveryRequest) -> None:
    m.DeliveryRequest.objects.filter(pk=request.pk).update(file_count=F("file_count") + 1)
    request.file_count += 1


def files_left_to_clean(request: DeliveryRequest) -> int:
    """Removed files whose rows or stored content the worker has still to delete."""
    return request.files_to_purge + m.StorageDeletion.objects.filter(request_id=request.pk).count()


# The one deletion path ---------------------------------------------------------------


def purge(rows: QuerySet[DeliveredFile]) -> int:
    """Delete these file rows in four set-based statements and queue their stored
    content for the worker. `rows` must come from ``DeliveredFile._base_manager``.

    Every relation to DeliveredFile is handled here, in SQL: the checksum manifest
    (SET_NULL) and its entries (CASCADE). A new foreign key to DeliveredFile must be
    handled here too (tests/test_scale.py checks the list).
    """
    rows = rows.order_by()
    db = rows.db
    connection = connections[db]
    quote = connection.ops.quote_name
    select_sql, params = (
        rows.exclude(content="").values_list("request_id", "content").query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(m.StorageDeletion._meta.db_table)} "
            f"({quote('request_id')}, {quote('path')}) {select_sql}",
            params,
        )
    # From the requests' side: few have a manifest, so a probe each beats reading
    # every id of the chunk.
    m.DeliveryRequest.objects.using(db).filter(checksum_manifest__isnull=False).filter(
        Exists(rows.filter(pk=OuterRef("checksum_manifest_id")))
    ).update(checksum_manifest=None)
    m.ManifestEntry.objects.using(db).filter(manifest__in=rows.values("pk"))._raw_delete(db)
    return rows._raw_delete(db)


# In the worker -----------------------------------------------------------------------


def purge_removed_files(chunk: int = PURGE_CHUNK) -> int:
    """Delete the rows of files hidden by remove_all_files, a chunk per transaction."""
    purged = 0
    waiting = m.DeliveryRequest.objects.filter(files_to_purge__gt=0).values_list("pk", flat=True)
    for request_id in list(waiting):
        while True:
            with transaction.atomic():
                # Serialized with deliveries to the request, which may purge a name.
                through = (
                    m.DeliveryRequest.objects.select_for_update()
                    .filter(pk=request_id)
                    .values_list("files_removed_through", flat=True)
                    .first()
                )
                if through is None:
                    break
                hidden = m.DeliveredFile._base_manager.filter(
                    request_id=request_id, pk__lte=through
                )
                edge = list(hidden.order_by("pk").values_list("pk", flat=True)[chunk - 1 : chunk])
                if edge:
                    hidden = hidden.filter(pk__lte=edge[0])
                gone = purge(hidden)
                left = Greatest(F("files_to_purge") - gone, 0) if edge else Value(0)
                m.DeliveryRequest.objects.filter(pk=request_id).update(files_to_purge=left)
            purged += gone
            if not edge:
                break
    return purged


def delete_stored(storage: Storage, path: str) -> None:
    storage.delete(path)
    if isinstance(storage, FileSystemStorage) and path.count("/") >= 2:
        # storage_key() gives each file its own folder; leave no empty ones behind.
        with contextlib.suppress(OSError):  # not empty: other files share the folder
            os.rmdir(os.path.dirname(storage.path(path)))


def clean_storage(batch: int = STORAGE_BATCH, max_batches: int | None = None) -> int:
    """Delete queued stored content, a batch per transaction. Returns how many."""
    connection = connections[m.StorageDeletion.objects.db]
    skip_locked = connection.features.has_select_for_update_skip_locked
    deleted = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            queue = m.StorageDeletion.objects.order_by("pk")
            if skip_locked:
                # Workers on several machines share the queue without waiting.
                queue = queue.select_for_update(skip_locked=True)
            rows = list(queue.values_list("pk", "request_id", "path")[:batch])
            if not rows:
                break
            for _pk, _request_id, path in rows:
                delete_stored(default_storage, path)
            m.StorageDeletion.objects.filter(pk__in=[pk for pk, _r, _path in rows])._raw_delete(
                connection.alias
            )
            # The pages' cleanup banners count what is left.
            page_cache.bump({request_id for _pk, request_id, _path in rows})
        deleted += len(rows)
        batches += 1
    return deleted


def work_left() -> bool:
    return (
        m.DeliveryRequest.objects.filter(files_to_purge__gt=0).exists()
        or m.StorageDeletion.objects.exists()
    )


def schedule_follow_up() -> None:
    """Enqueue a deferred run unless one waits already: if this worker dies, the next
    worker run finishes the work (django-tasks-db never reruns a dead worker's task)."""
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import clean_up_removed_files

    waiting = DBTaskResult.objects.filter(task_path=TASK_PATH, status=TaskResultStatus.READY)
    if waiting.exists():
        return
    run_after = timezone.now() + datetime.timedelta(seconds=retry_seconds())
    clean_up_removed_files.using(run_after=run_after).enqueue()


def run_cleanup() -> dict[str, Any]:
    if not work_left():
        return {"purged_rows": 0, "deleted_content": 0}
    schedule_follow_up()
    purged = purge_removed_files()
    deleted = clean_storage()
    if purged or deleted:
        logger.info("cleanup: %d file rows purged, %d stored files deleted", purged, deleted)
    return {"purged_rows": purged, "deleted_content": deleted}


def _enqueue_cleanup_on_commit() -> None:
    def enqueue() -> None:
        from .tasks import clean_up_removed_files

        clean_up_removed_files.enqueue()

    transaction.on_commit(enqueue)
