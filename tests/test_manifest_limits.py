"""A checksum manifest is read as a stream that keeps only its entries, and one past
the documented caps is refused before a byte of it is parsed or stored."""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse

from deliveries.files import manifests
from deliveries.models import ActionRefused, DeliveredFile, DeliveryRequest, ManifestEntry
from deliveries.uploads.models import Upload

from .tus import TUS, metadata

MD5 = "0123456789abcdef0123456789abcdef"


def wide_mhl(empty_elements: int) -> bytes:
    """An MHL whose one entry hides behind millions of empty elements."""
    return (
        b"<?xml version='1.0' encoding='UTF-8'?><hashlist version='1.1'>"
        + b"<x/>" * empty_elements
        + f"<hash><file>reel/a.mov</file><md5>{MD5}</md5></hash></hashlist>".encode()
    )


def peak_while(work: Callable[[], object]) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def tus_create(client: Client, request_id: int, name: str, length: int) -> HttpResponse:
    return client.post(
        reverse("tus-create"),
        headers={
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(request_id, name),
        },
    )


def test_a_wide_mhl_is_read_in_memory_far_smaller_than_the_file():
    body = wide_mhl(2_000_000)  # 8 MB
    entries, peak = peak_while(lambda: manifests.parse("reel.mhl", io.BytesIO(body)))
    assert entries == [("a.mov", "md5", MD5)]
    assert peak < len(body) // 8, f"peak {peak} bytes for a {len(body)}-byte manifest"


def test_a_checksum_txt_line_without_end_is_refused_without_holding_it():
    body = b"0" * 8_000_000
    result: list[str] = []

    def read() -> None:
        with pytest.raises(manifests.ManifestError) as refusal:
            manifests.parse("checksum.txt", io.BytesIO(body))
        result.append(str(refusal.value))

    _, peak = peak_while(read)
    assert "line 1 is longer than" in result[0]
    assert peak < len(body) // 8, f"peak {peak} bytes for a {len(body)}-byte manifest"


def test_a_wide_mhl_is_delivered_and_its_one_entry_pins_the_file(make_request, uploader):
    request = make_request(files=0)
    request.add_file("reel.mhl", ContentFile(wide_mhl(500_000)), by=uploader)
    request.refresh_from_db()
    assert request.checksum_manifest.name == "reel.mhl"
    assert list(ManifestEntry.objects.values_list("file_name", "expected_hash")) == [("a.mov", MD5)]


@pytest.mark.parametrize("name", ["checksum.txt", "reel.mhl"])
def test_a_manifest_over_the_size_cap_is_refused_naming_the_cap_and_nothing_is_stored(
    make_request, uploader, monkeypatch, name
):
    monkeypatch.setattr(manifests, "MAX_BYTES", 64 * 1024)
    request = make_request(files=0)
    line = f"{MD5}  a.mov\n".encode()
    body = line * (64 * 1024 // len(line) + 1)
    with pytest.raises(ActionRefused) as refusal:
        request.add_file(name, ContentFile(body), by=uploader)
    assert filesizeformat(64 * 1024) in refusal.value.message
    assert not DeliveredFile._base_manager.filter(request=request).exists()
    assert not ManifestEntry.objects.exists()
    assert stored_files() == []
    request.refresh_from_db()
    assert request.checksum_manifest_id is None


def test_a_manifest_with_more_entries_than_the_cap_is_refused_and_nothing_is_stored(
    make_request, uploader, monkeypatch
):
    monkeypatch.setattr(manifests, "MAX_ENTRIES", 3)
    request = make_request(files=0)
    body = "".join(f"{MD5}  frame_{n}.dpx\n" for n in range(4)).encode()
    with pytest.raises(ActionRefused, match="more than 3 files"):
        request.add_file("checksum.txt", ContentFile(body), by=uploader)
    assert not DeliveredFile._base_manager.filter(request=request).exists()
    assert stored_files() == []


def test_the_entry_cap_holds_a_250000_frame_sequence():
    assert manifests.MAX_ENTRIES >= 250_000
    # An MHL 1.1 entry of such a sequence, with its dates and size, is ~300 bytes.
    assert manifests.MAX_BYTES >= 250_000 * 300


def test_a_tus_upload_of_a_manifest_over_the_cap_is_refused_before_any_byte(
    client, make_request, uploader
):
    request = make_request(files=0)
    client.force_login(uploader)
    response = tus_create(client, request.pk, "checksum.txt", manifests.MAX_BYTES + 1)
    assert response.status_code == 413
    assert filesizeformat(manifests.MAX_BYTES) in response.content.decode()
    assert not Upload.objects.exists()
    assert stored_files() == []
    # An ordinary file of that size is not a manifest: it may come.
    assert tus_create(client, request.pk, "reel.mov", manifests.MAX_BYTES + 1).status_code == 201


def test_an_mhl_with_an_external_entity_is_refused():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE hashlist [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<hashlist><hash><file>&x;</file><md5>" + MD5.encode() + b"</md5></hash></hashlist>"
    )
    with pytest.raises(manifests.ManifestError, match="not well-formed|entit"):
        manifests.parse("reel.mhl", io.BytesIO(body))


def test_an_mhl_of_nested_entities_is_refused_at_once():
    entities = "".join(
        f'<!ENTITY e{n} "{f"&e{n - 1};" * 10 if n else "laugh"}">' for n in range(10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE hashlist [{entities}]>'
        f"<hashlist><hash><file>&e9;</file><md5>{MD5}</md5></hash></hashlist>"
    ).encode()
    started = time.monotonic()
    with pytest.raises(manifests.ManifestError):
        manifests.parse("reel.mhl", io.BytesIO(body))
    assert time.monotonic() - started < 2


def test_a_deeply_nested_mhl_is_refused_without_holding_its_elements():
    body = b"<hashlist>" + b"<x>" * 1_000_000
    result: list[str] = []

    def read() -> None:
        with pytest.raises(manifests.ManifestError) as refusal:
            manifests.parse("reel.mhl", io.BytesIO(body))
        result.append(str(refusal.value))

    _, peak = peak_while(read)
    assert f"nests deeper than {manifests.MAX_DEPTH} levels" in result[0]
    assert peak < len(body) // 8, f"peak {peak} bytes for a {len(body)}-byte manifest"


def test_an_mhl_padded_past_the_element_cap_is_refused(monkeypatch):
    monkeypatch.setattr(manifests, "MAX_ELEMENTS", 100)
    with pytest.raises(manifests.ManifestError, match="more than 100 elements"):
        manifests.parse("reel.mhl", io.BytesIO(wide_mhl(100)))
    assert manifests.parse("reel.mhl", io.BytesIO(wide_mhl(90))) == [("a.mov", "md5", MD5)]


def test_a_manifest_is_read_before_the_request_is_locked(make_request, uploader, monkeypatch):
    """Reading 250,000 entries takes seconds: everyone else's actions on the request
    must not wait on it."""
    request = make_request(files=0)
    calls: list[str] = []
    parse, lock = manifests.parse, DeliveryRequest._lock_for_file_change

    def spying_parse(*args, **kwargs):
        calls.append("parse")
        return parse(*args, **kwargs)

    def spying_lock(self, **kwargs):
        calls.append("lock")
        return lock(self, **kwargs)

    monkeypatch.setattr(manifests, "parse", spying_parse)
    monkeypatch.setattr(DeliveryRequest, "_lock_for_file_change", spying_lock)
    request.add_file("checksum.txt", ContentFile(f"{MD5}  a.mov\n".encode()), by=uploader)
    assert calls == ["parse", "lock"]
    assert ManifestEntry.objects.count() == 1
