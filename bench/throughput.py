"""Benchmark: requests per second under gunicorn with 2 workers on loopback, of

* the trivial /healthz/ view (the ceiling of the stack),
* the Details Page of 100 files, rendered (there is no page cache),
* Django's own admin changelist of 100 rows (the peer a Django user knows),
* an unchanged poll of a Submitted page's progress (answered 304 Not Modified),
* and, for scale, Django's floor for a signed-in page: its password-change-done page
  (the session and the user read from the database, a small template).

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 4]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/throughput.py

The load comes from another process: wrk (`apt-get install -y wrk`) when installed,
else a small Python load generator in a subprocess. It sends the cookies a signed-in
browser holds (session and CSRF). Persistent database connections
(DATABASE_CONN_MAX_AGE=60), as the production section of the README runs them.
Targets: the Details Page >= 3x the admin changelist; the unchanged poll >= 0.5x
/healthz/; no error.
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
port, path, cookie, seconds, connections, etag = sys.argv[1:7]
seconds, connections = float(seconds), int(connections)
headers = {"Cookie": cookie} if cookie else {}
if etag:
    headers["If-None-Match"] = etag
done, errors = [0], [0]
lock = threading.Lock()
def run():
    conn = http.client.HTTPConnection("127.0.0.1", int(port))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse(); response.read()
        with lock:
            done[0] += 1
            errors[0] += response.status != (304 if etag else 200)
threads = [threading.Thread(target=run) for _ in range(connections)]
[t.start() for t in threads]; [t.join() for t in threads]
print(f"Requests/sec: {done[0] / seconds:.2f}")
print(f"errors: {errors[0]}")
"""


def load(
    port: int, path: str, cookie: str, seconds: int, connections: int, etag: str = ""
) -> tuple[float, int]:
    if shutil.which("wrk"):
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        if etag:
            command += ["-H", f"If-None-Match: {etag}"]
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
                etag,
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
    from django.contrib.auth import get_user_model
    from django.test import Client

    from deliveries.management.commands.create_big_request import create_big_request
    from deliveries.models import DeliveryRequest, HistoryEntry, Status

    request = create_big_request(100)
    # A Submitted request whose processing has not started: what its page polls.
    polled = create_big_request(100)
    DeliveryRequest.objects.filter(pk=polled.pk).update(status=Status.SUBMITTED)
    HistoryEntry.objects.bulk_create(
        HistoryEntry(request=request, action=HistoryEntry.Action.DELIVERED, after=f"f{n}")
        for n in range(100)
    )

    def cookies_of(user, first_page: str) -> str:
        client = Client()
        client.force_login(user)
        # The cookies a browser holds after its first view: session and CSRF.
        client.get(first_page)
        return "; ".join(
            f"{name}={client.cookies[name].value}"
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
        )

    page = f"/requests/{request.pk}/"
    poll = f"/requests/{polled.pk}/progress/?seen=submitted"
    changelist = f"/admin/deliveries/historyentry/?request__id__exact={request.pk}"
    admin_user = _scratch.partner_admin()
    partner = cookies_of(admin_user, page)
    staff = get_user_model().objects.create_user("bench-staff", is_staff=True, is_superuser=True)
    contact = cookies_of(staff, changelist)
    probe = Client()
    probe.force_login(admin_user)
    etag = probe.get(poll, HTTP_HX_REQUEST="true")["ETag"]
    assert probe.get(poll, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert probe.get(changelist).status_code == 302  # the admin is for staff only

    threads = ("--worker-class", "gthread", "--threads", str(options.threads))
    with _scratch.gunicorn(workers=2, extra=threads if options.threads > 1 else ()) as port:
        load(port, page, partner, 2, options.connections)  # warm both workers
        load(port, changelist, contact, 2, options.connections)
        n = options.connections
        trivial, trivial_errors = load(port, "/healthz/", "", options.seconds, n)
        details, details_errors = load(port, page, partner, options.seconds, n)
        admin, admin_errors = load(port, changelist, contact, options.seconds, n)
        unchanged, poll_errors = load(port, poll, partner, options.seconds, n, etag)
        floor, floor_errors = load(
            port, "/accounts/password_change/done/", partner, options.seconds, n
        )
    tool = "wrk" if shutil.which("wrk") else "Python load generator"
    _scratch.table(
        f"Throughput on {label}: gunicorn, 2 workers"
        + (f" of {options.threads} threads" if options.threads > 1 else "")
        + f", loopback; {tool}, "
        f"{options.connections} connections, {options.seconds} s each",
        ["view", "requests/s", "errors", "ratio to /healthz/", "target"],
        [
            ["/healthz/ (trivial)", f"{trivial:.0f}", str(trivial_errors), "1.00x", ""],
            [
                "admin changelist (100 rows)",
                f"{admin:.0f}",
                str(admin_errors),
                f"{admin / trivial:.2f}x",
                "",
            ],
            [
                f"Details Page (100 files) = {details / admin:.2f}x the changelist",
                f"{details:.0f}",
                str(details_errors),
                f"{details / trivial:.2f}x",
                ">= 3x the changelist",
            ],
            [
                "signed-in floor (password change done)",
                f"{floor:.0f}",
                str(floor_errors),
                f"{floor / trivial:.2f}x",
                "",
            ],
            [
                "unchanged poll (304)",
                f"{unchanged:.0f}",
                str(poll_errors),
                f"{unchanged / trivial:.2f}x",
                ">= 0.50x /healthz/",
            ],
        ],
    )


if __name__ == "__main__":
    main()
