"""Where a preview's parts are stored, and how a made preview is recorded.

Each part lies beside the file's content, in the file's own folder
(``deliveries/<request>/<random>/~preview-poster.jpg``): ``~`` is outside the naming
rule, so no delivered name can meet a part's. Deleting the last of them removes the
folder (deliveries/files/storage.py).
"""

from __future__ import annotations

import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from ..files.models import DeliveredFile
from ..files.storage import delete_stored
from ..requests.models import DeliveryRequest
from .models import Preview, PreviewPart

PART_PREFIX = "~preview-"
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4"}


def part_path(content_path: str, name: str) -> str:
    return posixpath.join(posixpath.dirname(content_path), PART_PREFIX + name)


@dataclass
class Made:
    """What making a file's preview produced, before it is stored."""

    kind: str
    # Small parts as bytes; a proxy as the path of the file written in `scratch`.
    parts: dict[str, bytes | Path] = field(default_factory=dict)
    thumbnail: str = ""
    caption: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    scratch: tempfile.TemporaryDirectory[str] | None = None

    def discard(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()


def _write(path: str, data: bytes | Path) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)  # a remade preview: same name, new bytes
    if isinstance(data, Path):
        with data.open("rb") as handle:
            saved = default_storage.save(path, File(handle))
    else:
        saved = default_storage.save(path, ContentFile(data))
    if saved != path:  # another worker wrote it between the two calls
        default_storage.delete(saved)


def record(delivered: DeliveredFile, made: Made) -> bool:
    """Store the parts, then their rows. Returns False when the file was removed in
    the meantime; its parts are then deleted again."""
    paths = {name: part_path(delivered.content.name, name) for name in made.parts}
    for name, data in made.parts.items():
        _write(paths[name], data)
    with transaction.atomic():
        # The request row's lock: removal (deliveries/requests/removal.py) holds it
        # while it queues a file's parts and deletes its row, so either removal sees
        # these rows, or this sees the row gone. A file hidden by "remove all" still
        # has its row: the worker's purge queues these parts with it later.
        DeliveryRequest.objects.select_for_update().filter(pk=delivered.request_id).first()
        removed = not DeliveredFile._base_manager.filter(pk=delivered.pk).exists()
        if not removed:
            Preview.objects.update_or_create(
                file_id=delivered.pk,
                defaults={
                    "request_id": delivered.request_id,
                    "kind": made.kind,
                    "thumbnail": made.thumbnail,
                    "caption": made.caption[:120],
                    "info": made.info,
                },
            )
            for name, path in paths.items():
                PreviewPart.objects.update_or_create(
                    file_id=delivered.pk,
                    name=name,
                    defaults={
                        "request_id": delivered.request_id,
                        "path": path,
                        "content_type": CONTENT_TYPES[name.rpartition(".")[2]],
                    },
                )
    if removed:
        for path in paths.values():
            delete_stored(default_storage, path)
    return not removed
