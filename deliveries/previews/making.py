"""Making the previews of a request's files, after their results are stored.

Run by the ``make_previews`` task (``tasks.py``), which the processing runner enqueues
once a run has stored results: the request reaches Processed without waiting for any
proxy. (The demo enqueues it for its Open requests too: it previews any stored file.)
Files are taken by keyset, those without a preview yet, so a second run (or a run
after a worker died) makes only what is missing. A file that can't be previewed
(broken, too large) gets a preview of kind "none" and is not tried again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.core.files.storage import default_storage

from ..files.models import DeliveredFile
from ..processing import sequence_checks
from ..processing.inspection import kind_of
from ..requests.models import DeliveryRequest
from ..requests.states import AssetType
from . import media, pictures, text
from .models import SequencePreview
from .storage import Made, record

logger = logging.getLogger(__name__)

BATCH = 200
STRIP_FRAMES = 10


def make_for_file(delivered: DeliveredFile) -> Made:
    """The preview of one file; reads it, stores nothing."""
    kind = kind_of(delivered.name)
    if kind == "manifest" or not delivered.content:
        return Made(kind="none")
    with delivered.content.open("rb") as handle:
        if kind == "timed text":
            return text.make(handle)
        try:
            source: Any = default_storage.path(delivered.content.name)
        except NotImplementedError:
            source = handle  # object storage: FFmpeg and Pillow read the stream
        if kind == "image":
            return pictures.make(source)
        return media.make(source)


def _waiting(request_id: int) -> Iterator[DeliveredFile]:
    last = 0
    while True:
        batch = list(
            DeliveredFile.objects.filter(request_id=request_id, pk__gt=last, preview__isnull=True)
            .only("pk", "request_id", "name", "content")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def make_for_request(request_id: int) -> dict[str, Any]:
    request = DeliveryRequest.objects.filter(pk=request_id).only("pk", "asset_type").first()
    if request is None:
        return {"request": request_id, "skipped": "no such request"}
    made = 0
    for delivered in _waiting(request_id):
        try:
            preview = make_for_file(delivered)
        except Exception:
            # A file FFmpeg or Pillow chokes on has no preview; processing has already
            # said what is wrong with it.
            logger.warning(
                "no preview for file %s (%s)", delivered.pk, delivered.name, exc_info=True
            )
            preview = Made(kind="none", info={"failed": True})
        try:
            made += record(delivered, preview)
        finally:
            preview.discard()
    if request.asset_type == AssetType.IMAGE_SEQUENCE and (
        made or not SequencePreview.objects.filter(request_id=request_id).exists()
    ):
        # Also after frames were removed (removal drops the summary) and none added.
        summarize_sequence(request)
    return {"request": request_id, "made": made}


def summarize_sequence(request: DeliveryRequest) -> None:
    """First, middle and last frames, ten across the sequence, and its gaps: one read
    of the frames' names, as the sequence check does."""
    frames = sorted(
        (int(match.group(1)), pk)
        for pk, name in request.files.order_by()
        .values_list("pk", "name")
        .iterator(chunk_size=10_000)
        if kind_of(name) == "image" and (match := sequence_checks.FRAME_NUMBER.search(name))
    )
    if not frames:
        SequencePreview.objects.filter(request_id=request.pk).delete()
        return
    count = len(frames)
    # Evenly spaced from the first frame to the last: a step of count // 10 stopped
    # short of the end (24 frames: the last shown was frame 18, and the bar's last
    # quarter looked like a gap).
    last_index = count - 1
    picks = STRIP_FRAMES - 1
    strip = [frames[i] for i in sorted({round(n * last_index / picks) for n in range(picks + 1)})]
    numbers = [number for number, _pk in frames]
    SequencePreview.objects.update_or_create(
        request_id=request.pk,
        defaults={
            "info": {
                "first": frames[0][0],
                "last": frames[-1][0],
                "count": count,
                "key_frames": [
                    {"number": n, "file": pk}
                    for n, pk in (frames[0], frames[count // 2], frames[-1])
                ],
                "strip": [{"number": n, "file": pk} for n, pk in strip],
                "gaps": sequence_checks.gaps(numbers)[:200],
            }
        },
    )
