"""Processing one delivered file: checksums, manifest verification, and the inspection
its request's asset type calls for. Pure reading: the database is the runner's job."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from django.core.files.storage import default_storage
from django.utils.translation import gettext_noop

from ..files import manifests, naming
from ..files.models import DeliveredFile, ManifestEntry
from ..requests.models import AssetType, DeliveryRequest
from . import images, media, spec_checks, timedtext
from .checksums import ALGORITHM_NAMES, digests
from .result import FileResult, Finding

IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "tif", "tiff", "dpx", "exr", "bmp", "gif", "webp"}


def kind_of(name: str) -> str:
    extension = naming.extension_of(name)
    if manifests.is_manifest_name(name):
        return "manifest"
    if extension in timedtext.TIMEDTEXT_EXTENSIONS:
        return "timed text"
    if extension in IMAGE_EXTENSIONS:
        return "image"
    return "media"


# The kinds and lower-case asset types appear inside stored messages; marked here so
# that the page can show them in the viewer's language (templatetags/portal.py).
KIND_WORDS = (
    gettext_noop("manifest"),
    gettext_noop("timed text"),
    gettext_noop("image"),
    gettext_noop("media"),
    gettext_noop("primary video"),
    gettext_noop("audio"),
    gettext_noop("artwork"),
    gettext_noop("picture-mastering image sequence"),
)

EXPECTED_KIND: dict[str, str] = {
    AssetType.PRIMARY_VIDEO: "media",
    AssetType.AUDIO: "media",
    AssetType.TIMED_TEXT: "timed text",
    AssetType.ARTWORK: "image",
    AssetType.IMAGE_SEQUENCE: "image",
}


@contextlib.contextmanager
def _opened(delivered: DeliveredFile) -> Iterator[tuple[Any, BinaryIO]]:
    """(what PyAV and Pillow should open, a binary handle): a local path when the
    storage has one, since FFmpeg reads a path faster than a Python file object."""
    with delivered.content.open("rb") as handle:
        try:
            source: Any = default_storage.path(delivered.content.name)
        except NotImplementedError:
            source = handle
        yield source, handle


def examine(
    delivered: DeliveredFile,
    request: DeliveryRequest,
    *,
    tick: Callable[[], None] | None = None,
) -> FileResult:
    name = delivered.name
    result = FileResult(md5=delivered.md5, xxh64=delivered.xxh64)
    if not delivered.content or not default_storage.exists(delivered.content.name):
        result.errors.append(
            Finding(
                "FILE-Missing",
                gettext_noop("The stored content of %(name)s is missing; deliver it again."),
                {"name": name},
            )
        )
        return result
    with _opened(delivered) as (source, handle):
        computed = digests(handle, md5=not result.md5, xxh64=not result.xxh64, tick=tick)
        result.md5 = computed.get("md5", result.md5)
        result.xxh64 = computed.get("xxh64", result.xxh64)
        is_manifest = delivered.pk == request.checksum_manifest_id
        if request.checksum_manifest_id and not is_manifest:
            result.errors.extend(_verify(delivered, request, result))
        kind = kind_of(name)
        if is_manifest or kind == "manifest":
            count = ManifestEntry.objects.filter(manifest=delivered).count()
            result.metadata = {
                "format": gettext_noop("Checksum manifest"),
                "entries": count,
                "summary": f"Checksum manifest · {count} entries",
            }
            if is_manifest:
                result.errors.extend(_undelivered(delivered, request))
            return result
        handle.seek(0)
        metadata, findings = _inspect(source, handle, name, kind, request, tick)
    result.metadata = metadata
    result.errors.extend(findings)
    spec = request.effective_spec
    if spec is not None and metadata:
        result.errors.extend(spec_checks.check(metadata, spec, request.asset_type, name))
    return result


def inspect_start(
    handle: BinaryIO, name: str, request: DeliveryRequest, *, whole: bool
) -> tuple[dict[str, Any], list[Finding]]:
    """The same inspection and spec checks as `examine`, of a file's first bytes (an
    upload under way, deliveries/uploads/early.py): what its header says, nothing
    decoded. `whole`: the handle holds the entire file. Which of these findings a
    prefix can be trusted with is the caller's to judge."""
    kind = kind_of(name)
    if kind == "manifest":
        return {}, []
    metadata, findings = _inspect(handle, handle, name, kind, request, None, whole=whole)
    spec = request.effective_spec
    if spec is not None and metadata:
        findings = [*findings, *spec_checks.check(metadata, spec, request.asset_type, name)]
    return metadata, findings


