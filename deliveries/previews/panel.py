"""What the side panel shows of a file's preview: the player and its timeline marks,
the waveform, the picture or the cues, and for an image sequence the strip of the
whole sequence with its gaps."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from ..files.models import UNPROCESSED, DeliveredFile
from ..processing.codes import stored_severity
from ..processing.decode import timecode
from ..requests.models import DeliveryRequest
from ..requests.states import AssetType
from .models import Preview, PreviewPart, SequencePreview


def part_url(request_id: int, file_id: int, name: str) -> str:
    return reverse("file-preview", args=[request_id, file_id, name])


def finding_seconds(error: dict[str, Any], info: dict[str, Any]) -> float | None:
    """Where in the proxy a finding points (the proxy starts at 0), None if nowhere."""
    seconds = (error.get("params") or {}).get("seconds")
    if not isinstance(seconds, (int, float)):
        return None
    return max(0.0, round(float(seconds) - float(info.get("start") or 0.0), 3))


def _percent(value: float, span: float) -> float:
    return round(min(100.0, max(0.0, 100.0 * value / span)), 2) if span > 0 else 0.0


def marks(delivered: DeliveredFile, info: dict[str, Any]) -> list[dict[str, Any]]:
    duration = float(info.get("duration") or 0.0)
    rate = float(info.get("fps") or 0.0)
    found = []
    for error in delivered.errors or []:
        seconds = finding_seconds(error, info)
        if seconds is None:
            continue
        params = error.get("params") or {}
        found.append(
            {
                "seconds": seconds,
                "timecode": params.get("timecode") or timecode(round(seconds * rate), rate),
                "code": error.get("code", ""),
                "severity": stored_severity(error),
                "left": _percent(seconds, duration),
            }
        )
    return found


def _sequence(request: DeliveryRequest) -> dict[str, Any] | None:
    summary = SequencePreview.objects.filter(request_id=request.pk).first()
    if summary is None:
        return None
    info = summary.info
    first, last = info["first"], info["last"]
    span = max(1, last - first + 1)
    # Frames removed since the strip was made have no picture any more.
    shown = {item["file"] for item in info["strip"] + info["key_frames"]}
    present = set(
        PreviewPart.objects.filter(file_id__in=shown, name="thumb.jpg").values_list(
            "file_id", flat=True
        )
    )

    def frame(item: dict[str, Any]) -> dict[str, Any]:
        return {
            **item,
            "url": part_url(request.pk, item["file"], "image.jpg"),
            "thumb": part_url(request.pk, item["file"], "thumb.jpg"),
            "left": _percent(item["number"] - first, span),
        }

    return {
        "first": first,
        "last": last,
        "count": info["count"],
        "key_frames": [frame(item) for item in info["key_frames"] if item["file"] in present],
        "strip": [frame(item) for item in info["strip"] if item["file"] in present],
        "gaps": [
            {
                "first": gap_first,
                "last": gap_last,
                "left": _percent(gap_first - first, span),
                "width": max(0.5, _percent(gap_last - gap_first + 1, span)),
            }
            for gap_first, gap_last in info["gaps"]
        ],
    }


def panel_preview(
    delivered: DeliveredFile, request: DeliveryRequest, seek: float | None = None
) -> dict[str, Any]:
    preview = Preview.objects.filter(file_id=delivered.pk).first()
    sequence = _sequence(request) if request.asset_type == AssetType.IMAGE_SEQUENCE else None
    if preview is None:
        return {
            "preparing": delivered.processing_status not in UNPROCESSED,
            "sequence": sequence,
        }
    info = preview.info or {}
    names = set(PreviewPart.objects.filter(file_id=delivered.pk).values_list("name", flat=True))
    urls = {name.replace(".", "_"): part_url(request.pk, delivered.pk, name) for name in names}
    duration = float(info.get("duration") or 0.0)
    strip = [
        {**item, "left": _percent(item["seconds"], duration)} for item in info.get("strip", [])
    ]
    return {
        "kind": preview.kind,
        "info": info,
        "urls": urls,
        "marks": marks(delivered, info) if preview.kind in ("video", "audio") else [],
        "strip": strip,
        "seek": seek if seek is not None and 0 <= seek <= max(duration, 0) else None,
        "channels": [
            {**channel, "url": part_url(request.pk, delivered.pk, channel["part"])}
            for channel in info.get("channels", [])
            if channel["part"] in names
        ],
        "sequence": sequence,
    }
