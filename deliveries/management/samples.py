"""Small, real media samples generated in memory, as ``bytes``.

The demo-data seed command and the tests of the media-processing pipeline need files that
real decoders accept (or, on purpose, reject). Checking binary fixtures into the repository
would hide how they were made, and shelling out to an ``ffmpeg`` binary would add a system
dependency, so everything here is made with PyAV (which bundles FFmpeg's libraries),
Pillow and the standard library only. There is no numpy: PyAV does not depend on it, so
pixel and sample buffers are built from plain ``bytes``.

Every generator is fast (at the defaults the MP4 takes about 0.1 s, the rest a few
milliseconds at most) and deterministic: the same arguments give the same bytes.
That takes the muxers' ``bitexact`` flag and, for libx264, one thread and no macroblock
tree (with ``mbtree`` on, this libx264 build produced different bitstreams from run to run
for identical input, even single-threaded).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import struct
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, cast

import av
import xxhash
from av.codec.context import Flags
from PIL import Image

if TYPE_CHECKING:
    from av.video.stream import VideoStream

from ..processing.timedtext import clock_time as _clock

__all__ = [
    "VIDEO_CODEC",
    "broken_ttml",
    "checksum_txt",
    "corrupt_video",
    "h264_aac_mp4",
    "malformed_ttml",
    "png_image",
    "ttml",
    "wav_audio",
]

TTML_NS = "http://www.w3.org/ns/ttml"

# libx264 ships in the PyAV wheels we use; ``mpeg4`` (MPEG-4 Part 2) is FFmpeg's own encoder
# and is always present, so it is the fallback for builds without libx264.
VIDEO_CODEC = "libx264" if "libx264" in av.codecs_available else "mpeg4"

_AUDIO_RATE = 48000
_TONE_HZ = 440
_AMPLITUDE = 0.25  # a quarter of full scale: audible, never clipping
_BITEXACT = {"fflags": "+bitexact"}  # keep the muxers' "encoder" tags out of the output


def h264_aac_mp4(
    seconds: float = 2.0,
    width: int = 320,
    height: int = 180,
    fps: int = 24,
    keyframe_interval: int = 0,
) -> bytes:
    """An MP4 with one H.264 video stream and one stereo AAC audio stream.

    The video is yuv420p showing a moving diagonal gradient with a box that slides across
    it, so every frame differs (encoders and thumbnailers see real motion, not a still).
    The audio is a 440 Hz sine tone, a little louder in the left channel than in the right
    so that a swapped or collapsed channel pair is detectable.

    The video codec is ``VIDEO_CODEC``: H.264 through libx264 when the PyAV build has it (the
    PyPI wheels do), otherwise FFmpeg's built-in ``mpeg4`` (MPEG-4 Part 2) so the function
    still produces a playable file. ``width`` and ``height`` must be even, as yuv420p
    chroma subsampling and libx264 require. ``keyframe_interval`` (frames) sets the GOP
    length; 0 keeps the encoder's (250 for libx264: one GOP for a short clip).
    """
    if seconds <= 0 or fps <= 0:
        raise ValueError("seconds and fps must be positive")
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError("width and height must be positive and even")

    frame_count = max(1, round(seconds * fps))
    sample_count = max(1, round(seconds * _AUDIO_RATE))

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4", options=_BITEXACT) as container:
        # A codec chosen at import time: PyAV's types can't tell it is a video one.
        video = cast("VideoStream", container.add_stream(VIDEO_CODEC, rate=fps))
        video.width = width
        video.height = height
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = Fraction(1, fps)
        video.codec_context.flags |= Flags.bitexact
        if keyframe_interval:
            video.codec_context.gop_size = keyframe_interval
        if VIDEO_CODEC == "libx264":
            # Small and quick; one thread and no mbtree so the output is reproducible.
            video.codec_context.options = {
                "preset": "veryfast",
                "crf": "28",
                "threads": "1",
                "mbtree": "0",
            }
        else:
            video.codec_context.bit_rate = 400_000
            video.codec_context.thread_count = 1

        audio = container.add_stream("aac", rate=_AUDIO_RATE)
        audio.layout = "stereo"
        audio.codec_context.bit_rate = 128_000
        audio.codec_context.flags |= Flags.bitexact
        # The default "twoloop" coder spends most of this function's time on a sine tone.
        audio.codec_context.options = {"aac_coder": "fast"}

        for index in range(frame_count):
            frame = _test_pattern_frame(width, height, index, frame_count)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))

        pcm = _sine_s16(sample_count, gains=(1.0, 0.7), sample_rate=_AUDIO_RATE)
        for audio_frame in _audio_frames(pcm, sample_count, "stereo", _AUDIO_RATE, chunk=1024):
            container.mux(audio.encode(audio_frame))
        container.mux(audio.encode(None))

    return buffer.getvalue()


def wav_audio(seconds: float = 1.0, channels: int = 2, sample_rate: int = 48000) -> bytes:
    """A PCM signed 16-bit little-endian WAV file holding a sine tone.

    ``channels`` 2 gives stereo and 6 gives 5.1, FFmpeg's "5.1" (FL FR FC LFE BL BR), which
    FFmpeg writes as WAVE_FORMAT_EXTENSIBLE with channel mask 0x3F so a layout check sees
    5.1; any other count gets FFmpeg's default layout for it. Mono and stereo are written as
    plain WAVE_FORMAT_PCM, which has no channel mask: readers report "2 channels", not
    "stereo". Each channel is a little quieter than the one before, so channel order
    survives a round trip visibly.
    """
    if seconds <= 0 or sample_rate <= 0:
        raise ValueError("seconds and sample_rate must be positive")
    if not 1 <= channels <= 8:
        raise ValueError("channels must be between 1 and 8")
    layout = {1: "mono", 2: "stereo", 6: "5.1"}.get(channels, f"{channels}c")
    sample_count = max(1, round(seconds * sample_rate))
    gains = tuple(1.0 - 0.1 * channel for channel in range(channels))

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="wav", options=_BITEXACT) as container:
        stream = container.add_stream("pcm_s16le", rate=sample_rate)
        stream.layout = layout
        stream.codec_context.flags |= Flags.bitexact
        pcm = _sine_s16(sample_count, gains, sample_rate)
        for frame in _audio_frames(pcm, sample_count, layout, sample_rate, chunk=4096):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


IMSC1_1_TEXT = "http://www.w3.org/ns/ttml/profile/imsc1.1/text"


def ttml(lang: str = "en-US", cues: int = 3, profile: str = "") -> bytes:
    """A well-formed, valid TTML subtitle document with ``cues`` timed paragraphs.

    The root is ``tt`` in the TTML namespace with ``xml:lang``; each ``p`` carries a unique
    ``xml:id`` and ``begin``/``end`` clock times (two seconds each, back to back), which is
    what the subtitle checks in the pipeline expect of a good delivery. ``profile`` (such as
    ``IMSC1_1_TEXT``) is declared as the root's ``ttp:contentProfiles``.
    """
    if cues < 0:
        raise ValueError("cues must not be negative")
    paragraphs = "\n".join(
        f'      <p xml:id="cue{n}" begin="{_clock(2 * (n - 1))}" end="{_clock(2 * n)}">'
        f"Sample subtitle line {n}.</p>"
        for n in range(1, cues + 1)
    )
    return _ttml_document(_xml_attr(lang), paragraphs, profile).encode("utf-8")


def broken_ttml() -> bytes:
    """A TTML document that is well-formed XML but breaks several TTML rules at once.

    It parses, so it reaches the validation step, where it should be rejected for: an
    ``xml:lang`` of ``pt_BR`` (BCP 47 wants ``pt-BR``), a ``p`` with a plain ``id`` instead
    of ``xml:id``, two ``p`` elements sharing one ``xml:id``, an unparseable ``begin`` time,
    and a cue whose ``end`` comes before its ``begin``.
    """
    paragraphs = "\n".join(
        [
            '      <p xml:id="cue1" begin="00:00:00.000" end="00:00:02.000">Primeira.</p>',
            '      <p id="cue2" begin="00:00:02.000" end="00:00:04.000">Segunda.</p>',
            '      <p xml:id="cue1" begin="00:00:04.000" end="00:00:06.000">Terceira.</p>',
            '      <p xml:id="cue4" begin="00:00:xx.000" end="00:00:08.000">Quarta.</p>',
            '      <p xml:id="cue5" begin="00:00:10.000" end="00:00:09.000">Quinta.</p>',
        ]
    )
    return _ttml_document("pt_BR", paragraphs).encode("utf-8")


def malformed_ttml() -> bytes:
    """A TTML-looking document that is not well-formed XML, so any XML parser rejects it.

    It has a ``p`` closed by the wrong tag, an unescaped ampersand and no closing ``tt``:
    the pipeline must report a parse error rather than a list of TTML rule violations.
    """
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<tt xmlns="{TTML_NS}" xml:lang="en-US">\n'
        "  <body>\n"
        "    <div>\n"
        '      <p xml:id="cue1" begin="00:00:00.000" end="00:00:02.000">Fish & chips</span>\n'
        "    </div>\n"
        "  </body>\n"
    ).encode()


def png_image(width: int = 64, height: int = 36) -> bytes:
    """A small RGB PNG (a colour gradient), e.g. a poster frame or key-art delivery."""
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    # Red rises left to right, green top to bottom: one row or column each, stretched.
    red = bytes(255 * x // max(1, width - 1) for x in range(width))
    green = bytes(255 * y // max(1, height - 1) for y in range(height))
    image = Image.merge(
        "RGB",
        (
            Image.frombytes("L", (width, 1), red).resize((width, height), Image.Resampling.NEAREST),
            Image.frombytes("L", (1, height), green).resize(
                (width, height), Image.Resampling.NEAREST
            ),
            Image.new("L", (width, height), 128),
        ),
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def corrupt_video(good: bytes | None = None) -> bytes:
    """A damaged copy of an MP4 that PyAV cannot open, or cannot decode completely.

    The top-level boxes before ``mdat`` (``ftyp``, and ``moov`` for a fast-start file) are
    kept, so the file still sniffs as MP4; the ``mdat`` payload is cut to half its length
    and a stretch of it is overwritten with (seeded, hence deterministic) random bytes, and
    everything after it is dropped. For an ordinary MP4, whose ``moov`` follows ``mdat``
    (as ``h264_aac_mp4`` writes it), ``av.open`` raises ``av.InvalidDataError`` (FFmpeg
    logs "moov atom not found"); for one whose ``moov`` comes first (fast-start or
    fragmented) it opens, but decoding raises or stops early. ``good`` defaults to a fresh
    ``h264_aac_mp4()``.
    """
    data = h264_aac_mp4() if good is None else good
    boxes = _top_level_boxes(data)
    mdat = next(((start, size) for kind, start, size in boxes if kind == b"mdat"), None)
    if mdat is None:
        # Not a box structure we understand: truncate and garble the whole thing.
        head = bytearray(data[: max(1, len(data) // 2)])
        _garble(head, start=min(len(head), 32))
        return bytes(head)

    start, size = mdat
    header = 16 if struct.unpack(">I", data[start : start + 4])[0] == 1 else 8
    payload_end = start + header + (size - header) // 2
    damaged = bytearray(data[:payload_end])
    _garble(damaged, start=start + header)
    return bytes(damaged)


def damaged_at(clip: bytes, frame_number: int, fps: int = 24) -> bytes:
    """`clip` with the picture data of one video frame (by its number in display order)
    overwritten with seeded noise, the container left intact: processing's decode check
    names that frame and its timecode."""
    with av.open(io.BytesIO(clip), "r") as container:
        stream = container.streams.video[0]
        packets = [
            (packet.pos, packet.size)
            for packet in container.demux(stream)
            if packet.size
            and packet.pts is not None
            and packet.time_base is not None
            and packet.pos is not None
            and round(packet.pts * packet.time_base * fps) == frame_number
        ]
    position, size = packets[0]
    damaged = bytearray(clip)
    damaged[position + 16 : position + size - 16] = random.Random(7).randbytes(size - 32)
    return bytes(damaged)


def dpx_frame(width: int, height: int, noise: bool = False) -> bytes:
    """One 16-bit RGB DPX frame, as picture-mastering sequences hold them: black, or
    random pixels (`noise`: each frame's bytes, and so its checksums, its own)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as container:
        stream = container.add_stream("dpx", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb48le"
        frame = av.VideoFrame(width, height, "rgb48le")
        for plane in frame.planes:
            size = plane.buffer_size
            plane.update(os.urandom(size) if noise else bytes(size))
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def checksum_txt(files: dict[str, bytes], algorithm: str = "xxh64") -> bytes:
    """A checksum manifest as partners send it: one ``<hex hash>  <name>`` line per file.

    The format is that of ``md5sum``/``xxhsum`` (two spaces between hash and name), in the
    order of ``files``. ``algorithm`` is ``"xxh64"`` (the fast hash post houses favour for
    large media) or ``"md5"``.
    """
    if algorithm == "xxh64":
        digest = lambda content: xxhash.xxh64(content).hexdigest()  # noqa: E731
    elif algorithm == "md5":
        digest = lambda content: hashlib.md5(content).hexdigest()  # noqa: E731
    else:
        raise ValueError(f"unsupported checksum algorithm {algorithm!r}; use 'xxh64' or 'md5'")
    lines = [f"{digest(content)}  {name}\n" for name, content in files.items()]
    return "".join(lines).encode("utf-8")


# --- helpers ----------------------------------------------------------------------------


def _test_pattern_frame(width: int, height: int, index: int, total: int) -> av.VideoFrame:
    """One yuv420p frame: a diagonal luma gradient scrolling each frame, plus a white box."""
    frame = av.VideoFrame(width, height, "yuv420p")
    y_plane, u_plane, v_plane = frame.planes

    # Row r of the gradient is ramp[r + shift : r + shift + width]: slicing, not per-pixel work.
    shift = (4 * index) % 256
    ramp = bytes(16 + (i % 220) for i in range(width + height + 256))
    luma = bytearray(b"".join(ramp[row + shift : row + shift + width] for row in range(height)))
    box = max(2, min(width, height) // 4)
    left = (width - box) * index // max(1, total - 1)
    top = (height - box) // 2
    for row in range(top, top + box):
        luma[row * width + left : row * width + left + box] = b"\xeb" * box
    _write_plane(y_plane, bytes(luma), width, height)

    chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
    u = 128 + round(60 * math.sin(2 * math.pi * index / max(1, total)))
    v = 128 + round(60 * math.cos(2 * math.pi * index / max(1, total)))
    _write_plane(u_plane, bytes((u,)) * (chroma_w * chroma_h), chroma_w, chroma_h)
    _write_plane(v_plane, bytes((v,)) * (chroma_w * chroma_h), chroma_w, chroma_h)
    return frame


def _write_plane(plane: av.video.plane.VideoPlane, data: bytes, width: int, height: int) -> None:
    """Copy tightly packed rows into a plane whose rows may be padded to ``line_size``."""
    if plane.line_size == width:
        plane.update(data)
        return
    padding = b"\x00" * (plane.line_size - width)
    plane.update(b"".join(data[row * width : (row + 1) * width] + padding for row in range(height)))


def _sine_s16(sample_count: int, gains: tuple[float, ...], sample_rate: int) -> bytes:
    """Interleaved signed 16-bit samples of a sine tone, one channel per gain.

    A 440 Hz tone repeats exactly every ``sample_rate / gcd(sample_rate, 440)`` samples
    (1,200 at 48 kHz), so only that period is computed and the rest is the period repeated:
    a handful of ``math.sin`` calls instead of one per sample and channel.
    """
    period = sample_rate // math.gcd(sample_rate, _TONE_HZ)
    step = 2 * math.pi * _TONE_HZ / sample_rate
    peak = 32767 * _AMPLITUDE
    values = [
        round(math.sin(step * n) * peak * gain)
        for n in range(min(period, sample_count))
        for gain in gains
    ]
    one_period = struct.pack(f"<{len(values)}h", *values)
    repeats = -(-sample_count // period)  # ceiling division
    return (one_period * repeats)[: sample_count * len(gains) * 2]


def _audio_frames(
    pcm: bytes, sample_count: int, layout: str, sample_rate: int, chunk: int
) -> Iterator[av.AudioFrame]:
    """Packed s16 AudioFrames over ``pcm``; encoders wanting another format resample them."""
    bytes_per_sample = 2 * av.AudioLayout(layout).nb_channels
    for start in range(0, sample_count, chunk):
        samples = min(chunk, sample_count - start)
        frame = av.AudioFrame(format="s16", layout=layout, samples=samples)
        frame.sample_rate = sample_rate
        frame.time_base = Fraction(1, sample_rate)
        frame.pts = start
        data = pcm[start * bytes_per_sample : (start + samples) * bytes_per_sample]
        plane = frame.planes[0]
        # The plane buffer may be padded beyond the samples; keep the padding silent.
        plane.update(data + b"\x00" * (plane.buffer_size - len(data)))
        yield frame


def _xml_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _ttml_document(lang: str, paragraphs: str, profile: str = "") -> str:
    declared = (
        f' xmlns:ttp="{TTML_NS}#parameter" ttp:contentProfiles="{_xml_attr(profile)}"'
        if profile
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<tt xmlns="{TTML_NS}" xmlns:tts="{TTML_NS}#styling"{declared} xml:lang="{lang}">\n'
        "  <head>\n"
        "    <styling>\n"
        '      <style xml:id="default" tts:color="white" tts:textAlign="center"/>\n'
        "    </styling>\n"
        "  </head>\n"
        '  <body style="default">\n'
        "    <div>\n"
        f"{paragraphs}\n"
        "    </div>\n"
        "  </body>\n"
        "</tt>\n"
    )


def _top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(type, offset, size)`` of each top-level ISO BMFF box, stopping at anything odd."""
    boxes = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8 or offset + size > len(data):
            break
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def _garble(data: bytearray, start: int) -> None:
    """Overwrite a quarter of ``data[start:]``, from a quarter of the way in, with noise.

    The noise comes from a fixed seed, so the same input is always damaged the same way.
    """
    length = len(data) - start
    if length <= 0:
        return
    begin = start + length // 4
    count = max(1, length // 4)
    noise = random.Random(0x5EED).randbytes(count)
    data[begin : begin + count] = noise[: len(data) - begin]
