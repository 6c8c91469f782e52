"""The generated samples are real media: decoders and parsers see what the pipeline expects.

No Django here; run with ``python -m pytest tests/test_samples.py -p no:django``.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import time
import wave
import xml.etree.ElementTree as ET
from array import array
from collections import Counter

import av
import pytest
import xxhash
from PIL import Image

from deliveries.management import samples

TT = "{http://www.w3.org/ns/ttml}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
CLOCK = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3}$")


def _seconds(clock: str) -> float:
    hours, minutes, seconds = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _decode_all_video(data: bytes) -> tuple[int, int | None, Exception | None]:
    """(frames decoded, frames the container declares, the error that stopped us if any)."""
    decoded = 0
    declared = None
    try:
        with av.open(io.BytesIO(data)) as container:
            declared = container.streams.video[0].frames
            for _frame in container.decode(video=0):
                decoded += 1
    except av.FFmpegError as error:
        return decoded, declared, error
    return decoded, declared, None


def _fragmented_copy(mp4: bytes) -> bytes:
    """The same streams remuxed with ``moov`` first (FFmpeg's faststart needs a real file)."""
    out = io.BytesIO()
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with (
        av.open(io.BytesIO(mp4)) as source,
        av.open(out, "w", format="mp4", options=options) as target,
    ):
        streams = {
            stream.index: target.add_stream_from_template(stream) for stream in source.streams
        }
        for packet in source.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            target.mux(packet)
    return out.getvalue()


def _wav_format_chunk(data: bytes) -> tuple[int, int, int | None]:
    """(format tag, channels, channel mask or None) from a WAV file's ``fmt `` chunk."""
    offset = data.index(b"fmt ")
    size, tag, channels = struct.unpack("<IHH", data[offset + 4 : offset + 12])
    mask = None
    if tag == 0xFFFE and size >= 40:
        (mask,) = struct.unpack("<I", data[offset + 28 : offset + 32])
    return tag, channels, mask


# --- MP4 ---------------------------------------------------------------------------------


def test_the_mp4_holds_h264_video_and_stereo_aac():
    with av.open(io.BytesIO(samples.h264_aac_mp4())) as container:
        assert "mp4" in container.format.name
        assert len(container.streams.video) == 1
        assert len(container.streams.audio) == 1
        video = container.streams.video[0]
        audio = container.streams.audio[0]

        assert video.codec_context.name == "h264"
        assert (video.width, video.height) == (320, 180)
        assert video.format.name == "yuv420p"
        assert video.average_rate == 24

        assert audio.codec_context.name == "aac"
        assert audio.channels == 2
        assert audio.layout.name == "stereo"
        assert audio.rate == 48000


def test_the_mp4_lasts_about_as_long_as_asked():
    with av.open(io.BytesIO(samples.h264_aac_mp4(seconds=1.5))) as container:
        assert container.duration / av.time_base == pytest.approx(1.5, abs=0.1)
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.frames == 36
        assert float(video.duration * video.time_base) == pytest.approx(1.5, abs=0.1)
        assert float(audio.duration * audio.time_base) == pytest.approx(1.5, abs=0.1)


def test_the_mp4_follows_the_requested_size_and_frame_rate():
    data = samples.h264_aac_mp4(seconds=1.0, width=160, height=90, fps=25)
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        assert (video.width, video.height) == (160, 90)
        assert video.average_rate == 25
        frames = list(container.decode(video=0))
    assert len(frames) == 25
    assert all((frame.width, frame.height) == (160, 90) for frame in frames)


def test_every_video_frame_decodes_and_the_picture_moves():
    decoded, declared, error = _decode_all_video(samples.h264_aac_mp4())
    assert error is None
    assert decoded == declared == 48

    with av.open(io.BytesIO(samples.h264_aac_mp4())) as container:
        frames = [bytes(frame.planes[0]) for frame in container.decode(video=0)]
    assert frames[0] != frames[len(frames) // 2] != frames[-1]


def test_the_mp4_audio_is_a_tone_louder_on_the_left():
    left: list[float] = []
    right: list[float] = []
    with av.open(io.BytesIO(samples.h264_aac_mp4())) as container:
        for frame in container.decode(audio=0):
            assert frame.format.name == "fltp"  # FFmpeg's AAC decoder output: planar float
            left.extend(array("f", bytes(frame.planes[0]))[: frame.samples])
            right.extend(array("f", bytes(frame.planes[1]))[: frame.samples])
    peak_left = max(abs(value) for value in left)
    peak_right = max(abs(value) for value in right)
    assert peak_left == pytest.approx(0.25, abs=0.05)
    assert peak_right / peak_left == pytest.approx(0.7, abs=0.07)


def test_odd_video_dimensions_are_refused():
    with pytest.raises(ValueError, match="even"):
        samples.h264_aac_mp4(width=321)


def test_without_libx264_the_mp4_falls_back_to_mpeg4(monkeypatch):
    monkeypatch.setattr(samples, "VIDEO_CODEC", "mpeg4")
    data = samples.h264_aac_mp4(seconds=0.5)
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.video[0].codec_context.name == "mpeg4"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert sum(1 for _ in container.decode(video=0)) == 12


def test_this_pyav_build_has_libx264():
    # If this fails the samples silently fall back to mpeg4; the other tests still say so.
    assert "libx264" in av.codecs_available
    assert samples.VIDEO_CODEC == "libx264"


# --- WAV ---------------------------------------------------------------------------------


def test_the_stereo_wav_is_pcm_s16le_with_two_channels():
    data = samples.wav_audio()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == "wav"
        assert stream.codec_context.name == "pcm_s16le"
        assert stream.channels == 2
        assert stream.rate == 48000
        assert container.duration / av.time_base == pytest.approx(1.0, abs=0.01)

    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 2
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == 48000
        assert reader.getnframes() == 48000
        left, right = struct.unpack("<2h", reader.readframes(48000)[4 * 25 : 4 * 26])
    assert left != 0
    assert right == pytest.approx(0.9 * left, abs=1)  # each channel 10 % quieter


def test_the_six_channel_wav_is_5_1():
    data = samples.wav_audio(channels=6)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "pcm_s16le"
        assert stream.channels == 6
        assert stream.layout.name == "5.1"
        assert [channel.name for channel in stream.layout.channels] == [
            "FL",
            "FR",
            "FC",
            "LFE",
            "BL",
            "BR",
        ]
    assert _wav_format_chunk(data) == (0xFFFE, 6, 0x3F)  # WAVE_FORMAT_EXTENSIBLE, 5.1 mask


def test_the_wav_lasts_as_long_as_asked_at_the_asked_rate():
    data = samples.wav_audio(seconds=0.5, channels=1, sample_rate=44100)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getnchannels() == 1
        assert reader.getframerate() == 44100
        assert reader.getnframes() == 22050


# --- TTML --------------------------------------------------------------------------------


def test_the_ttml_parses_with_the_ttml_namespace_and_language():
    root = ET.fromstring(samples.ttml())
    assert root.tag == f"{TT}tt"
    assert root.get(XML_LANG) == "en-US"

    paragraphs = list(root.iter(f"{TT}p"))
    assert len(paragraphs) == 3
    ids = [p.get(XML_ID) for p in paragraphs]
    assert None not in ids
    assert len(set(ids)) == len(ids)
    for p in paragraphs:
        assert "id" not in p.attrib
        assert CLOCK.match(p.get("begin"))
        assert CLOCK.match(p.get("end"))
        assert _seconds(p.get("begin")) < _seconds(p.get("end"))
        assert p.text


def test_the_ttml_follows_the_requested_language_and_cue_count():
    root = ET.fromstring(samples.ttml(lang="fr-CA", cues=7))
    assert root.get(XML_LANG) == "fr-CA"
    paragraphs = list(root.iter(f"{TT}p"))
    assert len(paragraphs) == 7
    assert paragraphs[-1].get("end") == "00:00:14.000"


def test_the_broken_ttml_parses_but_breaks_several_rules():
    root = ET.fromstring(samples.broken_ttml())
    assert root.tag == f"{TT}tt"
    assert root.get(XML_LANG) == "pt_BR"

    paragraphs = list(root.iter(f"{TT}p"))
    assert any("id" in p.attrib and XML_ID not in p.attrib for p in paragraphs)
    duplicates = [
        xml_id for xml_id, count in Counter(p.get(XML_ID) for p in paragraphs).items() if count > 1
    ]
    assert duplicates == ["cue1"]
    times = [p.get(name) for p in paragraphs for name in ("begin", "end")]
    assert any(not CLOCK.match(value) for value in times)


def test_the_malformed_ttml_does_not_parse():
    with pytest.raises(ET.ParseError):
        ET.fromstring(samples.malformed_ttml())


# --- PNG ---------------------------------------------------------------------------------


def test_the_png_opens_with_the_requested_size():
    for size in ((64, 36), (200, 100)):
        data = samples.png_image(*size)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG"
            assert image.size == size
            assert image.mode == "RGB"
            assert image.getpixel((0, 0)) != image.getpixel((size[0] - 1, size[1] - 1))


# --- corrupt video -----------------------------------------------------------------------


def test_the_corrupt_video_fails_to_open_or_to_decode_fully():
    data = samples.corrupt_video()
    assert data[4:8] == b"ftyp"  # still sniffs as MP4, so it reaches the decoder checks
    decoded, declared, error = _decode_all_video(data)
    assert error is not None or declared is None or decoded < declared
    # The default sample keeps moov after mdat, so cutting mdat loses moov: open fails.
    with pytest.raises(av.InvalidDataError):
        av.open(io.BytesIO(data))


def test_a_corrupt_copy_of_a_moov_first_mp4_opens_but_does_not_decode_fully():
    good = _fragmented_copy(samples.h264_aac_mp4())
    decoded, _declared, error = _decode_all_video(good)
    assert (decoded, error) == (48, None)

    decoded, _declared, error = _decode_all_video(samples.corrupt_video(good))
    assert error is not None or decoded < 48


# --- checksums ---------------------------------------------------------------------------


FILES = {"feature.mp4": b"not really a film", "subs/en-US.ttml": b"<tt/>", "empty.bin": b""}


def test_xxh64_checksum_lines_match_xxhash():
    lines = samples.checksum_txt(FILES).decode().splitlines(keepends=True)
    assert lines == [f"{xxhash.xxh64(body).hexdigest()}  {name}\n" for name, body in FILES.items()]
    assert all(re.fullmatch(r"[0-9a-f]{16}  \S+\n", line) for line in lines)


def test_md5_checksum_lines_match_hashlib():
    lines = samples.checksum_txt(FILES, algorithm="md5").decode().splitlines(keepends=True)
    assert lines == [f"{hashlib.md5(body).hexdigest()}  {name}\n" for name, body in FILES.items()]
    assert all(re.fullmatch(r"[0-9a-f]{32}  \S+\n", line) for line in lines)


def test_an_unknown_checksum_algorithm_is_refused():
    with pytest.raises(ValueError, match="sha1"):
        samples.checksum_txt(FILES, algorithm="sha1")


# --- speed and reproducibility -----------------------------------------------------------

GENERATORS = {
    "h264_aac_mp4": samples.h264_aac_mp4,
    "wav_audio": samples.wav_audio,
    "wav_audio_5_1": lambda: samples.wav_audio(channels=6),
    "ttml": samples.ttml,
    "broken_ttml": samples.broken_ttml,
    "malformed_ttml": samples.malformed_ttml,
    "png_image": samples.png_image,
    "corrupt_video": samples.corrupt_video,
    "checksum_txt": lambda: samples.checksum_txt(FILES),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_each_generator_is_quick_and_gives_the_same_bytes_twice(name):
    generate = GENERATORS[name]
    started = time.perf_counter()
    first = generate()
    elapsed = time.perf_counter() - started
    assert isinstance(first, bytes)
    assert first
    assert elapsed < 1.0
    assert generate() == first
