"""Checking one file's technical metadata against its request's spec.

Inspection (media.py, images.py) describes a file; this judges it. Each check that
fails is one finding with its code (codes.py), what the spec expected and what the
file has. A spec field left empty is not checked, and a value the inspection could not
read is not reported as a mismatch: the inspection's own finding says why it is
missing. Reads only the metadata already gathered, so it adds nothing to a file's
processing time.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.utils.translation import gettext_noop

from ..files.models import Severity
from ..requests.specs import (
    LAYOUTS,
    PRIMARIES,
    TRANSFERS,
    DeliverySpec,
    codec_text,
    loudness_text,
    lufs_text,
    names,
    parse_rate,
    rate_text,
    runtime_text,
    sample_rate_text,
)
from ..requests.states import AssetType
from .media import clock
from .result import Finding

MISMATCH = gettext_noop("%(name)s: %(what)s is %(found)s, but the spec asks for %(expected)s.")
# The subjects of MISMATCH, translated with it on the page.
WHAT = {
    "VIDEO-Resolution": gettext_noop("the resolution"),
    "VIDEO-FrameRate": gettext_noop("the frame rate"),
    "VIDEO-Codec": gettext_noop("the video codec"),
    "MEDIA-Runtime": gettext_noop("the running time"),
    "AUDIO-ChannelLayout": gettext_noop("the channel layout"),
    "AUDIO-SampleRate": gettext_noop("the sample rate"),
    "AUDIO-BitDepth": gettext_noop("the audio bit depth"),
    "SEQUENCE-Resolution": gettext_noop("the frame size"),
    "SEQUENCE-BitDepth": gettext_noop("the bit depth"),
    "ARTWORK-TooSmall": gettext_noop("the image size"),
    "ARTWORK-Format": gettext_noop("the image format"),
    "TIMEDTEXT-Profile": gettext_noop("the declared profile"),
    "TIMEDTEXT-FrameRate": gettext_noop("the declared frame rate"),
    "AUDIO-Loudness": gettext_noop("the integrated loudness"),
    "VIDEO-Interlaced": gettext_noop("the scan type"),
    "VIDEO-BitDepth": gettext_noop("the video bit depth"),
    "VIDEO-ColourPrimaries": gettext_noop("the colour primaries"),
    "VIDEO-TransferCharacteristics": gettext_noop("the transfer characteristics"),
    "ARTWORK-ColourMode": gettext_noop("the colour mode"),
}
# A value the file does not declare can't be judged: said as an FYI, not a blocker.
UNDECLARED = gettext_noop(
    "%(name)s does not declare %(what)s; the spec asks for %(expected)s. Check it by eye."
)
# The profile designators a TTML document declares itself with (IMSC 1.1, section 6).
PROFILES = {"imsc1.1": ("IMSC 1.1 Text", "http://www.w3.org/ns/ttml/profile/imsc1.1/text")}
# FFmpeg's names for the layouts of LAYOUTS.
_FFMPEG_LAYOUTS = {"mono": "1.0", "stereo": "2.0", "5.1": "5.1", "5.1(side)": "5.1", "7.1": "7.1"}
# Two rates closer than this (relative) are the same rate written with a rounded time
# base: an MP4 keeps 24000/1001 as 2997/125 (23.976). 24 and 23.976 differ by 1e-3.
_RATE_SLACK = Fraction(1, 100_000)


def _mismatch(code: str, name: str, expected: str | list[str], found: str) -> Finding:
    """`expected` is a list where the spec allows several values (read "A or B")."""
    params = {"name": name, "what": WHAT[code], "expected": expected, "found": found}
    return Finding(code, MISMATCH, params, expected=expected, found=found)


def _undeclared(code: str, name: str, expected: str) -> Finding:
    params = {"name": name, "what": WHAT[code], "expected": expected}
    return Finding(
        code, UNDECLARED, params, expected=expected, found="—", severity_given=Severity.FYI
    )


def check(
    metadata: dict[str, Any], spec: DeliverySpec, asset_type: str, name: str
) -> list[Finding]:
    """The findings of one file of a request of `asset_type`, against `spec`."""
    if asset_type == AssetType.PRIMARY_VIDEO:
        return [
            *_video(metadata, spec, name),
            *_picture(metadata, spec, name),
            *_loudness(metadata, spec, name),
            *_runtime(metadata, spec, name),
        ]
    if asset_type == AssetType.AUDIO:
        return [
            *_audio(metadata, spec, name),
            *_loudness(metadata, spec, name),
            *_runtime(metadata, spec, name),
        ]
    if asset_type == AssetType.IMAGE_SEQUENCE:
        return _frame(metadata, spec, name)
    if asset_type == AssetType.ARTWORK:
        return _artwork(metadata, spec, name)
    if asset_type == AssetType.TIMED_TEXT:
        return _timed_text(metadata, spec, name)
    return []


def _timed_text(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    """The language is checked while the document is read (timedtext.py), against the
    request's; here, the profile and the frame rate the spec names."""
    if metadata.get("format") != "TTML":
        return []
    findings = _timed_text_rate(metadata, spec, name)
    if spec.timed_text_format not in PROFILES:
        return findings
    label, designator = PROFILES[spec.timed_text_format]
    declared = metadata.get("profiles", [])
    if designator not in declared:
        findings.append(_mismatch("TIMEDTEXT-Profile", name, label, " ".join(declared) or "—"))
    return findings


