"""Processing: real media through checksums, inspection and validation, the worker
queue, recovery after a killed worker, and the Details Page while it runs."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xxhash
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from deliveries.management import samples
from deliveries.models import (
    ActionRefused,
    AssetType,
    DeliveredFile,
    DeliveryRequest,
    HistoryEntry,
    Preview,
    ProcessingStatus,
    RedeliveryReason,
    Status,
)
from deliveries.processing import runner
from deliveries.processing.result import FileResult
from deliveries.tasks import process_request

ROOT = Path(__file__).resolve().parent.parent


def _processed(request: DeliveryRequest) -> dict[str, DeliveredFile]:
    process_request.call(request.pk)
    request.refresh_from_db()
    return {f.name: f for f in request.files.all()}


def _codes(delivered: DeliveredFile) -> list[str]:
    return [error["code"] for error in delivered.errors]


# One file of each kind ----------------------------------------------------------------


def test_it_reads_an_h264_mp4s_video_and_audio(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"feature.mp4": samples.h264_aac_mp4()})
    video = _processed(request)["feature.mp4"]
    assert video.processing_status == ProcessingStatus.PASSED
    assert video.errors == []
    meta = video.metadata
    assert meta["container"] == "MP4"
    assert meta["resolution"] == "320×180"
    assert meta["frame_rate"] == "24 fps"
    assert meta["video_codec"].startswith("H.264")
    assert meta["audio_codec"] == "AAC"
    assert meta["channels"] == 2
    assert meta["channel_layout"] == "stereo"
    assert meta["sample_rate"] == "48 kHz"
    assert meta["duration"].startswith("00:00:02")
    assert meta["bit_rate_bps"] > 0
    assert meta["summary"] == "320×180 24 fps H.264 · 00:00:02 · stereo AAC"
    assert video.processed_at is not None


def test_it_marks_a_5_1_wav_as_six_channels(deliver):
    request = deliver(AssetType.AUDIO, {"mix_51.wav": samples.wav_audio(channels=6)})
    audio = _processed(request)["mix_51.wav"]
    assert audio.processing_status == ProcessingStatus.PASSED
    assert audio.metadata["channels"] == 6
    assert audio.metadata["channel_layout"] == "5.1"
    assert audio.metadata["audio_codec"] == "PCM 16-bit"
    assert audio.metadata["summary"] == "00:00:01 · 5.1 PCM 16-bit 48 kHz"


def test_a_file_shorter_than_a_second_keeps_its_fraction_in_the_summary(deliver):
    request = deliver(AssetType.AUDIO, {"sting.wav": samples.wav_audio(seconds=0.5)})
    sting = _processed(request)["sting.wav"]
    assert sting.metadata["summary"] == "00:00:00.500 · 2 ch PCM 16-bit 48 kHz"


def test_it_marks_a_stereo_wav_as_two_channels(deliver):
    request = deliver(AssetType.AUDIO, {"mix_20.wav": samples.wav_audio(channels=2)})
    audio = _processed(request)["mix_20.wav"]
    assert audio.processing_status == ProcessingStatus.PASSED
    assert audio.metadata["channels"] == 2
    assert audio.metadata["sample_rate_hz"] == 48000
    assert "video_codec" not in audio.metadata


def test_it_fails_audio_delivered_to_a_video_request_with_a_reason(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"mix.wav": samples.wav_audio()})
    audio = _processed(request)["mix.wav"]
    assert audio.processing_status == ProcessingStatus.FAILED
    assert _codes(audio) == ["MEDIA-NoVideoStream"]
    assert "mix.wav has no video stream" in audio.errors[0]["message"]


def test_it_fails_a_corrupt_video_with_a_decode_error(deliver):
    request = deliver(AssetType.PRIMARY_VIDEO, {"broken.mp4": samples.corrupt_video()})
    broken = _processed(request)["broken.mp4"]
    assert broken.processing_status == ProcessingStatus.FAILED
    assert _codes(broken) == ["MEDIA-DecodeError"]
    assert broken.errors[0]["message"].startswith("broken.mp4 can't be opened")
    assert request.status == Status.PROCESSED


def test_it_fails_a_video_damaged_after_a_readable_header(deliver):
    good = samples.h264_aac_mp4(seconds=4)
    # Drop the second half of the media data but keep the index: opens, cannot decode.
    request = deliver(AssetType.PRIMARY_VIDEO, {"cut.mp4": _moov_first_truncated(good)})
    cut = _processed(request)["cut.mp4"]
    assert cut.processing_status == ProcessingStatus.FAILED
    assert _codes(cut) == ["MEDIA-DecodeError"]
    assert "Deliver it again" in cut.errors[0]["message"]


def test_it_passes_a_fragmented_mp4_with_its_index_first(deliver):
    fragmented = _moov_first(samples.h264_aac_mp4(seconds=4))
    request = deliver(AssetType.PRIMARY_VIDEO, {"frag.mp4": fragmented})
    frag = _processed(request)["frag.mp4"]
    assert frag.errors == []
    assert frag.processing_status == ProcessingStatus.PASSED


def _moov_first_truncated(mp4: bytes) -> bytes:
    return samples.corrupt_video(_moov_first(mp4))


def _moov_first(mp4: bytes) -> bytes:
    import av

    out = io.BytesIO()
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with av.open(io.BytesIO(mp4)) as source, av.open(out, "w", "mp4", options=options) as target:
        streams = {s.index: target.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            target.mux(packet)
    return out.getvalue()


def test_it_passes_a_valid_ttml_and_reads_its_language(deliver):
    request = deliver(AssetType.TIMED_TEXT, {"subs.ttml": samples.ttml("es-419")}, "es-419")
    subs = _processed(request)["subs.ttml"]
    assert subs.processing_status == ProcessingStatus.PASSED
    assert subs.metadata["format"] == "TTML"
    assert subs.metadata["language"] == "es-419"
    assert subs.metadata["summary"] == "TTML · es-419 · 3 cues"


def test_it_names_the_line_of_each_ttml_error(deliver):
    request = deliver(AssetType.TIMED_TEXT, {"subs_pt.ttml": samples.broken_ttml()})
    subs = _processed(request)["subs_pt.ttml"]
    assert subs.processing_status == ProcessingStatus.FAILED
    found = {error["code"]: error["message"] for error in subs.errors}
    assert found.keys() == {
        "TIMEDTEXT-LangInvalid",
        "TIMEDTEXT-IdAttribute",
        "TIMEDTEXT-DuplicateId",
        "TIMEDTEXT-TimeInvalid",
        "TIMEDTEXT-TimeOrder",
    }
    assert found["TIMEDTEXT-LangInvalid"].startswith("Line 2: xml:lang “pt_BR”")
    assert "pt-BR" in found["TIMEDTEXT-LangInvalid"]
    assert found["TIMEDTEXT-IdAttribute"].startswith("Line 11:")
    assert found["TIMEDTEXT-DuplicateId"].startswith("Line 12:")
    assert "line 10" in found["TIMEDTEXT-DuplicateId"]
    assert found["TIMEDTEXT-TimeInvalid"].startswith("Line 13: begin=“00:00:xx.000”")
    assert found["TIMEDTEXT-TimeOrder"].startswith("Line 14:")


def test_it_reports_malformed_ttml_as_not_well_formed(deliver):
    request = deliver(AssetType.TIMED_TEXT, {"subs.ttml": samples.malformed_ttml()})
    subs = _processed(request)["subs.ttml"]
    assert _codes(subs) == ["TIMEDTEXT-NotWellFormed"]
    assert subs.errors[0]["message"].startswith("Line 5:")


def test_it_asks_for_xml_lang_and_the_ttml_namespace(deliver):
    no_lang = samples.ttml().replace(b' xml:lang="en-US"', b"")
    wrong_root = b'<?xml version="1.0"?>\n<tt xml:lang="en">\n</tt>\n'
    request = deliver(AssetType.TIMED_TEXT, {"a.ttml": no_lang, "b.ttml": wrong_root})
    files = _processed(request)
    assert _codes(files["a.ttml"]) == ["TIMEDTEXT-LangMissing"]
    assert _codes(files["b.ttml"]) == ["TIMEDTEXT-RootNotTT"]
    assert files["b.ttml"].errors[0]["message"].startswith("Line 2:")


def test_it_reads_an_images_format_and_dimensions(deliver):
    request = deliver(AssetType.ARTWORK, {"key_art.png": samples.png_image(640, 360)})
    image = _processed(request)["key_art.png"]
    assert image.processing_status == ProcessingStatus.PASSED
    assert image.metadata["format"] == "PNG"
    assert image.metadata["dimensions"] == "640×360"
    assert image.metadata["summary"] == "PNG · 640×360 · RGB · 8-bit"


def test_it_fails_a_damaged_image(deliver):
    png = samples.png_image(640, 360)
    request = deliver(AssetType.ARTWORK, {"key_art.png": png[: len(png) // 2]})
    image = _processed(request)["key_art.png"]
    assert _codes(image) == ["IMAGE-DecodeError"]


def test_it_fails_a_file_of_the_wrong_kind_for_the_request(deliver):
    request = deliver(AssetType.TIMED_TEXT, {"poster.png": samples.png_image()})
    poster = _processed(request)["poster.png"]
    assert _codes(poster) == ["ASSET-TypeMismatch"]
    assert "timed text request" in poster.errors[0]["message"]


# Checksums ----------------------------------------------------------------------------------


def test_it_computes_md5_and_xxh64_when_upload_did_not(deliver):
    content = samples.wav_audio()
    request = deliver(AssetType.AUDIO, {"mix.wav": content})
    audio = _processed(request)["mix.wav"]
    import hashlib

    assert audio.md5 == hashlib.md5(content).hexdigest()
    assert audio.xxh64 == xxhash.xxh64(content).hexdigest()


def test_it_fails_the_file_whose_hash_differs_from_the_manifest(org, title):
    frames = {f"frame_{n:04d}.png": samples.png_image(64, 36 + n) for n in range(3)}
    manifest = samples.checksum_txt(frames).decode()
    first_line = manifest.splitlines()[0]
    manifest = manifest.replace(first_line, "0123456789abcdef" + first_line[16:], 1)
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Sequence",
        asset_type=AssetType.IMAGE_SEQUENCE,
        due_date=datetime.date(2026, 12, 24),
    )
    for name, content in frames.items():
        request.add_file(name, ContentFile(content), by=None)
    # Delivered before the manifest, which does not list it (after, it is refused).
    request.add_file("frame_9999.png", ContentFile(samples.png_image()), by=None)
    request.add_file("checksum.txt", ContentFile(manifest.encode()), by=None)
    request.act(request.submit, by=None)

    files = _processed(request)
    assert _codes(files["frame_0000.png"]) == ["CHECKSUM-Mismatch"]
    message = files["frame_0000.png"].errors[0]["message"]
    assert message.startswith("frame_0000.png: its xxHash64 is ")
    assert "checksum.txt lists 0123456789abcdef" in message
    assert files["frame_0001.png"].processing_status == ProcessingStatus.PASSED
    assert files["frame_0002.png"].processing_status == ProcessingStatus.PASSED
    assert _codes(files["frame_9999.png"]) == ["CHECKSUM-MissingEntry"]
    assert "frame_9999.png is not listed" in files["frame_9999.png"].errors[0]["message"]
    assert files["checksum.txt"].processing_status == ProcessingStatus.PASSED
    assert files["checksum.txt"].metadata["entries"] == 3
    assert request.status == Status.PROCESSED


def test_it_fails_the_manifest_when_a_listed_file_was_never_delivered(org, title):
    frames = {f"frame_{n:04d}.png": samples.png_image(64, 36 + n) for n in range(3)}
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Sequence",
        asset_type=AssetType.IMAGE_SEQUENCE,
        due_date=datetime.date(2026, 12, 24),
    )
    for name in ("frame_0000.png", "frame_0001.png"):
        request.add_file(name, ContentFile(frames[name]), by=None)
    request.add_file("checksum.txt", ContentFile(samples.checksum_txt(frames)), by=None)
    request.act(request.submit, by=None)

    files = _processed(request)
    assert _codes(files["checksum.txt"]) == ["CHECKSUM-FileMissing"]
    assert (
        "frame_0002.png is listed in checksum.txt but was not delivered"
        in (files["checksum.txt"].errors[0]["message"])
    )
    assert files["frame_0000.png"].processing_status == ProcessingStatus.PASSED
    assert request.status == Status.PROCESSED


def test_it_trusts_checksums_computed_at_upload(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    request.files.update(md5="a" * 32, xxh64="b" * 16)
    audio = _processed(request)["mix.wav"]
    assert (audio.md5, audio.xxh64) == ("a" * 32, "b" * 16)


# The request ----------------------------------------------------------------------------


def test_it_moves_the_request_to_processed_as_the_system_whatever_the_results(deliver):
    request = deliver(
        AssetType.PRIMARY_VIDEO,
        {"good.mp4": samples.h264_aac_mp4(), "bad.mp4": samples.corrupt_video()},
    )
    files = _processed(request)
    assert request.status == Status.PROCESSED
    assert files["good.mp4"].processing_status == ProcessingStatus.PASSED
    assert files["bad.mp4"].processing_status == ProcessingStatus.FAILED
    entry = request.history.filter(after=Status.PROCESSED).get()
    assert entry.actor is None
    assert entry.before == Status.SUBMITTED


def test_it_fails_a_file_whose_stored_content_is_gone(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    stored = request.files.get()
    stored.content.storage.delete(stored.content.name)
    audio = _processed(request)["mix.wav"]
    assert _codes(audio) == ["FILE-Missing"]
    assert request.status == Status.PROCESSED


def test_a_bug_on_one_file_fails_that_file_and_not_the_worker(deliver, monkeypatch):
    request = deliver(AssetType.AUDIO, {"a.wav": samples.wav_audio(), "b.wav": samples.wav_audio()})

    def explode(delivered, *args, **kwargs):
        if delivered.name == "a.wav":
            raise RuntimeError("boom")
        return real(delivered, *args, **kwargs)

    real = runner.examine
    monkeypatch.setattr(runner, "examine", explode)
    files = _processed(request)
    assert _codes(files["a.wav"]) == ["PROCESSING-InternalError"]
    assert files["b.wav"].processing_status == ProcessingStatus.PASSED
    assert request.status == Status.PROCESSED


def test_it_is_idempotent(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    first = _processed(request)["mix.wav"]
    result = process_request.call(request.pk)
    assert result["skipped"] == "not submitted"
    DeliveryRequest.objects.filter(pk=request.pk).update(status=Status.SUBMITTED)
    result = process_request.call(request.pk)
    assert result["processed"] == 0
    again = DeliveredFile.objects.get(pk=first.pk)
    assert again.processed_at == first.processed_at
    assert request.history.filter(after=Status.PROCESSED).count() == 2


def test_it_redoes_a_file_left_processing_by_a_dead_worker(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    request.files.update(
        processing_status=ProcessingStatus.PROCESSING,
        metadata={"lease": {"token": "dead", "expires": time.time() - 1}},
    )
    audio = _processed(request)["mix.wav"]
    assert audio.processing_status == ProcessingStatus.PASSED
    assert "lease" not in audio.metadata
    assert request.status == Status.PROCESSED


def test_it_leaves_a_file_with_a_live_lease_to_its_worker_and_comes_back_later(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    request.files.update(
        processing_status=ProcessingStatus.PROCESSING,
        metadata={"lease": {"token": "alive", "expires": time.time() + 60}},
    )
    result = process_request.call(request.pk)
    assert result["skipped"] == "another worker is processing it"
    assert request.files.get().processing_status == ProcessingStatus.PROCESSING
    watchdog = DBTaskResult.objects.filter(args_kwargs__kwargs__request_id=request.pk)
    assert watchdog.filter(run_after__gt=datetime.datetime.now(datetime.UTC)).exists()


# The queue -------------------------------------------------------------------------------


def test_submit_enqueues_processing_once_the_transaction_commits(
    make_request, django_capture_on_commit_callbacks
):
    request = make_request(status="open", files=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        request.act(request.submit, by=None)
        assert not DBTaskResult.objects.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    task = DBTaskResult.objects.get()
    assert task.task_path == "deliveries.tasks.process_request"
    assert task.args_kwargs["kwargs"] == {"request_id": request.pk}


def test_a_refused_submit_enqueues_nothing(make_request, django_capture_on_commit_callbacks):
    request = make_request(status="open", files=0)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ActionRefused, match="Deliver at least one file"),
    ):
        request.act(request.submit, by=None)
    assert not DBTaskResult.objects.exists()


def test_resume_processing_enqueues_a_stalled_request_once(deliver):
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio()})
    call_command("resume_processing", stdout=io.StringIO())
    call_command("resume_processing", stdout=io.StringIO())
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__request_id=request.pk).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_processes_a_submitted_request(org, title, django_capture_on_commit_callbacks):
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Audio",
        asset_type=AssetType.AUDIO,
        due_date=datetime.date(2026, 12, 24),
    )
    request.add_file("stereo.wav", ContentFile(samples.wav_audio(channels=2)), by=None)
    request.add_file("surround.wav", ContentFile(samples.wav_audio(channels=6)), by=None)
    with django_capture_on_commit_callbacks(execute=True):
        request.act(request.submit, by=None)

    call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)

    request.refresh_from_db()
    assert request.status == Status.PROCESSED
    files = {f.name: f for f in request.files.all()}
    assert files["surround.wav"].metadata["channels"] == 6
    assert files["stereo.wav"].metadata["channels"] == 2
    # Processing, then the previews it enqueued once the results were stored.
    assert sorted(DBTaskResult.objects.successful().values_list("task_path", flat=True)) == [
        "deliveries.previews.tasks.make_previews",
        "deliveries.tasks.process_request",
    ]
    assert Preview.objects.filter(file__request=request).count() == 2


# A worker killed mid-request -------------------------------------------------------------


class _SharedDatabase:
    """The test database, reachable by worker subprocesses.

    PostgreSQL: the test database itself. SQLite: the test database lives in memory, so
    it is copied to a file for the workers and copied back once they are done.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.settings = connection.settings_dict
        self.sqlite_file: Path | None = None
        if connection.vendor == "sqlite":
            self.sqlite_file = tmp_path / "shared.sqlite3"

    @contextlib.contextmanager
    def shared(self):
        if self.sqlite_file is None:
            s = self.settings
            url = (
                f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or 'localhost'}:"
                f"{s['PORT'] or 5432}/{s['NAME']}"
            )
            yield url
            return
        connection.ensure_connection()
        target = sqlite3.connect(self.sqlite_file)
        connection.connection.backup(target)
        target.close()
        try:
            yield f"sqlite:///{self.sqlite_file}"
        finally:
            source = sqlite3.connect(self.sqlite_file)
            source.backup(connection.connection)
            source.close()

    def file_statuses(self, request_id: int) -> list[str]:
        sql = (
            "SELECT processing_status FROM deliveries_deliveredfile "
            "WHERE request_id = %s ORDER BY name"
        )
        if self.sqlite_file is None:
            return list(
                DeliveredFile.objects.filter(request_id=request_id)
                .order_by("name")
                .values_list("processing_status", flat=True)
            )
        with contextlib.closing(sqlite3.connect(self.sqlite_file, timeout=20)) as db:
            return [row[0] for row in db.execute(sql.replace("%s", "?"), (request_id,))]

    def request_status(self, request_id: int) -> str:
        if self.sqlite_file is None:
            return DeliveryRequest.objects.values_list("status", flat=True).get(pk=request_id)
        with contextlib.closing(sqlite3.connect(self.sqlite_file, timeout=20)) as db:
            sql = "SELECT status FROM deliveries_deliveryrequest WHERE id = ?"
            return db.execute(sql, (request_id,)).fetchone()[0]


