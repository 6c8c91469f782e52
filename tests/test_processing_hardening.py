"""Processing against hostile files: image bombs, findings that echo attacker-sized
values, extensions that lie about the content."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import av
import pytest
from django.utils import translation
from PIL import Image

from deliveries.management import samples
from deliveries.models import AssetType, DeliveredFile, DeliveryRequest, ProcessingStatus
from deliveries.numbers import grouped
from deliveries.processing import limits, result, timedtext
from deliveries.tasks import process_request
from deliveries.templatetags.portal import finding_message

ROOT = Path(__file__).resolve().parent.parent


def _processed(request: DeliveryRequest) -> dict[str, DeliveredFile]:
    process_request.call(request.pk)
    return {f.name: f for f in request.files.all()}


def _codes(delivered: DeliveredFile) -> list[str]:
    return [error["code"] for error in delivered.errors]


# Image bombs --------------------------------------------------------------------------


def _exr_attribute(name: str, kind: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def exr_bomb(width: int = 10000, height: int = 10000) -> bytes:
    """A ZIP-compressed half-float RGB OpenEXR of black pixels: 600 KB on disk for
    10000×10000, 600 MB once FFmpeg decodes it."""
    channel = struct.pack("<iBBBBii", 1, 0, 0, 0, 0, 1, 1)  # HALF, linear, no sampling
    channels = b"".join(name + b"\0" + channel for name in (b"B", b"G", b"R")) + b"\0"
    window = struct.pack("<iiii", 0, 0, width - 1, height - 1)
    header = (
        struct.pack("<ii", 20000630, 2)
        + _exr_attribute("channels", "chlist", channels)
        + _exr_attribute("compression", "compression", bytes([3]))  # ZIP, 16 lines a block
        + _exr_attribute("dataWindow", "box2i", window)
        + _exr_attribute("displayWindow", "box2i", window)
        + _exr_attribute("lineOrder", "lineOrder", bytes([0]))
        + _exr_attribute("pixelAspectRatio", "float", struct.pack("<f", 1.0))
        + _exr_attribute("screenWindowCenter", "v2f", struct.pack("<ff", 0.0, 0.0))
        + _exr_attribute("screenWindowWidth", "float", struct.pack("<f", 1.0))
        + b"\0"
    )
    lines = 16
    blocks = -(-height // lines)
    packed = zlib.compress(bytes(lines * width * 3 * 2), 9)
    first = len(header) + 8 * blocks
    offsets = b"".join(struct.pack("<Q", first + n * (8 + len(packed))) for n in range(blocks))
    chunks = b"".join(struct.pack("<ii", n * lines, len(packed)) + packed for n in range(blocks))
    return header + offsets + chunks


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A well-formed 8-bit greyscale PNG of black pixels: a few hundred KB at 10000×10000."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + width)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def mov_of_png_frame(png: bytes, width: int, height: int) -> bytes:
    """A one-frame QuickTime movie whose only frame is `png` (the PNG video codec)."""
    out = io.BytesIO()
    with av.open(out, "w", "mov") as container:
        stream = container.add_stream("png", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "gray"
        container.start_encoding()
        packet = av.Packet(png)
        packet.stream, packet.time_base = stream, stream.time_base
        packet.pts = packet.dts = 0
        packet.is_keyframe = True
        container.mux(packet)
    return out.getvalue()


def test_it_refuses_an_exr_bomb_without_decoding_it(deliver):
    bomb = exr_bomb()
    assert len(bomb) < 1024 * 1024
    request = deliver(AssetType.IMAGE_SEQUENCE, {"frame_0001.exr": bomb})
    frame = _processed(request)["frame_0001.exr"]
    assert frame.processing_status == ProcessingStatus.FAILED
    assert _codes(frame) == ["IMAGE-TooLarge"]
    # FFmpeg's decoder refuses the frame at the limit, before it states its size.
    message = frame.errors[0]["message"]
    assert f"the {limits.MAX_PIXELS // 1_000_000} megapixels the portal reads" in message
    assert "It was not decoded" in message
    assert "format" not in frame.metadata


def test_it_refuses_a_png_above_the_limit(deliver):
    side = 9000  # above the portal's limit, below Pillow's own bomb warning
    assert side * side > limits.MAX_PIXELS
    request = deliver(AssetType.ARTWORK, {"key_art.png": png_bomb(side, side)})
    image = _processed(request)["key_art.png"]
    assert _codes(image) == ["IMAGE-TooLarge"]
    assert "9000×9000" in image.errors[0]["message"]
    with translation.override("es-419"):
        assert "mide 9000×9000 píxeles" in finding_message(image.errors[0])


def test_it_refuses_a_png_pillow_calls_a_bomb_with_the_limit(deliver):
    request = deliver(AssetType.ARTWORK, {"key_art.png": png_bomb(20000, 20000)})
    image = _processed(request)["key_art.png"]
    assert _codes(image) == ["IMAGE-TooLarge"]
    assert f"{limits.MAX_PIXELS // 1_000_000} megapixels" in image.errors[0]["message"]


def test_it_passes_an_image_at_the_limit(deliver):
    request = deliver(AssetType.ARTWORK, {"key_art.png": png_bomb(8192, 8192)})
    image = _processed(request)["key_art.png"]
    assert image.errors == []
    assert image.metadata["dimensions"] == "8192×8192"


def test_it_refuses_a_video_whose_frames_are_above_the_limit(deliver):
    movie = mov_of_png_frame(png_bomb(10000, 10000), 10000, 10000)
    request = deliver(AssetType.PRIMARY_VIDEO, {"feature.mov": movie})
    video = _processed(request)["feature.mov"]
    assert video.processing_status == ProcessingStatus.FAILED
    assert _codes(video) == ["MEDIA-FrameTooLarge"]
    assert f"the {limits.MAX_PIXELS // 1_000_000} megapixels" in video.errors[0]["message"]


def test_it_refuses_a_video_whose_header_understates_its_frames(deliver):
    movie = mov_of_png_frame(png_bomb(10000, 10000), 64, 64)
    request = deliver(AssetType.PRIMARY_VIDEO, {"feature.mov": movie})
    video = _processed(request)["feature.mov"]
    assert video.processing_status == ProcessingStatus.FAILED
    assert _codes(video) == ["MEDIA-FrameTooLarge"]


# The peak resident memory of this process, in MB. Not ru_maxrss: Linux carries it
# over from the parent through fork and exec, so a child of a big pytest starts high.
_PEAK_MEMORY = """
import re, sys
import django
django.setup()
from deliveries.processing import images, media