def _verify(
    delivered: DeliveredFile, request: DeliveryRequest, result: FileResult
) -> list[Finding]:
    manifest_name = request.checksum_manifest.name if request.checksum_manifest else "manifest"
    entry = ManifestEntry.objects.filter(
        manifest_id=request.checksum_manifest_id, file_name=delivered.name
    ).first()
    if entry is None:
        return [
            Finding(
                "CHECKSUM-MissingEntry",
                gettext_noop("%(name)s is not listed in the manifest %(manifest)s."),
                {"name": delivered.name, "manifest": manifest_name},
            )
        ]
    actual = result.md5 if entry.algorithm == "md5" else result.xxh64
    if actual.lower() != entry.expected_hash.lower():
        algorithm = ALGORITHM_NAMES.get(entry.algorithm, entry.algorithm)
        return [
            Finding(
                "CHECKSUM-Mismatch",
                gettext_noop(
                    "%(name)s: its %(algorithm)s is %(actual)s, but %(manifest)s lists "
                    "%(expected)s. The file changed in transfer or the manifest is wrong."
                ),
                {
                    "name": delivered.name,
                    "algorithm": algorithm,
                    "actual": actual,
                    "manifest": manifest_name,
                    "expected": entry.expected_hash,
                },
            )
        ]
    return []


def _inspect(
    source: Any,
    handle: BinaryIO,
    name: str,
    kind: str,
    request: DeliveryRequest,
    tick: Callable[[], None] | None,
    *,
    whole: bool = True,
) -> tuple[dict[str, Any], list[Finding]]:
    asset_type = request.asset_type
    expected = EXPECTED_KIND.get(asset_type, kind)
    if kind != expected:
        return {}, [
            Finding(
                "ASSET-TypeMismatch",
                gettext_noop(
                    "%(name)s looks like %(kind)s, but this is a %(asset_type)s request, "
                    "which expects %(expected)s."
                ),
                {
                    "name": name,
                    "kind": kind,
                    "asset_type": str(AssetType(asset_type).label).lower(),
                    "expected": expected,
                },
            )
        ]
    if kind == "timed text":
        return timedtext.validate(
            handle, expected_language=request.language, tick=tick, partial=not whole
        )
    if kind == "image":
        return images.inspect(source, name, extension=naming.extension_of(name), whole=whole)
    spec = request.effective_spec
    metadata, findings = media.inspect(
        source,
        name,
        extension=naming.extension_of(name),
        whole=whole,
        full_decode=bool(spec and spec.full_decode),
        loudness=bool(spec and spec.loudness_lufs is not None),
    )
    if findings:
        return metadata, findings
    if asset_type == AssetType.PRIMARY_VIDEO and not metadata.get("video_codec"):
        findings.append(
            Finding(
                "MEDIA-NoVideoStream",
                gettext_noop(
                    "%(name)s has no video stream (it holds audio only), but this is a "
                    "primary video request."
                ),
                {"name": name},
            )
        )
    if asset_type == AssetType.AUDIO and not metadata.get("audio_codec"):
        findings.append(
            Finding(
                "MEDIA-NoAudioStream",
                gettext_noop("%(name)s has no audio stream, but this is an audio request."),
                {"name": name},
            )
        )
    return metadata, findings


MISSING_LISTED = 20


def _undelivered(manifest: DeliveredFile, request: DeliveryRequest) -> list[Finding]:
    """Files the manifest lists but nobody delivered: the frames a manifest exists to
    account for. One finding each, up to MISSING_LISTED, then a count of the rest."""
    missing = ManifestEntry.objects.filter(manifest=manifest).exclude(
        file_name__in=request.files.values("name")
    )
    names = list(
        missing.order_by("file_name").values_list("file_name", flat=True)[: MISSING_LISTED + 1]
    )
    findings = [
        Finding(
            "CHECKSUM-FileMissing",
            gettext_noop("%(name)s is listed in %(manifest)s but was not delivered."),
            {"name": file_name, "manifest": manifest.name},
        )
        for file_name in names[:MISSING_LISTED]
    ]
    if len(names) > MISSING_LISTED:
        findings.append(
            Finding(
                "CHECKSUM-FileMissing",
                gettext_noop("%(count)s more files listed in %(manifest)s were not delivered."),
                {"count": missing.count() - MISSING_LISTED, "manifest": manifest.name},
            )
        )
    return findings
