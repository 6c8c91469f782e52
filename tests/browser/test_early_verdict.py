"""The early verdict in the drop zone: a stereo WAV dropped into a 5.1 request shows
its blocker on its row while the upload still runs, with the code's glossary link
and Cancel at hand; a file big enough to travel in parts (which carry no name) shows
it before any part's byte is sent, on its own row and in a big batch's."""

from __future__ import annotations

import datetime
import io
import wave
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from deliveries.models import DeliveryRequest
from deliveries.uploads.models import Upload
from tests.processed import open_request

from .pages import open_details

pytestmark = pytest.mark.browser

# The upload crawls at this rate (Chromium's own network emulation), so that the row
# is seen while it runs: 24 MiB take about 24 s.
UPLOAD_BYTES_PER_SECOND = 1024 * 1024
# From this size the drop zone sends a file in parts (frontend/src/text.js).
PARALLEL_FROM = 64 * 1024 * 1024


def surround_request(org, title) -> DeliveryRequest:
    return open_request(org, title, "5.1 printmaster 48 kHz 24-bit", name="Printmaster")


def stereo_wav(seconds: float, channels: int = 2) -> bytes:
    """Silence, 48 kHz 24-bit: stereo, or `channels` (6: a 5.1 the request takes)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(3)
        writer.setframerate(48000)
        writer.writeframes(b"\0" * int(48000 * seconds) * 3 * channels)
    return buffer.getvalue()


def throttle_uploads(page: Page) -> None:
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
        },
    )


def test_a_stereo_wav_in_a_5_1_request_shows_its_blocker_while_it_uploads(
    partner_page, org, title, shoot, tmp_path
):
    page = partner_page
    delivery_request = surround_request(org, title)
    open_details(page, delivery_request)
    throttle_uploads(page)
    source = tmp_path / "printmaster.wav"
    source.write_bytes(stereo_wav(seconds=87))  # 24 MiB

    page.locator("#uploader [data-drop-zone] input[type=file]").set_input_files(source)
    row = page.locator("#uploader .upload-row").filter(has_text="printmaster.wav")
    finding = row.locator(".upload-early-finding")
    expect(finding).to_contain_text("Blocker", timeout=8_000)
    expect(finding).to_contain_text("Expected 5.1 (L R C LFE Ls Rs), found 2 ch.")
    expect(row.locator(".upload-early")).to_contain_text("Its first bytes already show a problem")
    # Still uploading: the verdict came with the header, long before the last byte.
    expect(row).to_have_attribute("data-state", "uploading")
    upload = Upload.objects.get(request=delivery_request)
    assert upload.offset < upload.length  # nothing recorded yet beyond the first PATCH
    link = finding.get_by_role("link", name="AUDIO-ChannelLayout")
    expect(link).to_have_attribute("href", "/help/codes/#AUDIO-ChannelLayout")
    shoot(page, "early-verdict-blocker")

    # The partner cancels instead of sending the rest.
    cancel = row.get_by_role("button", name="Cancel")
    expect(cancel).to_be_visible()
    cancel.click()
    expect(row).to_have_count(0)
    deadline = datetime.datetime.now() + datetime.timedelta(seconds=10)
    while Upload.objects.filter(request=delivery_request).exists():
        assert datetime.datetime.now() < deadline, "the cancelled upload was not terminated"
        page.wait_for_timeout(200)
    assert not delivery_request.files.exists()


class HeldParts:
    """Holds every PATCH to a part (an upload created with Upload-Concat: partial)
    until released: what the page shows meanwhile came before any part's byte."""

    def __init__(self, page: Page) -> None:
        self.parts: set[str] = set()
        self.held: list[Route] = []
        self.released = False
        page.route(lambda url: "/uploads/" in url, self)

    def __call__(self, route: Route) -> None:
        request = route.request
        method = request.headers.get("x-http-method-override", request.method)
        if method == "POST" and request.headers.get("upload-concat") == "partial":
            answer = route.fetch()
            self.parts.add(urlsplit(answer.headers["location"]).path)
            route.fulfill(response=answer)
        elif method == "PATCH" and urlsplit(request.url).path in self.parts and not self.released:
            self.held.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        self.released = True
        for route in self.held:
            route.continue_()


def big_stereo_wav(path: Path) -> Path:
    path.write_bytes(stereo_wav(seconds=PARALLEL_FROM / (48000 * 6) + 1))
    return path


def test_a_file_sent_in_parts_shows_its_blocker_before_any_part_is_sent(
    partner_page, org, title, tmp_path
):
    page = partner_page
    delivery_request = surround_request(org, title)
    held = HeldParts(page)
    open_details(page, delivery_request)
    source = big_stereo_wav(tmp_path / "printmaster.wav")

    page.locator("#uploader [data-drop-zone] input[type=file]").set_input_files(source)
    row = page.locator("#uploader .upload-row").filter(has_text="printmaster.wav")
    finding = row.locator(".upload-early-finding")
    expect(finding).to_contain_text("Expected 5.1 (L R C LFE Ls Rs), found 2 ch.", timeout=20_000)
    expect(row.locator(".upload-early")).to_contain_text("Its first bytes already show a problem")
    expect(row).to_have_attribute("data-early", "blocker")
    # No part has a byte yet, and the question's own upload is gone.
    assert not Upload.objects.filter(concat="partial", offset__gt=0).exists()
    assert not Upload.objects.filter(request=delivery_request).exists()

    held.release()  # the partner lets it go on: it is delivered, the note stays
    expect(row).to_have_attribute("data-state", "delivered", timeout=120_000)
    expect(row.locator(".upload-early")).to_contain_text("Its first bytes showed a problem")
    assert len(held.parts) == 3
    assert delivery_request.files.get().size == source.stat().st_size
    assert not Upload.objects.filter(concat="partial").exists()


def test_a_big_file_in_a_folder_shows_its_blocker_on_the_batch_row_before_its_parts(
    partner_page, org, title, tmp_path
):
    page = partner_page
    delivery_request = surround_request(org, title)
    held = HeldParts(page)
    open_details(page, delivery_request)
    folder = tmp_path / "stems"
    folder.mkdir()
    surround = stereo_wav(seconds=0.01, channels=6)
    for number in range(20):
        (folder / f"stem_{number:02d}.wav").write_bytes(surround)
    big_stereo_wav(folder / "printmaster.wav")

    page.locator("#uploader [data-folder-input]").set_input_files(folder)
    row = page.locator("#uploader .upload-row.upload-batch")
    expect(row.locator(".upload-batch-early")).to_contain_text(
        "The first bytes of one file already show a blocker", timeout=20_000
    )
    expect(row).to_contain_text("printmaster.wav")
    assert not Upload.objects.filter(concat="partial", offset__gt=0).exists()
    assert not delivery_request.files.filter(name="printmaster.wav").exists()

    held.release()
    expect(row).to_contain_text("Delivered", timeout=120_000)
    expect(row).to_contain_text("21 of 21 files")
    assert delivery_request.files.count() == 21
