"""Previews: what the worker makes of each kind of file, after processing; how they are
served (the file's access rules, range requests, private caching); and that they go
when their file goes."""

from __future__ import annotations

import io
import re

import av
import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from deliveries.management import samples
from deliveries.models import (
    AssetType,
    DeliveredFile,
    Preview,
    PreviewPart,
    RedeliveryReason,
    SequencePreview,
    Status,
    StorageDeletion,
)
from deliveries.previews import making, storage
from deliveries.previews.tasks import make_previews
from deliveries.requests import cleanup
from deliveries.tasks import process_request

H264 = {"width": 640, "height": 360, "frame_rate": "24/1", "video_codecs": "h264"}
DAMAGED_AT_2S = samples.damaged_at(
    samples.h264_aac_mp4(seconds=4, width=640, height=360, keyframe_interval=12), 48
)


def processed_with_previews(request) -> dict[str, DeliveredFile]:
    process_request.call(request.pk)
    make_previews.call(request.pk)
    return {f.name: f for f in DeliveredFile.objects.filter(request=request)}


def part_url(delivered: DeliveredFile, name: str) -> str:
    return reverse("file-preview", args=[delivered.request_id, delivered.pk, name])


def parts_of(delivered: DeliveredFile) -> dict[str, bytes]:
    return {
        part.name: default_storage.open(part.path).read()
        for part in PreviewPart.objects.filter(file=delivered)
    }


@pytest.fixture
def video_request(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"reel.mp4": DAMAGED_AT_2S})
    request.spec_overrides = H264
    return request


# Making -----------------------------------------------------------------------------


def test_processing_enqueues_the_previews_and_reaches_processed_without_them(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    process_request.call(request.pk)
    request.refresh_from_db()
    assert request.status == Status.PROCESSED
    assert not Preview.objects.exists()
    task = DBTaskResult.objects.get(task_path="deliveries.previews.tasks.make_previews")
    assert task.args_kwargs["kwargs"] == {"request_id": request.pk}


def test_a_video_gets_a_poster_a_strip_a_small_thumbnail_and_an_h264_aac_proxy(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"reel.mp4": samples.h264_aac_mp4(seconds=4)})
    reel = processed_with_previews(request)["reel.mp4"]
    preview = Preview.objects.get(file=reel)
    assert (preview.kind, preview.thumbnail) == ("video", "thumb.jpg")
    parts = parts_of(reel)
    assert set(parts) == {"poster.jpg", "strip.jpg", "thumb.jpg", "proxy.mp4"}
    assert len(parts["thumb.jpg"]) < 10_000
    assert len(preview.info["strip"]) == 10
    assert preview.info["strip"][0]["timecode"] == "00:00:00:05"
    with av.open(io.BytesIO(parts["proxy.mp4"])) as proxy:
        assert proxy.streams.video[0].codec_context.name == "h264"
        assert proxy.streams.audio[0].codec_context.name == "aac"
        assert proxy.streams.video[0].codec_context.width == 320
    # Fast start: the index comes before the media, so playback starts at once.
    assert parts["proxy.mp4"].index(b"moov") < parts["proxy.mp4"].index(b"mdat")


def test_a_5_1_mix_gets_a_waveform_per_channel_with_peaks_and_loudness(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio(seconds=2, channels=6)})
    mix = processed_with_previews(request)["mix.wav"]
    info = Preview.objects.get(file=mix).info
    assert [channel["label"] for channel in info["channels"]] == ["L", "R", "C", "LFE", "Ls", "Rs"]
    assert info["peak_dbfs"] == max(channel["peak_dbfs"] for channel in info["channels"])
    assert -40 < info["loudness_lufs"] < 0
    assert {f"wave-{n}.png" for n in range(6)} | {"thumb.png", "proxy.mp4"} == set(parts_of(mix))


