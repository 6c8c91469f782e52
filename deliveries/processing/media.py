"""Audio and video inspection with PyAV: container, duration, codecs, resolution, frame
rate, bit rate, channels, layout, sample rate, and a decode check.

The decode check reads a few frames at the start of each stream and a few near the
end, instead of decoding every frame: a feature-length file would otherwise take
minutes of CPU, while a damaged header, an undecodable bitstream or a cut-off file
already show at one of the two ends.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
from django.utils.translation import gettext_noop

from ..files.codecs import CODEC_NAMES
from . import formats, limits
from .result import Finding

FRAMES_TO_DECODE = 3
_SMALL_PROBE = {"probesize": str(32 * 1024), **limits.DECODER_OPTIONS}
PACKETS_TO_TRY = 300


def codec_name(name: str) -> str:
    if name.startswith("pcm_"):
        # pcm_s24le → PCM 24-bit
        digits = "".join(ch for ch in name[5:] if ch.isdigit())
        return f"PCM {digits}-bit" if digits else "PCM"
    return CODEC_NAMES.get(name, name.upper())


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    millis = int(round((seconds - whole) * 1000))
    if millis == 1000:
        return clock(whole + 1)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


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


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".")


def inspect(
    source: Any, name: str, *, extension: str, decode: bool = True
) -> tuple[dict[str, Any], list[Finding]]:
    """(metadata, findings) for the file at `source` (a path or a binary file object).
    Without `decode`, only what the header says (the first bytes of an upload)."""
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
                {"name": name, "reason": _reason(error)},
            )
        ]
    with container:
        return _inspect_open(container, name, extension, decode)


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
    container: Any, name: str, extension: str, decode: bool = True
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
    metadata["summary"] = " · ".join(
        p for p in (video_part, metadata.get("duration", "")[:8], audio_part) if p
    )
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
    if not decode:
        return metadata, []
    problem = _decode_check(container, [*videos[:1], *audios[:1]], duration)
    if problem:
        return metadata, [
            Finding(
                "MEDIA-DecodeError", "%(name)s: %(problem)s", {"name": name, "problem": problem}
            )
        ]
    return metadata, []


def _decode_check(container: Any, streams: list[Any], duration: float) -> str:
    """'' when the start and the end of each stream decode, else what went wrong."""
    problem, _reached = _decode_some(container, streams, "start")
    if problem or duration < 2:
        return problem
    target = duration * 0.9
    try:
        container.seek(int(target * av.time_base), any_frame=False, backward=True)
    except av.FFmpegError as error:
        return f"seeking to the end failed ({_reason(error)}); the file may be truncated."
    problem, reached = _decode_some(container, streams, "end")
    if problem:
        return problem
    if reached < target - max(1.0, min(10.0, target * 0.25)):
        # The seek did not land (no index, e.g. a fragmented MP4 without mfra): walk
        # the packets to the end without decoding them, to see where the data stops.
        try:
            for packet in container.demux(streams[0]):
                if packet.pts is not None and packet.time_base:
                    reached = max(reached, float(packet.pts * packet.time_base))
        except (av.FFmpegError, ValueError) as error:
            return (
                f"reading the file failed near {clock(reached)} ({_reason(error)}). "
                "The file is damaged; deliver it again."
            )
        if reached < target - 1:
            return (
                f"the file declares a duration of {clock(duration)} but its data stops at "
                f"{clock(reached)}; it is truncated. Deliver it again."
            )
    return ""


def _decode_some(container: Any, streams: list[Any], where: str) -> tuple[str, float]:
    """Decode a few frames of each stream: ('' or the problem, the time reached)."""
    decoded = {stream.index: 0 for stream in streams}
    packets = 0
    reached = 0.0
    try:
        for packet in container.demux(*streams):
            packets += 1
            if packet.pts is not None and packet.time_base:
                reached = max(reached, float(packet.pts * packet.time_base))
            for _frame in packet.decode():
                decoded[packet.stream.index] += 1
            if all(count >= FRAMES_TO_DECODE for count in decoded.values()):
                return "", reached
            if packets >= PACKETS_TO_TRY:
                break
    except (av.FFmpegError, ValueError) as error:
        return (
            f"decoding failed near the {where} of the file ({_reason(error)}). "
            "The file is damaged; deliver it again."
        ), reached
    missing = [s for s in streams if decoded[s.index] == 0]
    if missing:
        kinds = " and ".join(sorted({s.type for s in missing}))
        return (
            f"no {kinds} could be decoded near the {where} of the file; it is truncated "
            "or damaged. Deliver it again."
        ), reached
    return "", reached
