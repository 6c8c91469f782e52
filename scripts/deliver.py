"""Deliver files to a request from a terminal, over tus, resuming where a run stopped.

    .venv/bin/python scripts/deliver.py --portal https://portal.example.com \\
        --user partner-uploader --request 42 reel_01.mov reel_02.mov checksum.txt

Signs in through the sign-in page (password from PORTAL_PASSWORD, or asked), uploads
each file with tuspy in chunks, then tells the portal the delivery is complete, which
submits a request that submits automatically. An interrupted run picks up where it
stopped when started again with the same files: tuspy keeps each upload's address in
~/.portal-uploads.json, keyed by the portal, user, request, file name and the file's
size, modification time and first 64 KiB, and asks the server (HEAD) how many bytes
it already has. A delivered file's address is forgotten, so delivering it again
later uploads it again.
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
from tusclient.fingerprint import fingerprint
from tusclient.storage import filestorage

CHUNK = 64 * 1024 * 1024


class OneFileOfOneDelivery(fingerprint.Fingerprint):
    """tuspy's fingerprint (the size and the first 64 KiB) narrowed to one file of one
    delivery: two identical frames, or the same file sent to another request, must
    never resume each other's upload."""

    def __init__(self, delivery: str, path: Path) -> None:
        self.delivery = delivery
        self.path = path

    def get_fingerprint(self, fs) -> str:
        content = super().get_fingerprint(fs)
        modified = self.path.stat().st_mtime_ns
        return f"{self.delivery}|name:{self.path.name}|mtime:{modified}|{content}"

    def of_file(self) -> str:
        with open(self.path, "rb") as stream:
            return self.get_fingerprint(stream)


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
        fingerprinter = OneFileOfOneDelivery(
            f"{portal}|user:{options.user}|request:{options.request}", path
        )

        def uploader_for(path=path, fingerprinter=fingerprinter):
            return tus.uploader(
                str(path),
                chunk_size=CHUNK,
                metadata={"request": str(options.request), "filename": path.name},
                store_url=True,
                url_storage=storage,
                fingerprinter=fingerprinter,
                retries=5,
                retry_delay=5,
            )

        try:
            uploader = uploader_for()
        except TusCommunicationError:
            # The upload kept from an earlier run is gone (expired or cancelled): the
            # server no longer knows it. Start this file again.
            storage.remove_item(fingerprinter.of_file())
            uploader = uploader_for()
        try:
            uploader.upload()
        except (TusCommunicationError, TusUploadFailed) as error:
            body = getattr(error, "response_content", b"") or b""
            print(f"{path.name}: refused: {body.decode(errors='replace') or error}")
            failed += 1
            continue
        storage.remove_item(fingerprinter.of_file())
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
