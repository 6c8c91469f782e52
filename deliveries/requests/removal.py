"""Removing files at any scale, by one path: one file, a selection, select-all and the
redelivery "clear" all end in :func:`purge`, and stored content is always deleted by
the worker (deliveries/requests/cleanup.py).

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
  stored content in batches.

Every function here runs in the caller's transaction, with the request row locked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connections
from django.db.models import Max, QuerySet

from ..files.models import DeliveredFile, ManifestEntry, StorageDeletion
from ..files.waivers import Waiver
from ..previews.models import Preview, PreviewPart, SequencePreview
from . import counters
from .signals import files_removed

if TYPE_CHECKING:
    from .models import DeliveryRequest


def remove_all_files(request: DeliveryRequest) -> int:
    """Hide every file of the request now; the worker deletes them. Returns how many."""
    count = request.file_count
    if count == 0:
        return 0
    # Any file delivered later gets a higher id: the id sequence only grows, and
    # deliveries to this request wait for its row lock.
    through = DeliveredFile._base_manager.aggregate(last=Max("pk"))["last"] or 0
    counters.cleared(request, through, count)
    files_removed.send(sender=type(request), request_id=request.pk)
    return count


def remove_selected_files(request: DeliveryRequest, file_ids: list[int]) -> int:
    rows = DeliveredFile._base_manager.filter(
        request_id=request.pk, pk__in=file_ids, pk__gt=request.files_removed_through
    )
    count = purge(request, rows)
    if count:
        counters.removed(request, count)
        files_removed.send(sender=type(request), request_id=request.pk)
    return count


def free_name(request: DeliveryRequest, name: str) -> None:
    """A removed file waiting for the worker still holds its name in the unique
    (request, name) index: purge it now so the name can be delivered again."""
    if not request.files_to_purge:
        return
    rows = DeliveredFile._base_manager.filter(
        request_id=request.pk, name=name, pk__lte=request.files_removed_through
    )
    gone = purge(request, rows)
    if gone:
        counters.purged(request, gone)
        files_removed.send(sender=type(request), request_id=request.pk)


def purge(request: DeliveryRequest, rows: QuerySet[DeliveredFile]) -> int:
    """Delete these file rows of the request in five set-based statements and queue
    their stored content for the worker. `rows` must come from
    ``DeliveredFile._base_manager``.

    Every relation to DeliveredFile is handled here, in SQL: the checksum manifest
    (SET_NULL), its entries, the files' waivers and previews (CASCADE); the stored
    parts of the previews are queued with the files' content. A new foreign key to
    DeliveredFile must be handled here too (tests/test_scale.py checks the list).
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
            f"INSERT INTO {quote(StorageDeletion._meta.db_table)} "
            f"({quote('request_id')}, {quote('path')}) {select_sql}",
            params,
        )
        parts = PreviewPart.objects.using(db).filter(file__in=rows.values("pk"))
        parts_sql, parts_params = parts.values_list("request_id", "path").query.sql_with_params()
        cursor.execute(
            f"INSERT INTO {quote(StorageDeletion._meta.db_table)} "
            f"({quote('request_id')}, {quote('path')}) {parts_sql}",
            parts_params,
        )
    parts._raw_delete(db)
    Preview.objects.using(db).filter(file__in=rows.values("pk"))._raw_delete(db)
    # The sequence's strip names frames by id: made again at the next processing.
    SequencePreview.objects.using(db).filter(request_id=request.pk)._raw_delete(db)
    type(request)._default_manager.using(db).filter(
        pk=request.pk, checksum_manifest__in=rows.values("pk")
    ).update(checksum_manifest=None)
    ManifestEntry.objects.using(db).filter(manifest__in=rows.values("pk"))._raw_delete(db)
    Waiver.objects.using(db).filter(file__in=rows.values("pk"))._raw_delete(db)
    return rows._raw_delete(db)
