"""Cleaning up after uploads that were never finished."""

from __future__ import annotations

import datetime
import time

from django.conf import settings

from . import staging
from .models import Upload


def delete_expired(*, now: datetime.datetime) -> int:
    """Delete expired uploads and staging folders no upload owns; return how many
    uploads went. An upload receiving bytes right now (its lock held) is left alone."""
    removed = 0
    for upload in Upload.objects.filter(expires_at__lte=now).iterator():
        try:
            with staging.locked(upload.pk):
                staging.remove(upload.pk)
                upload.delete()
        except staging.UploadLocked:
            continue
        except staging.UploadGone:
            upload.delete()
        removed += 1
    _delete_orphans(now)
    return removed


def _delete_orphans(now: datetime.datetime) -> None:
    """Folders whose row is gone (its request was deleted, or a crash came between the
    two deletions), once they are older than the expiry period."""
    root = staging.staging_root()
    if not root.is_dir():
        return
    known = {str(pk) for pk in Upload.objects.values_list("pk", flat=True)}
    cutoff = now.timestamp() - settings.UPLOAD_EXPIRY.total_seconds()
    for path in root.iterdir():
        if not path.is_dir() or path.name in known:
            continue
        try:
            touched = max(p.stat().st_mtime for p in [path, *path.iterdir()])
        except (FileNotFoundError, ValueError):
            continue
        if touched < min(cutoff, time.time()):
            try:
                with staging.locked(path.name):
                    staging.remove(path.name)
            except (staging.UploadLocked, staging.UploadGone):
                continue
