"""The early verdict in the drop zone: a stereo WAV dropped into a 5.1 request shows
its blocker on its row while the upload still runs, with the code's glossary link
and Cancel at hand."""

from __future__ import annotations

import datetime
import io
import wave

import pytest
from playwright.sync_api import Page, expect

from deliveries.models import DeliveryRequest
from deliveries.uploads.models import Upload
from tests.processed import open_request

from .pages import open_details

pytestmark = pytest.mark.browser

# The upload crawls at this rate (Chromium's own network emulation), so that the row
# is seen while it runs: 24 MiB take about 24 s.
UPLOAD_BYTES_PER_SECOND = 1024 * 1024


def surround_request(org, title) -> DeliveryRequest:
    return open_request(org, title, "5.1 printmaster 48 kHz 24-bit", name="Printmaster")


def stereo_wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(3)
        writer.setframerate(48000)
        writer.writeframes(b"\0" * int(48000 * seconds) * 6)
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
