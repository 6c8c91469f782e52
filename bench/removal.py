"""Benchmark: select-all removal of 250,000 files, as ratios measured in the same run.

    .venv/bin/python bench/removal.py [--files 250000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/removal.py

Times the partner's answer (the htmx POST of the trash icon with all=1, fragments
rendered) against removing one file the same way; the worker's purge until the
database rows are gone against one raw SQL DELETE of as many rows of another request;
and the worker's deletion of the stored content (a few bytes per file here).
Targets: the answer under 2x one file's; the rows gone within 3x the raw DELETE.
"""

from __future__ import annotations

import argparse
import time

import _scratch

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "request-main"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=250_000)
    options = parser.parse_args()
    label = _scratch.setup()

    from django.db import connection, transaction
    from django.test import Client

    from deliveries.files.storage import clean_storage
    from deliveries.management.commands.create_big_request import create_big_request
    from deliveries.models import DeliveredFile, StorageDeletion
    from deliveries.requests.cleanup import purge_removed_files
    from deliveries.tasks import clean_up_removed_files

    files = options.files
    started = time.perf_counter()
    request = create_big_request(files, write_content=True)
    print(f"created a request of {files:,} stored files in {time.perf_counter() - started:.1f} s")
    client = Client()
    client.force_login(_scratch.partner_admin())
    url = f"/requests/{request.pk}/files/remove/"
    client.get(f"/requests/{request.pk}/")

    ids = iter(request.files.order_by("-name").values_list("pk", flat=True)[:8])

    def remove_one() -> None:
        response = client.post(url, {"file": next(ids)}, **HTMX)
        assert response.status_code == 200, response.status_code

    one = _scratch.median_seconds(remove_one, repeat=5, warm=2)
    clean_up_removed_files.call()  # the single removals' content, out of the way
    left = files - 7

    started = time.perf_counter()
    response = client.post(url, {"all": "1"}, **HTMX)
    answer = time.perf_counter() - started
    assert response.status_code == 200 and f"Removed {left:,}".replace(",", "") in (
        response.content.decode().replace(",", "")
    )
    started = time.perf_counter()
    purged = purge_removed_files()
    purge = time.perf_counter() - started
    assert purged == left and not DeliveredFile._base_manager.filter(request=request).exists()
    started = time.perf_counter()
    cleaned = clean_storage()
    storage = time.perf_counter() - started
    assert cleaned == left and not StorageDeletion.objects.exists()

    other = create_big_request(files)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {DeliveredFile._meta.db_table} WHERE request_id = %s", [other.pk]
        )
        assert cursor.rowcount == files
    raw = time.perf_counter() - started

    _scratch.table(
        f"Select-all removal of {left:,} files on {label}",
        ["figure", "seconds", "ratio", "target"],
        [
            ["remove one file (answer)", f"{one:.3f}", "1.00x", ""],
            ["remove all (answer)", f"{answer:.3f}", f"{answer / one:.2f}x one", "< 2x one"],
            ["raw SQL DELETE", f"{raw:.3f}", "1.00x raw", ""],
            [
                "rows gone (answer + purge)",
                f"{answer + purge:.3f}",
                f"{(answer + purge) / raw:.2f}x raw",
                "<= 3x raw",
            ],
            ["storage cleaned (worker)", f"{storage:.3f}", f"{left / storage:,.0f} files/s", ""],
        ],
    )


if __name__ == "__main__":
    main()
