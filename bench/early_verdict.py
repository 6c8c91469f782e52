"""Benchmark: what one early look (deliveries/uploads/early.py) costs the PATCH that
runs it, against staging the same bytes.

    .venv/bin/python bench/early_verdict.py [--rounds 20]

For each kind of file a partner sends (a stereo WAV to a 5.1 request, a 1080p H.264
MP4 with its header first, a 4K PNG of key art, a long TTML, and 4 MiB no decoder
opens, the costliest: both looks run and FFmpeg probes all of it), times `early.look`
at its size (FIRST_LOOK, or LAST_LOOK), median of the rounds, database write included
(an in-memory SQLite), and times staging.append of LAST_LOOK bytes (write + MD5 +
xxHash64) for comparison. A look runs at most twice per upload, so its cost is paid
once per file, not per gigabyte.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time
import wave
from pathlib import Path

import _scratch

_scratch.setup(in_memory=True)

import av  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from PIL import Image  # noqa: E402

from deliveries.management import samples  # noqa: E402
from deliveries.models import DeliveryRequest, DeliverySpec, Organization, Title  # noqa: E402
from deliveries.uploads import early, staging  # noqa: E402
from deliveries.uploads.models import Upload  # noqa: E402


def stereo_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(3)
        writer.setframerate(48000)
        writer.writeframes(b"\0" * 48000 * 6 * 30)
    return buffer.getvalue()


def faststart_mp4() -> bytes:
    clip = samples.h264_aac_mp4(seconds=10, width=1920, height=1080)
    path = Path(_scratch.SCRATCH) / "faststart.mp4"
    with (
        av.open(io.BytesIO(clip)) as source,
        av.open(str(path), "w", options={"movflags": "faststart"}) as target,
    ):
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                target.mux(packet)
    return path.read_bytes() + b"\0" * early.LAST_LOOK


def key_art() -> bytes:
    noise = Image.frombytes("RGB", (3840, 2160), random.Random(1).randbytes(3840 * 2160 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def cases() -> list[tuple[str, str, str, bytes]]:
    """(label, spec name, file name, bytes)."""
    return [
        ("stereo WAV, 5.1 spec", "5.1 printmaster 48 kHz 24-bit", "mix.wav", stereo_wav()),
        ("1080p H.264 MP4, header first", "UHD primary video, 23.976p", "a.mp4", faststart_mp4()),
        ("4K PNG key art", "Key art, at least 1920×1080", "art.png", key_art()),
        ("TTML, 5,000 cues", "IMSC1.1 subtitles", "subs.ttml", samples.ttml(cues=5000) * 3),
        (
            "4 MiB no decoder opens (two looks)",
            "UHD primary video, 23.976p",
            "x.mov",
            random.Random(2).randbytes(2 * early.LAST_LOOK),
        ),
    ]


def timed_look(upload: Upload, staged: int) -> float:
    upload.early_check = {}
    started = time.perf_counter()
    next_size = early.look(upload, min(staged, early.FIRST_LOOK))
    if next_size is not None:
        early.look(upload, staged)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    org = Organization.objects.create(name="Bench Post")
    title = Title.objects.create(name="Bench Title")
    user = User.objects.create(username="bench")
    print(f"{'file':38} {'look':>9}  {'bytes read':>10}  findings")
    for label, spec_name, name, data in cases():
        spec = DeliverySpec.objects.get(name=spec_name)
        request = DeliveryRequest.objects.create(
            organization=org,
            title=title,
            name=label,
            asset_type=spec.asset_type,
            language="en-US",
            due_date="2030-01-01",
            spec=spec,
        )
        upload = Upload(request=request, name=name, length=len(data), created_by=user)
        upload.extend_expiry()
        upload.save()
        staging.create(upload.pk)
        staging.data_path(upload.pk).write_bytes(data[: early.LAST_LOOK])
        staged = min(len(data), early.LAST_LOOK)
        times = [timed_look(upload, staged) for _round in range(args.rounds)]
        codes = ", ".join(f["code"] for f in upload.early_check["findings"]) or "none"
        print(
            f"{label:38} {statistics.median(times) * 1000:7.1f} ms  "
            f"{upload.early_check['bytes']:>10,}  {codes}"
        )
        staging.remove(upload.pk)
    staging_times = []
    payload = random.Random(3).randbytes(early.LAST_LOOK)
    for _round in range(args.rounds):
        upload_id = f"bench-{_round}"
        staging.create(upload_id)
        started = time.perf_counter()
        staging.append(
            upload_id,
            io.BytesIO(payload),
            offset=0,
            length=len(payload),
            digests=staging.Digests(),
        )
        staging_times.append(time.perf_counter() - started)
        staging.remove(upload_id)
    print(
        f"{'staging 4 MiB (write, MD5, xxHash64)':38} "
        f"{statistics.median(staging_times) * 1000:7.1f} ms"
    )


if __name__ == "__main__":
    main()
