"""The early verdict: what an upload's first bytes already say against its request's
spec, told while the rest still arrives, so that a partner can cancel a 5.1 request's
stereo file after its header instead of after hundreds of gigabytes.

A look reads at most the first LAST_LOOK bytes of the staged data, once, when
FIRST_LOOK bytes have arrived (enough for a WAV, image or TTML header and most MOV
headers), and once more at LAST_LOOK when the first could not tell (a MOV whose
header is larger, an MXF header partition). It runs the same inspection and spec checks
as processing (inspection.inspect_start), without decoding, and keeps only the findings
a header can be trusted with (HEADER_CODES, _trusted): a prefix is truncated by definition, so a
decode error, a missing stream or a loudness measured on it says nothing about the
file. The full check still runs after submission.

It runs inline, in the PATCH that brings those bytes, under the upload's lock and in no
database transaction: a look costs 1–15 ms for a WAV, PNG or TTML and 15–55 ms for a
1080p MP4, at worst a few hundred for 4 MiB no decoder opens (bench/early_verdict.py,
README "Early verdict"), at most twice per upload; a task would wait behind processing
in the same queue, and it needs the staged bytes, which only the web host's disk holds.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from django.urls import reverse

from ..files.models import SEVERITY_ORDER
from ..processing.codes import stored_severity
from ..processing.inspection import inspect_start
from ..processing.result import FileResult, Finding
from ..templatetags.portal import expected_found, finding_message, severity_label
from . import staging
from .models import Upload

logger = logging.getLogger(__name__)

FIRST_LOOK = 64 * 1024
LAST_LOOK = 4 * 1024 * 1024
# What a header shows as it is: the spec's parameters, the format, the asset type,
# the start of a TTML document. Other codes (decoding, streams, sequences, checks that
# measure the whole file, codes added since) are left to the full check; _trusted adds
# the few that hold for some containers only.
HEADER_CODES = frozenset(
    {
        "ASSET-TypeMismatch",
        "FILE-ExtensionMismatch",
        "VIDEO-Resolution",
        "VIDEO-FrameRate",
        "VIDEO-Codec",
        "AUDIO-ChannelLayout",
        "AUDIO-SampleRate",
        "AUDIO-BitDepth",
        "MEDIA-FrameTooLarge",
        "IMAGE-TooLarge",
        "SEQUENCE-Resolution",
        "SEQUENCE-BitDepth",
        "ARTWORK-TooSmall",
        "ARTWORK-Format",
        "ARTWORK-ColourMode",  # the image header's mode, as Pillow reads it
        "TIMEDTEXT-NotWellFormed",
        "TIMEDTEXT-RootNotTT",
        "TIMEDTEXT-LangMissing",
        "TIMEDTEXT-LangInvalid",
        "TIMEDTEXT-LangMismatch",
        "TIMEDTEXT-Profile",
        "TIMEDTEXT-DuplicateId",
        "TIMEDTEXT-IdAttribute",
        "TIMEDTEXT-TimeInvalid",
        "TIMEDTEXT-TimeOrder",
    }
)
# Containers whose header states the running time (WAV's data size, QuickTime's mvhd,
# MXF's and Matroska's header metadata); others estimate it from the file's end.
HEADER_DURATION_CONTAINERS = frozenset(
    {"WAV", "AIFF", "MOV", "MP4", "M4A", "M4V", "3GP", "3G2", "MJ2", "MXF", "MKV", "MKA"}
    | {"MATROSKA", "WEBM"}
)
# The answer header carries this many findings at most; the full check lists all.
FINDINGS_TOLD = 3
TEXT_CHARS = 200


class Prefix(io.RawIOBase):
    """The first bytes of a file that will be `length` long: reads end where the bytes
    do, but its size is the whole file's, so that FFmpeg reads a WAV's running time
    from its header instead of estimating it from the bytes it has."""

    def __init__(self, data: bytes, length: int) -> None:
        super().__init__()
        self._data = data
        self._length = max(length, len(data))
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._position : self._position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._position += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._length}[whence]
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


def next_look(upload: Upload) -> int | None:
    """How many staged bytes the next look needs, None when no look is left to do."""
    state = upload.early_check or {}
    if not state:
        return min(FIRST_LOOK, upload.length)
    if state.get("settled"):
        return None
    return min(LAST_LOOK, upload.length)


def look(upload: Upload, staged: int, *, data: bytes | None = None) -> int | None:
    """Inspect the first staged bytes (at most LAST_LOOK of the `staged` on disk, or
    of `data`, the bytes in hand when they were never staged) and store what they tell
    on the row; returns the size of the next look, if any. Call with the upload's lock
    held."""
    if upload.request is None:
        return None  # a part of a file (concat.py): its final upload is looked at
    size = min(staged, LAST_LOOK, upload.length)
    if data is not None:
        data = data[:size]
    else:
        with open(staging.data_path(upload.pk), "rb") as handle:
            data = handle.read(size)
    whole = len(data) == upload.length
    try:
        metadata, findings = inspect_start(
            cast(BinaryIO, Prefix(data, upload.length)), upload.name, upload.request, whole=whole
        )
    except Exception:
        # A courtesy ahead of the full check: a prefix the decoders trip over must never
        # cost the partner their upload.
        logger.exception("early look at upload %s failed", upload.pk)
        metadata, findings = {}, []
    container = str(metadata.get("container", "")).upper()
    trusted = [finding for finding in findings if _trusted(finding, container, whole)]
    settled = whole or size >= LAST_LOOK or _described(metadata) or bool(trusted)
    upload.early_check = {
        "bytes": size,
        "settled": settled,
        "findings": FileResult(errors=trusted).stored_errors(),
    }
    if not upload._state.adding:  # a row not written yet takes it with its INSERT
        Upload.objects.filter(pk=upload.pk).update(early_check=upload.early_check)
    return next_look(upload)


def _trusted(finding: Finding, container: str, whole: bool) -> bool:
    if finding.code.endswith("TooLarge") and "megapixels" not in finding.params:
        # "Its size can't be read": from a prefix, more often not yet than not at all.
        return False
    if finding.code in HEADER_CODES:
        return True
    if finding.code == "MEDIA-Runtime":
        return whole or container in HEADER_DURATION_CONTAINERS
    if finding.code in ("MEDIA-NoVideoStream", "MEDIA-NoAudioStream"):
        # A WAV or AIFF holds one audio stream and nothing else, whatever follows.
        return whole or container in ("WAV", "AIFF")
    return False


def _described(metadata: dict[str, Any]) -> bool:
    """The prefix told what its streams are: a later look would read the same."""
    if "video_codec" in metadata and not metadata.get("width"):
        return False
    if "audio_codec" in metadata and not metadata.get("channels"):
        return False
    return bool(metadata)


def watcher(upload: Upload) -> dict[str, Any]:
    """staging.append's arguments that have it look at the first bytes of `upload`
    as soon as they are on disk."""
    return {"look_at": next_look(upload), "look": lambda staged: look(upload, staged)}


def forget_beyond(upload: Upload, offset: int) -> None:
    """The staged bytes past `offset` were dropped (a chunk that failed its checksum,
    bytes lost in a crash): a look that read them is looked at again."""
    if (upload.early_check or {}).get("bytes", 0) > offset:
        upload.early_check = {}
        Upload.objects.filter(pk=upload.pk).update(early_check={})


def _told(error: dict[str, Any]) -> dict[str, str]:
    message = finding_message(error)
    text = expected_found(error) or message
    severity = stored_severity(error)
    return {
        "code": error["code"],
        "severity": severity,
        "label": severity_label(severity),
        "text": text[:TEXT_CHARS],
        "message": message[:TEXT_CHARS],
        "url": f"{reverse('finding-codes')}#{error['code']}",
    }


def answer_headers(upload: Upload) -> dict[str, str]:
    """Portal-Early-Check: "pending" until the first bytes were looked at, then "done";
    Portal-Early-Findings, when they showed something: a JSON list in the viewer's
    language, percent-encoded (headers are ASCII; decodeURIComponent reads it)."""
    state = upload.early_check or {}
    headers = {"Portal_Early_Check": "done" if state.get("settled") else "pending"}
    # The worst first: a blocker is what the partner must see before the cut.
    findings = sorted(state.get("findings") or [], key=lambda e: SEVERITY_ORDER[stored_severity(e)])
    if findings:
        told = json.dumps(
            [_told(error) for error in findings[:FINDINGS_TOLD]],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        headers["Portal_Early_Findings"] = quote(told, safe="")
    return headers