def _start_worker(database_url: str, media_root: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "worker-under-test",
        "PORTAL_MEDIA_ROOT": str(media_root),
        "PORTAL_VAR_DIR": str(media_root.parent / "var"),
        "PORTAL_PROCESSING_LEASE_SECONDS": "1",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_DEBUG", None)
    # A worker slowed down after claiming each file (tests/slow_worker.py), so that
    # the test can kill it while a file is "processing" and the request half done.
    command = [
        sys.executable,
        "tests/slow_worker.py",
        "0.4",
        "--no-reload",
        "--no-startup-delay",
        "--interval",
        "0.1",
        "--verbosity",
        "0",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_request_loses_nothing_and_the_next_one_finishes(
    org, title, settings, tmp_path, django_capture_on_commit_callbacks
):
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Audio",
        asset_type=AssetType.AUDIO,
        due_date=datetime.date(2026, 12, 24),
    )
    for n in range(5):
        request.add_file(f"mix_{n}.wav", ContentFile(samples.wav_audio(channels=2)), by=None)
    with django_capture_on_commit_callbacks(execute=True):
        request.act(request.submit, by=None)
    submitted_task = DBTaskResult.objects.get()  # the one task the submit enqueued
    database = _SharedDatabase(tmp_path)
    media_root = Path(settings.MEDIA_ROOT)

    with database.shared() as url:
        first = _start_worker(url, media_root)
        try:
            # Killed while one file is done and the next is being processed.
            _wait_for(lambda: database.file_statuses(request.pk)[:2] == ["passed", "processing"])
            first.send_signal(signal.SIGKILL)
        finally:
            first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        assert database.request_status(request.pk) == Status.SUBMITTED

        second = _start_worker(url, media_root)
        try:
            _wait_for(lambda: database.request_status(request.pk) == Status.PROCESSED)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=10)

    request.refresh_from_db()
    assert request.status == Status.PROCESSED
    assert set(request.files.values_list("processing_status", flat=True)) == {"passed"}
    assert request.files.get(name="mix_1.wav").metadata["channels"] == 2
    finished = HistoryEntry.objects.get(request=request, after=Status.PROCESSED)
    assert finished.actor is None
    # The killed worker's task never finished: recovery did not depend on it. (Only
    # that one is looked at: a worker stopped by SIGTERM between claiming its next task
    # and starting it can leave that one "running" too, a race in django-tasks-db.)
    assert DBTaskResult.objects.running().filter(pk=submitted_task.pk).exists()


