"""Whole image sequences from the browser: a folder of frames chosen at once becomes
one aggregate row (files done of total, bytes, rate, time left, failures by name),
several uploads run at once, the page stays responsive, and choosing the same folder
again after a reload skips what was delivered and resumes what was started."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .pages import assert_not_reloaded, file_rows, mark_page, open_details

pytestmark = pytest.mark.browser

# Long tasks of the main thread (anything over 50 ms), gathered from page load on, and
# how long the drop zone's own handling of the chosen folder took: the window's
# capture listener runs before the input's own, its bubbling listener after.
WATCH_LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__longTasks.push([entry.startTime, entry.duration]);
  }
}).observe({ type: "longtask", buffered: true });
window.addEventListener("change", () => { window.__changeStart = performance.now(); }, true);
window.addEventListener("change", () => {
  window.__changeEnd = performance.now();
  window.__handled = window.__changeEnd - window.__changeStart;
});
"""


def UPLOADS(url: str) -> bool:  # noqa: N802 - a URL pattern, as Playwright takes them
    return "/uploads/" in url


def folder_input(page: Page):
    return page.locator("#uploader [data-folder-input]")


def batch_row(page: Page):
    return page.locator("#uploader .upload-row.upload-batch")


def make_frames(folder: Path, count: int, size: int = 1024, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for number in range(start, start + count):
        frame = folder / f"shot_010.{number:07d}.dpx"
        frame.write_bytes(hashlib.sha256(str(number).encode()).digest() * (size // 32))
        frames.append(frame)
    return frames


def image_sequence_request(make_request):
    delivery_request = make_request(status="open", files=0)
    delivery_request.asset_type = "image_sequence"
    delivery_request.save(update_fields=["asset_type"])
    return delivery_request


def test_a_folder_of_2000_frames_is_delivered_with_one_aggregate_row(
    partner_page, make_request, tmp_path, shoot, record_property
):
    page = partner_page
    delivery_request = image_sequence_request(make_request)
    folder = tmp_path / "shot_010"
    make_frames(folder, 2000)
    page.add_init_script(WATCH_LONG_TASKS)
    open_details(page, delivery_request)
    expect(page.get_by_role("button", name="Choose a folder")).to_be_visible()
    mark_page(page)
    in_flight: set = set()
    most_in_flight = 0

    def started(request) -> None:
        nonlocal most_in_flight
        if "/uploads/" in request.url and request.method in ("POST", "PATCH"):
            in_flight.add(request)
            most_in_flight = max(most_in_flight, len(in_flight))

    def ended(request) -> None:
        in_flight.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)

    folder_input(page).set_input_files(folder)
    row = batch_row(page)
    expect(row).to_contain_text("Folder shot_010: 2,000 files")
    expect(page.locator("#uploader .upload-row")).to_have_count(1)
    expect(row).to_contain_text("files/s", timeout=20_000)
    expect(row).to_contain_text("left")
    shoot(page, "folder-drop-uploading")
    expect(row).to_contain_text("Delivered", timeout=240_000)
    expect(row).to_contain_text("2,000 of 2,000 files · 2.0 MB of 2.0 MB")
    expect(page.locator("#uploader .upload-row")).to_have_count(1)
    assert delivery_request.files.count() == 2000
    assert most_in_flight > 1
    # The batch ended cleanly: the file list shows the frames without a reload.
    expect(file_rows(page).first).to_be_visible()
    assert_not_reloaded(page)
    shoot(page, "folder-drop-delivered")
    long_tasks = page.evaluate("window.__longTasks")
    handled = page.evaluate("window.__handled")
    picked = page.evaluate("window.__changeEnd")
    # The task that hands the browser the 2,000 chosen files (Playwright's file
    # transfer, then our change handler) is the one long task allowed; every task
    # after it (2,000 uploads, the progress row, the file list's refresh) stays short.
    after = [duration for start, duration in long_tasks if start > picked]
    record_property("folder_handled_ms", handled)
    record_property("long_tasks_ms", long_tasks)
    print(
        f"2,000 frames: the drop zone took {handled:.0f} ms to take the folder; "
        f"long tasks after that: {len(after)}, longest {max(after, default=0):.0f} ms; "
        f"all long tasks {[round(duration) for _start, duration in long_tasks]} ms"
    )
    assert handled < 200
    # (60–142 ms measured on 2 shared cores; the bound leaves room for a loaded machine.)
    assert max(after, default=0) < 250, long_tasks


WORDS = {
    "en": {
        "button": "Choose a folder",
        "title": "Folder reel: 31 files",
        "failed": "Partly delivered",
        "count": "30 of 31 files",
        "skipped": "One file was delivered already and was skipped.",
        "refused": "One file was not delivered:",
        "rule": "no spaces",
        "left": "One system file of the folder was left out: reel/.DS_Store.",
    },
    "es-419": {
        "button": "Elegir una carpeta",
        "title": "Carpeta reel: 31 archivos",
        "failed": "Entregado en parte",
        "count": "30 de 31 archivos",
        "skipped": "Un archivo ya estaba entregado y se omitió.",
        "refused": "Un archivo no se entregó:",
        "rule": "sin espacios",
        "left": "Se omitió un archivo de sistema de la carpeta: reel/.DS_Store.",
    },
}


@pytest.mark.parametrize("language", ["en", "es-419"])
def test_names_that_break_the_rule_or_are_delivered_already_are_named_in_the_row(
    partner_page, make_request, tmp_path, language
):
    from django.core.files.base import ContentFile

    page = partner_page
    words = WORDS[language]
    delivery_request = image_sequence_request(make_request)
    folder = tmp_path / "reel"
    frames = make_frames(folder, 30)
    (folder / "bad name.dpx").write_bytes(b"x" * 10)
    (folder / ".DS_Store").write_bytes(b"finder")
    delivery_request.add_file(frames[3].name, ContentFile(frames[3].read_bytes()), by=None)
    if language != "en":
        page.goto("/requests/")
        with page.expect_navigation():
            page.locator("#language-select").select_option(language)
    open_details(page, delivery_request)
    expect(page.get_by_role("button", name=words["button"])).to_be_visible()
    folder_input(page).set_input_files(folder)
    row = batch_row(page)
    expect(row).to_contain_text(words["title"])
    expect(row).to_contain_text(words["failed"], timeout=30_000)
    expect(row).to_contain_text(words["count"])
    # The server's refusal of a delivered name, in the page's language, is a skip.
    expect(row).to_contain_text(words["skipped"])
    expect(row).to_contain_text(words["refused"])
    expect(row).to_contain_text("reel/bad name.dpx")
    expect(row).to_contain_text(words["rule"])
    expect(row).to_contain_text(words["left"])
    assert delivery_request.files.count() == 30
    assert not delivery_request.files.filter(name=".DS_Store").exists()


def test_the_same_folder_chosen_after_a_reload_skips_delivered_frames_and_resumes_started_ones(
    partner_page, make_request, tmp_path, live_server, admin_user
):
    import requests

    page = partner_page
    delivery_request = image_sequence_request(make_request)
    folder = tmp_path / "shot_020"
    make_frames(folder, 24)
    big = folder / "shot_020.0000100.dpx"
    big.write_bytes(bytes(range(256)) * 4096 * 4)  # 4 MiB
    open_details(page, delivery_request)
    # The first time, the big frame's bytes never get through: its upload exists (its
    # address kept in localStorage) while every other frame is delivered.
    page.route(
        UPLOADS,
        lambda route: route.abort() if route.request.method == "PATCH" else route.continue_(),
    )
    folder_input(page).set_input_files(folder)
    row = batch_row(page)
    expect(row).to_contain_text("24 of 25 files", timeout=30_000)
    kept = page.evaluate(
        "Object.keys(localStorage).filter((key) => key.includes('shot_020/shot_020.0000100.dpx'))"
    )
    assert len(kept) == 1
    address = page.evaluate(f"JSON.parse(localStorage.getItem({kept[0]!r})).uploadUrl")
    # Half the frame arrives meanwhile (as if the first page had sent it before the
    # reload), through the same session.
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    half = big.read_bytes()[: 2 * 1024 * 1024]
    answer = requests.patch(
        address,
        data=half,
        cookies=cookies,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
            "X-CSRFToken": cookies["csrftoken"],
            "Referer": live_server.url + "/",
        },
        timeout=30,
    )
    assert answer.status_code == 204, answer.text
    # The reload, before the route is lifted: the first page's retries die with it.
    page.goto("about:blank")
    page.unroute(UPLOADS)
    open_details(page, delivery_request)
    offsets: list[str] = []
    page.on(
        "request",
        lambda request: (
            offsets.append(request.headers.get("upload-offset", ""))
            if request.method == "PATCH"
            else None
        ),
    )
    folder_input(page).set_input_files(folder)
    row = batch_row(page)
    expect(row).to_contain_text("Delivered", timeout=30_000)
    expect(row).to_contain_text("24 files were delivered already and were skipped.")
    expect(row).to_contain_text("25 of 25 files")
    assert offsets == [str(len(half))]
    delivered = delivery_request.files.get(name=big.name)
    assert delivered.md5 == hashlib.md5(big.read_bytes()).hexdigest()
    assert delivery_request.files.count() == 25
    assert not page.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('tus::'))")


