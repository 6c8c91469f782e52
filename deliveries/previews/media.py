"""A video or audio file's preview, in one pass over its packets: the proxy (H.264/AAC
in MP4, 640 px wide at most) encoded as frames are decoded, the poster (10 % in) and
the strip's frames caught on the way, and for audio a waveform and peak per channel
and the integrated loudness (deliveries/processing/loudness.py's meter).

One decode serves every product: seeking for the poster and each strip frame would
decode a GOP each time, eleven times over, on top of the proxy's full decode.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw

from ..processing import limits
from ..processing.decode import timecode
from ..processing.loudness import LoudnessMeter
from .storage import Made

PROXY_WIDTH = 640
POSTER_AT = 0.10
STRIP_FRAMES = 10
STRIP_FRAME_WIDTH = 160
THUMB_SIZE = (64, 36)
WAVE_SIZE = (600, 56)
WAVE_BLOCK_SECONDS = 0.05
# FFmpeg's channel names as a mixing stage labels them.
CHANNEL_LABELS = {
    "FL": "L",
    "FR": "R",
    "FC": "C",
    "LFE": "LFE",
    "BL": "Ls",
    "BR": "Rs",
    "SL": "Ls",
    "SR": "Rs",
    "BC": "Cs",
    "FLC": "Lc",
    "FRC": "Rc",
}
SCALE = {
    np.dtype(np.int16): 1 / 32768,
    np.dtype(np.int32): 1 / 2**31,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
}


def jpeg(image: Image.Image, quality: int = 78) -> bytes:
    out = io.BytesIO()
    rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
    rgb.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def thumbnail(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A new image that fits in `size`, aspect kept. Reduced by a whole factor first,
    then bilinear: a fraction of Pillow's default thumbnail on a 1080p frame, and no
    visible difference at 640 px."""
    width, height = image.size
    scale = min(size[0] / width, size[1] / height, 1.0)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    factor = int(1 / scale / 1.5) if scale < 1 else 1
    reduced = image.reduce(factor) if factor > 1 else image
    return reduced.resize(target, Image.Resampling.BILINEAR)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


class _Proxy:
    """The browser-playable copy: libx264 (fast preset) and AAC, moov atom first so
    that playback starts before the whole file has arrived."""

    def __init__(self, video: Any | None, audio: Any | None) -> None:
        # A file, not memory: +faststart moves the index by reopening what was written.
        self.folder = tempfile.TemporaryDirectory(prefix="portal-proxy-")
        self.path = os.path.join(self.folder.name, "proxy.mp4")
        self.output = av.open(self.path, "w", format="mp4", options={"movflags": "+faststart"})
        self.video_out: Any = None
        self.audio_out: Any = None
        self.resampler: Any = None
        self.start_seconds = 0.0
        if video is not None:
            width = video.codec_context.width
            height = video.codec_context.height
            out_width = _even(min(PROXY_WIDTH, width))
            self.size = (out_width, _even(out_width * height / width))
            rate = video.average_rate or video.base_rate or Fraction(25)
            self.video_out = self.output.add_stream("libx264", rate=rate)
            self.video_out.width, self.video_out.height = self.size
            self.video_out.pix_fmt = "yuv420p"
            self.video_out.codec_context.time_base = video.time_base
            self.video_out.codec_context.options = {"preset": "superfast", "crf": "30"}
            # The proxy starts at 0: a finding's time (from the file's own clock) is
            # moved by the file's start when the player seeks to it.
            self.start = video.start_time or 0
            self.start_seconds = float(self.start * video.time_base) if self.start else 0.0
        if audio is not None:
            self.audio_out = self.output.add_stream("aac", rate=48000)
            self.audio_out.layout = "stereo"
            self.audio_out.codec_context.bit_rate = 96_000
            # FFmpeg's default "twoloop" coder costs several times the whole decode.
            self.audio_out.codec_context.options = {"aac_coder": "fast"}
            self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)

    def video(self, frame: Any) -> None:
        # A proxy to look at, not to master from: the cheapest scaler is fine at 640 px.
        scaled = frame.reformat(
            width=self.size[0],
            height=self.size[1],
            format="yuv420p",
            interpolation="FAST_BILINEAR",
        )
        if frame.pts is None:
            return
        scaled.pts, scaled.time_base = frame.pts - self.start, frame.time_base
        self.output.mux(self.video_out.encode(scaled))

    def audio(self, frame: Any) -> None:
        frame.pts = None  # the resampler counts samples from the first frame
        for resampled in self.resampler.resample(frame):
            self.output.mux(self.audio_out.encode(resampled))

    def close(self) -> Path:
        """The written proxy's path, in a scratch folder the caller removes (a
        two-hour proxy is hundreds of MB: copied to storage as a file, never read
        into memory)."""
        if self.video_out is not None:
            self.output.mux(self.video_out.encode(None))
        if self.audio_out is not None:
            for resampled in self.resampler.resample(None):
                self.output.mux(self.audio_out.encode(resampled))
            self.output.mux(self.audio_out.encode(None))
        self.output.close()
        return Path(self.path)