# The Details Page ---------------------------------------------------------------------------


def test_the_details_page_shows_progress_and_the_place_in_the_queue(
    client, admin_user, make_request, django_capture_on_commit_callbacks
):
    ahead = make_request(status="open", files=1, name="Ahead")
    with django_capture_on_commit_callbacks(execute=True):
        ahead.act(ahead.submit, by=None)
        request = make_request(status="open", files=3)
        request.act(request.submit, by=None)
    lease = runner._claim(request.files.get(name="file_000.mov").pk)
    assert runner.process_file(request, lease)  # a broken .mov: it fails
    client.force_login(admin_user)
    page = client.get(reverse("request-detail", args=[request.pk]))
    html = page.content.decode()
    assert "Processing 1 of 3 files" in html
    assert "1 failed so far" in html
    assert "Place in the processing queue: 2" in html
    assert 'hx-trigger="every 3s"' in html


def test_the_details_page_says_when_a_worker_has_the_request(client, admin_user, make_request):
    request = make_request(status="submitted", files=2)
    request.files.filter(name="file_000.mov").update(
        processing_status=ProcessingStatus.PROCESSING,
        metadata={"lease": {"token": "t", "expires": time.time() + 60}},
    )
    client.force_login(admin_user)
    html = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert "A worker is processing this request now." in html
    assert "Processing 1 of 2 files" in html


