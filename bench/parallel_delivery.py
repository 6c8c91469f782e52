"""Benchmark: many small files delivered by parallel tus clients under the production
server (gunicorn, portal/gunicorn.conf.py: 2 gthread workers of 8 threads).

    .venv/bin/python bench/parallel_delivery.py [--files 1000] [--clients 4] [--size-kib 64]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/parallel_delivery.py

Each client sends its share of the files one after another, each file whole in one
tus creation-with-upload (as the drop zone sends a small file). Prints the errors
(any answer but 201 Created) and files per second. Target: no error. On SQLite the
default used to answer "database is locked" to two thirds of 1,000 files.
"""

from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import sys
import threading
import time

import _scratch


def metadata(request_id: int, name: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"request": str(request_id), "filename": name}.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--size-kib", type=int, default=64)
    options = parser.parse_args()
    label = _scratch.setup()

    import datetime

    import requests
    from django.conf import settings
    from django.test import Client
    from django.utils.crypto import get_random_string

    from deliveries.models import DeliveryRequest, Title

    user = _scratch.partner_admin()
    request = DeliveryRequest.objects.create(
        organization=user.memberships.get().organization,
        title=Title.objects.create(name="Bench Title"),
        name="Image sequence",
        asset_type="image_sequence",
        due_date=datetime.date(2030, 1, 1),
    )
    data = hashlib.sha256(b"frame").digest() * (options.size_kib * 1024 // 32)

    def headers() -> dict[str, str]:
        browser = Client()
        browser.force_login(user)
        token = get_random_string(32)
        session = browser.cookies[settings.SESSION_COOKIE_NAME].value
        return {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; "
            f"{settings.CSRF_COOKIE_NAME}={token}",
            "X-CSRFToken": token,
            "Tus-Resumable": "1.0.0",
            "Content-Type": "application/offset+octet-stream",
            "Upload-Length": str(len(data)),
        }

    browsers = [headers() for _ in range(options.clients)]
    answers: collections.Counter[int] = collections.Counter()
    examples: dict[int, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(options.clients)

    def client(number: int, base: str) -> None:
        with requests.Session() as http:
            barrier.wait()
            for n in range(number, options.files, options.clients):
                answer = http.post(
                    f"{base}/uploads/",
                    data=data,
                    headers={
                        **browsers[number],
                        "Upload-Metadata": metadata(request.pk, f"frame_{n:06d}.dpx"),
                    },
                    timeout=120,
                )
                with lock:
                    answers[answer.status_code] += 1
                    examples.setdefault(answer.status_code, answer.text[:200])

    with _scratch.gunicorn(workers=2, extra=("-c", "portal/gunicorn.conf.py")) as port:
        base = f"http://127.0.0.1:{port}"
        threads = [
            threading.Thread(target=client, args=(number, base))
            for number in range(options.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started

    errors = sum(count for status, count in answers.items() if status != 201)
    _scratch.table(
        f"Parallel delivery on {label}: {options.files} files of {options.size_kib} KiB, "
        f"{options.clients} tus clients, gunicorn (2 workers of 8 threads)",
        ["files", "delivered", "errors", "files/s", "target"],
        [
            [
                str(options.files),
                str(request.files.count()),
                str(errors),
                f"{options.files / seconds:.0f}",
                "no error",
            ]
        ],
    )
    for status, count in sorted(answers.items()):
        if status != 201:
            print(f"  {count} answered {status}: {examples[status]!r}")
    if errors or request.files.count() != options.files:
        sys.exit(1)


if __name__ == "__main__":
    main()