def test_a_batch_pauses_resumes_and_cancels_as_a_whole(partner_page, make_request, tmp_path):
    import time

    from deliveries.uploads.models import Upload

    page = partner_page
    delivery_request = image_sequence_request(make_request)
    make_frames(tmp_path / "slow", 40)
    make_frames(tmp_path / "dropped", 40, start=100)

    def slowly(route) -> None:
        time.sleep(0.05)  # a slow link: the batch is still under way when clicked
        route.continue_()

    page.route(UPLOADS, slowly)
    open_details(page, delivery_request)
    folder_input(page).set_input_files(tmp_path / "slow")
    row = batch_row(page)
    expect(row.locator(".upload-detail")).not_to_have_text(re.compile(r"^0 of"))
    row.get_by_role("button", name="Pause").click()
    expect(row).to_have_attribute("data-state", "paused")
    expect(row).to_contain_text("Paused")
    page.wait_for_timeout(1000)
    delivered = delivery_request.files.count()
    assert delivered < 40
    page.wait_for_timeout(1000)
    assert delivery_request.files.count() == delivered  # nothing sent while paused
    row.get_by_role("button", name="Resume").click()
    expect(row).to_contain_text("Delivered", timeout=60_000)
    assert delivery_request.files.count() == 40

    folder_input(page).set_input_files(tmp_path / "dropped")
    second = batch_row(page).filter(has_text="Folder dropped")
    expect(second.locator(".upload-detail")).not_to_have_text(re.compile(r"^0 of"))
    second.get_by_role("button", name="Cancel").click()
    expect(second).to_have_attribute("data-state", "cancelled")
    expect(second).to_contain_text("Cancelled")
    assert 40 < delivery_request.files.count() < 80
    # What was under way was terminated: no unfinished upload holds a name.
    page.wait_for_timeout(500)
    assert not [upload for upload in Upload.objects.all() if upload.offset < upload.length]