def test_processed_file_rows_show_their_summary_and_errors(client, admin_user, deliver):
    request = deliver(
        AssetType.AUDIO, {"surround.wav": samples.wav_audio(channels=6), "bad.wav": b"RIFF"}
    )
    process_request.call(request.pk)
    client.force_login(admin_user)
    html = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert "00:00:01 · 5.1 PCM 16-bit 48 kHz" in html
    assert "MEDIA-DecodeError" in html


def test_the_progress_counters_match_the_files_after_a_run_and_a_rerun(make_request):
    request = make_request(status="submitted", files=3)  # three broken .mov files
    process_request.call(request.pk)
    request.refresh_from_db()
    assert (request.status, request.files_processed, request.files_failed) == ("processed", 3, 3)
    DeliveryRequest.objects.filter(pk=request.pk).update(status="submitted")
    process_request.call(request.pk, rerun=True)
    request.refresh_from_db()
    assert (request.files_processed, request.files_failed) == (3, 3)


def test_a_result_whose_lease_was_lost_is_neither_stored_nor_counted(make_request):
    request = make_request(status="submitted", files=1)
    file = request.files.get()
    DeliveredFile.objects.filter(pk=file.pk).update(processing_status="pending")
    lease = runner._claim(file.pk)
    # The lease expired and a watchdog gave the file back before the result came.
    DeliveredFile.objects.filter(pk=file.pk).update(processing_status="pending", metadata={})
    assert runner._store(request, lease, FileResult(md5="a" * 32, xxh64="b" * 16)) is False
    request.refresh_from_db()
    file.refresh_from_db()
    assert (request.files_processed, file.processing_status, file.md5) == (0, "pending", "")


def test_a_resubmitted_request_counts_the_files_it_kept_as_done(make_request, admin_user, staff):
    request = make_request(status="processed", files=2)
    request.act(request.ask_for_redelivery, by=staff, reasons=RedeliveryReason.objects.all()[:1])
    request.add_file("file_new.mov", ContentFile(b"new"), by=admin_user)
    request.act(request.submit, by=admin_user)
    request.refresh_from_db()
    kept = request.files.exclude(processing_status="pending").count()
    assert kept == 2 and request.files_processed == 2
    assert request.file_count == kept + 1


def test_a_late_worker_takes_no_file_of_a_request_that_is_no_longer_submitted(
    make_request, admin_user, staff
):
    """A worker that stalled past its lease may loop on after another finished the
    request; files delivered for a redelivery wait for the partner's submit."""
    request = make_request(status="processed", files=1)
    request.act(request.ask_for_redelivery, by=staff, reasons=RedeliveryReason.objects.all()[:1])
    request.add_file("file_new.mov", ContentFile(b"new"), by=admin_user)
    new = request.files.get(name="file_new.mov")
    assert runner._claim(new.pk) is None
    new.refresh_from_db()
    assert new.processing_status == ProcessingStatus.PENDING
