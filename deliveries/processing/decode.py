"""The decode check of audio and video, and the loudness pass that rides on it.

A file with video is demuxed end to end: every packet is read, so a file whose data
stops early or breaks in the middle is found wherever it breaks. Its video is decoded
at a sample of places: windows of a few packets that start at a keyframe, the first
one, the first at or after each tenth of the running time, and the last; a spec's
full decode decodes every frame instead. The first frame that can't be decoded is
named by its number and timecode. A sampled window after skipped packets begins with
a flushed decoder at a keyframe, and frames shown before that keyframe (an open GOP's
leading pictures, which need the skipped ones) are not judged.

An audio-only file is decoded a few frames at its start and near its end (after a
seek), unless its loudness is measured or a full decode asked: then every frame is
decoded once and fed to the loudness meter, the one pass for both. Demuxing a WAV to
its end alone costs twice an MD5 of its bytes, which the sampled check does not pay.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Any

import av
from django.utils.translation import gettext_noop

from ..numbers import grouped
from .loudness import LoudnessMeter
from .result import Finding


def first_frame(container: Any, stream: Any) -> Any | None:
    """The first frame `stream` decodes to, None if none does. The packets are read
    through a demux generator closed before the container is: one left suspended when
    its container closes (`next(container.decode(...))`, or a loop left early) keeps a
    little of FFmpeg's memory for good, some 150 bytes a file with PyAV 18, which a
    worker that looks at 250,000 frames grew by for the whole run."""
    with contextlib.closing(container.demux(stream)) as packets:
        for packet in packets:
            for frame in packet.decode():
                return frame
    return None


SAMPLE_PACKETS = 6
SAMPLE_POINTS = 10
AUDIO_FRAMES = 3
PACKETS_TO_TRY = 300
_TAIL_AUDIO = 4
CORRUPT = gettext_noop("corrupt picture data")


@dataclass
class Scan:
    finding: Finding | None = None
    loudness: float | None = None
    interlaced: bool | None = None
    frames_decoded: int = 0
    reached: float = 0.0


def reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".")


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    millis = int(round((seconds - whole) * 1000))
    if millis == 1000:
        return clock(whole + 1)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def timecode(frame: int, rate: float) -> str:
    """Non-drop-frame SMPTE timecode of a frame number counted from 0, at the nominal
    whole rate (24 for 23.976)."""
    base = max(1, round(rate))
    seconds, frames = divmod(frame, base)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frames:02d}"


class _Video:
    """Decodes the video stream's packets and remembers the first bad frame."""

    def __init__(self, stream: Any, name: str) -> None:
        self.stream = stream
        self.name = name
        rate = stream.average_rate or stream.base_rate or stream.guessed_rate
        self.rate = float(rate) if rate else 0.0
        base = stream.time_base
        self.start = float(stream.start_time * base) if stream.start_time and base else 0.0
        self.finding: Finding | None = None
        self.interlaced: bool | None = None
        self.frames = 0

    def frame_number(self, seconds: float) -> int:
        return max(0, round((seconds - self.start) * self.rate))

    def located(self, seconds: float, why: str) -> Finding:
        number = self.frame_number(seconds)
        return Finding(
            "MEDIA-DecodeError",
            gettext_noop(
                "%(name)s: frame %(frame)s (%(timecode)s) could not be decoded (%(reason)s). "
                "The file is damaged; export it again and deliver it again."
            ),
            {
                "name": self.name,
                "frame": grouped(number),
                "timecode": timecode(number, self.rate),
                "reason": why,
                "seconds": round(seconds, 3),
            },
        )

    def decode(self, packet: Any, judged_from: float = float("-inf")) -> None:
        if self.finding is not None:
            return
        seconds = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
        try:
            frames = packet.decode()
        except (av.FFmpegError, ValueError) as error:
            self.finding = self.located(seconds, reason(error))
            return
        for frame in frames:
            self.frames += 1
            if self.interlaced is None:
                self.interlaced = bool(frame.interlaced_frame)
            shown = frame.time if frame.time is not None else seconds
            if frame.is_corrupt and shown >= judged_from:
                self.finding = self.located(shown, CORRUPT)
                return

    def drain(self, judged_from: float = float("-inf")) -> None:
        """The frames the decoder still holds (B-frame reordering), then a clean
        decoder for the next window."""
        if self.finding is None:
            try:
                for frame in self.stream.codec_context.decode(None):
                    self.frames += 1
                    if frame.is_corrupt and (frame.time or 0.0) >= judged_from:
                        self.finding = self.located(frame.time or 0.0, CORRUPT)
                        break
            except (av.FFmpegError, ValueError) as error:
                self.finding = self.located(judged_from, reason(error))
        self.stream.codec_context.flush_buffers()


