"""Deliver files or whole folders to a request from a terminal, over tus, several at a
time, resuming where a run stopped.

    .venv/bin/python scripts/deliver.py --portal https://portal.example.com \\
        --user partner-uploader --request 42 --parallel 8 shot_010/ checksum.txt

Signs in through the sign-in page (password from PORTAL_PASSWORD, or asked), uploads
each file with tuspy in chunks, `--parallel` files at once, then tells the portal the
delivery is complete, which submits a request that submits automatically. A folder
delivers every file in it and below (under its own name: a request's names are flat),
leaving out what file managers leave behind (names starting with a dot, Thumbs.db,
desktop.ini). One line tells the progress: files and bytes done, files/s and MiB/s.
A blocker a file's first bytes already show (the portal's early verdict: a stereo file
in a 5.1 request, say) is told on a line of its own after its first 4 MiB.

An interrupted run picks up where it stopped when started again with the same files:
a file the request holds already is skipped (the portal refuses its name before any
byte is sent), and a started one resumes at the offset the server has (HEAD): tuspy
keeps each upload's address in ~/.portal-uploads.json, keyed by the portal, user,
request, file name and the file's size, modification time and first 64 KiB. A
delivered file's address is forgotten, so delivering it again later uploads it again.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.fingerprint import fingerprint
from tusclient.storage import filestorage

CHUNK = 64 * 1024 * 1024
MIB = 1024 * 1024
SYSTEM_FILES = re.compile(r"^(\..*|Thumbs\.db|desktop\.ini)$", re.IGNORECASE)
# The portal's refusal of a name the request holds already (deliveries/files/naming.py),
# in English: the script asks for English with the language cookie.
TAKEN = re.compile(r"Another file in this request is already named “(.+)”")
# The early verdict (deliveries/uploads/early.py): the portal looks at a file's first
# bytes (at most LAST_LOOK of them) as they arrive, and its answers tell what they
# already show. A file's first chunk is no longer, so a blocker is told after 4 MiB
# instead of after the first 64.
EARLY_LOOK = 4 * MIB
# The files whose blocker is told by name; the progress line counts the rest.
BLOCKERS_TOLD = 3
MORE_BLOCKERS = "More files' first bytes show a blocker: the progress line counts them."
# How often the progress line is written: in place on a terminal, as lines in a log.
TERMINAL_EVERY = 0.5
LOG_EVERY = 10.0


class OneFileOfOneDelivery(fingerprint.Fingerprint):
    """tuspy's fingerprint (the size and the first 64 KiB) narrowed to one file of one
    delivery: two identical frames, or the same file sent to another request, must
    never resume each other's upload."""

    def __init__(self, delivery: str, path: Path) -> None:
        self.delivery = delivery
        self.path = path

    def get_fingerprint(self, fs: IO[bytes]) -> str:
        content = super().get_fingerprint(fs)
        modified = self.path.stat().st_mtime_ns
        return f"{self.delivery}|name:{self.path.name}|mtime:{modified}|{content}"

    def of_file(self) -> str:
        with open(self.path, "rb") as stream:
            return self.get_fingerprint(stream)


