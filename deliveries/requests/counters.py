"""The counters a request keeps about its files, changed here and nowhere else: one
function per event, each updating the row (in the caller's transaction) and the
instance in step.

A COUNT(*) over a 250,000-file request would cost more than the rest of the Details
Page, so the page and the Submitted banner read these instead:

* ``file_count``: files delivered and not removed;
* ``files_removed_through``: removing every file hides those with an id up to this
  one at once; ``files_to_purge``: how many of those the worker has still to delete;
* ``files_processed`` / ``files_failed``: progress of the current processing run;
  a file fails on a blocker, so ``files_failed`` is also the verdict's "files with
  blockers", and ``files_with_issues`` / ``files_with_fyi`` count the passed files by
  their worst finding (deliveries/processing/codes.py).

Each function takes the request it counts for; the model is its class, so this module
needs no import of the model module, which calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import F, QuerySet
from django.db.models.functions import Greatest

if TYPE_CHECKING:
    from .models import DeliveryRequest


def _row(request: DeliveryRequest) -> QuerySet[Any]:
    return type(request)._default_manager.filter(pk=request.pk)


def delivered(request: DeliveryRequest, count: int = 1) -> None:
    _row(request).update(file_count=F("file_count") + count)
    request.file_count += count


def removed(request: DeliveryRequest, count: int) -> None:
    """`count` files were deleted from the request's visible files."""
    _row(request).update(file_count=Greatest(F("file_count") - count, 0))
    request.file_count = max(request.file_count - count, 0)


def cleared(request: DeliveryRequest, through: int, count: int) -> None:
    """Every file, `count` of them, is hidden: those with an id up to `through`. The
    manifest goes with them."""
    _row(request).update(
        file_count=0,
        files_removed_through=through,
        files_to_purge=F("files_to_purge") + count,
        checksum_manifest=None,
    )
    request.file_count = 0
    request.files_removed_through = through
    request.files_to_purge += count
    request.checksum_manifest = None


def purged(request: DeliveryRequest, count: int, *, all_of_them: bool = False) -> None:
    """`count` hidden rows were deleted (`all_of_them`: none is left)."""
    left = 0 if all_of_them else Greatest(F("files_to_purge") - count, 0)
    _row(request).update(files_to_purge=left)
    request.files_to_purge = 0 if all_of_them else max(request.files_to_purge - count, 0)


def processing_started(
    request: DeliveryRequest, processed: int = 0, failed: int = 0, issues: int = 0, fyi: int = 0
) -> None:
    """A processing run starts with these files already processed (a submit keeps the
    results of files it does not redo; a rerun starts from none), `issues` and `fyi`
    of them passed with that worst finding."""
    _row(request).update(
        files_processed=processed,
        files_failed=failed,
        files_with_issues=issues,
        files_with_fyi=fyi,
    )
    request.files_processed, request.files_failed = processed, failed
    request.files_with_issues, request.files_with_fyi = issues, fyi


def processed(request: DeliveryRequest, *, worst_severity: str) -> None:
    """One file's result, whose worst finding has `worst_severity` ('' for none; a
    blocker fails the file), is counted. The caller stores the result in the same
    transaction and rolls both back should the file no longer be its to store."""
    _row(request).update(
        files_processed=F("files_processed") + 1,
        files_failed=F("files_failed") + int(worst_severity == "blocker"),
        files_with_issues=F("files_with_issues") + int(worst_severity == "issue"),
        files_with_fyi=F("files_with_fyi") + int(worst_severity == "fyi"),
    )


_BY_SEVERITY = {"blocker": "files_failed", "issue": "files_with_issues", "fyi": "files_with_fyi"}


def waived(request: DeliveryRequest, *, was: str, now: str) -> None:
    """A studio contact waived findings of one file, whose worst finding not waived
    went from `was` to `now` ('' for none): it leaves the one count for the other."""
    if was == now:
        return
    changes: dict[str, Any] = {}
    if was in _BY_SEVERITY:
        changes[_BY_SEVERITY[was]] = Greatest(F(_BY_SEVERITY[was]) - 1, 0)
        setattr(request, _BY_SEVERITY[was], max(getattr(request, _BY_SEVERITY[was]) - 1, 0))
    if now in _BY_SEVERITY:
        changes[_BY_SEVERITY[now]] = F(_BY_SEVERITY[now]) + 1
        setattr(request, _BY_SEVERITY[now], getattr(request, _BY_SEVERITY[now]) + 1)
    _row(request).update(**changes)