def test_each_problem_of_a_folder_is_told_once_with_its_count_and_a_few_names(
    partner_page, org, title, tmp_path
):
    """A folder of stereo WAVs for a 5.1 request: every file's first bytes show the
    same blocker, and it is said once, not once a file; so are names that break the
    rule. A problem of one file keeps its own line."""
    import io
    import wave

    from .test_early_verdict import surround_request

    def wav(channels: int) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setnchannels(channels)
            writer.setsampwidth(3)
            writer.setframerate(48000)
            writer.writeframes(b"\0" * 4800 * 3 * channels)
        return buffer.getvalue()

    page = partner_page
    delivery_request = surround_request(org, title)
    folder = tmp_path / "stems"
    folder.mkdir()
    for number in range(22):
        (folder / f"stem_{number:02d}.wav").write_bytes(wav(2))
    (folder / "mono_00.wav").write_bytes(wav(1))
    for number in range(4):
        (folder / f"stem {number}.wav").write_bytes(wav(2))
    open_details(page, delivery_request)
    folder_input(page).set_input_files(folder)
    row = batch_row(page)
    expect(row.locator(".upload-state")).to_have_text("Partly delivered", timeout=30_000)
    expect(row).to_contain_text("23 of 27 files")

    refused = row.locator(".upload-batch-names").first
    expect(row.locator(".upload-batch-failed")).to_have_text("4 files were not delivered:")
    expect(refused.locator("li")).to_have_count(1)
    expect(refused.locator("li")).to_have_text(
        "4 files: the name does not follow the naming rule: letters a–z and A–Z, digits "
        "0–9, dot (.), underscore (_) and hyphen (-), with no spaces — "
        "stems/stem 0.wav, stems/stem 1.wav, stems/stem 2.wav, …"
    )

    early = row.locator(".upload-batch-names").last
    expect(row.locator(".upload-batch-early")).to_contain_text(
        "The first bytes of 23 files already show a blocker."
    )
    expect(early.locator("li")).to_have_count(2)
    # The first names by path, whichever order the uploads finished in.
    expect(early.locator("li").filter(has_text="22 files:")).to_have_text(
        "22 files: Blocker: Expected 5.1 (L R C LFE Ls Rs), found 2 ch. — "
        "stems/stem_00.wav, stems/stem_01.wav, stems/stem_02.wav, …"
    )
    mono = early.locator("li").filter(has_text="mono_00.wav")
    expect(mono).to_have_text(
        "stems/mono_00.wav: Blocker: Expected 5.1 (L R C LFE Ls Rs), found 1 ch."
    )
    expect(mono).not_to_contain_text("1 files")
    assert delivery_request.files.count() == 23
