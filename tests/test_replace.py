"""Replace: a partner who drops a file whose name is delivered already may replace it
(while files may change, with the right to remove files); the old file goes, the new
one is delivered, and the History says "Replaced"."""

from pathlib import Path

import requests
from django.conf import settings
from django.urls import reverse

from deliveries.models import DeliveredFile, HistoryEntry, StorageDeletion, Upload

from .tus import TUS, create, create_with_upload, metadata, patch, signed_in_headers


def create_replacing(live_server, user, request_id: int, name: str, length: int, data=b""):
    """A creation that asks to replace; `data`, when given, is the whole file sent with
    it (creation-with-upload)."""
    fields = metadata(request_id, name, replace="1")
    body = {"Content-Type": "application/offset+octet-stream"} if data else {}
    return requests.post(
        live_server.url + reverse("tus-create"),
        data=data or None,
        headers={
            **TUS,
            **signed_in_headers(user),
            **body,
            "Upload-Length": str(length),
            "Upload-Metadata": fields,
        },
        timeout=10,
    )


def stored_files(delivery_request) -> list[Path]:
    """What the request holds in storage, files and folders."""
    folder = Path(settings.MEDIA_ROOT) / "deliveries" / str(delivery_request.pk)
    return sorted(folder.rglob("*"))


def test_a_taken_name_offers_replace_to_whoever_may_remove_files(
    live_server, make_request, admin_user, uploader
):
    delivery_request = make_request(files=1)
    offered = create(live_server, admin_user, delivery_request.pk, "file_000.mov", 3)
    assert offered.status_code == 400
    assert "already named “file_000.mov”" in offered.text
    assert offered.headers.get("Portal-Can-Replace") == "1"
    # An Uploader may deliver but not remove: no Replace offered, and asking is refused.
    plain = create(live_server, uploader, delivery_request.pk, "file_000.mov", 3)
    assert plain.status_code == 400 and "Portal-Can-Replace" not in plain.headers
    refused = create_replacing(live_server, uploader, delivery_request.pk, "file_000.mov", 3)
    assert refused.status_code == 403
    assert "your role does not allow removing files" in refused.text
    assert delivery_request.files.get().size == 1


def test_a_whole_file_sent_with_its_creation_under_a_taken_name_changes_nothing(
    live_server, make_request, admin_user, uploader
):
    # A frame of a sequence comes whole with its creation: its name is checked when it
    # is delivered, and the refusal is the same as the creation's would have been.
    delivery_request = make_request(files=1)
    stored, history = stored_files(delivery_request), delivery_request.history.count()
    offered = create_with_upload(
        live_server, admin_user, delivery_request.pk, "file_000.mov", 3, b"new"
    )
    assert offered.status_code == 400
    assert "already named “file_000.mov”" in offered.text
    assert offered.headers.get("Portal-Can-Replace") == "1"
    plain = create_with_upload(
        live_server, uploader, delivery_request.pk, "file_000.mov", 3, b"new"
    )
    assert plain.status_code == 400 and "Portal-Can-Replace" not in plain.headers
    # An Uploader may not remove files: told who can replace it, or to choose another name.
    assert "already named “file_000.mov”. Choose a different name, or ask an Admin" in plain.text
    assert "your role does not allow removing files." in plain.text
    assert delivery_request.files.get().size == 1
    assert not Upload.objects.exists()
    assert stored_files(delivery_request) == stored
    assert delivery_request.history.count() == history
    delivery_request.refresh_from_db()
    assert delivery_request.file_count == 1


def test_a_whole_file_sent_with_its_creation_replaces_at_once(
    live_server, make_request, admin_user
):
    delivery_request = make_request(files=1)
    created = create_replacing(
        live_server, admin_user, delivery_request.pk, "file_000.mov", 5, b"fresh"
    )
    assert created.status_code == 201, created.text
    new = delivery_request.files.get(name="file_000.mov")
    assert new.size == 5 and Path(new.content.path).read_bytes() == b"fresh"
    entry = delivery_request.history.filter(action=HistoryEntry.Action.DELIVERED).latest("at")
    assert entry.details.get("replaced") is True


def test_replace_removes_the_old_file_and_delivers_the_new_one(
    live_server, make_request, admin_user
):
    delivery_request = make_request(files=2)
    old = delivery_request.files.get(name="file_000.mov")
    created = create_replacing(live_server, admin_user, delivery_request.pk, "file_000.mov", 5)
    assert created.status_code == 201, created.text
    # Until the last byte, the old file is still there.
    assert delivery_request.files.filter(pk=old.pk).exists()
    done = patch(created.headers["Location"], admin_user, b"fresh", 0)
    assert done.status_code == 204, done.text
    new = delivery_request.files.get(name="file_000.mov")
    assert new.pk != old.pk and new.size == 5 and new.delivered_by == admin_user
    assert not DeliveredFile.objects.filter(pk=old.pk).exists()
    assert StorageDeletion.objects.filter(path=old.content.name).exists()
    delivery_request.refresh_from_db()
    assert delivery_request.file_count == 2
    entry = delivery_request.history.filter(action=HistoryEntry.Action.DELIVERED).latest("at")
    assert entry.details.get("replaced") is True and entry.actor == admin_user
    client_page = requests.get(
        live_server.url + reverse("request-detail", args=[delivery_request.pk]),
        headers=signed_in_headers(admin_user),
        timeout=10,
    )
    assert "Replaced “file_000.mov” with a new delivery." in client_page.text


def test_the_checksum_manifest_is_not_replaced_by_an_upload(live_server, make_request, admin_user):
    delivery_request = make_request(files=1, checksum=True)
    name = delivery_request.checksum_manifest.name
    offered = create(live_server, admin_user, delivery_request.pk, name, 3)
    assert "Portal-Can-Replace" not in offered.headers
    refused = create_replacing(live_server, admin_user, delivery_request.pk, name, 3)
    assert refused.status_code == 403
    assert "Remove it first" in refused.text


def test_replace_is_refused_once_the_request_is_submitted(live_server, make_request, admin_user):
    delivery_request = make_request(status="submitted", files=1)
    refused = create_replacing(live_server, admin_user, delivery_request.pk, "file_000.mov", 3)
    assert refused.status_code == 403
    assert delivery_request.files.count() == 1