class _Waveform:
    """Each channel's lowest and highest sample per 50 ms block, and its peak."""

    def __init__(self, sample_rate: int, names: list[str]) -> None:
        self.names = names
        self.block = max(1, int(sample_rate * WAVE_BLOCK_SECONDS))
        self.lows: list[np.ndarray] = []
        self.highs: list[np.ndarray] = []
        self.rest = np.zeros((len(names), 0), dtype=np.float32)
        self.meter = LoudnessMeter(sample_rate, names)

    def add(self, frame: Any) -> None:
        self.meter.add(frame)
        samples = frame.to_ndarray()
        channels = len(self.names)
        if not frame.format.is_planar:
            samples = samples.reshape(-1, channels).T
        if samples.shape[0] != channels:
            return
        scale = SCALE.get(samples.dtype)
        if scale is None:
            return
        data = np.concatenate([self.rest, samples.astype(np.float32) * np.float32(scale)], 1)
        whole = data.shape[1] // self.block * self.block
        if whole:
            blocks = data[:, :whole].reshape(channels, -1, self.block)
            self.lows.append(blocks.min(axis=2))
            self.highs.append(blocks.max(axis=2))
        self.rest = data[:, whole:]

    def images(self) -> tuple[dict[str, bytes], dict[str, Any]]:
        if self.rest.shape[1]:
            self.lows.append(self.rest.min(axis=1, keepdims=True))
            self.highs.append(self.rest.max(axis=1, keepdims=True))
        if not self.lows:
            return {}, {}
        lows = np.concatenate(self.lows, 1)
        highs = np.concatenate(self.highs, 1)
        parts: dict[str, bytes] = {}
        channels = []
        for index, name in enumerate(self.names):
            peak = float(max(abs(lows[index].min()), abs(highs[index].max())))
            parts[f"wave-{index}.png"] = png(_draw(lows[index], highs[index], WAVE_SIZE))
            channels.append(
                {
                    "part": f"wave-{index}.png",
                    # A file that names no layout (a WAV without a channel mask):
                    # its channels by number, as FFmpeg knows no more of them.
                    "label": CHANNEL_LABELS.get(name, str(index + 1) if name == "NONE" else name),
                    "peak_dbfs": round(20 * math.log10(peak), 1) if peak > 0 else None,
                }
            )
        parts["thumb.png"] = png(_draw(lows.min(axis=0), highs.max(axis=0), THUMB_SIZE))
        loudness = self.meter.integrated()
        peaks = [c["peak_dbfs"] for c in channels if c["peak_dbfs"] is not None]
        return parts, {
            "channels": channels,
            "peak_dbfs": max(peaks) if peaks else None,
            "loudness_lufs": round(loudness, 1) if loudness is not None else None,
        }


def _draw(lows: np.ndarray, highs: np.ndarray, size: tuple[int, int]) -> Image.Image:
    width, height = size
    columns = np.array_split(np.arange(len(lows)), min(width, len(lows)))
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    middle = height / 2
    step = width / len(columns)
    draw.line([(0, middle), (width, middle)], fill=(200, 204, 210))
    for x, column in enumerate(columns):
        low = float(lows[column].min())
        high = float(highs[column].max())
        left = x * step
        draw.rectangle(
            [left, middle - high * middle, left + max(step - 1, 1), middle - low * middle],
            fill=(31, 95, 160),
        )
    return image


