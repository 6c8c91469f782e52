"""Each check against a request's spec, passing and failing, with real media made by
deliveries/management/samples.py and processed by the worker's own task."""

import html as html_module
import re

from django.urls import reverse
from django.utils import translation

from deliveries.management import samples
from deliveries.models import DeliveredFile, DeliverySpec, Status
from deliveries.requests.specs import one_of

from .processed import findings

# The demo clip: H.264 320×180, 24 fps, 2 s; WAVs are 16-bit 48 kHz, 1 s.
CLIP_SPEC = {
    "width": 320,
    "height": 180,
    "frame_rate": "24/1",
    "video_codecs": "h264",
    "runtime_seconds": 2,
}


def test_the_migration_ships_one_default_spec_per_asset_type(db):
    defaults = DeliverySpec.objects.filter(is_default=True)
    assert sorted(defaults.values_list("asset_type", flat=True)) == [
        "artwork",
        "audio",
        "image_sequence",
        "primary_video",
        "timed_text",
    ]
    uhd = DeliverySpec.objects.get(name="UHD primary video, 23.976p")
    assert (uhd.width, uhd.height, uhd.frame_rate) == (3840, 2160, "24000/1001")


def test_a_clip_matching_its_spec_passes_without_findings(checked):
    request = checked("UHD primary video, 23.976p", {"Main.mp4": samples.h264_aac_mp4()}, CLIP_SPEC)
    assert findings(request, "Main.mp4") == {}
    assert request.status == Status.PROCESSED
    assert (request.files_failed, request.files_with_issues) == (0, 0)


def test_a_320x180_h264_clip_in_a_uhd_request_has_blockers_saying_what_was_expected(checked):
    request = checked("UHD primary video, 23.976p", {"Feature_UHD.mp4": samples.h264_aac_mp4()})
    found = findings(request, "Feature_UHD.mp4")
    assert found["VIDEO-Resolution"]["expected"] == "3840×2160"
    assert found["VIDEO-Resolution"]["found"] == "320×180"
    assert found["VIDEO-Resolution"]["severity"] == "blocker"
    assert found["VIDEO-FrameRate"]["expected"] == "23.976 fps (24000/1001)"
    assert found["VIDEO-FrameRate"]["found"] == "24 fps (24/1)"
    assert found["VIDEO-Codec"]["expected"] == ["ProRes", "JPEG 2000"]
    assert found["VIDEO-Codec"]["found"] == "H.264"
    delivered = DeliveredFile.objects.get(request=request)
    assert delivered.processing_status == "failed"
    assert delivered.worst_severity == "blocker"
    assert request.files_failed == 1


def test_a_runtime_outside_the_tolerance_is_a_blocker_and_inside_it_passes(checked):
    clip = samples.h264_aac_mp4()
    long = checked(
        "UHD primary video, 23.976p", {"a.mp4": clip}, {**CLIP_SPEC, "runtime_seconds": 2530}
    )
    assert findings(long, "a.mp4")["MEDIA-Runtime"]["expected"] == "42:10 ± 1 s"
    close = checked(
        "UHD primary video, 23.976p",
        {"a.mp4": clip},
        {**CLIP_SPEC, "runtime_seconds": 2.8, "runtime_tolerance_seconds": 1},
    )
    assert "MEDIA-Runtime" not in findings(close, "a.mp4")


def test_a_stereo_wav_in_a_5_1_request_is_a_blocker_and_a_5_1_wav_is_not(checked):
    request = checked(
        "5.1 printmaster 48 kHz 24-bit",
        {
            "stereo.wav": samples.wav_audio(channels=2),
            "surround.wav": samples.wav_audio(channels=6),
        },
        {"bit_depth": 16},
    )
    stereo = findings(request, "stereo.wav")["AUDIO-ChannelLayout"]
    assert (stereo["expected"], stereo["found"]) == ("5.1 (L R C LFE Ls Rs)", "2 ch")
    assert stereo["severity"] == "blocker"
    assert findings(request, "surround.wav") == {}
    assert request.files_failed == 1


def test_a_16_bit_wav_in_a_24_bit_request_is_an_issue_and_the_file_passes(checked):
    request = checked("5.1 printmaster 48 kHz 24-bit", {"mix.wav": samples.wav_audio(channels=6)})
    depth = findings(request, "mix.wav")["AUDIO-BitDepth"]
    assert (depth["expected"], depth["found"], depth["severity"]) == ("24-bit", "16-bit", "issue")
    delivered = DeliveredFile.objects.get(request=request)
    assert delivered.processing_status == "passed"
    assert (request.files_failed, request.files_with_issues) == (0, 1)


def test_a_44_1_khz_wav_in_a_48_khz_request_is_a_blocker(checked):
    request = checked(
        "5.1 printmaster 48 kHz 24-bit",
        {"a.wav": samples.wav_audio(channels=6, sample_rate=44100)},
        {"bit_depth": 16},
    )
    rate = findings(request, "a.wav")["AUDIO-SampleRate"]
    assert (rate["expected"], rate["found"]) == ("48 kHz", "44.1 kHz")


