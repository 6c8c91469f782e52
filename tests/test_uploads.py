"""Delivering files over tus: the real Python client (tuspy) against the running test
server, signed in with the session cookie and the CSRF header, as a browser is."""

from __future__ import annotations

import base64
import datetime
import hashlib
import http.client
import os
import re
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import xxhash
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from deliveries.management import samples
from deliveries.models import ActionRefused, DeliveredFile, HistoryEntry, Status
from deliveries.uploads import staging
from deliveries.uploads.models import Upload

from .processed import open_request as open_spec_request
from .tus import (
    MIB,
    TUS,
    create,
    create_with_upload,
    digests_of,
    encode_metadata,
    head,
    metadata,
    patch,
    signed_in_headers,
    write_file,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tus(live_server):
    """tus(user) → a tuspy client for /uploads/ signed in as `user`."""

    def make(user):
        return tus_client.TusClient(
            live_server.url + reverse("tus-create"), headers=signed_in_headers(user)
        )

    return make


def assert_delivered_identical(delivery_request, name: str, source: Path, user) -> None:
    delivered = DeliveredFile.objects.get(request=delivery_request, name=name)
    expected = digests_of(source)
    assert delivered.size == source.stat().st_size
    assert delivered.md5 == expected["md5"]
    assert delivered.xxh64 == expected["xxh64"]
    assert digests_of(Path(delivered.content.path)) == expected
    assert delivered.delivered_by == user
    assert HistoryEntry.objects.filter(
        request=delivery_request, action=HistoryEntry.Action.DELIVERED, after=name, actor=user
    ).exists()
    # The upload stays, complete, so that a client that lost the last answer learns
    # of the success from HEAD; its staged bytes are gone.
    assert [(u.name, u.is_delivered) for u in Upload.objects.all()] == [(name, True)]
    assert not any(staging.staging_root().iterdir())


def test_a_multi_chunk_upload_arrives_byte_identical(tus, make_request, uploader, tmp_path):
    delivery_request = make_request(files=0)
    source = write_file(tmp_path / "master.mov", 5 * MIB + 123)
    uploader_ = tus(uploader).uploader(
        str(source),
        chunk_size=MIB,
        metadata={"request": str(delivery_request.pk), "filename": "master.mov"},
        upload_checksum=True,  # each chunk carries its sha1: the checksum extension
    )
    uploader_.upload()
    assert_delivered_identical(delivery_request, "master.mov", source, uploader)


def test_the_details_page_lists_the_delivered_file_with_its_checksums(
    tus, make_request, uploader, tmp_path, client
):
    delivery_request = make_request(files=0)
    source = write_file(tmp_path / "audio.wav", 200_000)
    tus(uploader).uploader(
        str(source), metadata={"request": str(delivery_request.pk), "filename": "audio.wav"}
    ).upload()
    delivered = delivery_request.files.get()
    client.force_login(uploader)
    page = client.get(
        reverse("request-detail", args=[delivery_request.pk]) + f"?file={delivered.pk}"
    )
    html = page.content.decode()
    assert "audio.wav" in html and delivered.md5 in html and delivered.xxh64 in html
    assert "Delivered “audio.wav”." in html


def test_an_interrupted_upload_resumes_from_the_offset_head_reports(
    tus, live_server, make_request, admin_user, tmp_path
):
    delivery_request = make_request(files=0)
    source = write_file(tmp_path / "reel.mov", 3 * MIB + 17)
    location = create(live_server, admin_user, delivery_request.pk, "reel.mov", 3 * MIB + 17)
    url = location.headers["Location"]

    # The connection drops after 1 MiB and a bit of a PATCH announced as the whole file.
    sent = MIB + 4321
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("PATCH", parts.path)
    for key, value in {
        **TUS,
        **signed_in_headers(admin_user),
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(source.stat().st_size),
    }.items():
        connection.putheader(key, value)
    connection.endheaders()
    with open(source, "rb") as handle:
        connection.send(handle.read(sent))
    connection.sock.close()

    # The server keeps what arrived once it notices the connection is gone.
    deadline = time.monotonic() + 10
    while int(head(url, admin_user).headers["Upload-Offset"]) != sent:
        assert time.monotonic() < deadline, "the server never recorded the bytes that arrived"
        time.sleep(0.05)

    resumed = tus(admin_user).uploader(str(source), url=url, chunk_size=MIB)
    assert resumed.offset == sent  # tuspy asked HEAD where to resume
    resumed.upload()
    assert_delivered_identical(delivery_request, "reel.mov", source, admin_user)


@pytest.mark.parametrize("size", [5, 3 * MIB // 2], ids=["read at once", "hashed as written"])
def test_a_chunk_with_a_wrong_checksum_is_discarded_with_460(
    live_server, make_request, uploader, size
):
    delivery_request = make_request(files=0)
    first, second = os.urandom(size), os.urandom(size)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 2 * size).headers["Location"]
    assert patch(url, uploader, first, 0).headers["Upload-Offset"] == str(size)
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    response = patch(url, uploader, second, size, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert response.status_code == 460
    assert head(url, uploader).headers["Upload-Offset"] == str(size)
    right = base64.b64encode(hashlib.md5(second).digest()).decode()
    response = patch(url, uploader, second, size, **{"Upload-Checksum": f"md5 {right}"})
    assert response.status_code == 204
    delivered = delivery_request.files.get(name="a.mov")
    assert delivered.md5 == hashlib.md5(first + second).hexdigest()
    assert delivered.xxh64 == xxhash.xxh64(first + second).hexdigest()


def test_a_wrong_offset_answers_409_and_changes_nothing(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 10).headers["Location"]
    patch(url, uploader, b"0123", 0)
    assert patch(url, uploader, b"xxxx", 2).status_code == 409
    assert patch(url, uploader, b"xxxx", 9).status_code == 409
    assert head(url, uploader).headers["Upload-Offset"] == "4"


def test_bytes_beyond_the_announced_length_are_refused(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 4).headers["Location"]
    assert patch(url, uploader, b"012345", 0).status_code == 413
    assert head(url, uploader).headers["Upload-Offset"] == "0"


def test_another_organization_gets_404(live_server, make_request, uploader, outsider):
    delivery_request = make_request(files=0)
    assert create(live_server, outsider, delivery_request.pk, "a.mov", 3).status_code == 404
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 3).headers["Location"]
    assert head(url, outsider).status_code == 404
    assert patch(url, outsider, b"abc", 0).status_code == 404
    assert head(url, uploader).headers["Upload-Offset"] == "0"


def test_a_name_that_breaks_the_rule_is_refused_at_creation_with_the_rule(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    response = create(live_server, uploader, delivery_request.pk, "my master.mov", 3)
    assert response.status_code == 400
    assert "File names may use only letters" in response.text
    assert "space" in response.text
    assert not Upload.objects.exists()


def test_a_name_already_in_the_request_is_refused_at_creation(live_server, make_request, uploader):
    delivery_request = make_request(files=1)
    response = create(live_server, uploader, delivery_request.pk, "file_000.mov", 3)
    assert response.status_code == 400
    assert "already named “file_000.mov”" in response.text


def test_tuspy_reports_the_refusal_before_sending_any_byte(tus, make_request, uploader, tmp_path):
    delivery_request = make_request(files=0)
    source = write_file(tmp_path / "x.mov", 1000)
    bad = tus(uploader).uploader(
        str(source), metadata={"request": str(delivery_request.pk), "filename": "bad#name.mov"}
    )
    with pytest.raises(TusCommunicationError) as error:
        bad.upload()
    assert error.value.status_code == 400
    assert not delivery_request.files.exists()


def test_a_reviewer_gets_403(live_server, make_request, reviewer):
    delivery_request = make_request(files=0)
    response = create(live_server, reviewer, delivery_request.pk, "a.mov", 3)
    assert response.status_code == 403


def test_a_submitted_request_refuses_uploads(live_server, make_request, uploader):
    delivery_request = make_request(status="submitted", files=1)
    response = create(live_server, uploader, delivery_request.pk, "a.mov", 3)
    assert response.status_code == 403
    assert "Submitted" in response.text


def test_submit_waits_for_files_still_arriving(live_server, make_request, uploader, admin_user):
    delivery_request = make_request(files=1)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 6).headers["Location"]
    patch(url, uploader, b"abc", 0)
    with pytest.raises(ActionRefused, match="“a.mov” is still being uploaded to this request"):
        delivery_request.act(delivery_request.submit, by=admin_user)
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.OPEN
    assert patch(url, uploader, b"def", 3).status_code == 204
    delivery_request.act(delivery_request.submit, by=admin_user)
    assert delivery_request.files.filter(name="a.mov").exists()


def test_an_upload_stalled_when_the_request_is_submitted_is_refused_after(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=1)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 6).headers["Location"]
    patch(url, uploader, b"abc", 0)
    # No bytes for 11 minutes: the upload no longer holds the request open.
    Upload.objects.update(
        expires_at=timezone.now() + settings.UPLOAD_EXPIRY - datetime.timedelta(minutes=11)
    )
    delivery_request.act(delivery_request.submit, by=uploader)
    assert patch(url, uploader, b"def", 3).status_code == 403
    assert not delivery_request.files.filter(name="a.mov").exists()


def test_an_anonymous_client_is_refused(live_server, make_request):
    delivery_request = make_request(files=0)
    response = requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            **TUS,
            "Upload-Length": "3",
            "Upload-Metadata": metadata(delivery_request.pk, "a.mov"),
        },
        timeout=10,
    )
    assert response.status_code == 403


