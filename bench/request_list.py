"""Benchmark: the request list's server time and query count for a partner with
10,000 requests, as ratios to the same view with 10 requests and with 100 (a full page
of rows, as 10,000 shows), measured in the same run.

    .venv/bin/python bench/request_list.py [--requests 10000] [--repeat 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/request_list.py

Each view shows one page (100 requests; all 10 of the small partner's) with the count
of each status; the deepest page is the last. Target: a page of 10,000 costs about what
a page of 100 does (the ratio to 10 also counts 90 more rows drawn), the same queries.
Runs in a scratch database (see bench/_scratch.py).
"""

from __future__ import annotations

import argparse
import datetime

import _scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    label = _scratch.setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from deliveries.models import DeliveryRequest, Organization, Title
    from deliveries.requests.listing import LIST_LIMIT

    title = Title.objects.create(name="Benchmark Title")
    statuses = ["open", "submitted", "processed", "accepted", "redelivery"]
    rows: list[list[str]] = []
    base: dict[int, dict[str, float]] = {10: {}, 100: {}}
    for count in (10, 100, options.requests):
        organization = Organization.objects.create(name=f"Partner of {count:,}")
        DeliveryRequest.objects.bulk_create(
            (
                DeliveryRequest(
                    organization=organization,
                    title=title,
                    name=f"Request {n:06d}",
                    asset_type="primary_video",
                    status=statuses[n % len(statuses)],
                    due_date=datetime.date(2027, 1, 1) + datetime.timedelta(days=n % 400),
                )
                for n in range(count)
            ),
            batch_size=2_000,
        )
        client = Client()
        client.force_login(_scratch.partner_admin(organization.name))
        last_page = str(max(1, -(-count // LIST_LIMIT)))
        views = [
            ("first page, by due date", {}),
            ("by status", {"sort": "status"}),
            ("Open only", {"status": "open"}),
            ("last page", {"page": last_page}),
        ]
        for what, params in views:

            def get(params: dict[str, str] = params, client: Client = client) -> None:
                response = client.get("/requests/", params)
                assert response.status_code == 200, response.status_code

            seconds = _scratch.median_seconds(get, options.repeat)
            with CaptureQueriesContext(connection) as queries:
                get()
            if count in base:
                base[count][what] = seconds
            rows.append(
                [
                    f"{count:,}",
                    what,
                    f"{seconds * 1000:.1f}",
                    f"{seconds / base[10][what]:.2f}x",
                    f"{seconds / base[100][what]:.2f}x" if what in base[100] else "",
                    str(len(queries)),
                ]
            )
    _scratch.table(
        f"Request list on {label}: median of {options.repeat} (ratio to the same view "
        "with 10 requests, and with 100)",
        ["requests", "view", "ms", "vs 10", "vs 100", "queries"],
        rows,
    )


if __name__ == "__main__":
    main()
