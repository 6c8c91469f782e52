"""The side panel's player in Chromium: it plays, a finding seeks to its frame, the
keys step frames; without JavaScript the thumbnails and a plain <video controls>
still work; axe finds no violation on the panel with the player."""

from __future__ import annotations

import io
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from deliveries.management import samples
from deliveries.models import AssetType
from deliveries.previews import pictures, storage
from deliveries.previews.tasks import make_previews
from deliveries.tasks import process_request

from .conftest import sign_in
from .pages import assert_not_reloaded, file_row, mark_page, open_details, side_panel

pytestmark = pytest.mark.browser

NAME = "reel.mp4"


@pytest.fixture
def previewed(deliver, redelivery_reasons):
    """A processed video damaged at 00:00:02:00, its preview made."""
    clip = samples.h264_aac_mp4(seconds=4, width=640, height=360, keyframe_interval=12)
    request = deliver(AssetType.PRIMARY_VIDEO, {NAME: samples.damaged_at(clip, 48)})
    process_request.call(request.pk)
    make_previews.call(request.pk)
    return request


def wait_until(page: Page, script: str, seconds: float = 10) -> None:
    """page.wait_for_function evaluates its string inside the page, which the strict
    CSP forbids (no unsafe-eval); page.evaluate goes through the debugger."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false: {script}"
        page.wait_for_timeout(50)


def video_time(page: Page) -> float:
    return page.evaluate("document.querySelector('#player-video').currentTime")


def open_player(page: Page, request) -> None:
    open_details(page, request)
    file_row(page, NAME).get_by_role("link", name=NAME).click()
    expect(side_panel(page).get_by_label(f"Proxy of {NAME}")).to_be_visible()
    wait_until(page, "document.querySelector('#player-video').readyState >= 1")


def test_the_proxy_plays_with_the_space_key_and_shows_its_timecode(
    browser_context, admin_user, previewed, shoot
):
    page = browser_context.new_page()
    sign_in(page, admin_user.username)
    open_player(page, previewed)
    timecode = side_panel(page).get_by_label("Current timecode")
    expect(timecode).to_have_text("00:00:00:00")
    page.locator("#player-video").focus()
    page.keyboard.press(" ")
    wait_until(page, "document.querySelector('#player-video').currentTime > 0.5")
    assert not page.evaluate("document.querySelector('#player-video').paused")
    expect(timecode).not_to_have_text("00:00:00:00")
    page.keyboard.press("k")
    assert page.evaluate("document.querySelector('#player-video').paused")
    shoot(page, "preview-player")


def test_a_finding_seeks_the_player_to_its_frame_in_place(
    browser_context, admin_user, previewed, shoot
):
    page = browser_context.new_page()
    sign_in(page, admin_user.username)
    open_player(page, previewed)
    mark_page(page)
    panel = side_panel(page)
    panel.get_by_role("link", name="Show at 00:00:02:00").click()
    expect(panel.get_by_label("Current timecode")).to_have_text("00:00:02:00")
    assert video_time(page) == pytest.approx(2.0)
    # One frame on and back with the arrows (24 fps).
    page.keyboard.press("ArrowRight")
    expect(panel.get_by_label("Current timecode")).to_have_text("00:00:02:01")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(panel.get_by_label("Current timecode")).to_have_text("00:00:01:23")
    # The mark on the timeline does the same.
    panel.get_by_role("link", name="MEDIA-DecodeError at 00:00:02:00").click()
    expect(panel.get_by_label("Current timecode")).to_have_text("00:00:02:00")
    assert_not_reloaded(page)
    shoot(page, "preview-seek-to-finding")


def test_without_javascript_thumbnails_show_and_a_finding_link_starts_the_plain_player_there(
    no_js_context, admin_user, previewed, shoot
):
    page = no_js_context.new_page()
    sign_in(page, admin_user.username)
    open_details(page, previewed)
    thumbnail = file_row(page, NAME).locator("td.thumb img")
    expect(thumbnail).to_be_visible()
    wait_until(page, "document.querySelector('td.thumb img').naturalWidth > 0")
    file_row(page, NAME).get_by_role("link", name=NAME).click()
    video = side_panel(page).locator("video[controls]")
    expect(video).to_be_visible()
    expect(side_panel(page).get_by_label("Current timecode")).to_be_hidden()
    side_panel(page).get_by_role("link", name="MEDIA-DecodeError at 00:00:02:00").click()
    expect(page).to_have_url(
        f"{page.url.split('?')[0]}?file={previewed.files.get().pk}&t=2.0#preview"
    )
    expect(video).to_have_attribute("src", f"{video.get_attribute('src').split('#')[0]}#t=2.0")
    # The browser itself starts the plain player at the media fragment.
    wait_until(page, "document.querySelector('#player-video').readyState >= 1")
    assert video_time(page) == pytest.approx(2.0)
    shoot(page, "preview-without-javascript")


def test_the_side_panel_with_the_player_has_no_accessibility_violation(
    browser_context, admin_user, previewed
):
    page = browser_context.new_page()
    sign_in(page, admin_user.username)
    open_player(page, previewed)
    # Every impact, minor and moderate too: the player is new, and the issue asks for none.
    violations = Axe().run(page, context="#side-panel").response["violations"]
    problems = [
        f"{v['id']} ({v['impact']}) {v['help']} → "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
    ]
    assert not problems, "\n".join(problems)


def test_of_a_hundred_rows_only_those_on_screen_load_their_thumbnails(
    browser_context, admin_user, make_request
):
    request = make_request(status="open", files=100)
    tiny = samples.png_image(64, 36)
    for delivered in request.files.all():
        storage.record(delivered, pictures.make(io.BytesIO(tiny)))
    page = browser_context.new_page()
    loaded: list[str] = []
    page.on("request", lambda r: "/preview/thumb.jpg" in r.url and loaded.append(r.url))
    sign_in(page, admin_user.username)
    open_details(page, request)
    expect(page.locator("td.thumb img")).to_have_count(100)
    page.wait_for_load_state("networkidle")
    on_screen = len(loaded)
    assert 0 < on_screen < 50, on_screen
    page.locator("td.thumb img").last.scroll_into_view_if_needed()
    expect(page.locator("td.thumb img").last).to_be_in_viewport()
    deadline = time.monotonic() + 10
    while len(loaded) <= on_screen and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(loaded) > on_screen


def test_an_audio_files_player_can_be_seen_and_clicked_above_its_waveforms(
    partner_page, deliver, shoot
):
    page = partner_page
    request = deliver(AssetType.AUDIO, {"mix.wav": samples.wav_audio(seconds=2, channels=6)})
    process_request.call(request.pk)
    make_previews.call(request.pk)
    open_details(page, request)
    file_row(page, "mix.wav").get_by_role("link", name="mix.wav").click()
    player = side_panel(page).get_by_label("Listen to mix.wav")
    expect(player).to_be_visible()
    box = player.bounding_box()
    assert box is not None and box["height"] >= 24, box
    expect(side_panel(page).get_by_role("img", name="Waveform of channel LFE")).to_be_visible()
    shoot(page, "preview-audio")
