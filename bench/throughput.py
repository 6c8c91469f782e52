"""Benchmark: requests per second of the Details Page (100 files) under gunicorn with 2
workers on loopback, against the trivial /healthz/ view on the same server.

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/throughput.py

The load comes from another process: wrk (`apt-get install -y wrk`) when installed,
else a small Python load generator in a subprocess. Persistent database connections
(DATABASE_CONN_MAX_AGE=60), as the production section of the README runs them.
Target: the Details Page at >= 30% of the trivial view's rate, with no error.

The load sends the cookies a signed-in browser holds (session and CSRF), so pages are
served as a partner's repeated views are: from the page cache while nothing changed
(deliveries/page_cache.py). PORTAL_PAGE_CACHE=0 in the environment measures rendering.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys

import _scratch

LOAD_SCRIPT = r"""
import http.client, sys, threading, time
port, path, cookie, seconds, connections = sys.argv[1:6]
seconds, connections = float(seconds), int(connections)
done, errors = [0], [0]
lock = threading.Lock()
def run():
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse(); response.read()
        with lock:
            done[0] += 1
            errors[0] += response.status != 200
threads = [threading.Thread(target=run) for _ in range(connections)]
[t.start() for t in threads]; [t.join() for t in threads]
print(f"Requests/sec: {done[0] / seconds:.2f}")
print(f"errors: {errors[0]}")
"""


def load(port: int, path: str, cookie: str, seconds: int, connections: int) -> tuple[float, int]:
    if shutil.which("wrk"):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
        ).stdout
        errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
        errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    else:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                LOAD_SCRIPT,
                str(port),
                path,
                cookie,
                str(seconds),
                str(connections),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        errors = int(re.search(r"errors: (\d+)", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="gunicorn's gthread workers with this many threads (production runs 8), "
        "instead of the sync workers",
    )
    options = parser.parse_args()
    os.environ["DATABASE_CONN_MAX_AGE"] = "60"
    label = _scratch.setup()

    from django.conf import settings
    from django.test import Client

    from deliveries.management.commands.create_big_request import create_big_request

    request = create_big_request(100)
    client = Client()
    client.force_login(_scratch.partner_admin())
    # The cookies a partner's browser holds after its first view: session and CSRF.
    client.get(f"/requests/{request.pk}/")
    cookie = "; ".join(
        f"{name}={client.cookies[name].value}"
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    )

    page = f"/requests/{request.pk}/"
    threads = ("--worker-class", "gthread", "--threads", str(options.threads))
    with _scratch.gunicorn(workers=2, extra=threads if options.threads > 1 else ()) as port:
        load(port, page, cookie, 2, options.connections)  # warm both workers
        trivial, trivial_errors = load(port, "/healthz/", "", options.seconds, options.connections)
        details, details_errors = load(port, page, cookie, options.seconds, options.connections)
    tool = "wrk" if shutil.which("wrk") else "Python load generator"
    _scratch.table(
        f"Throughput on {label}: gunicorn, 2 workers"
        + (f" of {options.threads} threads" if options.threads > 1 else "")
        + f", loopback; {tool}, "
        f"{options.connections} connections, {options.seconds} s each",
        ["view", "requests/s", "errors", "ratio", "target"],
        [
            ["/healthz/ (trivial)", f"{trivial:.0f}", str(trivial_errors), "1.00x", ""],
            [
                "Details Page (100 files)",
                f"{details:.0f}",
                str(details_errors),
                f"{details / trivial:.2f}x",
                ">= 0.30x, no error",
            ],
        ],
    )


if __name__ == "__main__":
    main()