def test_a_wav_that_names_no_layout_labels_its_channels_by_number(deliver):
    request = deliver(AssetType.AUDIO, {"dual.wav": samples.wav_audio(seconds=1, channels=2)})
    dual = processed_with_previews(request)["dual.wav"]
    info = Preview.objects.get(file=dual).info
    assert [channel["label"] for channel in info["channels"]] == ["1", "2"]


def test_artwork_gets_a_scaled_copy_and_timed_text_its_first_cues(deliver):
    art = deliver(AssetType.ARTWORK, {"key.png": samples.png_image(1920, 1080)})
    key = processed_with_previews(art)["key.png"]
    assert set(parts_of(key)) == {"image.jpg", "thumb.jpg"}
    subtitles = deliver(AssetType.TIMED_TEXT, {"s.ttml": samples.ttml("es-419", cues=7)}, "es-419")
    text = processed_with_previews(subtitles)["s.ttml"]
    preview = Preview.objects.get(file=text)
    assert preview.caption == "Sample subtitle line 1."
    assert len(preview.info["cues"]) == 5
    assert not PreviewPart.objects.filter(file=text).exists()


def test_a_sequence_gets_first_middle_and_last_frames_and_its_gaps(deliver):
    frames = {f"seq_{n:07d}.png": samples.png_image(64, 36) for n in [*range(0, 10), 14, 15]}
    request = deliver(AssetType.IMAGE_SEQUENCE, frames)
    processed_with_previews(request)
    info = SequencePreview.objects.get(request_id=request.pk).info
    assert [frame["number"] for frame in info["key_frames"]] == [0, 6, 15]
    assert info["gaps"] == [[10, 13]]


def test_a_sequences_strip_runs_from_its_first_frame_to_its_last(deliver):
    frames = {f"seq_{n:07d}.png": samples.png_image(16, 9) for n in range(24)}
    request = deliver(AssetType.IMAGE_SEQUENCE, frames)
    processed_with_previews(request)
    strip = [frame["number"] for frame in SequencePreview.objects.get().info["strip"]]
    assert len(strip) == 10 and strip[0] == 0 and strip[-1] == 23


def test_the_side_panel_of_a_frame_shows_the_sequence_and_its_gap(client, reviewer, deliver):
    frames = {f"seq_{n:07d}.png": samples.png_image(64, 36) for n in [*range(0, 10), 14, 15]}
    request = deliver(AssetType.IMAGE_SEQUENCE, frames)
    files = processed_with_previews(request)
    frame = files["seq_0000003.png"]
    client.force_login(reviewer)
    url = reverse("request-detail", args=[request.pk])
    page = client.get(url, {"file": frame.pk}).content.decode()
    assert f'src="{part_url(frame, "image.jpg")}"' in page
    assert "The sequence: 12 frames, 0–15" in page
    assert 'data-gap="10-13"' in page and "Missing frames: 10–13" in page
    assert 'aria-label="1 gap in the frame numbers"' in page
    first = files["seq_0000000.png"]
    assert f'src="{part_url(first, "image.jpg")}"' in page


def test_a_file_that_cannot_be_previewed_is_not_tried_again(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"bad.mp4": samples.corrupt_video()})
    bad = processed_with_previews(request)["bad.mp4"]
    assert Preview.objects.get(file=bad).kind == "none"
    assert make_previews.call(request.pk)["made"] == 0


# The page ---------------------------------------------------------------------------


def test_rows_show_fixed_size_lazy_thumbnails_or_preparing_preview(
    client, admin_user, video_request
):
    process_request.call(video_request.pk)
    client.force_login(admin_user)
    page = client.get(reverse("request-detail", args=[video_request.pk])).content.decode()
    assert "Preparing preview…" in page
    make_previews.call(video_request.pk)
    reel = video_request.files.get()
    page = client.get(reverse("request-detail", args=[video_request.pk])).content.decode()
    assert "Preparing preview…" not in page
    assert (
        f'<img src="{part_url(reel, "thumb.jpg")}" alt="" width="64" height="36" loading="lazy"'
        in page
    )