def scan_video(
    container: Any,
    video: Any,
    audio: Any | None,
    name: str,
    duration: float,
    *,
    full: bool,
    meter: LoudnessMeter | None,
) -> Scan:
    """Every packet of `video` (and `audio`) read; video decoded as the docstring says."""
    picture = _Video(video, name)
    scan = Scan()
    marks = [duration * k / SAMPLE_POINTS for k in range(SAMPLE_POINTS)] or [0.0]
    next_mark = 0
    window_left = 0
    window_from = 0.0
    tail: list[Any] = []
    tail_open = False
    tail_decoded = False
    audio_tail: deque[Any] = deque(maxlen=_TAIL_AUDIO)
    audio_done = 0
    streams = [video, *([audio] if audio is not None else [])]
    # Seconds per tick of each stream, as a float: Fraction arithmetic on every packet
    # costs more than the rest of the loop.
    ticks = {stream.index: float(stream.time_base or 0) for stream in streams}
    video_index = video.index
    decode_all_audio = meter is not None or full
    reached = 0.0
    try:
        with contextlib.closing(container.demux(*streams)) as packets:
            for packet in packets:
                pts = packet.pts
                if pts is None:
                    if not packet.size:
                        continue
                    seconds = reached
                else:
                    seconds = pts * ticks[packet.stream_index]
                    if seconds > reached:
                        reached = seconds
                if packet.stream_index != video_index:
                    if decode_all_audio or audio_done < AUDIO_FRAMES:
                        audio_done += _decode_audio(packet, meter, scan, name)
                    else:
                        audio_tail.append(packet)
                    continue
                if full:
                    picture.decode(packet)
                    continue
                keyframe = packet.is_keyframe
                if keyframe:
                    tail, tail_open, tail_decoded = [packet], True, False
                elif tail_open:
                    if len(tail) < SAMPLE_PACKETS:
                        tail.append(packet)
                    else:
                        tail_open = False
                # The first window opens on the first packet even if no packet is flagged
                # as a keyframe (some streams flag none): the decoder finds its own start.
                if (
                    (keyframe or next_mark == 0)
                    and not window_left
                    and next_mark < len(marks)
                    and seconds >= marks[next_mark]
                ):
                    while next_mark < len(marks) and marks[next_mark] <= seconds:
                        next_mark += 1
                    window_left, window_from, tail_decoded = SAMPLE_PACKETS, seconds, keyframe
                if window_left:
                    picture.decode(packet, window_from)
                    window_left -= 1
                    if not window_left:
                        picture.drain(window_from)
                if picture.finding is not None:
                    break
    except (av.FFmpegError, ValueError) as error:
        scan.finding = _failed_reading(name, reached, error)
        return scan
    scan.reached = reached
    if window_left:
        picture.drain(window_from)
    if tail and not tail_decoded and picture.finding is None:
        tail_from = float(tail[0].pts * tail[0].time_base) if tail[0].pts is not None else 0.0
        for packet in tail:
            picture.decode(packet, tail_from)
        picture.drain(tail_from)
    if full:
        picture.drain()
    for packet in audio_tail:
        _decode_audio(packet, None, scan, name)
    scan.interlaced = picture.interlaced
    scan.frames_decoded = picture.frames
    if picture.finding is not None:
        scan.finding = picture.finding
    elif not picture.frames:
        scan.finding = _nothing_decoded(name, "video")
    elif duration >= 2 and scan.reached < duration - max(1.0, min(10.0, duration * 0.25)):
        scan.finding = _truncated(name, duration, scan.reached)
    if meter is not None and scan.finding is None:
        scan.loudness = meter.integrated()
    return scan


def _decode_audio(packet: Any, meter: LoudnessMeter | None, scan: Scan, name: str) -> int:
    if scan.finding is not None:
        return 0
    try:
        frames = packet.decode()
    except (av.FFmpegError, ValueError) as error:
        seconds = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
        scan.finding = Finding(
            "MEDIA-DecodeError",
            gettext_noop(
                "%(name)s: the audio at %(time)s could not be decoded (%(reason)s). The file "
                "is damaged; export it again and deliver it again."
            ),
            {
                "name": name,
                "time": clock(seconds),
                "reason": reason(error),
                "seconds": round(seconds, 3),
            },
        )
        return 0
    if meter is not None:
        for frame in frames:
            meter.add(frame)
    return len(frames)


