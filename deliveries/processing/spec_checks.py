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

from ..requests.specs import (
    LAYOUTS,
    DeliverySpec,
    codec_text,
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
}
# The profile designators a TTML document declares itself with (IMSC 1.1, section 6).
PROFILES = {"imsc1.1": ("IMSC 1.1 Text", "http://www.w3.org/ns/ttml/profile/imsc1.1/text")}
# FFmpeg's names for the layouts of LAYOUTS.
_FFMPEG_LAYOUTS = {"mono": "1.0", "stereo": "2.0", "5.1": "5.1", "5.1(side)": "5.1", "7.1": "7.1"}
# Two rates closer than this (relative) are the same rate written with a rounded time
# base: an MP4 keeps 24000/1001 as 2997/125 (23.976). 24 and 23.976 differ by 1e-3.
_RATE_SLACK = Fraction(1, 100_000)


def _mismatch(code: str, name: str, expected: str, found: str) -> Finding:
    params = {"name": name, "what": WHAT[code], "expected": expected, "found": found}
    return Finding(code, MISMATCH, params, expected=expected, found=found)


def check(
    metadata: dict[str, Any], spec: DeliverySpec, asset_type: str, name: str
) -> list[Finding]:
    """The findings of one file of a request of `asset_type`, against `spec`."""
    if asset_type == AssetType.PRIMARY_VIDEO:
        return [*_video(metadata, spec, name), *_runtime(metadata, spec, name)]
    if asset_type == AssetType.AUDIO:
        return [*_audio(metadata, spec, name), *_runtime(metadata, spec, name)]
    if asset_type == AssetType.IMAGE_SEQUENCE:
        return _frame(metadata, spec, name)
    if asset_type == AssetType.ARTWORK:
        return _artwork(metadata, spec, name)
    if asset_type == AssetType.TIMED_TEXT:
        return _timed_text(metadata, spec, name)
    return []


def _timed_text(metadata: dict[str, Any], spec: DeliverySpec, name: str) -> list[Finding]:
    """The language is checked while the document is read (timedtext.py), against the
    request's; here, the profile the spec names."""
    if spec.timed_text_format not in PROFILES or metadata.get("format") != "TTML":
        return []
    label, designator = PROFILES[spec.timed_text_format]
    declared = metadata.get("profiles", [])
    if designator in declared:
        return []
    return [_mismatch("TIMEDTEXT-Profile", name, label, " ".join(declared) or "—")]


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
                    "VIDEO-FrameRate",
                    name,
                    f"{rate_text(spec.rate)} ({spec.rate.numerator}/{spec.rate.denominator})",
                    f"{rate_text(rate)} ({rate.numerator}/{rate.denominator})",
                )
            )
    allowed = names(spec.video_codecs)
    codec = metadata.get("video_codec_id")
    if allowed and codec and codec not in allowed:
        findings.append(
            _mismatch(
                "VIDEO-Codec",
                name,
                ", ".join(codec_text(c) for c in allowed),
                codec_text(codec),
            )
        )
    return findings


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
            _mismatch("ARTWORK-Format", name, ", ".join(f.upper() for f in allowed), found.upper())
        )
    return findings