def make(source: Any) -> Made:
    with av.open(source, metadata_errors="ignore", options=limits.DECODER_OPTIONS) as container:
        videos = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
        video = videos[0] if videos else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            return Made(kind="none")
        if video is not None and limits.too_large(
            video.codec_context.width, video.codec_context.height
        ):
            return Made(kind="none")
        duration = container.duration / av.time_base if container.duration else 0.0
        proxy = _Proxy(video, audio)
        wave = None
        if video is None and audio is not None:
            layout = audio.codec_context.layout
            names = [channel.name for channel in layout.channels] if layout else []
            wave = _Waveform(audio.codec_context.sample_rate, names or ["FC"])
        pictures = _Pictures(duration)
        streams = [s for s in (video, audio) if s is not None]
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if packet.stream is video:
                    pictures.offer(frame)
                    proxy.video(frame)
                else:
                    if wave is not None:
                        wave.add(frame)
                    proxy.audio(frame)
        parts: dict[str, bytes | Path] = {"proxy.mp4": proxy.close()}
        rate = float(video.average_rate or video.base_rate or 25) if video is not None else 0.0
        info: dict[str, Any] = {"duration": round(duration, 3), "fps": round(rate, 3)}
        if video is not None:
            info["start"] = proxy.start_seconds
            info["width"], info["height"] = proxy.size
            parts.update(pictures.parts())
            info["strip"] = pictures.strip_times(rate, proxy.start_seconds)
            return Made(
                kind="video", parts=parts, thumbnail="thumb.jpg", info=info, scratch=proxy.folder
            )
        assert wave is not None
        wave_parts, wave_info = wave.images()
        parts.update(wave_parts)
        info.update(wave_info)
        return Made(
            kind="audio",
            parts=parts,
            thumbnail="thumb.png" if wave_parts else "",
            info=info,
            scratch=proxy.folder,
        )


class _Pictures:
    """The poster and the strip's frames, taken as the decode passes their times."""

    def __init__(self, duration: float) -> None:
        span = duration if duration > 0 else 10.0
        self.poster_at = span * POSTER_AT
        self.strip_at = [span * (index + 0.5) / STRIP_FRAMES for index in range(STRIP_FRAMES)]
        self.poster: Image.Image | None = None
        self.strip: list[tuple[float, Image.Image]] = []
        self.last: tuple[float, Any] | None = None

    def offer(self, frame: Any) -> None:
        seconds = float(frame.time) if frame.time is not None else 0.0
        self.last = (seconds, frame)
        if self.poster is None and seconds >= self.poster_at:
            self.poster = thumbnail(frame.to_image(), (PROXY_WIDTH, PROXY_WIDTH))
        if len(self.strip) < STRIP_FRAMES and seconds >= self.strip_at[len(self.strip)]:
            small = thumbnail(frame.to_image(), (STRIP_FRAME_WIDTH, STRIP_FRAME_WIDTH))
            while len(self.strip) < STRIP_FRAMES and seconds >= self.strip_at[len(self.strip)]:
                self.strip.append((seconds, small))

    def parts(self) -> dict[str, bytes]:
        if self.last is not None:
            # A stream shorter than its container says: the last frame stands in.
            seconds, frame = self.last
            if self.poster is None:
                self.poster = thumbnail(frame.to_image(), (PROXY_WIDTH, PROXY_WIDTH))
            if not self.strip:
                small = thumbnail(frame.to_image(), (STRIP_FRAME_WIDTH, STRIP_FRAME_WIDTH))
                self.strip.append((seconds, small))
        if self.poster is None:
            return {}
        poster = self.poster
        frames = [image for _, image in self.strip]
        strip = Image.new("RGB", (STRIP_FRAME_WIDTH * len(frames), frames[0].height))
        for index, image in enumerate(frames):
            strip.paste(image, (index * STRIP_FRAME_WIDTH, 0))
        return {
            "poster.jpg": jpeg(poster),
            "strip.jpg": jpeg(strip, quality=70),
            "thumb.jpg": jpeg(thumbnail(self.poster, THUMB_SIZE), quality=70),
        }

    def strip_times(self, rate: float, start: float) -> list[dict[str, Any]]:
        """Each strip frame's time in the proxy (which starts at 0) and timecode."""
        return [
            {
                "seconds": round(seconds - start, 3),
                "timecode": timecode(round((seconds - start) * rate), rate),
            }
            for seconds, _image in self.strip
        ]
