"""Deliver files to a request from a terminal, over tus, resuming where a run stopped.

    .venv/bin/python scripts/deliver.py --portal https://portal.example.com \\
        --user partner-uploader --request 42 reel_01.mov reel_02.mov checksum.txt

Signs in through the sign-in page (password from PORTAL_PASSWORD, or asked), uploads
each file with tuspy in chunks, then tells the portal the delivery is complete, which
submits a request that submits automatically. An interrupted run picks up where it
stopped when started again with the same files: tuspy keeps each upload's address in
~/.portal-uploads.json, keyed by the file's fingerprint, and asks the server (HEAD)
how many bytes it already has.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.storage import filestorage

CHUNK = 64 * 1024 * 1024


def sign_in(portal: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    login = f"{portal}/accounts/login/"
    session.get(login, timeout=30).raise_for_status()
    answer = session.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": login},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"Sign-in refused for {username} (HTTP {answer.status_code}).")
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portal", required=True, help="e.g. https://portal.example.com")
    parser.add_argument("--user", required=True)
    parser.add_argument("--request", required=True, type=int, help="the request's number")
    parser.add_argument("files", nargs="+", type=Path)
    options = parser.parse_args()
    portal = options.portal.rstrip("/")
    password = os.environ.get("PORTAL_PASSWORD") or getpass.getpass(f"{options.user}'s password: ")
    session = sign_in(portal, options.user, password)
    # The session cookie signs us in; the CSRF header (and, over HTTPS, a same-origin
    # Referer) is what Django asks of every cookie-authenticated change.
    headers = {
        "Cookie": "; ".join(f"{name}={value}" for name, value in session.cookies.items()),
        "X-CSRFToken": session.cookies["csrftoken"],
        "Referer": f"{portal}/",
    }
    tus = tus_client.TusClient(f"{portal}/uploads/", headers=headers)
    storage = filestorage.FileStorage(str(Path.home() / ".portal-uploads.json"))
    failed = 0
    for path in options.files:
        uploader = tus.uploader(
            str(path),
            chunk_size=CHUNK,
            metadata={"request": str(options.request), "filename": path.name},
            store_url=True,
            url_storage=storage,
            retries=5,
            retry_delay=5,
        )
        try:
            uploader.upload()
        except (TusCommunicationError, TusUploadFailed) as error:
            body = getattr(error, "response_content", b"") or b""
            print(f"{path.name}: refused: {body.decode(errors='replace') or error}")
            failed += 1
            continue
        print(f"{path.name}: delivered ({path.stat().st_size} bytes)")
    if failed:
        sys.exit(f"{failed} file(s) not delivered; the delivery is not complete.")
    answer = session.post(
        f"{portal}/requests/{options.request}/delivery-complete/",
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{portal}/"},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        sys.exit(f"Delivery complete was refused (HTTP {answer.status_code}).")
    print("Delivery complete.")


if __name__ == "__main__":
    main()
