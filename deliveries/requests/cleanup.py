"""The worker's half of removal: delete the rows of hidden files, then the stored
content of every removed file (deliveries/requests/removal.py is the partner's half).

Why nothing is lost or orphaned when a worker dies
--------------------------------------------------
Hidden rows stay until a chunk's transaction deletes them *and* queues their paths;
a queued path leaves the queue only in the transaction after its content was deleted
(deleting twice is harmless). Each run first enqueues a deferred follow-up run while
work remains (deliveries/tasks.py), so a worker killed half-way is finished by the
next worker run. ``manage.py check_storage`` compares storage with the database to
prove it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from django.db import transaction

from ..files.models import DeliveredFile, StorageDeletion
from ..files.storage import clean_storage
from . import counters
from .models import DeliveryRequest
from .removal import purge

logger = logging.getLogger(__name__)

PURGE_CHUNK = 10_000


def purge_removed_files(chunk: int = PURGE_CHUNK) -> int:
    """Delete the rows of files hidden by remove_all_files, a chunk per transaction."""
    purged = 0
    waiting = DeliveryRequest.objects.filter(files_to_purge__gt=0).values_list("pk", flat=True)
    for request_id in list(waiting):
        while True:
            with transaction.atomic():
                # Serialized with deliveries to the request, which may purge a name.
                request = (
                    DeliveryRequest.objects.select_for_update()
                    .only("pk", "files_removed_through", "files_to_purge")
                    .filter(pk=request_id)
                    .first()
                )
                if request is None:
                    break
                hidden = DeliveredFile._base_manager.filter(
                    request_id=request_id, pk__lte=request.files_removed_through
                )
                edge = list(hidden.order_by("pk").values_list("pk", flat=True)[chunk - 1 : chunk])
                if edge:
                    hidden = hidden.filter(pk__lte=edge[0])
                gone = purge(request, hidden)
                counters.purged(request, gone, all_of_them=not edge)
            purged += gone
            if not edge:
                break
    return purged


def work_left() -> bool:
    return (
        DeliveryRequest.objects.filter(files_to_purge__gt=0).exists()
        or StorageDeletion.objects.exists()
    )


def run_cleanup(come_back_later: Callable[[], None]) -> dict[str, Any]:
    """Purge hidden rows and delete stored content. `come_back_later` enqueues a
    deferred run, called first while there is work, in case this worker dies."""
    if not work_left():
        return {"purged_rows": 0, "deleted_content": 0}
    come_back_later()
    purged = purge_removed_files()
    deleted = clean_storage()
    if purged or deleted:
        logger.info("cleanup: %d file rows purged, %d stored files deleted", purged, deleted)
    return {"purged_rows": purged, "deleted_content": deleted}


def retry_seconds() -> float:
    """How long after a run its deferred follow-up runs (in case this worker dies)."""
    return float(os.environ.get("PORTAL_CLEANUP_RETRY_SECONDS", "60"))
