"""Delivering files from the Details Page: Uppy's file picker, tus uploads with a
progress bar per file, the list refreshed without a reload, the naming rule checked
before any byte is sent, and all of it under the Content-Security-Policy."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from .pages import assert_not_reloaded, file_row, file_rows, mark_page, open_details, status_badge

pytestmark = pytest.mark.browser


def picker(page: Page):
    return page.locator("#uploader [data-drop-zone] input[type=file]")


def upload_row(page: Page, name: str):
    return page.locator("#uploader .upload-row").filter(has_text=name)


def watch_creations(page: Page) -> list[dict[str, str]]:
    """The tus metadata of each upload the page creates (its POSTs), decoded."""
    created: list[dict[str, str]] = []

    def seen(request) -> None:
        if "/uploads/" not in request.url or request.method != "POST":
            return
        metadata = {}
        for pair in request.headers.get("upload-metadata", "").split(","):
            key, _, value = pair.partition(" ")
            metadata[key] = base64.b64decode(value).decode()
        created.append(metadata)

    page.on("request", seen)
    return created


def watch_csp(page: Page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


def test_two_picked_files_upload_and_join_the_list_without_a_reload(
    partner_page, make_request, shoot
):
    page = partner_page
    violations = watch_csp(page)
    delivery_request = make_request(status="open", files=1)
    open_details(page, delivery_request)
    expect(page.get_by_role("heading", name="Deliver files")).to_be_visible()
    expect(page.locator("#uploader .uppy-DragDrop-container")).to_be_visible()
    mark_page(page)

    big = bytes(range(256)) * 4096 * 6  # 6 MiB: long enough to show progress
    picker(page).set_input_files(
        [
            {"name": "reel_01.mov", "mimeType": "video/quicktime", "buffer": big},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"delivered by tus\n"},
        ]
    )
    expect(upload_row(page, "reel_01.mov")).to_be_visible()
    expect(upload_row(page, "reel_01.mov").get_by_role("progressbar")).to_be_attached()
    expect(upload_row(page, "reel_01.mov")).to_contain_text("Delivered", timeout=20_000)
    expect(upload_row(page, "notes.txt")).to_contain_text("Delivered")

    expect(file_rows(page)).to_have_count(3)
    expect(file_row(page, "reel_01.mov")).to_contain_text("6.0 MB")
    shoot(page, "uploads-delivered")
    assert_not_reloaded(page)
    delivered = delivery_request.files.get(name="reel_01.mov")
    assert delivered.size == len(big) and delivered.md5 and delivered.xxh64
    assert not violations, violations


def test_a_file_whose_name_breaks_the_rule_is_refused_before_upload(
    partner_page, make_request, shoot
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    open_details(page, delivery_request)
    requests_sent: list[str] = []
    page.on("request", lambda request: requests_sent.append(request.url))

    picker(page).set_input_files(
        [{"name": "final master (v2).mov", "mimeType": "video/quicktime", "buffer": b"x" * 10}]
    )
    refusal = page.locator("#uploader [data-upload-refusals]")
    expect(refusal).to_contain_text("“final master (v2).mov” was not uploaded")
    expect(refusal).to_contain_text("no spaces")
    expect(page.locator("#uploader .upload-row")).to_have_count(0)
    shoot(page, "uploads-bad-name")
    assert not [url for url in requests_sent if "/uploads/" in url]
    assert not delivery_request.files.exists()


def test_a_file_the_server_refuses_offers_no_retry_that_could_not_succeed(
    partner_page, make_request
):
    page = partner_page
    delivery_request = make_request(status="open", files=1)  # holds file_000.mov
    open_details(page, delivery_request)
    picker(page).set_input_files(
        [{"name": "file_000.mov", "mimeType": "video/quicktime", "buffer": b"again"}]
    )
    row = upload_row(page, "file_000.mov")
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("already")
    expect(row.get_by_role("button", name="Retry")).to_be_hidden()
    expect(row.get_by_role("button", name="Pause")).to_be_hidden()
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    assert delivery_request.files.count() == 1


def test_a_request_that_submits_automatically_is_submitted_when_the_batch_completes(
    partner_page, make_request
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    delivery_request.auto_submit = True
    delivery_request.save(update_fields=["auto_submit"])
    open_details(page, delivery_request)
    mark_page(page)
    picker(page).set_input_files(
        [{"name": "only.wav", "mimeType": "audio/wav", "buffer": b"RIFF" + b"\0" * 100}]
    )
    expect(status_badge(page)).to_have_text("Submitted", timeout=20_000)
    expect(page.locator("#uploader")).to_have_count(0)
    assert_not_reloaded(page)
    history = delivery_request.history.filter(action="status").first()
    assert history.actor is None


def test_a_file_whose_name_is_taken_can_replace_the_delivered_one(partner_page, make_request):
    from deliveries.models import HistoryEntry

    page = partner_page  # an Admin of the partner: may remove files
    delivery_request = make_request(status="open", files=1)  # holds file_000.mov, 1 byte
    open_details(page, delivery_request)
    created = watch_creations(page)
    picker(page).set_input_files(
        [{"name": "file_000.mov", "mimeType": "video/quicktime", "buffer": b"the new cut"}]
    )
    row = upload_row(page, "file_000.mov")
    expect(row).to_contain_text("Failed")
    # The first try asks for no replacement: no `replace` key at all (it said
    # "undefined").
    assert len(created) == 1
    assert created[0]["filename"] == "file_000.mov"
    assert "replace" not in created[0], created[0]
    row.get_by_role("button", name="Replace").click()
    expect(row).to_contain_text("Delivered", timeout=20_000)
    assert len(created) == 2
    assert created[1]["replace"] == "1"
    delivered = delivery_request.files.get()
    assert delivered.size == len(b"the new cut")
    expect(file_row(page, "file_000.mov")).to_contain_text("11 bytes")
    assert delivery_request.history.filter(
        action=HistoryEntry.Action.DELIVERED, details__replaced=True
    ).exists()
    expect(page.locator(".history-list")).to_contain_text(
        "Replaced “file_000.mov” with a new delivery."
    )
