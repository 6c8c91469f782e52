"""Audio and video inspection with PyAV: container, duration, codecs, resolution, frame
rate, scan type, bit depth, colour, bit rate, channels, layout, sample rate, and the
decode check (decode.py), with the loudness measured in the same pass when asked.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
from av.video.reformatter import ColorPrimaries, ColorTrc
from django.utils.translation import gettext_noop

from ..files.codecs import CODEC_NAMES
from . import decode, formats, limits
from .decode import clock, reason
from .loudness import LoudnessMeter
from .result import Finding

_SMALL_PROBE = {"probesize": str(32 * 1024), **limits.DECODER_OPTIONS}
# AVFieldOrder: 0 unknown, 1 progressive, then the interlaced orders.
_FIELD_ORDER_PROGRESSIVE = 1
# Scan types, stored in English and shown in the viewer's language.
SCAN_TYPES = (gettext_noop("progressive"), gettext_noop("interlaced"))


def codec_name(name: str) -> str:
    if name.startswith("pcm_"):
        # pcm_s24le → PCM 24-bit
        digits = "".join(ch for ch in name[5:] if ch.isdigit())
        return f"PCM {digits}-bit" if digits else "PCM"
    return CODEC_NAMES.get(name, name.upper())


def rate_text(rate: Fraction | None) -> str:
    if not rate:
        return ""
    value = float(rate)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text} fps"


def _pcm_bits(codec: str) -> int | None:
    """24 for pcm_s24le: the bit depth of uncompressed audio (None for compressed)."""
    if not codec.startswith("pcm_"):
        return None
    digits = "".join(ch for ch in codec[5:] if ch.isdigit())
    return int(digits) if digits else None


def bit_rate_text(bits: int) -> str:
    if bits >= 1_000_000:
        return f"{bits / 1_000_000:.1f} Mb/s"
    return f"{round(bits / 1000)} kb/s"


def _container_name(container: Any, extension: str) -> str:
    names = container.format.name.split(",")
    return (extension if extension in names else names[0]).upper()


def inspect(
    source: Any,
    name: str,
    *,
    extension: str,
    whole: bool = True,
    full_decode: bool = False,
    loudness: bool = False,
) -> tuple[dict[str, Any], list[Finding]]:
    """(metadata, findings) for the file at `source` (a path or a binary file object);
    `full_decode` decodes every video frame, `loudness` measures the first audio
    stream's integrated loudness. Not `whole`: only what the header says (the first
    bytes of an upload)."""
    try:
        container = _open(source)
    except (av.FFmpegError, ValueError, OSError) as error:
        return {}, [
            Finding(
                "MEDIA-DecodeError",
                gettext_noop(
                    "%(name)s can't be opened as audio or video: %(reason)s. "
                    "The file may be truncated or damaged; deliver it again."
                ),
                {"name": name, "reason": reason(error)},
            )
        ]
    with container:
        return _inspect_open(container, name, extension, whole, full_decode, loudness)


def _open(source: Any) -> Any:
    """Open with a small probe first: FFmpeg's default probe reads 5 MB and, for PCM
    audio, costs more than hashing the whole file. Formats that need more (some
    transport streams) get the default probe when the small one leaves a stream
    without its parameters."""
    container = av.open(source, metadata_errors="ignore", options=_SMALL_PROBE)
    if all(_described(stream) for stream in container.streams):
        return container
    container.close()
    if hasattr(source, "seek"):
        source.seek(0)
    return av.open(source, metadata_errors="ignore", options=limits.DECODER_OPTIONS)


def _described(stream: Any) -> bool:
    context = stream.codec_context
    if stream.type == "video":
        return bool(context.width and context.height)
    if stream.type == "audio":
        return bool(context.sample_rate and context.channels)
    return True


def _inspect_open(
    container: Any,
    name: str,
    extension: str,
    whole: bool,
    full_decode: bool,
    loudness: bool,
) -> tuple[dict[str, Any], list[Finding]]:
    found = container.format
    mismatch = formats.mismatch(name, extension, found.name, found.long_name)
    if mismatch:
        return {}, [mismatch]
    videos = [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]
    audios = list(container.streams.audio)
    metadata: dict[str, Any] = {"container": _container_name(container, extension)}
    duration = container.duration / av.time_base if container.duration else 0.0
    if duration:
        metadata["duration"] = clock(duration)
        metadata["duration_seconds"] = round(duration, 3)
    if container.bit_rate:
        metadata["bit_rate"] = bit_rate_text(container.bit_rate)
        metadata["bit_rate_bps"] = container.bit_rate
    video_part = audio_part = ""
    if videos:
        video = videos[0]
        context = video.codec_context
        codec = codec_name(context.name)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        metadata.update(
            video_codec=f"{codec} ({context.profile})" if context.profile else codec,
            video_codec_id=context.name,
            resolution=f"{context.width}×{context.height}",
            width=context.width,
            height=context.height,
            frame_rate=rate_text(rate),
            # Exact, for the spec's check: r_frame_rate first, which FFmpeg keeps as
            # the stream declares it (24000/1001), where the average may be rounded.
            frame_rate_exact=str(video.base_rate or rate or ""),
            pixel_format=context.pix_fmt or "",
            **_picture(context),
        )
        video_part = " ".join(
            p for p in (metadata["resolution"], metadata["frame_rate"], codec) if p
        )
    if audios:
        audio = audios[0]
        context = audio.codec_context
        codec = codec_name(context.name)
        layout = context.layout.name if context.layout else ""
        metadata.update(
            audio_codec=codec,
            audio_codec_id=context.name,
            bits_per_sample=_pcm_bits(context.name),
            channels=context.channels,
            channel_layout=layout,
            sample_rate=f"{context.sample_rate / 1000:g} kHz",
            sample_rate_hz=context.sample_rate,
        )
        if len(audios) > 1:
            metadata["audio_streams"] = len(audios)
        shown_layout = layout if layout and "channels" not in layout else f"{context.channels} ch"
        audio_part = f"{shown_layout} {codec}"
        if not videos:
            audio_part += f" {metadata['sample_rate']}"
    # Whole seconds in the row, but a file shorter than a second keeps its fraction
    # (a 0.5 s sting is not "00:00:00").
    runtime = metadata.get("duration", "")
    if metadata.get("duration_seconds", 0) >= 1:
        runtime = runtime[:8]
    metadata["summary"] = " · ".join(p for p in (video_part, runtime, audio_part) if p)
    if not videos and not audios:
        return metadata, [
            Finding(
                "MEDIA-NoStreams",
                gettext_noop("%(name)s holds neither audio nor video streams."),
                {"name": name},
            )
        ]
    if videos and limits.too_large(metadata["width"], metadata["height"]):
        return metadata, [
            limits.too_large_finding(
                "MEDIA-FrameTooLarge", name, metadata["width"], metadata["height"]
            )
        ]
    if not whole:
        return metadata, []
    meter = None
    if loudness and audios:
        context = audios[0].codec_context
        names = [channel.name for channel in context.layout.channels] if context.layout else []
        if len(names) == context.channels and context.sample_rate:
            meter = LoudnessMeter(context.sample_rate, names)
    if videos:
        scan = decode.scan_video(
            container,
            videos[0],
            audios[0] if audios else None,
            name,
            duration,
            full=full_decode,
            meter=meter,
        )
        if scan.interlaced is not None and not metadata.get("scan_type"):
            metadata["scan_type"] = "interlaced" if scan.interlaced else "progressive"
    else:
        scan = decode.scan_audio(
            container, audios[0], name, duration, meter=meter, full=full_decode
        )
    if scan.loudness is not None:
        metadata["loudness_lufs"] = round(scan.loudness, 1)
        metadata["loudness"] = f"{scan.loudness:.1f} LUFS"
    return metadata, [scan.finding] if scan.finding else []


def colour_name(enum: type, value: int) -> str:
    """FFmpeg's name of a colour primaries or transfer value ("bt709", "smpte2084"),
    '' when unspecified or unknown to this PyAV."""
    try:
        member = enum(value)
    except ValueError:
        return ""
    text = member.name.lower().replace("_", "-")
    return "" if text == "unspecified" else text


def _picture(context: Any) -> dict[str, Any]:
    """Scan type, bits per component and colour, as the stream declares them."""
    found: dict[str, Any] = {}
    order = context.field_order
    if order:
        found["scan_type"] = "progressive" if order == _FIELD_ORDER_PROGRESSIVE else "interlaced"
    if context.pix_fmt:
        try:
            components = av.VideoFormat(context.pix_fmt).components
        except ValueError:
            components = ()
        if components:
            found["video_bit_depth"] = max(component.bits for component in components)
    primaries = colour_name(ColorPrimaries, context.color_primaries)
    if primaries:
        found["colour_primaries"] = primaries
    transfer = colour_name(ColorTrc, context.color_trc)
    if transfer:
        found["transfer_characteristics"] = transfer
    return found
