"""Benchmark: the Details Page's server time and query count at 10, 1,000 and 250,000
files, each as a ratio to the 10-file time measured in the same run.

    .venv/bin/python bench/details_page.py [--files 250000] [--repeat 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/details_page.py

Server time is the whole Django stack in process (middleware, view, queries, template),
without the network: rendered (the page cache off, as on any change to the request)
and served again unchanged (from the page cache, as a partner's repeated views are).
Targets: ≤ 2× the 10-file time at 250,000 files, the same query count at every size;
scrolling deeper and filtering by name cost the same as page one.
Runs in a scratch database (see bench/_scratch.py).
"""

from __future__ import annotations

import argparse
import time

import _scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    label = _scratch.setup()

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deliveries.management.commands.create_big_request import create_big_request

    client = Client()
    client.force_login(_scratch.partner_admin())
    rows: list[list[str]] = []
    base = served_base = 0.0
    for files in (10, 1_000, options.files):
        started = time.perf_counter()
        request = create_big_request(files)
        made = time.perf_counter() - started
        url = f"/requests/{request.pk}/"
        middle = f"frame_{files // 2:07d}.dpx"
        views = [
            ("first page", url, {}),
            ("scrolled to the middle", url, {"after": middle}),
            ("names starting with", url, {"q": middle[:-6]}),
        ]
        for what, path, params in views:

            def get(path=path, params=params):
                response = client.get(path, params)
                assert response.status_code == 200, response.status_code

            settings.PORTAL_PAGE_CACHE = False
            seconds = _scratch.median_seconds(get, options.repeat)
            with CaptureQueriesContext(connection) as queries:
                get()
            rendered_queries = len(queries)  # counted now: the capture reads the log lazily
            settings.PORTAL_PAGE_CACHE = True
            served = _scratch.median_seconds(get, options.repeat)
            with CaptureQueriesContext(connection) as served_queries:
                get()
            if not base:
                base, served_base = seconds, served
            rows.append(
                [
                    f"{files:,}",
                    what,
                    f"{seconds * 1000:.1f}",
                    f"{seconds / base:.2f}x",
                    str(rendered_queries),
                    f"{served * 1000:.1f}",
                    f"{served / served_base:.2f}x",
                    str(len(served_queries)),
                ]
            )
        print(f"created a request of {files:,} files in {made:.1f} s")
    _scratch.table(
        f"Details Page on {label}: median of {options.repeat} (ratio to the 10-file first page;"
        " target ≤ 2.00x, queries equal)",
        ["files", "view", "rendered ms", "ratio", "queries", "served ms", "ratio", "queries"],
        rows,
    )


if __name__ == "__main__":
    main()