def test_artwork_smaller_than_the_minimum_is_a_blocker_and_large_enough_passes(checked):
    request = checked(
        "Key art, at least 1920×1080",
        {"small.png": samples.png_image(1280, 720), "large.png": samples.png_image(1920, 1080)},
    )
    small = findings(request, "small.png")["ARTWORK-TooSmall"]
    assert (small["expected"], small["found"]) == ("≥ 1920×1080", "1280×720")
    assert findings(request, "large.png") == {}


def test_artwork_in_a_format_the_spec_does_not_list_is_an_issue(checked):
    request = checked(
        "Key art, at least 1920×1080",
        {"art.png": samples.png_image(1920, 1080)},
        {"image_formats": "jpeg,tiff"},
    )
    wrong = findings(request, "art.png")["ARTWORK-Format"]
    assert (wrong["expected"], wrong["found"], wrong["severity"]) == (
        ["JPEG", "TIFF"],
        "PNG",
        "issue",
    )
    assert wrong["message"] == (
        "art.png: the image format is PNG, but the spec asks for JPEG or TIFF."
    )


def test_sequence_frames_of_another_size_and_depth_are_blockers(checked):
    request = checked(
        "DCI 4K image sequence 16-bit",
        {"f_0000001.png": samples.png_image(64, 36)},
    )
    found = findings(request, "f_0000001.png")
    assert found["SEQUENCE-Resolution"]["found"] == "64×36"
    assert (found["SEQUENCE-BitDepth"]["expected"], found["SEQUENCE-BitDepth"]["found"]) == (
        "16-bit",
        "8-bit",
    )
    matching = checked(
        "DCI 4K image sequence 16-bit",
        {"f_0000001.png": samples.png_image(64, 36)},
        {"width": 64, "height": 36, "bit_depth": 8},
    )
    assert findings(matching, "f_0000001.png") == {}


IMSC = samples.IMSC1_1_TEXT


def test_a_ttml_in_another_language_than_the_requests_is_a_blocker(checked):
    wrong = samples.ttml("en-US", profile=IMSC)
    request = checked("IMSC1.1 subtitles", {"subs.ttml": wrong}, language="es-419")
    mismatch = findings(request, "subs.ttml")["TIMEDTEXT-LangMismatch"]
    assert mismatch["severity"] == "blocker"
    assert (mismatch["expected"], mismatch["found"]) == ("es-419", "en-US")
    right = samples.ttml("es-419", profile=IMSC)
    request = checked("IMSC1.1 subtitles", {"subs.ttml": right}, language="es-419")
    assert findings(request, "subs.ttml") == {}


def test_a_ttml_without_the_imsc_1_1_profile_is_an_issue_where_the_spec_asks_for_it(checked):
    request = checked("IMSC1.1 subtitles", {"subs.ttml": samples.ttml("es-419")}, language="es-419")
    profile = findings(request, "subs.ttml")["TIMEDTEXT-Profile"]
    assert (profile["expected"], profile["found"], profile["severity"]) == (
        "IMSC 1.1 Text",
        "—",
        "issue",
    )
    assert DeliveredFile.objects.get(request=request).processing_status == "passed"
    plain = checked(
        "IMSC1.1 subtitles",
        {"subs.ttml": samples.ttml("es-419")},
        {"timed_text_format": "ttml"},
        language="es-419",
    )
    assert findings(plain, "subs.ttml") == {}


def test_a_decode_error_is_a_blocker(checked):
    request = checked("UHD primary video, 23.976p", {"bad.mp4": samples.corrupt_video()}, CLIP_SPEC)
    assert findings(request, "bad.mp4")["MEDIA-DecodeError"]["severity"] == "blocker"
    assert request.files_failed == 1


def test_what_a_spec_allows_reads_as_alternatives_in_english_and_spanish(
    checked, client, admin_user
):
    request = checked(
        "Key art, at least 1920×1080",
        {"art.png": samples.png_image(1920, 1080)},
        {"image_formats": "jpeg,tiff"},
    )
    delivered = DeliveredFile.objects.get(request=request, name="art.png")
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk]) + f"?file={delivered.pk}"

    def page(**headers: str) -> str:
        html = client.get(url, **headers).content.decode()
        return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))

    english = page()
    assert "art.png: the image format is PNG, but the spec asks for JPEG or TIFF." in english
    assert "Expected JPEG or TIFF, found PNG." in english
    spanish = page(HTTP_ACCEPT_LANGUAGE="es-419")
    assert "el formato de la imagen es PNG, pero la especificación pide JPEG o TIFF." in spanish
    assert "Se esperaba JPEG o TIFF; se encontró PNG." in spanish


def test_three_alternatives_take_commas_and_spanish_writes_u_before_an_o():
    assert (
        one_of(["H.264", "ProRes 422 HQ", "ProRes 4444"]) == "H.264, ProRes 422 HQ or ProRes 4444"
    )
    with translation.override("es-419"):
        assert one_of(["TIFF", "PNG"]) == "TIFF o PNG"
        assert one_of(["TIFF", "OpenEXR"]) == "TIFF u OpenEXR"
    assert one_of(["TIFF", "OpenEXR"]) == "TIFF or OpenEXR"
