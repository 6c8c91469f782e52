"""Benchmark: a folder of image-sequence frames chosen in the drop zone of Chromium, and
how the page's main thread fares meanwhile.

    .venv/bin/python bench/folder_drop.py [--frames 10000] [--frame-kib 16]

Starts the portal (`manage.py runserver --noreload`) on a free port of 127.0.0.1 with a
throwaway SQLite database and media folder (see bench/upload.py), makes the frames in a
scratch folder, signs in as a partner in Debian's Chromium (Playwright), chooses the
folder with the drop zone's folder picker and waits for the aggregate row to say
Delivered. Prints the files/s, the time the drop zone took to take the folder, and the
main thread's long tasks (over 50 ms, PerformanceObserver): how many, the longest, and
their share of the run. Target: the page stays responsive (no long task of ours past
the one that hands the browser the chosen files).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="portal-folder-bench-"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_DEBUG": "1",  # runserver on plain HTTP, static files from static/
    "DATABASE_URL": f"sqlite:///{SCRATCH / 'bench.sqlite3'}",
    "PORTAL_VAR_DIR": str(SCRATCH),
    "PORTAL_MEDIA_ROOT": str(SCRATCH / "media"),
    "PORTAL_LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from deliveries.models import DeliveryRequest, Membership, Organization, Title  # noqa: E402

PASSWORD = "bench-password-not-secret"
CHROMIUM = "/usr/bin/chromium"
WATCH = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__longTasks.push([entry.startTime, entry.duration]);
  }
}).observe({ type: "longtask", buffered: true });
window.addEventListener("change", () => { window.__changeStart = performance.now(); }, true);
window.addEventListener("change", () => { window.__changeEnd = performance.now(); });
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed() -> int:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench-uploader", password=PASSWORD)
    organization = Organization.objects.create(name="Bench Post")
    Membership.objects.create(user=user, organization=organization, role="uploader")
    request = DeliveryRequest.objects.create(
        organization=organization,
        title=Title.objects.create(name="Bench Title"),
        name="Picture master",
        asset_type="image_sequence",
        due_date=datetime.date(2030, 1, 1),
    )
    return request.pk


def make_frames(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    for number in range(count):
        digest = hashlib.sha256(str(number).encode()).digest()
        (folder / f"bench.{number:07d}.dpx").write_bytes(digest * (size // 32))


def serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the portal did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--frame-kib", type=int, default=16)
    options = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder = SCRATCH / "frames" / "bench_seq"
    server = None
    try:
        print(f"Making {options.frames:,} frames of {options.frame_kib} KiB in {folder} ...")
        make_frames(folder, options.frames, options.frame_kib * 1024)
        request_id = seed()
        server = serve(port)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=base)
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill("bench-uploader")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/requests/")
            page.add_init_script(WATCH)
            page.goto(f"/requests/{request_id}/")
            started = time.perf_counter()
            page.locator("[data-folder-input]").set_input_files(folder)
            row = page.locator("#uploader .upload-batch")
            row.wait_for()
            page.wait_for_function(
                "() => ['delivered', 'failed'].includes("
                "document.querySelector('#uploader .upload-batch').dataset.state)",
                timeout=0,
                polling=1000,
            )
            seconds = time.perf_counter() - started
            rows = page.locator("#uploader .upload-row").count()
            state = row.get_attribute("data-state")
            tasks = page.evaluate("window.__longTasks")
            handled = page.evaluate("window.__changeEnd - window.__changeStart")
            picked = page.evaluate("window.__changeEnd")
            run_ms = page.evaluate("performance.now()") - picked
            browser.close()
        delivered = DeliveryRequest.objects.get(pk=request_id).files.count()
        after = [duration for start, duration in tasks if start > picked]
        print(f"batch: {state}, {delivered:,} of {options.frames:,} frames delivered")
        print(f"rows in the drop zone: {rows}")
        print(f"delivery: {seconds:.1f} s, {delivered / seconds:.1f} files/s")
        print(f"the drop zone took the folder in {handled:.0f} ms")
        print(
            f"long tasks after that: {len(after)}, longest {max(after, default=0):.0f} ms, "
            f"{sum(after):.0f} ms in all = {sum(after) / run_ms:.2%} of the run"
        )
        print(f"the long tasks (ms, the first 40): {[round(d) for _start, d in tasks[:40]]}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
