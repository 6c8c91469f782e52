"""A tus creation that is refused leaves nothing behind: no upload, no staged bytes, no
delivered file, so that the same name can be delivered straight after."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from deliveries.models import DeliveredFile, DeliveryRequest
from deliveries.uploads.models import Upload

from .tus import encode_metadata

OFFSET = "application/offset+octet-stream"


def post_creation(
    client: Client, length: str, upload_metadata: str, body: bytes = b"", **headers: str
) -> HttpResponse:
    return client.post(
        reverse("tus-create"),
        data=body,
        content_type=OFFSET if body else "text/plain",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": length,
            "Upload-Metadata": upload_metadata,
            **headers,
        },
    )


def files_on_disk() -> set[Path]:
    root = Path(settings.MEDIA_ROOT)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def delivered_names(request: DeliveryRequest) -> list[str]:
    files = DeliveredFile._base_manager.filter(request=request)
    return sorted(files.values_list("name", flat=True))


@pytest.fixture
def signed_in(client: Client, uploader: User) -> Client:
    client.force_login(uploader)
    return client


def test_an_empty_upload_sent_with_bytes_is_refused_and_leaves_nothing(signed_in, make_request):
    request = make_request(files=0)
    fields = encode_metadata({"request": str(request.pk), "filename": "notes.txt"})
    response = post_creation(signed_in, "0", fields, b"not empty")
    assert response.status_code == 413
    assert "Upload-Length" in response.content.decode()
    assert delivered_names(request) == []
    assert not Upload.objects.exists()
    assert files_on_disk() == set()
    # Nothing holds the name: delivering it properly works at once.
    response = post_creation(signed_in, "9", fields, b"not empty")
    assert response.status_code == 201
    assert delivered_names(request) == ["notes.txt"]
    assert request.files.get().size == 9


def _good(request: DeliveryRequest) -> dict[str, str]:
    return {"request": str(request.pk), "filename": "reel.mov"}


REFUSALS = {
    # case: (Upload-Length, metadata fields or raw header, body, extra headers, status)
    "metadata not base64": ("5", "request !!!", b"", {}, 400),
    "no request named": ("5", encode_metadata({"filename": "reel.mov"}), b"", {}, 400),
    "name breaks the naming rule": ("5", {"filename": "reel one.mov"}, b"", {}, 400),
    "name already delivered": ("5", {"filename": "file_000.mov"}, b"", {}, 400),
    "name already delivered, sent whole": ("5", {"filename": "file_000.mov"}, b"12345", {}, 400),
    "negative length": ("-1", {}, b"", {}, 400),
    "deferred length": ("5", {}, b"", {"Upload-Defer-Length": "1"}, 400),
    "larger than a file may be": (str(10**15), {}, b"", {}, 413),
    "body longer than the file": ("3", {}, b"12345", {}, 413),
    "empty file sent with bytes": ("0", {}, b"12345", {}, 413),
    "unknown checksum algorithm": ("5", {}, b"12345", {"Upload-Checksum": "crc32 AAAA"}, 400),
    "checksum mismatch": (
        "5",
        {},
        b"12345",
        {"Upload-Checksum": "sha1 " + base64.b64encode(hashlib.sha1(b"other").digest()).decode()},
        460,
    ),
    "empty MHL": ("0", {"filename": "reel.mhl"}, b"", {}, 400),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refused_creation_leaves_nothing(signed_in, make_request, case):
    request = make_request(files=1)
    before = files_on_disk()
    length, fields, body, headers, status = REFUSALS[case]
    if isinstance(fields, dict):
        fields = encode_metadata({**_good(request), **fields})
    response = post_creation(signed_in, length, fields, body, **headers)
    assert response.status_code == status, response.content.decode()
    assert response.content.decode().strip()  # the client is told why
    assert delivered_names(request) == ["file_000.mov"]
    assert not Upload.objects.exists()
    assert files_on_disk() == before
