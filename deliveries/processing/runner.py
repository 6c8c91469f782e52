"""Running processing for a request: claiming files, leases, recovery after a crash,
finishing the request, and the request's place in the queue.

How nothing is lost when a worker dies (SIGKILL, OOM, a lost machine)
------------------------------------------------------------------------
django-tasks-db never re-runs a task whose worker died: its row stays RUNNING. So the
work, not the task, carries the state:

* Each file is claimed with a conditional UPDATE (pending → processing) that stores a
  *lease* in its metadata: a random token and an expiry time. The worker renews the
  lease while it reads a long file. Its result is stored only if it still holds the
  lease, with another conditional UPDATE. Every step is its own short transaction, so
  the Details Page sees each file change.
* Every run of the task first enqueues a *watchdog*: the same task, deferred by one
  lease period. When it runs and the request is done, it does nothing. When a live
  worker still holds a lease on one of the request's files, it defers itself again.
  Otherwise the worker that was processing is gone: the watchdog returns the files
  whose lease expired to pending and processes what is left, so the next worker
  finishes the request.
* ``manage.py resume_processing`` enqueues processing for every Submitted request
  that has neither a live lease nor a waiting task: for a database restored from a
  backup, a task row pruned by hand, or a worker killed in the milliseconds between
  claiming its task and enqueuing the watchdog. ``make run`` calls it before it starts
  the worker.

Processing is idempotent: files already passed or failed are skipped, so a second run,
a watchdog or two workers on one request redo nothing and finish the request once.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop
from django_tasks_db.models import DBTaskResult

from ..files.models import DeliveredFile, ProcessingStatus
from ..files.waivers import Waiver
from ..previews.tasks import make_previews
from ..requests import counters
from ..requests.models import ActionRefused, DeliveryRequest, Status
from ..requests.waivers import effective_worst, marked, status_for
from . import sequence_checks
from .inspection import examine
from .result import FileResult, Finding

logger = logging.getLogger(__name__)

TASK_PATH = "deliveries.tasks.process_request"
CLAIM_BATCH = 200


def lease_seconds() -> float:
    return float(os.environ.get("PORTAL_PROCESSING_LEASE_SECONDS", "120"))


def _one_file(file_id: int) -> QuerySet[DeliveredFile]:
    """One file row for a conditional UPDATE (claim, renew, store, release).

    Through the base manager, so the statement is a plain ``UPDATE … WHERE id = …
    AND <conditions>``: the visible-files manager's join makes Django write
    ``WHERE id IN (SELECT … JOIN …)``, and PostgreSQL does not re-check such a
    subquery against the row another worker just changed, so two workers could both
    take or both store the same file.
    """
    return DeliveredFile._base_manager.filter(pk=file_id)


class LeaseLost(Exception):
    """Another worker took the file over: our lease expired while we worked on it."""


@dataclass
class Lease:
    file_id: int
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    renewed_at: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict[str, Any]:
        return {"lease": {"token": self.token, "expires": time.time() + lease_seconds()}}

    def tick(self) -> None:
        """Renew the lease now and then while reading a long file."""
        if time.monotonic() - self.renewed_at < lease_seconds() / 3:
            return
        renewed = (
            _one_file(self.file_id)
            .filter(
                processing_status=ProcessingStatus.PROCESSING,
                metadata__lease__token=self.token,
            )
            .update(metadata=self.as_json())
        )
        if not renewed:
            raise LeaseLost(self.file_id)
        self.renewed_at = time.monotonic()


def _lease_is_live(metadata: Any, now: float) -> bool:
    lease = metadata.get("lease") if isinstance(metadata, dict) else None
    return bool(lease and float(lease.get("expires", 0)) > now)


def live_leases(request: DeliveryRequest) -> int:
    """How many of the request's files a live worker holds now (a dead worker's file
    stays "processing" until it is released, and does not count)."""
    now = time.time()
    # Ids first, from the (request, processing_status) index alone: asked for metadata
    # at once, SQLite walked all of a 250,000-file request's rows (50 ms a banner).
    # The removed files' edge as a constant: no join with the request row.
    held = DeliveredFile._base_manager.filter(
        request_id=request.pk,
        pk__gt=request.files_removed_through,
        processing_status=ProcessingStatus.PROCESSING,
    )
    ids = list(held.order_by().values_list("pk", flat=True))
    if not ids:
        return 0
    leases = DeliveredFile.objects.filter(pk__in=ids).values_list("metadata", flat=True)
    return sum(_lease_is_live(m, now) for m in leases)


def held_by_live_worker(request: DeliveryRequest) -> bool:
    return live_leases(request) > 0


def release_expired(request: DeliveryRequest) -> int:
    """Files whose worker died mid-file go back to pending. Returns how many."""
    now = time.time()
    released = 0
    processing = request.files.filter(processing_status=ProcessingStatus.PROCESSING)
    for pk, metadata in processing.values_list("pk", "metadata"):
        if _lease_is_live(metadata, now):
            continue
        stale = _one_file(pk).filter(processing_status=ProcessingStatus.PROCESSING)
        token = (metadata or {}).get("lease", {}).get("token") if metadata else None
        if token:
            stale = stale.filter(metadata__lease__token=token)
        released += stale.update(processing_status=ProcessingStatus.PENDING, metadata={})
    if released:
        logger.warning("request %s: %d file(s) left by a dead worker redone", request.pk, released)
    return released


def _claim(file_id: int) -> Lease | None:
    lease = Lease(file_id)
    # Only while the request is Submitted: a worker that stalled past its lease may
    # still be looping after another finished the request, and must not take files
    # delivered since (a redelivery's new files wait for the partner's submit).
    claimed = (
        _one_file(file_id)
        .filter(
            Exists(
                DeliveryRequest.objects.filter(pk=OuterRef("request_id"), status=Status.SUBMITTED)
            ),
            processing_status=ProcessingStatus.PENDING,
        )
        .update(
            processing_status=ProcessingStatus.PROCESSING,
            metadata=lease.as_json(),
            errors=[],
            processed_at=None,
        )
    )
    return lease if claimed else None


def _pending_ids(request: DeliveryRequest) -> Iterator[int]:
    """Pending file ids in batches by keyset, so 250,000 files never load at once."""
    last = 0
    while True:
        batch = list(
            request.files.filter(processing_status=ProcessingStatus.PENDING, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:CLAIM_BATCH]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1]


def _store(request: DeliveryRequest, lease: Lease, result: FileResult) -> bool:
    still_ours = _one_file(lease.file_id).filter(
        processing_status=ProcessingStatus.PROCESSING, metadata__lease__token=lease.token
    )
    # Processed again (a rerun), a file keeps the waivers of the findings it still has:
    # the studio let them stand, and the bytes are the same. (No waiver is given while
    # the request is being processed: reading them before the lock is safe.)
    errors = result.stored_errors()
    if errors:
        waivers = dict(Waiver.objects.filter(file_id=lease.file_id).values_list("code", "pk"))
        errors = marked(errors, waivers)
    worst = effective_worst(errors)
    with transaction.atomic():
        # The request row first, then the file: the order in which a rerun and every
        # partner action lock them. The other order could deadlock with a rerun.
        counters.processed(request, worst_severity=worst)
        stored = still_ours.update(
            processing_status=status_for(worst),
            processed_at=timezone.now(),
            metadata=result.metadata,
            errors=errors,
            worst_severity=worst,
            md5=result.md5,
            xxh64=result.xxh64,
        )
        if not stored:
            # Released to another worker meanwhile: neither the count nor the result
            # is ours to keep.
            transaction.set_rollback(True)
    return bool(stored)


def process_file(request: DeliveryRequest, lease: Lease) -> bool:
    """Process one claimed file. A broken file, or a bug met on one, fails that file
    and never the worker. Returns whether the result was stored."""
    delivered = DeliveredFile.objects.filter(pk=lease.file_id).first()
    if delivered is None:
        return False
    try:
        result = examine(delivered, request, tick=lease.tick)
    except LeaseLost:
        logger.warning("file %s was taken over by another worker", lease.file_id)
        return False
    except Exception:
        logger.exception("processing file %s (%s) failed", delivered.pk, delivered.name)
        result = FileResult(
            md5=delivered.md5,
            xxh64=delivered.xxh64,
            errors=[
                Finding(
                    "PROCESSING-InternalError",
                    gettext_noop(
                        "%(name)s could not be processed because of an error in the portal. "
                        "The studio has been notified; no action is needed from you."
                    ),
                    {"name": delivered.name},
                )
            ],
        )
    return _store(request, lease, result)


def finish_if_done(request: DeliveryRequest) -> bool:
    if not request.all_files_processed():
        return False
    findings = [finding.as_json() for finding in sequence_checks.check(request)]
    try:
        request.act(request.finish_processing, by=None, findings=findings)
    except ActionRefused:
        return False  # another worker finished it, or the state moved on
    return True


def process_request(
    request_id: int, *, rerun: bool = False, come_back_later: Callable[..., None]
) -> dict[str, Any]:
    """Process every unprocessed file of a Submitted request, then finish it.

    `come_back_later(rerun=…)` enqueues this again, deferred by one lease period: the
    watchdog (deliveries/tasks.py owns the task)."""
    request = (
        DeliveryRequest.objects.select_related("checksum_manifest", "spec")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.status != Status.SUBMITTED:
        return {"request": request_id, "skipped": "not submitted"}
    if held_by_live_worker(request):
        # A worker is on it; come back later in case it dies. A rerun waits too: its
        # reset must not race the results that worker is storing.
        come_back_later(rerun=rerun)
        return {"request": request_id, "skipped": "another worker is processing it"}
    if rerun:
        with transaction.atomic():
            # The request row first: its lock holds back any result still being stored,
            # which would otherwise count before the reset and be wiped by it.
            counters.processing_started(request)
            request.files.filter(
                processing_status__in=[ProcessingStatus.PASSED, ProcessingStatus.FAILED]
            ).update(processing_status=ProcessingStatus.PENDING)
    release_expired(request)
    if request.files.filter(processing_status=ProcessingStatus.PENDING).exists():
        come_back_later()
    processed = 0
    for file_id in _pending_ids(request):
        lease = _claim(file_id)
        if lease is not None and process_file(request, lease):
            processed += 1
    finished = finish_if_done(request)
    if processed or finished:
        # Previews after the results: the request is Processed without waiting for them.
        make_previews.enqueue(request_id=request_id)
    return {"request": request_id, "processed": processed, "finished": finished}


def _ready_tasks() -> QuerySet[DBTaskResult]:
    return DBTaskResult.objects.ready().filter(task_path=TASK_PATH)


def place_in_queue(request: DeliveryRequest) -> int | None:
    """n when n-1 tasks wait ahead of the request's in the queue, None when none of
    its tasks waits (the caller knows no worker holds it)."""
    mine = (
        _ready_tasks()
        .filter(args_kwargs__kwargs__request_id=request.pk)
        .order_by(*(DBTaskResult._meta.ordering or ()))
        .first()
    )
    if mine is None:
        return None
    ahead = (
        DBTaskResult.objects.ready()
        .filter(queue_name=mine.queue_name, backend_name=mine.backend_name)
        .filter(
            Q(priority__gt=mine.priority)
            | Q(priority=mine.priority, run_after__lt=mine.run_after)
            | Q(priority=mine.priority, run_after=mine.run_after, enqueued_at__lt=mine.enqueued_at)
        )
        .count()
    )
    return ahead + 1


def waiting_or_held(request: DeliveryRequest) -> bool:
    """Whether a task waits for the request or a live worker holds one of its files."""
    waiting = _ready_tasks().filter(args_kwargs__kwargs__request_id=request.pk).exists()
    return waiting or held_by_live_worker(request)