def test_the_side_panel_puts_the_decode_error_on_the_timeline(client, admin_user, video_request):
    reel = processed_with_previews(video_request)["reel.mp4"]
    client.force_login(admin_user)
    url = reverse("request-detail", args=[video_request.pk])
    page = client.get(url, {"file": reel.pk}).content.decode()
    assert f'src="{part_url(reel, "proxy.mp4")}"' in page
    mark = re.search(r'<a class="mark sev-blocker" href="([^"]+)" data-seek="2.0"', page)
    assert mark, "the decode error is a mark at 2 s"
    assert 'aria-label="MEDIA-DecodeError at 00:00:02:00"' in page
    assert "Show at 00:00:02:00" in page
    # The mark's link, followed without JavaScript, starts the player there.
    linked = client.get(mark.group(1).replace("&amp;", "&").split("#")[0]).content.decode()
    assert f'src="{part_url(reel, "proxy.mp4")}#t=2.0"' in linked


def test_the_side_panel_says_preparing_preview_until_it_exists_in_spanish(
    client, admin_user, video_request
):
    process_request.call(video_request.pk)
    reel = video_request.files.get()
    client.force_login(admin_user)
    url = reverse("request-detail", args=[video_request.pk])
    page = client.get(url, {"file": reel.pk}, HTTP_ACCEPT_LANGUAGE="es-419").content.decode()
    assert "Preparando la vista previa…" in page


# Serving ----------------------------------------------------------------------------


@pytest.fixture
def proxy(video_request):
    reel = processed_with_previews(video_request)["reel.mp4"]
    return reel, parts_of(reel)["proxy.mp4"]


