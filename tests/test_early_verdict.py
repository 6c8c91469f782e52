"""The early verdict: a blocker that an upload's first bytes already show is told in
the tus answers (and by HEAD) while the rest of the file still arrives, over real tus
PATCHes against the running test server. The full check still runs after submission."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import wave
from pathlib import Path
from urllib.parse import unquote

import av
import pytest
from django.urls import reverse
from django.utils import translation
from PIL import Image

from deliveries.management import samples
from deliveries.models import DeliveryRequest
from deliveries.uploads import early
from deliveries.uploads.models import Upload

from .processed import open_request
from .tus import MIB, create, create_with_upload, head, patch

pytestmark = pytest.mark.django_db(transaction=True)


def wav_file(path: Path, *, channels: int, seconds: float, bits: int = 24) -> bytes:
    """A silent PCM WAV of 48 kHz (Python's own writer: a real header, any size)."""
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(bits // 8)
        writer.setframerate(48000)
        writer.writeframes(b"\0" * int(48000 * seconds) * channels * (bits // 8))
    return path.read_bytes()


@pytest.fixture
def spec_request(org, title):
    """spec_request(spec name, language="") → an Open request that takes that spec."""

    def make(spec_name: str, language: str = "") -> DeliveryRequest:
        return open_request(org, title, spec_name, name="Early verdict", language=language)

    return make


def told(response) -> list[dict]:
    """The findings an answer tells, as the uploader reads them."""
    header = response.headers.get("Portal-Early-Findings")
    return json.loads(unquote(header)) if header else []


def start(live_server, user, delivery_request, name: str, data: bytes) -> str:
    answer = create(live_server, user, delivery_request.pk, name, len(data))
    assert answer.status_code == 201, answer.text
    return answer.headers["Location"]


def test_a_stereo_wav_in_a_5_1_request_is_a_blocker_after_the_first_patch(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "stereo.wav", channels=2, seconds=12)  # 3.3 MiB
    url = start(live_server, uploader, delivery_request, "stereo.wav", data)

    first = patch(url, uploader, data[:MIB], 0)
    assert first.status_code == 204
    assert first.headers["Portal-Early-Check"] == "done"
    [finding] = told(first)
    assert finding == {
        "code": "AUDIO-ChannelLayout",
        "severity": "blocker",
        "label": "Blocker",
        "text": "Expected 5.1 (L R C LFE Ls Rs), found 2 ch.",
        "message": "stereo.wav: the channel layout is 2 ch, but the spec asks for "
        "5.1 (L R C LFE Ls Rs).",
        "url": "/help/codes/#AUDIO-ChannelLayout",
    }
    upload = Upload.objects.get()
    assert upload.offset == MIB < upload.length  # told before the last byte
    assert [e["code"] for e in upload.early_check["findings"]] == ["AUDIO-ChannelLayout"]
    assert upload.early_check["bytes"] == early.FIRST_LOOK  # looked at once, early
    # HEAD tells the same, as the browser asks while one long PATCH runs.
    assert told(head(url, uploader)) == [finding]

    # The partner may go on: the rest arrives and the file is delivered, unjudged until
    # processing runs its full check.
    second = patch(url, uploader, data[MIB:], MIB)
    assert second.status_code == 204 and told(second) == [finding]
    assert delivery_request.files.get().name == "stereo.wav"
    assert Upload.objects.get().early_check["bytes"] == early.FIRST_LOOK


def test_a_conforming_5_1_wav_reports_nothing(live_server, spec_request, uploader, tmp_path):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "mix.wav", channels=6, seconds=4)  # 3.3 MiB
    url = start(live_server, uploader, delivery_request, "mix.wav", data)
    first = patch(url, uploader, data[: 2 * MIB], 0)
    assert first.status_code == 204
    assert first.headers["Portal-Early-Check"] == "done"
    assert "Portal-Early-Findings" not in first.headers
    assert Upload.objects.get().early_check == {
        "bytes": early.FIRST_LOOK,
        "settled": True,
        "findings": [],
    }


def test_a_prefix_too_short_to_tell_reports_nothing_and_the_upload_goes_on(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "stereo.wav", channels=2, seconds=1)
    url = start(live_server, uploader, delivery_request, "stereo.wav", data)
    first = patch(url, uploader, data[:30], 0)  # not even the whole WAV header
    assert first.status_code == 204
    assert first.headers["Portal-Early-Check"] == "pending"
    assert "Portal-Early-Findings" not in first.headers
    assert Upload.objects.get().early_check == {}
    assert head(url, uploader).headers["Portal-Early-Check"] == "pending"
    # The file is smaller than a first look: the last PATCH looks at all of it.
    last = patch(url, uploader, data[30:], 30)
    assert last.headers["Portal-Early-Check"] == "done"
    assert [f["code"] for f in told(last)] == ["AUDIO-ChannelLayout"]


def test_a_header_the_first_look_cannot_read_is_looked_at_once_more_then_left_alone(
    live_server, spec_request, uploader
):
    """Bytes no decoder opens (a MOV whose header sits at its end looks the same):
    nothing is told, no error either, and past LAST_LOOK no more bytes are read."""
    delivery_request = spec_request("UHD primary video, 23.976p")
    data = hashlib.sha256(b"seed").digest() * (6 * MIB // 32)
    url = start(live_server, uploader, delivery_request, "master.mov", data)
    first = patch(url, uploader, data[:MIB], 0)
    assert (first.status_code, first.headers["Portal-Early-Check"]) == (204, "pending")
    assert Upload.objects.get().early_check["bytes"] == early.FIRST_LOOK
    second = patch(url, uploader, data[MIB : 5 * MIB], MIB)
    assert (second.status_code, second.headers["Portal-Early-Check"]) == (204, "done")
    assert "Portal-Early-Findings" not in second.headers
    assert Upload.objects.get().early_check == {
        "bytes": early.LAST_LOOK,
        "settled": True,
        "findings": [],
    }
    last = patch(url, uploader, data[5 * MIB :], 5 * MIB)
    assert last.status_code == 204 and delivery_request.files.get().size == len(data)
    assert Upload.objects.get().early_check["bytes"] == early.LAST_LOOK


def test_a_mov_with_its_header_first_shows_a_wrong_resolution_early(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("UHD primary video, 23.976p")
    # The header (moov) before the media data, as "fast start" files have it; padded so
    # that the first PATCH is a prefix.
    faststart = tmp_path / "clip.mp4"
    _rewrite_with_header_first(samples.h264_aac_mp4(seconds=2.0), faststart)
    data = faststart.read_bytes() + b"\0" * (2 * MIB)
    assert data.index(b"moov") < data.index(b"mdat")
    url = start(live_server, uploader, delivery_request, "clip.mp4", data)
    first = patch(url, uploader, data[: early.FIRST_LOOK + 10], 0)
    codes = {f["code"]: f for f in told(first)}
    assert codes["VIDEO-Resolution"]["text"] == "Expected 3840×2160, found 320×180."
    assert codes["VIDEO-Resolution"]["severity"] == "blocker"
    assert Upload.objects.get().offset < len(data)


def _rewrite_with_header_first(clip: bytes, out: Path) -> None:
    with (
        av.open(io.BytesIO(clip)) as source,
        av.open(str(out), "w", options={"movflags": "faststart"}) as target,
    ):
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            target.mux(packet)


def test_a_ttml_in_another_language_is_told_from_its_first_bytes(
    live_server, spec_request, uploader
):
    delivery_request = spec_request("IMSC1.1 subtitles", language="es-419")
    data = samples.ttml(lang="fr-FR", cues=3000, profile=samples.IMSC1_1_TEXT)
    assert len(data) > 2 * early.FIRST_LOOK
    url = start(live_server, uploader, delivery_request, "subs.ttml", data)
    first = patch(url, uploader, data[: early.FIRST_LOOK], 0)  # cut inside a cue
    [finding] = told(first)
    assert finding["code"] == "TIMEDTEXT-LangMismatch"
    assert finding["text"] == "Expected es-419, found fr-FR."
    # The document's cut end is not reported as malformed XML.
    assert first.headers["Portal-Early-Check"] == "done"


def test_artwork_too_small_is_told_from_the_png_header(live_server, spec_request, uploader):
    delivery_request = spec_request("Key art, at least 1920×1080")
    noise = Image.frombytes("RGB", (1280, 720), random.Random(1).randbytes(1280 * 720 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) > 4 * early.FIRST_LOOK
    url = start(live_server, uploader, delivery_request, "key_art.png", data)
    [finding] = told(patch(url, uploader, data[: early.FIRST_LOOK], 0))
    assert (finding["code"], finding["text"]) == (
        "ARTWORK-TooSmall",
        "Expected ≥ 1920×1080, found 1280×720.",
    )


def test_cmyk_artwork_is_told_from_the_jpeg_header(live_server, org, title, uploader):
    # The colour modes are named here: a spec rebuilt after a transactional test comes
    # from migration 0011's list, which predates them (tests/processed.py).
    delivery_request = open_request(
        org, title, "Key art, at least 1920×1080", overrides={"colour_modes": "RGB,RGBA"}
    )
    noise = Image.frombytes("CMYK", (1920, 1080), random.Random(2).randbytes(1920 * 1080 * 4))
    buffer = io.BytesIO()
    noise.save(buffer, format="JPEG", quality=95)
    data = buffer.getvalue()
    assert len(data) > 4 * early.FIRST_LOOK
    url = start(live_server, uploader, delivery_request, "key_art.jpg", data)
    [finding] = told(patch(url, uploader, data[: early.FIRST_LOOK], 0))
    assert finding["code"] == "ARTWORK-ColourMode"
    assert "found CMYK" in finding["text"]


def test_creation_with_upload_tells_the_verdict_in_its_own_answer(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "stereo.wav", channels=2, seconds=4)
    answer = create_with_upload(
        live_server, uploader, delivery_request.pk, "stereo.wav", len(data), data[:MIB]
    )
    assert answer.status_code == 201
    assert [f["code"] for f in told(answer)] == ["AUDIO-ChannelLayout"]


def test_the_verdict_is_in_the_uploaders_language(live_server, spec_request, uploader, tmp_path):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "stereo.wav", channels=2, seconds=4)
    url = start(live_server, uploader, delivery_request, "stereo.wav", data)
    answer = patch(url, uploader, data[:MIB], 0, **{"Accept-Language": "es-419"})
    [finding] = told(answer)
    with translation.override("es-419"):
        assert finding["label"] == translation.gettext("Blocker")
    assert finding["label"] != "Blocker"
    assert finding["text"] == "Se esperaba 5.1 (L R C LFE Ls Rs); se encontró 2 ch."


def test_a_chunk_that_fails_its_checksum_takes_its_verdict_with_it(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("5.1 printmaster 48 kHz 24-bit")
    data = wav_file(tmp_path / "stereo.wav", channels=2, seconds=4)
    url = start(live_server, uploader, delivery_request, "stereo.wav", data)
    wrong = base64.b64encode(hashlib.sha1(b"other bytes").digest()).decode()
    refused = patch(url, uploader, data[:MIB], 0, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert refused.status_code == 460
    assert Upload.objects.get().early_check == {}
    assert head(url, uploader).headers["Portal-Early-Check"] == "pending"
    again = patch(url, uploader, data[:MIB], 0)
    assert [f["code"] for f in told(again)] == ["AUDIO-ChannelLayout"]


def test_a_sequence_frame_of_the_wrong_size_is_told_from_its_dpx_header(
    live_server, spec_request, uploader
):
    delivery_request = spec_request("DCI 4K image sequence 16-bit")
    data = samples.dpx_frame(2048, 1080)  # 13 MB: a 2K frame in a 4K sequence
    url = start(live_server, uploader, delivery_request, "reel1_0001001.dpx", data)
    [finding] = told(patch(url, uploader, data[: early.FIRST_LOOK], 0))
    assert (finding["code"], finding["text"]) == (
        "SEQUENCE-Resolution",
        "Expected 4096×2160, found 2048×1080.",
    )


def test_a_wav_in_a_primary_video_request_is_told_it_has_no_picture(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("UHD primary video, 23.976p")
    data = wav_file(tmp_path / "feature.wav", channels=2, seconds=4)
    url = start(live_server, uploader, delivery_request, "feature.wav", data)
    [finding] = told(patch(url, uploader, data[:MIB], 0))
    assert (finding["code"], finding["severity"]) == ("MEDIA-NoVideoStream", "blocker")


def mxf_clip(path: Path, frames: int = 10) -> bytes:
    """MPEG-2 1080p at 25 fps with 24-bit stereo PCM, in MXF (FFmpeg's OP1a muxer)."""
    with av.open(str(path), "w", format="mxf") as container:
        video = container.add_stream("mpeg2video", rate=25)
        video.width, video.height, video.pix_fmt = 1920, 1080, "yuv422p"
        video.bit_rate = 50_000_000
        audio = container.add_stream("pcm_s24le", rate=48000)
        audio.layout = "stereo"
        for index in range(frames):
            picture = av.VideoFrame(1920, 1080, "yuv422p")
            picture.pts = index
            for packet in video.encode(picture):
                container.mux(packet)
        sound = av.AudioFrame(format="s32", layout="stereo", samples=1920 * frames)
        sound.sample_rate, sound.pts = 48000, 0
        for plane in sound.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in [*video.encode(None), *audio.encode(sound), *audio.encode(None)]:
            container.mux(packet)
    return path.read_bytes()


def test_an_mxf_header_partition_shows_the_wrong_picture_early(
    live_server, spec_request, uploader, tmp_path
):
    delivery_request = spec_request("UHD primary video, 23.976p")
    data = mxf_clip(tmp_path / "master.mxf")
    assert len(data) > 2 * early.FIRST_LOOK
    url = start(live_server, uploader, delivery_request, "master.mxf", data)
    first = patch(url, uploader, data[: early.FIRST_LOOK], 0)
    assert {f["code"]: f["text"] for f in told(first)} == {
        "VIDEO-Resolution": "Expected 3840×2160, found 1920×1080.",
        "VIDEO-FrameRate": "Expected 23.976 fps (24000/1001), found 25 fps (25/1).",
        "VIDEO-Codec": "Expected ProRes or JPEG 2000, found MPEG-2.",
    }


@pytest.mark.parametrize(
    ("who", "told"),
    [
        ("admin_user", "If this is not the file to deliver, remove it before you submit."),
        ("uploader", "ask an Admin of your company to remove it before the request is submitted"),
    ],
)
def test_the_drop_zone_tells_who_may_not_remove_files_who_can(
    client, make_request, request, who, told
):
    client.force_login(request.getfixturevalue(who))
    delivery_request = make_request(status="open", files=0)
    page = client.get(reverse("request-detail", args=[delivery_request.pk])).content.decode()
    assert told in page