def scan_audio(
    container: Any,
    audio: Any,
    name: str,
    duration: float,
    *,
    meter: LoudnessMeter | None,
    full: bool,
) -> Scan:
    """An audio-only file: every frame (loudness, full decode) or its two ends."""
    scan = Scan()
    if meter is None and not full:
        problem = _ends(container, audio, duration)
        if problem:
            scan.finding = _problem(name, problem)
        return scan
    decoded = 0
    try:
        with contextlib.closing(container.demux(audio)) as packets:
            for packet in packets:
                if packet.size == 0:
                    continue
                if packet.pts is not None and packet.time_base:
                    scan.reached = max(scan.reached, float(packet.pts * packet.time_base))
                decoded += _decode_audio(packet, meter, scan, name)
                if scan.finding is not None:
                    return scan
    except (av.FFmpegError, ValueError) as error:
        scan.finding = _failed_reading(name, scan.reached, error)
        return scan
    if not decoded:
        scan.finding = _nothing_decoded(name, "audio")
    elif duration >= 2 and scan.reached < duration - max(1.0, min(10.0, duration * 0.25)):
        scan.finding = _truncated(name, duration, scan.reached)
    elif meter is not None:
        scan.loudness = meter.integrated()
    return scan


def _problem(name: str, problem: str) -> Finding:
    """A decode problem the portal words itself (media.py keeps it whole, untranslated
    parameters aside: see result.PORTAL_WRITTEN_PARAMS)."""
    return Finding("MEDIA-DecodeError", "%(name)s: %(problem)s", {"name": name, "problem": problem})


def _failed_reading(name: str, reached: float, error: Exception) -> Finding:
    return _problem(
        name,
        f"reading the file failed near {clock(reached)} ({reason(error)}). "
        "The file is damaged; deliver it again.",
    )


def _nothing_decoded(name: str, kind: str) -> Finding:
    return _problem(
        name,
        f"no {kind} could be decoded; the file is truncated or damaged. Deliver it again.",
    )


def _truncated(name: str, duration: float, reached: float) -> Finding:
    return _problem(
        name,
        f"the file declares a duration of {clock(duration)} but its data "
        f"stops at {clock(reached)}; it is truncated. Deliver it again.",
    )


def _ends(container: Any, audio: Any, duration: float) -> str:
    """'' when the start and the end of the audio decode, else what went wrong."""
    problem, _reached = _decode_some(container, audio, "start")
    if problem or duration < 2:
        return problem
    target = duration * 0.9
    try:
        container.seek(int(target * av.time_base), any_frame=False, backward=True)
    except av.FFmpegError as error:
        return f"seeking to the end failed ({reason(error)}); the file may be truncated."
    problem, reached = _decode_some(container, audio, "end")
    if problem:
        return problem
    if reached < target - max(1.0, min(10.0, target * 0.25)):
        # The seek did not land (no index, e.g. a fragmented MP4 without mfra): walk
        # the packets to the end without decoding them, to see where the data stops.
        try:
            for packet in container.demux(audio):
                if packet.pts is not None and packet.time_base:
                    reached = max(reached, float(packet.pts * packet.time_base))
        except (av.FFmpegError, ValueError) as error:
            return (
                f"reading the file failed near {clock(reached)} ({reason(error)}). "
                "The file is damaged; deliver it again."
            )
        if reached < target - 1:
            return (
                f"the file declares a duration of {clock(duration)} but its data stops at "
                f"{clock(reached)}; it is truncated. Deliver it again."
            )
    return ""


def _decode_some(container: Any, audio: Any, where: str) -> tuple[str, float]:
    decoded = packets = 0
    reached = 0.0
    try:
        with contextlib.closing(container.demux(audio)) as demuxed:
            for packet in demuxed:
                packets += 1
                if packet.pts is not None and packet.time_base:
                    reached = max(reached, float(packet.pts * packet.time_base))
                decoded += len(packet.decode())
                if decoded >= AUDIO_FRAMES or packets >= PACKETS_TO_TRY:
                    break
    except (av.FFmpegError, ValueError) as error:
        return (
            f"decoding failed near the {where} of the file ({reason(error)}). "
            "The file is damaged; deliver it again."
        ), reached
    if not decoded:
        return (
            f"no audio could be decoded near the {where} of the file; it is truncated "
            "or damaged. Deliver it again."
        ), reached
    return "", reached
