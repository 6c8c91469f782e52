"""Loudness, scan type, bit depth and colour of video, the located decode error, the
frame rate of timed text and the colour mode of artwork: each check passing and
failing on real media made here with PyAV and Pillow, processed by the worker's task."""

import datetime
import html as html_module
import io
import re
from fractions import Fraction

import av
import numpy as np
import pyloudnorm
import pytest
from django.urls import reverse
from PIL import Image

from deliveries.management import samples
from deliveries.models import DeliveredFile, DeliveryRequest, DeliverySpec
from deliveries.processing.loudness import LoudnessMeter
from deliveries.templatetags.portal import technical_details

from .processed import findings

UHD = "UHD primary video, 23.976p"
AUDIO = "5.1 printmaster 48 kHz 24-bit"
# The ProRes clips made below: 64×36, 24 fps, half a second.
PRORES = {"width": 64, "height": 36, "frame_rate": "24/1", "video_codecs": "prores"}
H264 = {"width": 320, "height": 180, "frame_rate": "24/1", "video_codecs": "h264"}


def prores_mov(
    pix_fmt: str = "yuv422p10le",
    primaries: int = 0,
    transfer: int = 0,
    field_order: int = 0,
    frames: int = 12,
) -> bytes:
    """A ProRes MOV (FFmpeg's prores_ks), tagged as asked: primaries and transfer are
    FFmpeg's numbers (9 BT.2020, 16 PQ), field_order 2 is top field first."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mov", options={"movflags": "write_colr"}) as container:
        stream = container.add_stream("prores_ks", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 36, pix_fmt
        stream.codec_context.time_base = Fraction(1, 24)
        if primaries:
            stream.codec_context.color_primaries = primaries
        if transfer:
            stream.codec_context.color_trc = transfer
        if field_order:
            stream.codec_context.field_order = field_order
        for index in range(frames):
            frame = av.VideoFrame(64, 36, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([16 + 8 * index]) * plane.buffer_size)
            frame = frame.reformat(format=pix_fmt)
            frame.pts, frame.time_base = index, Fraction(1, 24)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def damaged_at(clip: bytes, frame_number: int) -> bytes:
    """`clip` with the picture data of one video frame (by its number in display order,
    24 fps) overwritten with noise, the container left intact."""
    with av.open(io.BytesIO(clip)) as container:
        stream = container.streams.video[0]
        packets = [
            (packet.pos, packet.size)
            for packet in container.demux(stream)
            if packet.size and round(packet.pts * packet.time_base * 24) == frame_number
        ]
    position, size = packets[0]
    damaged = bytearray(clip)
    start = position + 16
    damaged[start : position + size - 16] = np.random.default_rng(7).bytes(size - 32)
    return bytes(damaged)


# Loudness -----------------------------------------------------------------------------


def test_the_streaming_meter_agrees_with_pyloudnorms_meter_on_5_1_and_stereo():
    for channels in (2, 6):
        wav = samples.wav_audio(seconds=3, channels=channels)
        with av.open(io.BytesIO(wav)) as container:
            stream = container.streams.audio[0]
            names = [channel.name for channel in stream.codec_context.layout.channels]
            meter = LoudnessMeter(48000, names)
            decoded = []
            for frame in container.decode(stream):
                meter.add(frame)
                decoded.append(frame.to_ndarray().reshape(-1, channels))
        pcm = np.concatenate(decoded).astype(np.float64) / 32768
        if channels == 6:
            # pyloudnorm takes L R C Ls Rs: FFmpeg's 5.1 without its LFE.
            pcm = pcm[:, [0, 1, 2, 4, 5]]
        reference = pyloudnorm.Meter(48000).integrated_loudness(pcm)
        assert meter.integrated() == pytest.approx(reference, abs=0.01)


def test_a_mix_outside_the_loudness_range_is_a_blocker_saying_the_measured_value(checked):
    overrides = {"channel_layout": "2.0", "bit_depth": 16, "loudness_lufs": -24}
    request = checked(AUDIO, {"mix.wav": samples.wav_audio(seconds=3)}, overrides)
    loudness = findings(request, "mix.wav")["AUDIO-Loudness"]
    assert loudness["severity"] == "blocker"
    assert loudness["expected"] == "-24 LUFS ± 2 LU"
    assert loudness["found"] == "-13.2 LUFS"
    delivered = DeliveredFile.objects.get(request=request)
    assert delivered.metadata["loudness_lufs"] == -13.2
    assert ("Integrated loudness", "-13.2 LUFS") in technical_details(delivered)


def test_a_mix_within_the_loudness_range_passes_and_no_range_measures_nothing(checked):
    wav = samples.wav_audio(seconds=3)
    overrides = {"channel_layout": "2.0", "bit_depth": 16}
    within = checked(AUDIO, {"mix.wav": wav}, {**overrides, "loudness_lufs": -12.5})
    assert findings(within, "mix.wav") == {}
    unmeasured = checked(AUDIO, {"mix.wav": wav}, overrides)
    assert "loudness_lufs" not in DeliveredFile.objects.get(request=unmeasured).metadata


def test_the_loudness_of_a_videos_audio_is_measured_in_the_decode_pass(checked):
    request = checked(UHD, {"a.mp4": samples.h264_aac_mp4()}, {**H264, "loudness_lufs": -27})
    loudness = findings(request, "a.mp4")["AUDIO-Loudness"]
    assert loudness["expected"] == "-27 LUFS ± 2 LU"
    assert loudness["found"].endswith(" LUFS")


# Video: scan, bit depth, colour --------------------------------------------------------


def test_a_tagged_10_bit_bt_2020_pq_master_matching_its_spec_passes(checked):
    spec = {
        **PRORES,
        "bit_depth": 10,
        "colour_primaries": "bt2020",
        "transfer_characteristics": "smpte2084",
    }
    request = checked(UHD, {"hdr.mov": prores_mov(primaries=9, transfer=16)}, spec)
    assert findings(request, "hdr.mov") == {}
    metadata = DeliveredFile.objects.get(request=request).metadata
    assert metadata["scan_type"] == "progressive"
    assert metadata["video_bit_depth"] == 10
    assert (metadata["colour_primaries"], metadata["transfer_characteristics"]) == (
        "bt2020",
        "smpte2084",
    )


def test_an_interlaced_master_in_a_progressive_spec_is_a_blocker(checked):
    request = checked(UHD, {"i.mov": prores_mov(field_order=2)}, PRORES)
    interlaced = findings(request, "i.mov")["VIDEO-Interlaced"]
    assert (interlaced["expected"], interlaced["found"]) == ("progressive", "interlaced")
    assert interlaced["severity"] == "blocker"


def test_a_10_bit_master_in_a_12_bit_spec_is_a_blocker_naming_its_pixel_format(checked):
    request = checked(UHD, {"m.mov": prores_mov()}, {**PRORES, "bit_depth": 12})
    depth = findings(request, "m.mov")["VIDEO-BitDepth"]
    assert (depth["expected"], depth["found"]) == ("12-bit", "10-bit (yuv422p10le)")


def test_other_colour_tags_are_blockers_and_missing_ones_only_an_fyi(checked):
    spec = {**PRORES, "colour_primaries": "bt709", "transfer_characteristics": "bt709"}
    request = checked(
        UHD, {"hdr.mov": prores_mov(primaries=9, transfer=16), "plain.mov": prores_mov()}, spec
    )
    hdr = findings(request, "hdr.mov")
    assert (hdr["VIDEO-ColourPrimaries"]["expected"], hdr["VIDEO-ColourPrimaries"]["found"]) == (
        "BT.709",
        "BT.2020",
    )
    assert hdr["VIDEO-TransferCharacteristics"]["found"] == "PQ (SMPTE ST 2084)"
    assert hdr["VIDEO-ColourPrimaries"]["severity"] == "blocker"
    untagged = findings(request, "plain.mov")
    assert untagged["VIDEO-ColourPrimaries"]["severity"] == "fyi"
    assert untagged["VIDEO-TransferCharacteristics"]["severity"] == "fyi"
    plain = DeliveredFile.objects.get(request=request, name="plain.mov")
    assert plain.processing_status == "passed"


# Decode -------------------------------------------------------------------------------


def test_a_damaged_keyframe_in_the_middle_is_located_by_frame_and_timecode(checked):
    clip = samples.h264_aac_mp4(seconds=4, keyframe_interval=12)
    request = checked(UHD, {"cut.mp4": damaged_at(clip, 48)}, H264)
    error = findings(request, "cut.mp4")["MEDIA-DecodeError"]
    assert error["params"]["frame"] == "48"
    assert error["params"]["timecode"] == "00:00:02:00"
    assert "frame 48 (00:00:02:00) could not be decoded" in error["message"]
    assert DeliveredFile.objects.get(request=request).processing_status == "failed"


def test_a_frame_between_the_samples_is_found_only_by_a_full_decode(checked):
    # One GOP: the sampled decode reads the first frames and every packet, the full
    # decode every picture.
    damaged = damaged_at(samples.h264_aac_mp4(seconds=4), 51)
    sampled = checked(UHD, {"a.mp4": damaged}, H264)
    assert "MEDIA-DecodeError" not in findings(sampled, "a.mp4")
    full = checked(UHD, {"a.mp4": damaged}, {**H264, "full_decode": True})
    error = findings(full, "a.mp4")["MEDIA-DecodeError"]
    assert (error["params"]["frame"], error["params"]["timecode"]) == ("51", "00:00:02:03")


def test_an_intact_clip_passes_the_full_decode(checked):
    request = checked(UHD, {"a.mp4": samples.h264_aac_mp4()}, {**H264, "full_decode": True})
    assert findings(request, "a.mp4") == {}


# Timed text and artwork ---------------------------------------------------------------


def ttml_at(
    rate: str = "", multiplier: str = "", begin: str = "00:00:01:12", end: str = "00:00:03:00"
) -> bytes:
    parameters = 'xmlns:ttp="http://www.w3.org/ns/ttml#parameter"'
    if rate:
        parameters += f' ttp:frameRate="{rate}"'
    if multiplier:
        parameters += f' ttp:frameRateMultiplier="{multiplier}"'
    return (
        f'<tt xmlns="http://www.w3.org/ns/ttml" {parameters} xml:lang="en"><body><div>'
        f'<p xml:id="c1" begin="{begin}" end="{end}">One.</p></div></body></tt>'
    ).encode()


def test_a_ttml_frame_rate_other_than_the_specs_is_a_blocker(checked):
    spec = {"frame_rate": "24000/1001", "timed_text_format": ""}
    request = checked(
        "IMSC1.1 subtitles",
        {
            "right.ttml": ttml_at("24", "1000 1001"),
            "pal.ttml": ttml_at("25"),
            "undeclared.ttml": ttml_at(),
            "clock.ttml": ttml_at(begin="00:00:01.500", end="00:00:03.000"),
        },
        spec,
    )
    assert findings(request, "right.ttml") == {}
    pal = findings(request, "pal.ttml")["TIMEDTEXT-FrameRate"]
    assert (pal["expected"], pal["found"]) == ("23.976 fps (24000/1001)", "25 fps (25/1)")
    undeclared = findings(request, "undeclared.ttml")["TIMEDTEXT-FrameRate"]
    assert undeclared["found"] == "30 fps (no ttp:frameRate)"
    # Without frame-based times the rate changes nothing: no finding.
    assert findings(request, "clock.ttml") == {}


def image_bytes(mode: str, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (1920, 1080), "white" if mode != "CMYK" else (0, 0, 0, 0)).save(out, fmt)
    return out.getvalue()


def test_cmyk_artwork_where_rgb_is_required_is_a_blocker_and_rgb_passes(checked):
    request = checked(
        "Key art, at least 1920×1080",
        {"cmyk.jpg": image_bytes("CMYK", "JPEG"), "rgb.png": image_bytes("RGB", "PNG")},
    )
    mode = findings(request, "cmyk.jpg")["ARTWORK-ColourMode"]
    assert (mode["expected"], mode["found"]) == (["RGB", "RGBA"], "CMYK")
    assert findings(request, "rgb.png") == {}


# On the pages -------------------------------------------------------------------------


def test_the_details_page_says_the_new_spec_fields_in_plain_words(client, admin_user, org, title):
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Video",
        asset_type="primary_video",
        due_date=datetime.date(2026, 12, 24),
        spec=DeliverySpec.objects.get(name=UHD),
        spec_overrides={"loudness_lufs": -24, "colour_primaries": "bt2020", "full_decode": True},
    )
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk])

    def page(**headers: str) -> str:
        html = client.get(url, **headers).content.decode()
        return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))

    assert (
        "3840×2160 · 23.976 fps · ProRes or JPEG 2000 · -24 LUFS ± 2 LU · progressive · "
        "BT.2020 primaries · every frame decoded"
    ) in page()
    spanish = page(HTTP_ACCEPT_LANGUAGE="es-419")
    assert "· progresivo · primarios BT.2020 · cada fotograma decodificado" in spanish


def test_a_studio_contact_sets_the_new_fields_on_a_spec_template_in_the_admin(client, staff):
    client.force_login(staff)
    spec = DeliverySpec.objects.get(name=AUDIO)
    url = reverse("admin:deliveries_deliveryspec_change", args=[spec.pk])
    form = client.get(url).content.decode()
    for field in (
        "loudness_lufs",
        "loudness_tolerance_lu",
        "progressive",
        "colour_primaries",
        "transfer_characteristics",
        "full_decode",
        "colour_modes",
    ):
        assert f'name="{field}"' in form
    data = {
        "name": spec.name,
        "asset_type": spec.asset_type,
        "is_default": "on",
        "channel_layout": "5.1",
        "sample_rate": "48000",
        "bit_depth": "24",
        "runtime_tolerance_seconds": "1",
        "loudness_lufs": "-27",
        "loudness_tolerance_lu": "2",
        "colour_primaries": "",
        "transfer_characteristics": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    spec.refresh_from_db()
    assert (spec.loudness_lufs, spec.loudness_tolerance_lu) == (-27, 2)
    refused = client.post(url, {**data, "colour_primaries": "bt601"})
    assert refused.status_code == 200
    spec.refresh_from_db()
    assert spec.colour_primaries == ""


NEW_CODES = (
    "AUDIO-Loudness",
    "VIDEO-Interlaced",
    "VIDEO-BitDepth",
    "VIDEO-ColourPrimaries",
    "VIDEO-TransferCharacteristics",
    "TIMEDTEXT-FrameRate",
    "ARTWORK-ColourMode",
)


def test_the_glossary_explains_the_new_codes_in_english_and_spanish(client, admin_user):
    client.force_login(admin_user)
    url = reverse("finding-codes")
    english = client.get(url).content.decode()
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es-419").content.decode()
    for code in NEW_CODES:
        assert f'id="{code}"' in english and f'id="{code}"' in spanish

    def row(html: str, code: str) -> str:
        part = html[html.index(f'id="{code}"') :]
        return html_module.unescape(re.sub(r"<[^>]+>", " ", part[: part.index("</tr>")]))

    assert "integrated loudness (ITU-R BS.1770" in row(english, "AUDIO-Loudness")
    assert "sonoridad integrada del programa" in row(spanish, "AUDIO-Loudness")
    assert "Convierta la imagen a un modo de color" in row(spanish, "ARTWORK-ColourMode")
