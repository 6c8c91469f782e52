"""Benchmark: the Details Page's server time and query count at 10, 1,000 and 250,000
files, each as a ratio to the 1,000-file time measured in the same run (both show 100
rows, as a page of any larger request does).

    .venv/bin/python bench/details_page.py [--files 250000] [--repeat 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/details_page.py

Server time is the whole Django stack in process (middleware, view, queries, template),
without the network; every view is rendered (there is no page cache).
Targets: ≤ 1.05× the 1,000-file time at 250,000 files, at most 6 queries and the same
count at every size; scrolling deeper and filtering by name cost the same as page one.
Runs in a scratch database (see bench/_scratch.py).
"""

from __future__ import annotations

import argparse
import gc
import time

import _scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    label = _scratch.setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deliveries.management.commands.create_big_request import create_big_request

    client = Client()
    client.force_login(_scratch.partner_admin())
    rows: list[list[str]] = []
    base: dict[str, float] = {}
    for files in (10, 1_000, options.files):
        started = time.perf_counter()
        request = create_big_request(files)
        made = time.perf_counter() - started
        # Making 250,000 rows in this process leaves garbage a server never has: collect
        # it, so the views below are timed as a web process would serve them.
        gc.collect()
        url = f"/requests/{request.pk}/"
        middle = f"frame_{files // 2:07d}.dpx"
        views = [
            ("first page", url, {}),
            ("scrolled to the middle", url, {"after": middle}),
            ("names starting with", url, {"q": middle[:-6]}),
        ]
        for what, path, params in views:

            def get(path: str = path, params: dict[str, str] = params) -> None:
                response = client.get(path, params)
                assert response.status_code == 200, response.status_code

            seconds = _scratch.median_seconds(get, options.repeat)
            with CaptureQueriesContext(connection) as queries:
                get()
            if files == 1_000:
                base[what] = seconds
            rows.append(
                [
                    f"{files:,}",
                    what,
                    f"{seconds * 1000:.1f}",
                    f"{seconds / base[what]:.2f}x" if what in base else "",
                    str(len(queries)),
                ]
            )
        print(f"created a request of {files:,} files in {made:.1f} s")
    _scratch.table(
        f"Details Page on {label}: median of {options.repeat} (ratio to the same view at "
        "1,000 files; target ≤ 1.05x, at most 6 queries, equal at every size)",
        ["files", "view", "ms", "ratio", "queries"],
        rows,
    )


if __name__ == "__main__":
    main()