class SharedStorage(filestorage.FileStorage):
    """tuspy's file of upload addresses, shared by the upload threads: TinyDB, under
    it, is not safe to write from two threads at once."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.lock = threading.Lock()
        try:
            self._db.all()
        except ValueError:
            # Half written when a run was killed: set aside, and start without it.
            # Files delivered since are skipped by name; started ones start again.
            self._db.close()
            aside = f"{path}.unreadable"
            os.replace(path, aside)
            print(f"{path} could not be read; moved to {aside}.", file=sys.stderr)
            super().__init__(path)

    def get_item(self, key: str) -> Any:
        with self.lock:
            return super().get_item(key)

    def set_item(self, key: str, url: str) -> None:
        with self.lock:
            super().set_item(key, url)

    def remove_item(self, key: str) -> None:
        with self.lock:
            super().remove_item(key)


class Progress:
    """Counts of the whole delivery, and the one line that shows them."""

    def __init__(self, files: int, size: int, stream: IO[str]) -> None:
        self.files = files
        self.size = size
        self.stream = stream
        self.in_place = stream.isatty()
        self.lock = threading.Lock()
        self.delivered = self.skipped = self.failed = 0
        self.blocked = 0  # files whose first bytes showed a blocker
        self.bytes_done = 0  # of delivered and skipped files, and chunks sent
        self.bytes_sent = 0  # by this run
        self.started = time.monotonic()
        self.written = 0.0

    def sent(self, count: int) -> None:
        with self.lock:
            self.bytes_done += count
            self.bytes_sent += count
        self.show()

    def resumed(self, count: int) -> None:
        """Bytes an earlier run sent: done, but not this run's speed."""
        with self.lock:
            self.bytes_done += count

    def finished(self, how: str, size: int = 0) -> None:
        with self.lock:
            setattr(self, how, getattr(self, how) + 1)
            self.bytes_done += size
        self.show()

    def blocker(self, message: str) -> None:
        """A file whose first bytes show a blocker: told for the first few, counted on
        the progress line for all (a folder of 10,000 frames of the wrong size is not
        10,000 lines)."""
        with self.lock:
            self.blocked += 1
            if self.blocked <= BLOCKERS_TOLD:
                self._write(message)
            elif self.blocked == BLOCKERS_TOLD + 1:
                self._write(MORE_BLOCKERS)
        self.show()

    def say(self, message: str) -> None:
        """A line about one file, above the progress line."""
        with self.lock:
            self._write(message)
        self.show()

    def _write(self, message: str) -> None:
        self.stream.write(("\r\033[K" if self.in_place else "") + message + "\n")
        self.written = 0.0

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done = self.delivered + self.skipped
        parts = [
            f"{done:,} of {self.files:,} files",
            f"{self.bytes_done / MIB:,.1f} of {self.size / MIB:,.1f} MiB",
            f"{self.delivered / elapsed:,.1f} files/s",
            f"{self.bytes_sent / MIB / elapsed:,.1f} MiB/s",
        ]
        if self.skipped:
            parts.append(f"{self.skipped:,} delivered earlier")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.blocked:
            parts.append(f"{self.blocked:,} with a blocker")
        return " · ".join(parts)

    def show(self, final: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            if not final and now - self.written < (TERMINAL_EVERY if self.in_place else LOG_EVERY):
                return
            self.written = now
            if self.in_place:
                self.stream.write("\r\033[K" + self.line() + ("\n" if final else ""))
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()


def files_of(arguments: Iterable[Path]) -> Iterator[Path]:
    """The files named, and every file inside the folders named, in name order."""
    for argument in arguments:
        if argument.is_dir():
            for path in sorted(argument.rglob("*")):
                if path.is_file() and not SYSTEM_FILES.match(path.name):
                    yield path
        else:
            yield argument


def sign_in(portal: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    # English answers, whatever language the user chose on the site: the script
    # recognises the refusal of a name delivered already by its words.
    session.cookies.set("django_language", "en")
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


class Delivery:
    def __init__(self, options: argparse.Namespace, session: requests.Session) -> None:
        self.options = options
        portal = options.portal.rstrip("/")
        # The session cookie signs us in; the CSRF header (and, over HTTPS, a
        # same-origin Referer) is what Django asks of every cookie-authenticated change.
        headers = {
            "Cookie": "; ".join(f"{name}={value}" for name, value in session.cookies.items()),
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": f"{portal}/",
        }
        self.tus = tus_client.TusClient(f"{portal}/uploads/", headers=headers)
        self.storage = SharedStorage(str(Path.home() / ".portal-uploads.json"))
        self.delivery = f"{portal}|user:{options.user}|request:{options.request}"

    def uploader_for(self, path: Path, fingerprinter: OneFileOfOneDelivery) -> Any:
        return self.tus.uploader(
            str(path),
            chunk_size=CHUNK,
            metadata={"request": str(self.options.request), "filename": path.name},
            store_url=True,
            url_storage=self.storage,
            fingerprinter=fingerprinter,
            retries=5,
            retry_delay=5,
        )

    def deliver(self, path: Path, progress: Progress) -> None:
        fingerprinter = OneFileOfOneDelivery(self.delivery, path)
        size = path.stat().st_size
        try:
            try:
                uploader = self.uploader_for(path, fingerprinter)
            except TusCommunicationError:
                # The upload kept from an earlier run is gone (expired or cancelled):
                # the server no longer knows it. Start this file again.
                self.storage.remove_item(fingerprinter.of_file())
                uploader = self.uploader_for(path, fingerprinter)
            if uploader.url is None:
                uploader.set_url(uploader.create_url())
            resumed_at = uploader.offset
            if resumed_at:
                progress.resumed(resumed_at)
            told = False
            while uploader.offset < size:
                before = uploader.offset
                uploader.chunk_size = EARLY_LOOK if before < EARLY_LOOK else CHUNK
                uploader.upload_chunk()
                progress.sent(uploader.offset - before)
                if not told:
                    told = tell_early(path, uploader.request.response_headers, progress)
        except (TusCommunicationError, TusUploadFailed) as error:
            body = getattr(error, "response_content", b"") or b""
            message = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
            if getattr(error, "status_code", None) == 400 and TAKEN.search(message):
                progress.finished("skipped", size)
                return
            progress.say(f"{path.name}: refused: {message or error}")
            progress.finished("failed")
            return
        except Exception as error:  # any other failure fails this file, not the run
            # Not only the thread's end: a file not delivered must never let the run
            # say "Delivery complete."
            progress.say(f"{path.name}: not delivered: {error!r}")
            progress.finished("failed")
            return
        self.storage.remove_item(fingerprinter.of_file())
        progress.finished("delivered")


def tell_early(path: Path, headers: dict[str, str], progress: Progress) -> bool:
    """Say what the file's first bytes already show, once the portal looked: True
    when it has (nothing more will be told before the full check)."""
    if headers.get("portal-early-check") != "done":
        return False
    try:
        findings = json.loads(unquote(headers.get("portal-early-findings", "") or "[]"))
        blockers = [finding for finding in findings if finding.get("severity") == "blocker"]
        shown = "; ".join(f"{f['label']} · {f['text']} ({f['code']})" for f in blockers)
    except (ValueError, KeyError, TypeError, AttributeError):
        # A courtesy ahead of the full check: findings this script can't read must
        # never stop the upload.
        return True
    if blockers:
        progress.blocker(
            f"{path.name}: its first bytes already show a problem: {shown}. The upload goes "
            "on; if this is not the file to deliver, stop the run (Ctrl-C) and remove the "
            "file from the request."
        )
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--portal", required=True, help="e.g. https://portal.example.com")
    parser.add_argument("--user", required=True)
    parser.add_argument("--request", required=True, type=int, help="the request's number")
    parser.add_argument(
        "--parallel",
        type=int,
        default=4,
        metavar="N",
        help="files uploaded at once (default 4)",
    )
    parser.add_argument("files", nargs="+", type=Path, help="files and folders")
    options = parser.parse_args()
    if options.parallel < 1:
        parser.error("--parallel must be 1 or more")
    missing = [str(path) for path in options.files if not path.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    paths: list[Path] = []
    seen: dict[str, Path] = {}
    for path in files_of(options.files):
        if path.name in seen:
            parser.error(
                f"{path} and {seen[path.name]} have the same name; a request holds each "
                "name once. Rename one, or deliver it to another request."
            )
        seen[path.name] = path
        paths.append(path)
    if not paths:
        parser.error("the folders named hold no file to deliver")
    portal = options.portal.rstrip("/")
    password = os.environ.get("PORTAL_PASSWORD") or getpass.getpass(f"{options.user}'s password: ")
    session = sign_in(portal, options.user, password)
    delivery = Delivery(options, session)
    progress = Progress(len(paths), sum(path.stat().st_size for path in paths), sys.stdout)
    waiting: queue.SimpleQueue[Path] = queue.SimpleQueue()
    for path in paths:
        waiting.put(path)

    def work() -> None:
        while True:
            try:
                path = waiting.get_nowait()
            except queue.Empty:
                return
            delivery.deliver(path, progress)

    # Daemon threads: Ctrl-C ends the run at once; what was sent stays on the server
    # and the next run resumes it.
    threads = [threading.Thread(target=work, daemon=True) for _ in range(options.parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
            progress.show()
    progress.show(final=True)
    if progress.failed:
        sys.exit(f"{progress.failed} file(s) not delivered; the delivery is not complete.")
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
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("\nInterrupted. Run the same command again to resume where it stopped.")