def peak():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024

path, kind = sys.argv[1], sys.argv[2]
before = peak()
if kind == "image":
    images.inspect(path, "bomb", extension="exr")
else:
    media.inspect(path, "bomb", extension="mov")
print(peak() - before)
"""


@pytest.mark.parametrize("kind", ["image", "media", "understated media"])
def test_a_bomb_costs_the_worker_no_memory(tmp_path, kind):
    if kind == "image":
        path, data = tmp_path / "bomb.exr", exr_bomb()
    else:
        declared = 10000 if kind == "media" else 64
        path = tmp_path / "bomb.mov"
        data = mov_of_png_frame(png_bomb(10000, 10000), declared, declared)
    path.write_bytes(data)
    kind = kind.split()[-1]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_DEBUG": "1"}
    peak = subprocess.run(
        [sys.executable, "-c", _PEAK_MEMORY, str(path), kind],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    # Decoding one such frame takes 100 MB (greyscale PNG) to 600 MB (half-float EXR).
    assert int(peak.stdout.strip()) < 50


# Findings that echo attacker-sized values --------------------------------------------


def ttml_with_huge_times(count: int, size: int) -> bytes:
    cues = "".join(
        f'<p begin="{"9" * size}" end="00:00:{n % 60:02d}.000">Line {n}</p>\n' for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<tt xmlns="http://www.w3.org/ns/ttml" xml:lang="en-US"><body><div>\n'
        f"{cues}</div></body></tt>\n"
    ).encode()


def test_a_ttml_of_huge_values_stores_short_findings_and_says_how_many_more(deliver):
    request = deliver(AssetType.TIMED_TEXT, {"subs.ttml": ttml_with_huge_times(60, 350_000)})
    subs = _processed(request)["subs.ttml"]
    assert subs.processing_status == ProcessingStatus.FAILED
    stored = DeliveredFile.objects.filter(pk=subs.pk).values_list("errors", flat=True).get()
    assert len(json.dumps(stored)) < 40_000  # 35 MB before
    invalid = [e for e in stored if e["code"] == "TIMEDTEXT-TimeInvalid"]
    assert len(invalid) == result.FINDINGS_PER_CODE + 1
    value = invalid[0]["params"]["value"]
    assert len(value) == result.EXCERPT_CHARS and value.endswith("…")
    assert value in invalid[0]["message"]
    left_off = min(60, timedtext.MAX_FINDINGS) - result.FINDINGS_PER_CODE
    assert invalid[-1]["message"] == f"…and {left_off} more findings of this kind."
    with translation.override("es-419"):
        assert finding_message(invalid[-1]) == f"…y {left_off} hallazgos más de este tipo."


def test_the_count_of_findings_left_off_is_written_in_the_viewers_language(deliver):
    many = [
        result.Finding("CHECKSUM-FileMissing", "%(name)s is missing.", {"name": f"f_{n}.dpx"})
        for n in range(result.FINDINGS_PER_CODE + 1234)
    ]
    one_more = [*many[: result.FINDINGS_PER_CODE + 1]]
    stored = result.FileResult(errors=many).stored_errors()
    assert [e["params"]["name"] for e in stored[:-1]] == [
        f"f_{n}.dpx" for n in range(result.FINDINGS_PER_CODE)
    ]
    assert stored[-1]["message"] == "…and 1,234 more findings of this kind."
    with translation.override("es-419"):
        assert finding_message(stored[-1]) == f"…y {grouped(1234)} hallazgos más de este tipo."
    last = result.FileResult(errors=one_more).stored_errors()[-1]
    assert last["message"] == "…and 1 more finding of this kind."


# Extensions that lie ------------------------------------------------------------------


def test_png_bytes_named_mov_fail_a_primary_video_request(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"feature.mov": samples.png_image()})
    video = _processed(request)["feature.mov"]
    assert video.processing_status == ProcessingStatus.FAILED
    assert _codes(video) == ["FILE-ExtensionMismatch"]
    assert video.errors[0]["message"] == (
        "feature.mov is named .mov, but its content is in the PNG format. Deliver it "
        "again under a name with the right extension, or deliver the right file."
    )
    assert (video.errors[0]["expected"], video.errors[0]["found"]) == ("QuickTime/MP4", "PNG")
    with translation.override("es-419"):
        assert "formato PNG" in finding_message(video.errors[0])


def test_mp4_bytes_named_png_fail_an_artwork_request(deliver):
    request = deliver(AssetType.ARTWORK, {"key_art.png": samples.h264_aac_mp4()})
    image = _processed(request)["key_art.png"]
    assert image.processing_status == ProcessingStatus.FAILED
    assert _codes(image) == ["FILE-ExtensionMismatch"]
    message = image.errors[0]["message"]
    assert "named .png" in message and "QuickTime/MP4 format" in message


def test_a_jpeg_named_png_fails_through_pillow(deliver):
    out = io.BytesIO()
    Image.new("RGB", (64, 36)).save(out, format="JPEG")
    request = deliver(AssetType.ARTWORK, {"key_art.png": out.getvalue()})
    image = _processed(request)["key_art.png"]
    assert _codes(image) == ["FILE-ExtensionMismatch"]
    assert "JPEG format" in image.errors[0]["message"]


@pytest.mark.parametrize(
    ("asset_type", "name", "content"),
    [
        (AssetType.PRIMARY_VIDEO, "feature.mp4", samples.h264_aac_mp4),
        (AssetType.PRIMARY_VIDEO, "feature.mov", samples.h264_aac_mp4),
        (AssetType.AUDIO, "mix.wav", samples.wav_audio),
        (AssetType.ARTWORK, "key_art.png", samples.png_image),
        (AssetType.IMAGE_SEQUENCE, "frame_0001.exr", lambda: exr_bomb(64, 36)),
    ],
)
def test_content_that_matches_its_extension_passes(deliver, asset_type, name, content):
    request = deliver(asset_type, {name: content()})
    delivered = _processed(request)[name]
    assert delivered.errors == []
    assert delivered.processing_status == ProcessingStatus.PASSED