def test_a_cookie_authenticated_upload_without_the_csrf_header_is_refused(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    headers = signed_in_headers(uploader)
    del headers["X-CSRFToken"]
    response = requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            **TUS,
            **headers,
            "Upload-Length": "3",
            "Upload-Metadata": metadata(delivery_request.pk, "a.mov"),
        },
        timeout=10,
    )
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert not Upload.objects.exists()


def test_termination_deletes_the_staging_data(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 10).headers["Location"]
    patch(url, uploader, b"01234", 0)
    upload = Upload.objects.get()
    assert staging.folder(upload.pk).is_dir()
    response = requests.delete(url, headers={**TUS, **signed_in_headers(uploader)}, timeout=10)
    assert response.status_code == 204
    assert not staging.folder(upload.pk).exists()
    assert not Upload.objects.exists()
    assert head(url, uploader).status_code == 404


def test_an_expired_upload_is_refused_and_cleaned_up(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 10).headers["Location"]
    patch(url, uploader, b"01234", 0)
    expiry = head(url, uploader).headers["Upload-Expires"]
    assert expiry.endswith("GMT")
    Upload.objects.update(expires_at=timezone.now() - settings.UPLOAD_EXPIRY)
    upload = Upload.objects.get()
    call_command("expire_uploads", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert not Upload.objects.exists()
    assert not staging.folder(upload.pk).exists()
    assert head(url, uploader).status_code == 404


def test_an_expired_upload_answers_410(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 10).headers["Location"]
    Upload.objects.update(expires_at=timezone.now())
    assert patch(url, uploader, b"01234", 0).status_code == 410
    assert not Upload.objects.exists()


def test_two_connections_cannot_interleave_bytes_in_one_upload(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 20).headers["Location"]
    parts = urlsplit(url)
    first = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    first.putrequest("PATCH", parts.path)
    for key, value in {
        **TUS,
        **signed_in_headers(uploader),
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
        "Content-Length": "10",
    }.items():
        first.putheader(key, value)
    first.endheaders()
    first.send(b"aaaaa")
    # The first connection holds the upload while it sends; a second one is told to wait.
    # (Until the first has the lock, the second's offset is wrong: 409, nothing written.)
    # Poll gently: on a loaded 2-core machine the first request may need a while to
    # reach the lock, and a tight loop of second requests only delays it.
    deadline = time.monotonic() + 30
    while (second := patch(url, uploader, b"bbbbb", 5)).status_code != 423:
        assert second.status_code == 409 and time.monotonic() < deadline, second.text
        time.sleep(0.25)
    first.send(b"aaaaa")
    assert first.getresponse().status == 204
    assert patch(url, uploader, b"cccccccccc", 10).status_code == 204
    assert Path(delivery_request.files.get().content.path).read_bytes() == b"a" * 10 + b"c" * 10


def test_creation_with_upload_takes_the_first_bytes_with_the_creation(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    response = create_with_upload(
        live_server, uploader, delivery_request.pk, "hello.txt", 5, b"hello"
    )
    assert response.status_code == 201
    assert response.headers["Upload-Offset"] == "5"
    assert delivery_request.files.get().md5 == hashlib.md5(b"hello").hexdigest()


def test_options_advertise_the_version_and_extensions(live_server):
    response = requests.options(live_server.url + reverse("tus-create"), timeout=10)
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    extensions = response.headers["Tus-Extension"].split(",")
    assert {"creation", "creation-with-upload", "termination", "expiration", "checksum"} <= set(
        extensions
    )
    assert {"md5", "sha1"} <= set(response.headers["Tus-Checksum-Algorithm"].split(","))


def test_a_checksum_manifest_delivered_by_tus_makes_a_request_with_a_checksum(
    tus, make_request, uploader, tmp_path
):
    delivery_request = make_request(files=1)
    manifest = tmp_path / "checksum.txt"
    manifest.write_text(f"{'0' * 32}  file_000.mov\n")
    tus(uploader).uploader(
        str(manifest), metadata={"request": str(delivery_request.pk), "filename": "checksum.txt"}
    ).upload()
    delivery_request.refresh_from_db()
    assert delivery_request.has_checksum
    assert delivery_request.checksum_manifest.name == "checksum.txt"


def test_uploading_200_mb_keeps_memory_flat(tus, make_request, uploader, tmp_path):
    delivery_request = make_request(files=0)
    size = 200 * 1000 * 1000
    source = write_file(tmp_path / "big.mov", size)
    uploader_ = tus(uploader).uploader(
        str(source),
        chunk_size=8 * MIB,
        metadata={"request": str(delivery_request.pk), "filename": "big.mov"},
    )
    tracemalloc.start()
    try:
        uploader_.upload()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The client's 8 MiB chunk and the server's reads, never the file.
    assert peak < 50 * 1000 * 1000, f"peak {peak / 1e6:.1f} MB"
    assert delivery_request.files.get().md5 == digests_of(source)["md5"]


# Delivery complete and automatic submission (plain Django test client) ---------------


def test_delivery_complete_submits_a_request_that_submits_automatically(
    client, make_request, uploader
):
    delivery_request = make_request(files=2)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    client.force_login(uploader)
    response = client.post(reverse("delivery-complete", args=[delivery_request.pk]))
    assert response.status_code == 302
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.SUBMITTED
    entry = delivery_request.history.filter(action=HistoryEntry.Action.STATUS_CHANGED).first()
    assert entry.actor is None and entry.after == Status.SUBMITTED


def test_delivery_complete_leaves_a_manual_request_open(client, make_request, uploader):
    delivery_request = make_request(files=2)
    client.force_login(uploader)
    response = client.post(
        reverse("delivery-complete", args=[delivery_request.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="request-main"' in response.content.decode()
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.OPEN


def test_delivery_complete_waits_while_other_uploads_are_under_way(client, make_request, uploader):
    delivery_request = make_request(files=1)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    upload = Upload(request=delivery_request, name="late.mov", length=9, created_by=uploader)
    upload.extend_expiry()
    upload.save()
    client.force_login(uploader)
    client.post(reverse("delivery-complete", args=[delivery_request.pk]))
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.OPEN


def test_delivery_complete_needs_post(client, make_request, uploader):
    delivery_request = make_request(files=1)
    client.force_login(uploader)
    url = reverse("delivery-complete", args=[delivery_request.pk])
    assert client.get(url).status_code == 405


def test_delivery_complete_with_no_file_explains_why_it_cannot_submit(
    client, make_request, uploader
):
    delivery_request = make_request(files=0)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    client.force_login(uploader)
    response = client.post(
        reverse("delivery-complete", args=[delivery_request.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Deliver at least one file" in response.content.decode()
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.OPEN


def test_the_drop_zone_shows_only_while_this_user_may_deliver(
    client, make_request, uploader, reviewer
):
    open_request = make_request(files=1)
    submitted = make_request(status="submitted", files=1, name="Audio")
    client.force_login(uploader)
    assert 'id="uploader"' in client.get(reverse("request-detail", args=[open_request.pk])).text
    assert 'id="uploader"' not in client.get(reverse("request-detail", args=[submitted.pk])).text
    client.force_login(reviewer)
    assert 'id="uploader"' not in client.get(reverse("request-detail", args=[open_request.pk])).text


def terminal_command(live_server, user, request_id: int, *files: Path, parallel: int = 0):
    return [
        sys.executable,
        str(Path(settings.BASE_DIR) / "scripts" / "deliver.py"),
        "--portal",
        live_server.url,
        "--user",
        user.username,
        "--request",
        str(request_id),
        *(["--parallel", str(parallel)] if parallel else []),
        *map(str, files),
    ]


def terminal_env(home: Path) -> dict[str, str]:
    return {**os.environ, "PORTAL_PASSWORD": "pw-for-tests", "HOME": str(home)}


def deliver_from_terminal(
    live_server, user, request_id: int, *files: Path, home: Path, parallel: int = 0
):
    """scripts/deliver.py run as a partner runs it, keeping its state in `home`."""
    return subprocess.run(
        terminal_command(live_server, user, request_id, *files, parallel=parallel),
        env=terminal_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_folder(folder: Path, count: int, size: int = 4096) -> list[Path]:
    """A folder of `count` frames, in two reels (subfolders), each frame its own bytes."""
    frames = []
    for number in range(count):
        frame = folder / f"reel_{number % 2}" / f"shot_010.{number:07d}.dpx"
        frame.parent.mkdir(parents=True, exist_ok=True)
        frame.write_bytes(hashlib.sha256(str(number).encode()).digest() * (size // 32))
        frames.append(frame)
    return frames


def test_the_terminal_script_delivers_a_folder_several_files_at_once_on_one_progress_line(
    live_server, make_request, uploader, tmp_path
):
    delivery_request = make_request(files=0)
    folder = tmp_path / "shot_010"
    frames = make_folder(folder, 40)
    (folder / ".DS_Store").write_bytes(b"finder")
    (folder / "reel_1" / "Thumbs.db").write_bytes(b"explorer")
    result = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, folder, home=tmp_path, parallel=4
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "Delivery complete."
    # The frames are no DPX the request's spec takes (ASSET-TypeMismatch): the first
    # three are told by name, the others counted on the progress line.
    told = [line for line in lines if "first bytes" in line]
    assert len(told) == 4, told
    assert all(line.startswith("shot_010.") for line in told[:3])
    assert told[3] == "More files' first bytes show a blocker: the progress line counts them."
    # Not a line per file: the progress line (every 10 s in a log, and again below
    # each line told), its last state.
    progress = [line for line in lines[:-1] if line not in told]
    assert len(progress) <= 3 + len(told), progress
    assert re.match(
        r"40 of 40 files · 0\.2 of 0\.2 MiB · [\d.,]+ files/s · [\d.,]+ MiB/s"
        r" · 40 with a blocker$",
        progress[-1],
    )
    assert delivery_request.files.count() == 40
    assert not delivery_request.files.filter(name__in=[".DS_Store", "Thumbs.db"]).exists()
    delivered = delivery_request.files.get(name=frames[7].name)
    assert delivered.md5 == digests_of(frames[7])["md5"]


def test_the_terminal_script_refuses_two_files_of_one_name_before_sending_anything(
    live_server, make_request, uploader, tmp_path
):
    delivery_request = make_request(files=0)
    for reel in ("a", "b"):
        (tmp_path / reel).mkdir()
        (tmp_path / reel / "frame.dpx").write_bytes(b"x")
    result = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, tmp_path / "a", tmp_path / "b", home=tmp_path
    )
    assert result.returncode == 2
    assert "have the same name" in result.stderr
    assert not Upload.objects.exists()


def test_the_terminal_script_resumes_a_folder_after_it_was_killed(
    live_server, make_request, uploader, tmp_path
):
    delivery_request = make_request(files=0)
    folder = tmp_path / "shot_020"
    frames = make_folder(folder, 200)
    run = subprocess.Popen(
        terminal_command(live_server, uploader, delivery_request.pk, folder, parallel=4),
        env=terminal_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while delivery_request.files.count() < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=10)
    # The server may still be finishing the killed run's last few uploads (their bytes
    # had all arrived): count once it is done with them.
    delivered_before = -1
    while delivered_before != delivery_request.files.count():
        delivered_before = delivery_request.files.count()
        time.sleep(1)
    assert 20 <= delivered_before < 200
    again = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, folder, home=tmp_path, parallel=4
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Delivery complete." in again.stdout
    last = again.stdout.splitlines()[-2]  # the progress line, as the run ended
    said = re.search(r"([\d,]+) delivered earlier", last)
    skipped = int(said.group(1).replace(",", "")) if said else 0
    # A file delivered before is skipped by its name, or, when the killed run had not
    # yet forgotten its address, resumed at its end (no byte sent again); either way it
    # is delivered once. (Which of the two varies with where the kill fell: in one CI
    # run none was skipped by name.)
    assert skipped <= delivered_before
    assert delivery_request.files.count() == 200
    assert delivery_request.history.filter(action="delivered").count() == 200
    assert sorted(delivery_request.files.values_list("md5", flat=True)) == sorted(
        digests_of(frame)["md5"] for frame in frames
    )


def test_the_terminal_script_delivers_everything_though_a_killed_run_left_its_file_half_written(
    live_server, make_request, uploader, tmp_path
):
    # SIGKILL during a write of the addresses file leaves half a JSON document: every
    # upload thread died reading it, and the run still said "Delivery complete.".
    delivery_request = make_request(files=0)
    frames = make_folder(tmp_path / "shot_030", 12)
    (tmp_path / ".portal-uploads.json").write_text('{"_default": {"1": {"key": "ab", "url": "htt')
    run = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, tmp_path / "shot_030", home=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "could not be read" in run.stderr
    assert delivery_request.files.count() == len(frames)
    assert (tmp_path / ".portal-uploads.json.unreadable").exists()


def test_the_terminal_script_resumes_a_started_file_at_its_offset(
    live_server, make_request, uploader, tmp_path
):
    import importlib.util

    from tusclient.storage import filestorage

    spec = importlib.util.spec_from_file_location(
        "deliver", Path(settings.BASE_DIR) / "scripts" / "deliver.py"
    )
    deliver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deliver)
    delivery_request = make_request(files=0)
    reel = write_file(tmp_path / "reel.mov", 3 * MIB)
    # An earlier run sent the first MiB before it was interrupted.
    started = create(live_server, uploader, delivery_request.pk, "reel.mov", 3 * MIB)
    url = started.headers["Location"]
    assert patch(url, uploader, reel.read_bytes()[:MIB], 0).status_code == 204
    fingerprinter = deliver.OneFileOfOneDelivery(
        f"{live_server.url}|user:{uploader.username}|request:{delivery_request.pk}", reel
    )
    kept = filestorage.FileStorage(str(tmp_path / ".portal-uploads.json"))
    kept.set_item(fingerprinter.of_file(), url)
    kept.close()
    result = deliver_from_terminal(live_server, uploader, delivery_request.pk, reel, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same upload went on: no second one was created for the name.
    assert list(Upload.objects.values_list("pk", flat=True)) == [started_id(url)]
    assert delivery_request.files.get(name="reel.mov").md5 == digests_of(reel)["md5"]
    assert re.search(r"1 of 1 files · 3\.0 of 3\.0 MiB", result.stdout)


def started_id(url: str):
    from uuid import UUID

    return UUID(url.rstrip("/").rsplit("/", 1)[1])


def test_the_terminal_script_delivers_and_completes_the_delivery(
    live_server, make_request, uploader, tmp_path
):
    delivery_request = make_request(files=0)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    first = write_file(tmp_path / "reel_01.mov", 300_000, seed=1)
    second = write_file(tmp_path / "reel_02.mov", 200_000, seed=2)
    result = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, first, second, home=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Delivery complete." in result.stdout
    assert digests_of(first)["md5"] == delivery_request.files.get(name="reel_01.mov").md5
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.SUBMITTED


def test_the_terminal_script_tells_a_blocker_the_first_bytes_show_after_its_first_chunk(
    live_server, org, title, uploader, tmp_path
):
    delivery_request = open_spec_request(org, title, "5.1 printmaster 48 kHz 24-bit")
    source = tmp_path / "printmaster.wav"
    source.write_bytes(samples.wav_audio(seconds=45))  # 8.2 MiB: its first chunk is 4 MiB
    result = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, source, home=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    told = [line for line in lines if line.startswith("printmaster.wav:")]
    # Told after the first 4 MiB, not with the last byte: the progress line below it.
    assert lines[lines.index(told[0]) + 1].startswith("0 of 1 files · 4.0 of 8.2 MiB")
    assert told == [
        "printmaster.wav: its first bytes already show a problem: Blocker · Expected 5.1 "
        "(L R C LFE Ls Rs), found 2 ch. (AUDIO-ChannelLayout). The upload goes on; if this "
        "is not the file to deliver, stop the run (Ctrl-C) and remove the file from the "
        "request."
    ]
    assert delivery_request.files.get().size == source.stat().st_size


def test_an_empty_file_is_delivered_at_creation(live_server, make_request, uploader):
    delivery_request = make_request(files=0)
    response = create(live_server, uploader, delivery_request.pk, "empty.txt", 0)
    assert response.status_code == 201
    delivered = delivery_request.files.get(name="empty.txt")
    assert delivered.size == 0
    assert delivered.md5 == "d41d8cd98f00b204e9800998ecf8427e"


def test_a_rename_may_not_take_the_name_of_an_upload_under_way(live_server, make_request, uploader):
    from deliveries.models import ActionRefused

    delivery_request = make_request(files=1)
    url = create(live_server, uploader, delivery_request.pk, "reel.mov", 10).headers["Location"]
    patch(url, uploader, b"01234", 0)
    existing = delivery_request.files.get()
    with pytest.raises(ActionRefused, match="being uploaded to this request right now"):
        delivery_request.rename_file(existing, "reel.mov", by=uploader)
    assert patch(url, uploader, b"56789", 5).status_code == 204
    assert delivery_request.files.filter(name="reel.mov", size=10).exists()


def test_a_manifest_with_a_hash_too_long_is_refused_and_the_upload_is_gone(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    body = b"<hashlist><hash><file>a.mov</file><md5>" + b"a" * 100 + b"</md5></hash></hashlist>"
    url = create(live_server, uploader, delivery_request.pk, "x.mhl", len(body)).headers["Location"]
    response = patch(url, uploader, body, 0)
    assert response.status_code == 400
    assert "32-digit hexadecimal" in response.content.decode()
    assert head(url, uploader).status_code == 404
    assert not delivery_request.files.exists()


def test_an_upload_abandoned_for_minutes_does_not_hold_back_automatic_submission(
    client, make_request, uploader
):
    import datetime

    from django.utils import timezone

    delivery_request = make_request(files=1)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    upload = Upload(request=delivery_request, name="tab-closed.mov", length=9, created_by=uploader)
    upload.extend_expiry()
    upload.expires_at -= datetime.timedelta(minutes=11)  # last bytes 11 minutes ago
    upload.save()
    assert upload.expires_at > timezone.now()  # not expired: merely abandoned
    client.force_login(uploader)
    client.post(reverse("delivery-complete", args=[delivery_request.pk]))
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.SUBMITTED


def test_bytes_another_worker_took_are_hashed_from_disk_at_the_last_byte(tmp_path, settings):
    import io

    from deliveries.uploads import staging

    settings.UPLOAD_STAGING_ROOT = str(tmp_path)
    staging.create("cold")
    first = staging.digests_at("cold", 0)
    staging.append("cold", io.BytesIO(b"01234567"), offset=0, length=8, digests=first)
    staging.forget("cold")  # as if another worker process had taken those bytes
    digests = staging.digests_at("cold", 8)
    assert digests.position == 0
    received = staging.append("cold", io.BytesIO(b"89"), offset=8, length=2, digests=digests)
    assert received == 2
    assert digests.position == 0  # a small PATCH behind hashes nothing, wrongly or not
    assert staging.complete("cold", digests, 10).hexdigests() == {
        "md5": hashlib.md5(b"0123456789").hexdigest(),
        "xxh64": xxhash.xxh64(b"0123456789").hexdigest(),
    }
    assert staging.data_path("cold").read_bytes() == b"0123456789"


def test_a_patch_whose_process_saw_earlier_bytes_carries_on_from_there(tmp_path, settings):
    import io

    from deliveries.uploads import staging

    settings.UPLOAD_STAGING_ROOT = str(tmp_path)
    staging.create("warm")
    mine = staging.digests_at("warm", 0)
    staging.append("warm", io.BytesIO(b"0123"), offset=0, length=4, digests=mine)
    staging.remember("warm", 4, mine)
    # Another process took bytes 4-7; this one's hashes stopped at 4.
    with open(staging.data_path("warm"), "ab") as handle:
        handle.write(b"4567")
    digests = staging.digests_at("warm", 8)
    assert digests is mine and digests.position == 4
    staging.append("warm", io.BytesIO(b"89"), offset=8, length=2, digests=digests)
    staging.complete("warm", digests, 10)
    assert digests.hexdigests()["md5"] == hashlib.md5(b"0123456789").hexdigest()


def test_a_large_patch_hashes_the_bytes_another_worker_took_while_its_own_arrive(
    tmp_path, settings
):
    import threading

    from deliveries.uploads import staging

    settings.UPLOAD_STAGING_ROOT = str(tmp_path)
    theirs, mine = os.urandom(3 * 1024 * 1024), os.urandom(2 * 1024 * 1024 + 1)
    staging.create("shared")
    staging.data_path("shared").write_bytes(theirs)  # another process's PATCH
    digests = staging.digests_at("shared", len(theirs))
    caught_up = threading.Event()

    class Client:
        """Sends its bytes 64 KiB at a time, the last ones only once the hashes have
        caught up on the other process's bytes (or after 10 s)."""

        def __init__(self) -> None:
            self.sent = 0

        def read(self, size: int) -> bytes:
            if len(mine) - self.sent <= 65536:
                deadline = time.monotonic() + 10
                while digests.position < len(theirs) and time.monotonic() < deadline:
                    time.sleep(0.005)
                caught_up.set()
            piece = mine[self.sent : self.sent + min(size, 65536)]
            self.sent += len(piece)
            return piece

    received = staging.append(
        "shared", Client(), offset=len(theirs), length=len(mine), digests=digests
    )
    assert received == len(mine)
    assert caught_up.is_set() and digests.position >= len(theirs)  # during the PATCH
    staging.remember("shared", len(theirs) + received, digests)
    again = staging.digests_at("shared", len(theirs) + received)
    assert again is digests
    assert staging.complete("shared", again, len(theirs) + len(mine)).hexdigests() == {
        "md5": hashlib.md5(theirs + mine).hexdigest(),
        "xxh64": xxhash.xxh64(theirs + mine).hexdigest(),
    }
    assert staging.data_path("shared").read_bytes() == theirs + mine


def test_after_delivery_head_still_reports_every_byte_received(
    live_server, make_request, uploader, admin_user
):
    # A client whose answer to the last PATCH was lost asks HEAD before starting over.
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "reel.mov", 4).headers["Location"]
    assert patch(url, uploader, b"abcd", 0).status_code == 204
    answer = head(url, uploader)
    assert answer.status_code == 200
    assert answer.headers["Upload-Offset"] == answer.headers["Upload-Length"] == "4"
    # Once that file is removed, its name can be delivered again.
    delivery_request.remove_files(None, by=admin_user)
    again = create(live_server, uploader, delivery_request.pk, "reel.mov", 2)
    assert again.status_code == 201
    assert patch(again.headers["Location"], uploader, b"xy", 0).status_code == 204
    assert delivery_request.files.get(name="reel.mov").size == 2


# Protocol edges and stalled uploads ---------------------------------------------------


def test_a_client_of_another_tus_version_is_told_which_one_we_speak(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    answer = requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            "Tus-Resumable": "0.2.2",
            **signed_in_headers(uploader),
            "Upload-Length": "3",
            "Upload-Metadata": metadata(delivery_request.pk, "a.mov"),
        },
        timeout=10,
    )
    assert answer.status_code == 412
    assert answer.headers["Tus-Version"] == "1.0.0"


def test_a_file_above_the_size_limit_is_refused_before_any_byte(
    live_server, make_request, uploader, settings
):
    settings.PORTAL_UPLOAD_MAX_BYTES = 1000
    delivery_request = make_request(files=0)
    options = requests.options(live_server.url + reverse("tus-create"), timeout=10)
    assert options.headers["Tus-Max-Size"] == "1000"
    answer = create(live_server, uploader, delivery_request.pk, "huge.mov", 1001)
    assert answer.status_code == 413
    assert "larger than the 1000" in answer.text
    assert not Upload.objects.exists()
    assert create(live_server, uploader, delivery_request.pk, "fits.mov", 1000).status_code == 201


def test_a_size_beyond_any_disk_or_a_strange_request_number_is_a_clear_error(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    assert create(live_server, uploader, delivery_request.pk, "b.mov", 2**63).status_code == 413
    superscript_two = encode_metadata({"request": "²", "filename": "a.mov"})
    answer = requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            **TUS,
            **signed_in_headers(uploader),
            "Upload-Length": "3",
            "Upload-Metadata": superscript_two,
        },
        timeout=10,
    )
    assert answer.status_code == 400
    assert "Name the request" in answer.text


def test_a_refused_creation_with_upload_leaves_no_upload_behind(
    live_server, make_request, uploader
):
    """The client never learned the address: the name must be free to try again."""
    delivery_request = make_request(files=0)
    answer = create_with_upload(
        live_server, uploader, delivery_request.pk, "reel.mov", 5, b"0123456789"
    )
    assert answer.status_code == 413 and "Location" not in answer.headers
    assert not Upload.objects.exists()
    assert create(live_server, uploader, delivery_request.pk, "reel.mov", 5).status_code == 201


def test_the_end_sent_again_after_delivery_is_answered_with_the_offset(
    live_server, make_request, uploader
):
    """A client that lost the answer to its last PATCH may send the end again."""
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "a.mov", 4).headers["Location"]
    assert patch(url, uploader, b"abcd", 0).status_code == 204
    again = patch(url, uploader, b"", 4)
    assert again.status_code == 204 and again.headers["Upload-Offset"] == "4"
    assert patch(url, uploader, b"zz", 2).status_code == 409
    assert delivery_request.files.get(name="a.mov").size == 4


def test_a_stalled_upload_of_a_colleague_gives_way_and_a_live_one_does_not(
    live_server, make_request, uploader, admin_user
):
    delivery_request = make_request(files=0)
    url = create(live_server, uploader, delivery_request.pk, "reel.mov", 10).headers["Location"]
    assert patch(url, uploader, b"01234", 0).status_code == 204
    blocked = create(live_server, admin_user, delivery_request.pk, "reel.mov", 10)
    assert blocked.status_code == 400 and "being uploaded" in blocked.text
    # No bytes for 11 minutes: the uploader's laptop died.
    Upload.objects.update(
        expires_at=timezone.now() + settings.UPLOAD_EXPIRY - datetime.timedelta(minutes=11)
    )
    assert create(live_server, admin_user, delivery_request.pk, "reel.mov", 10).status_code == 201
    assert Upload.objects.get(name="reel.mov").created_by == admin_user
    assert head(url, uploader).status_code == 404  # the stalled client starts again


def test_an_upload_left_behind_by_an_automatic_submit_can_still_be_cancelled(
    client, live_server, make_request, uploader, admin_user
):
    delivery_request = make_request(files=1)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    url = create(live_server, uploader, delivery_request.pk, "reel.mov", 10).headers["Location"]
    assert patch(url, uploader, b"01234", 0).status_code == 204
    upload_id = Upload.objects.get().pk
    Upload.objects.update(
        expires_at=timezone.now() + settings.UPLOAD_EXPIRY - datetime.timedelta(minutes=11)
    )
    client.force_login(admin_user)
    client.post(reverse("delivery-complete", args=[delivery_request.pk]))
    delivery_request.refresh_from_db()
    assert delivery_request.status == Status.SUBMITTED
    assert patch(url, uploader, b"56789", 5).status_code == 403
    cancelled = requests.delete(url, headers={**TUS, **signed_in_headers(uploader)}, timeout=10)
    assert cancelled.status_code == 204
    assert not Upload.objects.exists()
    assert not staging.folder(upload_id).exists()


def test_the_terminal_script_delivers_identical_files_under_each_name(
    live_server, make_request, uploader, tmp_path
):
    """Two black leader frames hold the same bytes: each is a file of its own."""
    delivery_request = make_request(files=0)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    black = b"\0" * 200_000
    frames = [tmp_path / "frame_0001.dpx", tmp_path / "frame_0002.dpx"]
    for frame in frames:
        frame.write_bytes(black)
    result = deliver_from_terminal(
        live_server, uploader, delivery_request.pk, *frames, home=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(delivery_request.files.values_list("name", flat=True)) == [
        "frame_0001.dpx",
        "frame_0002.dpx",
    ]


def test_the_terminal_script_delivers_a_file_again_after_a_clear(
    live_server, make_request, uploader, admin_user, tmp_path
):
    delivery_request = make_request(files=0)
    reel = write_file(tmp_path / "reel.mov", 100_000)
    first = deliver_from_terminal(live_server, uploader, delivery_request.pk, reel, home=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    delivery_request.remove_files(None, by=admin_user)
    again = deliver_from_terminal(live_server, uploader, delivery_request.pk, reel, home=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert delivery_request.files.get(name="reel.mov").md5 == digests_of(reel)["md5"]


def test_the_terminal_script_starts_over_when_its_kept_upload_is_gone(
    live_server, make_request, uploader, tmp_path
):
    import importlib.util

    from tusclient.storage import filestorage

    spec = importlib.util.spec_from_file_location(
        "deliver", Path(settings.BASE_DIR) / "scripts" / "deliver.py"
    )
    deliver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deliver)
    delivery_request = make_request(files=0)
    reel = write_file(tmp_path / "reel.mov", 50_000)
    # An earlier run was interrupted; its upload expired and was cleaned up since.
    interrupted = create(live_server, uploader, delivery_request.pk, "reel.mov", 50_000)
    Upload.objects.all().delete()
    fingerprinter = deliver.OneFileOfOneDelivery(
        f"{live_server.url}|user:{uploader.username}|request:{delivery_request.pk}", reel
    )
    kept = filestorage.FileStorage(str(tmp_path / ".portal-uploads.json"))
    kept.set_item(fingerprinter.of_file(), interrupted.headers["Location"])
    kept.close()
    result = deliver_from_terminal(live_server, uploader, delivery_request.pk, reel, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert delivery_request.files.get(name="reel.mov").md5 == digests_of(reel)["md5"]


def test_a_file_its_manifest_does_not_list_is_refused_before_any_byte(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=2, checksum=True)
    answer = create(live_server, uploader, delivery_request.pk, "extra.mov", 3)
    assert answer.status_code == 400
    assert "checksum.txt does not list “extra.mov”" in answer.text
    assert not Upload.objects.exists()