def test_a_member_gets_the_proxy_whole_and_privately_cached(client, reviewer, proxy):
    reel, data = proxy
    client.force_login(reviewer)
    response = client.get(part_url(reel, "proxy.mp4"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert "private" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_a_range_request_gets_those_bytes_only(client, admin_user, proxy):
    reel, data = proxy
    client.force_login(admin_user)
    response = client.get(part_url(reel, "proxy.mp4"), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(response.streaming_content) == data[100:200]
    tail = client.get(part_url(reel, "proxy.mp4"), HTTP_RANGE="bytes=-50")
    assert b"".join(tail.streaming_content) == data[-50:]
    open_ended = client.get(part_url(reel, "proxy.mp4"), HTTP_RANGE=f"bytes={len(data) - 10}-")
    assert b"".join(open_ended.streaming_content) == data[-10:]
    beyond = client.get(part_url(reel, "proxy.mp4"), HTTP_RANGE=f"bytes={len(data)}-")
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(data)}"


def test_an_outsider_gets_404_and_a_stranger_the_sign_in_page(client, outsider, proxy):
    reel, _data = proxy
    client.force_login(outsider)
    assert client.get(part_url(reel, "proxy.mp4")).status_code == 404
    assert client.get(part_url(reel, "proxy.mp4"), HTTP_RANGE="bytes=0-9").status_code == 404
    client.logout()
    response = client.get(part_url(reel, "proxy.mp4"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_part_that_does_not_exist_is_404(client, admin_user, proxy):
    reel, _data = proxy
    client.force_login(admin_user)
    assert client.get(part_url(reel, "secrets.txt")).status_code == 404
    assert client.get(part_url(reel, "..")).status_code == 404


# Removal ----------------------------------------------------------------------------


def _no_orphans() -> str:
    out = io.StringIO()
    call_command("check_storage", min_age_minutes=0, stdout=out)
    return out.getvalue()


def test_a_removed_files_previews_leave_storage_with_it(client, admin_user, video_request):
    reel = processed_with_previews(video_request)["reel.mp4"]
    paths = list(PreviewPart.objects.filter(file=reel).values_list("path", flat=True))
    assert paths and all(default_storage.exists(path) for path in paths)
    assert "No orphaned stored files." in _no_orphans()
    # Removed as a partner removes it, once the request is back in Redelivery.
    video_request.refresh_from_db()
    video_request.act(
        video_request.ask_for_redelivery, by=None, reasons=RedeliveryReason.objects.all()[:1]
    )
    client.force_login(admin_user)
    response = client.post(reverse("files-remove", args=[video_request.pk]), {"file": reel.pk})
    assert response.status_code == 302
    assert not PreviewPart.objects.exists() and not Preview.objects.exists()
    assert set(StorageDeletion.objects.values_list("path", flat=True)) >= set(paths)
    cleanup.run_cleanup(come_back_later=lambda: None)
    assert not any(default_storage.exists(path) for path in paths)
    assert not DeliveredFile._base_manager.filter(pk=reel.pk).exists()
    report = _no_orphans()
    assert "0 stored files" in report and "No orphaned stored files." in report


def test_a_preview_finished_after_its_file_was_removed_is_deleted_again(video_request):
    reel = video_request.files.get()
    made = making.make_for_file(reel)
    # Removed between the making and the recording (its content deleted already).
    DeliveredFile._base_manager.filter(pk=reel.pk).delete()
    default_storage.delete(reel.content.name)
    assert storage.record(reel, made) is False
    assert not Preview.objects.exists()
    assert "No orphaned stored files." in _no_orphans()


def test_resume_processing_enqueues_missing_previews_once(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    process_request.call(request.pk)
    DBTaskResult.objects.all().delete()  # as if the worker holding the task had died
    call_command("resume_processing", stdout=io.StringIO())
    call_command("resume_processing", stdout=io.StringIO())
    tasks = DBTaskResult.objects.filter(task_path="deliveries.previews.tasks.make_previews")
    assert tasks.count() == 1
    make_previews.call(request.pk)
    DBTaskResult.objects.all().delete()
    out = io.StringIO()
    call_command("resume_processing", stdout=out)
    assert "Resumed the previews of 0 request(s)." in out.getvalue()


def test_removing_every_file_takes_their_previews_with_them(client, admin_user, deliver):
    frames = {f"seq_{n:07d}.png": samples.png_image(64, 36) for n in range(6)}
    request = deliver(AssetType.IMAGE_SEQUENCE, frames)
    processed_with_previews(request)
    assert PreviewPart.objects.count() == 12 and SequencePreview.objects.exists()
    request.refresh_from_db()
    request.act(request.ask_for_redelivery, by=None, reasons=RedeliveryReason.objects.all()[:1])
    client.force_login(admin_user)
    response = client.post(reverse("files-remove", args=[request.pk]), {"all": "1"})
    assert response.status_code == 302
    cleanup.run_cleanup(come_back_later=lambda: None)
    assert not PreviewPart.objects.exists() and not Preview.objects.exists()
    assert not SequencePreview.objects.exists()
    report = _no_orphans()
    assert "0 stored files" in report and "No orphaned stored files." in report


def test_a_sequence_resubmitted_after_a_removal_gets_its_strip_again(client, admin_user, deliver):
    frames = {f"seq_{n:07d}.png": samples.png_image(64, 36) for n in range(5)}
    request = deliver(AssetType.IMAGE_SEQUENCE, frames)
    files = processed_with_previews(request)
    request.refresh_from_db()
    request.act(request.ask_for_redelivery, by=None, reasons=RedeliveryReason.objects.all()[:1])
    client.force_login(admin_user)
    gone = files["seq_0000002.png"].pk
    client.post(reverse("files-remove", args=[request.pk]), {"file": gone})
    assert not SequencePreview.objects.exists()
    client.post(reverse("request-submit", args=[request.pk]), {"status_seen": "redelivery"})
    processed_with_previews(request)
    assert SequencePreview.objects.get(request_id=request.pk).info["gaps"] == [[2, 2]]