def _exact_rate_text(rate: Fraction) -> str:
    return f"{rate_text(rate)} ({rate.numerator}/{rate.denominator})"


def _timed_text_rate(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    """ttp:frameRate × ttp:frameRateMultiplier against the spec's rate. A document that
    declares none is judged only when it counts frames (00:00:01:12, 36f): TTML then
    counts them at 30 fps."""
    if not spec.rate:
        return []
    declared = metadata.get("frame_rate_exact")
    if declared is None:
        if not metadata.get("frame_times"):
            return []
        return [
            _mismatch(
                "TIMEDTEXT-FrameRate",
                name,
                _exact_rate_text(spec.rate),
                gettext_noop("30 fps (no ttp:frameRate)"),
            )
        ]
    rate = parse_rate(declared)
    if rate == spec.rate:
        return []
    return [
        _mismatch("TIMEDTEXT-FrameRate", name, _exact_rate_text(spec.rate), _exact_rate_text(rate))
    ]


def _size(metadata: dict[str, Any]) -> str:
    return f"{metadata['width']}×{metadata['height']}"


def _resolution(
    code: str, metadata: dict[str, Any], spec: DeliverySpec, name: str
) -> list[Finding]:
    expected = (spec.width, spec.height)
    if not (spec.width and spec.height) or (metadata["width"], metadata["height"]) == expected:
        return []
    return [_mismatch(code, name, f"{spec.width}×{spec.height}", _size(metadata))]


def _video(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    if not metadata.get("width"):
        return []
    findings = _resolution("VIDEO-Resolution", metadata, spec, name)
    found_rate = metadata.get("frame_rate_exact")
    if spec.rate and found_rate:
        rate = parse_rate(found_rate)
        if abs(rate - spec.rate) > spec.rate * _RATE_SLACK:
            findings.append(
                _mismatch(
                    "VIDEO-FrameRate", name, _exact_rate_text(spec.rate), _exact_rate_text(rate)
                )
            )
    allowed = names(spec.video_codecs)
    codec = metadata.get("video_codec_id")
    if allowed and codec and codec not in allowed:
        findings.append(
            _mismatch(
                "VIDEO-Codec",
                name,
                [codec_text(c) for c in allowed],
                codec_text(codec),
            )
        )
    return findings


def _picture(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    """Scan type, bit depth and colour, as the stream declares them (media.py)."""
    if not metadata.get("width"):
        return []
    findings = []
    scan = metadata.get("scan_type")
    if spec.progressive and scan != "progressive":
        findings.append(
            _mismatch("VIDEO-Interlaced", name, "progressive", scan)
            if scan
            else _undeclared("VIDEO-Interlaced", name, "progressive")
        )
    bits = metadata.get("video_bit_depth")
    if spec.bit_depth and bits and bits != spec.bit_depth:
        findings.append(
            _mismatch(
                "VIDEO-BitDepth",
                name,
                f"{spec.bit_depth}-bit",
                f"{bits}-bit ({metadata.get('pixel_format', '')})",
            )
        )
    for code, key, wanted, labels in (
        ("VIDEO-ColourPrimaries", "colour_primaries", spec.colour_primaries, PRIMARIES),
        (
            "VIDEO-TransferCharacteristics",
            "transfer_characteristics",
            spec.transfer_characteristics,
            TRANSFERS,
        ),
    ):
        found = metadata.get(key)
        if not wanted or found == wanted:
            continue
        expected = labels[wanted]
        findings.append(
            _mismatch(code, name, expected, labels.get(found, found))
            if found
            else _undeclared(code, name, expected)
        )
    return findings


def _loudness(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    found = metadata.get("loudness_lufs")
    if spec.loudness_lufs is None or found is None:
        return []
    if abs(found - spec.loudness_lufs) <= spec.loudness_tolerance_lu:
        return []
    return [_mismatch("AUDIO-Loudness", name, loudness_text(spec), lufs_text(found))]


def _runtime(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    duration = metadata.get("duration_seconds")
    if spec.runtime_seconds is None or duration is None:
        return []
    if abs(duration - spec.runtime_seconds) <= spec.runtime_tolerance_seconds:
        return []
    return [_mismatch("MEDIA-Runtime", name, runtime_text(spec), clock(duration))]


def _layout_text(metadata: dict[str, Any]) -> str:
    known = _FFMPEG_LAYOUTS.get(metadata.get("channel_layout", ""))
    return LAYOUTS[known][1] if known else f"{metadata['channels']} ch"


def _audio(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    if not metadata.get("channels"):
        return []
    findings = []
    if spec.channel_layout:
        count, label = LAYOUTS[spec.channel_layout]
        if metadata["channels"] != count:
            findings.append(_mismatch("AUDIO-ChannelLayout", name, label, _layout_text(metadata)))
    hertz = metadata.get("sample_rate_hz")
    if spec.sample_rate and hertz and hertz != spec.sample_rate:
        findings.append(
            _mismatch(
                "AUDIO-SampleRate",
                name,
                sample_rate_text(spec.sample_rate),
                sample_rate_text(hertz),
            )
        )
    if spec.bit_depth:
        bits = metadata.get("bits_per_sample")
        if bits != spec.bit_depth:
            found = f"{bits}-bit" if bits else metadata.get("audio_codec", "?")
            findings.append(_mismatch("AUDIO-BitDepth", name, f"{spec.bit_depth}-bit", found))
    return findings


def _frame(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    if not metadata.get("width"):
        return []
    findings = _resolution("SEQUENCE-Resolution", metadata, spec, name)
    bits = metadata.get("bit_depth")
    if spec.bit_depth and bits and bits != spec.bit_depth:
        findings.append(
            _mismatch("SEQUENCE-BitDepth", name, f"{spec.bit_depth}-bit", f"{bits}-bit")
        )
    return findings


def _artwork(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    if not metadata.get("width"):
        return []
    findings = []
    if (
        spec.min_width
        and spec.min_height
        and (metadata["width"] < spec.min_width or metadata["height"] < spec.min_height)
    ):
        findings.append(
            _mismatch(
                "ARTWORK-TooSmall",
                name,
                f"≥ {spec.min_width}×{spec.min_height}",
                _size(metadata),
            )
        )
    allowed = names(spec.image_formats)
    found = (metadata.get("format") or "").lower()
    if allowed and found and found not in allowed:
        findings.append(
            _mismatch("ARTWORK-Format", name, [f.upper() for f in allowed], found.upper())
        )
    modes = names(spec.colour_modes)
    mode = (metadata.get("color_mode") or "").lower()
    if modes and mode and mode not in modes:
        findings.append(
            _mismatch("ARTWORK-ColourMode", name, [m.upper() for m in modes], mode.upper())
        )
    return findings
