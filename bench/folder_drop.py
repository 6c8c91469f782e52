"""Benchmark: a folder of image-sequence frames chosen in the drop zone of Chromium, and
how the page's main thread fares meanwhile.

    .venv/bin/python bench/folder_drop.py [--frames 10000] [--frame-kib 16]

Starts the portal (`manage.py runserver --noreload`) on a free port of 127.0.0.1 with a
throwaway database and media folder (bench/_scratch.py), makes the frames in a
scratch folder, signs in as a partner in Debian's Chromium (Playwright), chooses the
folder with the drop zone's folder picker and waits for the aggregate row to say
Delivered. Prints the files/s, the time the drop zone took to take the folder, and the
main thread's long tasks (over 50 ms, PerformanceObserver): how many, the longest, and
their share of the run. Target: the page stays responsive (no long task of ours past
the one that hands the browser the chosen files).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import _scratch

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


def make_frames(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    for number in range(count):
        digest = hashlib.sha256(str(number).encode()).digest()
        (folder / f"bench.{number:07d}.dpx").write_bytes(digest * (size // 32))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--frame-kib", type=int, default=16)
    options = parser.parse_args()
    _scratch.setup(debug=True)
    from playwright.sync_api import sync_playwright

    from deliveries.models import DeliveryRequest

    folder = Path(_scratch.SCRATCH) / "frames" / "bench_seq"
    print(f"Making {options.frames:,} frames of {options.frame_kib} KiB in {folder} ...")
    make_frames(folder, options.frames, options.frame_kib * 1024)
    user = _scratch.partner_admin("Bench Post", password=PASSWORD, role="uploader")
    request_id = _scratch.open_request(user, "image_sequence", "Picture master").pk
    with _scratch.runserver() as port:
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=base)
            page.goto("/accounts/login/")
            page.get_by_label("Username").fill(user.username)
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


if __name__ == "__main__":
    main()
