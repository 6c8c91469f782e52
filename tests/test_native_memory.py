"""Memory that Python's own counters don't see: FFmpeg's, through PyAV. A web worker
looks at every frame of a sequence as it arrives (the early verdict) and the processing
worker inspects each again; 250,000 frames make any bytes kept per frame a leak the
partner's server pays for."""

from __future__ import annotations

import ctypes
import ctypes.util
import io

import av
import pytest

from deliveries.management import samples
from deliveries.previews import pictures
from deliveries.processing import images
from deliveries.processing.decode import first_frame, scan_audio


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def _malloc_in_use() -> int:
    """Bytes glibc's malloc has handed out and not had back (FFmpeg's included)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc 2.33 or later (mallinfo2)")
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2().uordblks


def _grown_by(action, times: int) -> int:
    """glibc's bytes in use gained over `times` runs of `action`, after a warm-up (the
    first runs fill caches that stay)."""
    for _ in range(200):
        action()
    before = _malloc_in_use()
    for _ in range(times):
        action()
    return _malloc_in_use() - before


def test_inspecting_frames_keeps_no_memory_per_frame():
    data = samples.dpx_frame(64, 48)

    def inspect() -> None:
        metadata, findings = images.inspect(
            io.BytesIO(data), "reel1_0001001.dpx", extension="dpx", whole=True
        )
        assert (metadata["format"], findings) == ("DPX", [])

    # A frame's decoder state left behind was about 150 bytes each: 450 KB here.
    assert _grown_by(inspect, 3000) < 100_000


def test_a_frames_preview_keeps_no_memory_per_frame():
    data = samples.dpx_frame(64, 48)
    assert _grown_by(lambda: pictures.make(io.BytesIO(data)), 2000) < 100_000


def test_first_frame_is_the_decoded_picture():
    with av.open(io.BytesIO(samples.dpx_frame(64, 48))) as container:
        frame = first_frame(container, container.streams.video[0])
        assert frame is not None
        assert (frame.width, frame.height, frame.format.name) == (64, 48, "rgb48le")


def test_checking_an_audio_files_ends_keeps_no_memory_per_file():
    """The quick audio check decodes a few packets at the start and near the end and
    leaves both demux loops early: each left about 300 bytes behind before they were
    closed."""
    wav = samples.wav_audio(seconds=3.0, channels=1, sample_rate=8000)

    def check() -> None:
        with av.open(io.BytesIO(wav)) as container:
            audio = container.streams.audio[0]
            duration = container.duration / av.time_base
            scan = scan_audio(container, audio, "mix.wav", duration, meter=None, full=False)
        assert scan.finding is None

    assert _grown_by(check, 2000) < 100_000
