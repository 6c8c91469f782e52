"""Benchmark: the portal's tus server against the tus project's own Node.js server
(`@tus/server` with `@tus/file-store`), driven by the same client in the same run.

    .venv/bin/python bench/tus_peer.py                       # 256 MiB, 1,000 files (2 cores)
    .venv/bin/python bench/tus_peer.py --big-mib 1024 --files 10000     # the issue's sizes
    .venv/bin/python bench/tus_peer.py --skip-big --skip-small --sequence 250000  # 250,000 frames
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME .venv/bin/python bench/tus_peer.py

Installs the two npm packages into a scratch folder (`--peer-dir`, never the app) unless
they are there already, and starts them beside the portal, which runs under gunicorn as
production does (`-c portal/gunicorn.conf.py`, 2 workers of 8 threads,
`DATABASE_CONN_MAX_AGE=60`, jemalloc preloaded when the machine has it; `--allocator
glibc` for glibc's malloc). Both store on the same disk. Then, for each server in turn:

- one big file with tuspy in large PATCHes (`--chunk-mib`): MiB/s. The portal also
  computes MD5 and xxHash64 and moves the file into storage; the peer stores bytes only.
- many small files (16-bit DPX frames of about `--size-kib`, an image sequence), each
  one creation-with-upload POST, from `--clients` threads: files/s and failures (any
  answer but 201 Created).
- with `--sequence N`, an image sequence of N frames (`--sequence-kib` each) delivered
  to the portal alone: files/s, time, failures, checksums, memory growth.
- the servers' resident memory (all their processes) before and at the peak of each
  part: the growth while uploading, once each server has taken a few hundred small
  files (a new worker's first requests import the upload code and PyAV).

Prints each figure and the ratio portal / peer (target ≥ 1.0, growth < 50 MB), and
checks that every file the portal took is in the database with both checksums.
Runs in a scratch database (see bench/_scratch.py): SQLite, or PostgreSQL with
DATABASE_URL.
"""

from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import _scratch

MIB = 1024 * 1024
# Enough for every thread of every worker to have taken a request.
WARM_UP_FILES = 200
PEER_PACKAGES = ("@tus/server@2", "@tus/file-store@2")
PEER_SERVER = """\
import http from "node:http";
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";

const [port, directory] = process.argv.slice(2);
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
http.createServer((req, res) => tus.handle(req, res)).listen(Number(port), "127.0.0.1");
"""


def install_peer(folder: Path) -> Path:
    script = folder / "peer.mjs"
    if not (folder / "node_modules" / "@tus" / "file-store").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", *PEER_PACKAGES],
            cwd=folder,
            check=True,
        )
    script.write_text(PEER_SERVER)
    return script


@contextlib.contextmanager
def peer_server(script: Path, store: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    store.mkdir(parents=True, exist_ok=True)
    port = _scratch.free_port()
    server = subprocess.Popen(["node", str(script), str(port), str(store)], cwd=script.parent)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(
                    urllib.request.Request(f"http://127.0.0.1:{port}/files", method="OPTIONS"),
                    timeout=1,
                )
                break
            except OSError:
                time.sleep(0.1)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=10)


def tree_rss(root: int) -> int:
    """Resident bytes of a process and all its descendants (gunicorn's workers)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


class MemoryWatch:
    """Samples a process tree's resident memory while a part runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = tree_rss(pid)
        self.peak = self.before
        # (seconds since the start, resident bytes), one a second: the shape of growth.
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        started = time.perf_counter()
        while not self._stop.wait(0.1):
            now = tree_rss(self.pid)
            self.peak = max(self.peak, now)
            elapsed = time.perf_counter() - started
            if not self.samples or elapsed - self.samples[-1][0] >= 1:
                self.samples.append((elapsed, now))

    def growth_by_quarter(self) -> list[float]:
        """MB above the start at a quarter, half, three quarters and the end of the run."""
        if not self.samples:
            return []
        end = self.samples[-1][0]
        return [
            (next(rss for t, rss in self.samples if t >= end * k / 4) - self.before) / 1e6
            for k in (1, 2, 3, 4)
        ]

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self.pid))

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1e6


def dpx_frame(size: int) -> bytes:
    """One 16-bit RGB DPX frame of about `size` bytes, as picture-mastering sequences
    hold them: the portal's early verdict reads its header, as it would a real one."""
    from deliveries.management import samples

    side = max(16, int((size / 6) ** 0.5))
    return samples.dpx_frame(side, side, noise=True)


def metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def big_file(endpoint: str, headers: dict[str, str], source: Path, chunk: int, meta: dict) -> float:
    from tusclient import client as tus_client

    uploader = tus_client.TusClient(endpoint, headers=headers).uploader(
        str(source), chunk_size=chunk, metadata=meta
    )
    started = time.perf_counter()
    uploader.upload()
    return time.perf_counter() - started


def small_files(
    endpoint: str,
    headers: dict[str, str],
    data: bytes,
    count: int,
    clients: int,
    meta: Callable[[int], dict[str, str]],
) -> tuple[float, collections.Counter[int], dict[int, str]]:
    import requests

    answers: collections.Counter[int] = collections.Counter()
    examples: dict[int, str] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(number: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            for n in range(number, count, clients):
                try:
                    answer = http.post(
                        endpoint,
                        data=data,
                        headers={
                            **headers,
                            "Tus-Resumable": "1.0.0",
                            "Content-Type": "application/offset+octet-stream",
                            "Upload-Length": str(len(data)),
                            "Upload-Metadata": metadata(meta(n)),
                        },
                        timeout=120,
                    )
                    status, text = answer.status_code, answer.text[:200]
                except requests.RequestException as error:
                    status, text = 0, repr(error)[:200]
                with lock:
                    answers[status] += 1
                    examples.setdefault(status, text)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, answers, examples


def signed_in(user) -> dict[str, str]:
    from django.conf import settings
    from django.test import Client
    from django.utils.crypto import get_random_string

    browser = Client()
    browser.force_login(user)
    token = get_random_string(32)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}",
        "X-CSRFToken": token,
    }


def deliver_sequence(
    options: argparse.Namespace,
    portal_url: str,
    headers: dict[str, str],
    portal_pid: int,
    new_request: Callable[[str], Any],
) -> bool:
    """A whole image sequence delivered to the portal alone (the peer's per-file cost
    is measured by the small files): its rate, and whether every frame arrived with
    both checksums. Returns whether it failed."""
    data = dpx_frame(options.sequence_kib * 1024)
    sequence = new_request("image_sequence")
    count = options.sequence
    print(
        f"delivering {count:,} DPX frames of {len(data) // 1024} KiB to the portal "
        f"({options.allocator})…"
    )

    def frame(n: int) -> dict[str, str]:
        return {"request": str(sequence.pk), "filename": f"reel1_{n:07d}.dpx"}

    with MemoryWatch(portal_pid) as memory:
        seconds, answers, examples = small_files(
            portal_url, headers, data, count, options.clients, frame
        )
    files = sequence.files
    delivered = files.count()
    unhashed = files.filter(md5="").count() + files.filter(xxh64="").count()
    print(
        f"sequence of {count:,} frames: {delivered:,} delivered in {seconds / 60:.1f} min, "
        f"{count / seconds:.0f} files/s, {count - answers[201]} failed, {unhashed} checksums "
        f"missing, memory growth {memory.growth_mb:+.0f} MB"
    )
    quarters = ", ".join(f"{growth:+.0f}" for growth in memory.growth_by_quarter())
    print(f"  memory growth at each quarter of the run: {quarters} MB")
    for status, number in sorted(answers.items()):
        if status != 201:
            print(f"  portal: {number} answered {status}: {examples[status]!r}")
    return delivered != count or bool(unhashed) or answers[201] != count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=256, help="the big file (issue: 1024)")
    parser.add_argument("--chunk-mib", type=int, default=64, help="tus PATCH size")
    parser.add_argument("--files", type=int, default=1000, help="small files (issue: 10000)")
    parser.add_argument("--size-kib", type=int, default=64, help="size of each small file")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--peer-dir", default="/tmp/portal-tus-peer")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument(
        "--sequence",
        type=int,
        default=0,
        help="then deliver an image sequence of this many frames to the portal alone "
        "(issue: 250000), printing its rate",
    )
    parser.add_argument("--sequence-kib", type=int, default=16, help="size of each frame")
    parser.add_argument(
        "--allocator",
        choices=("jemalloc", "glibc"),
        default="jemalloc",
        help="the portal's malloc: jemalloc preloaded as in production (README), or glibc's",
    )
    options = parser.parse_args()
    if options.allocator == "jemalloc" and _scratch.jemalloc() is None:
        options.allocator = "glibc (no jemalloc here)"
    label = _scratch.setup()
    # As README's "Running in production" runs it: each thread keeps its connection.
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "60")

    from deliveries.models import DeliveryRequest

    script = install_peer(Path(options.peer_dir))
    user = _scratch.partner_admin()

    def new_request(asset_type: str) -> DeliveryRequest:
        return _scratch.open_request(user, asset_type, asset_type)

    scratch = Path(_scratch.SCRATCH)
    source = scratch / "source.bin"
    headers = signed_in(user)
    rows: list[list[str]] = []
    failed = False
    with (
        _scratch.gunicorn_process(
            workers=options.workers,
            extra=("-c", "portal/gunicorn.conf.py"),
            allocator=options.allocator,
        ) as (portal_port, portal),
        peer_server(script, scratch / "peer-store") as (peer_port, peer),
    ):
        portal_url = f"http://127.0.0.1:{portal_port}/uploads/"
        peer_url = f"http://127.0.0.1:{peer_port}/files"
        # Memory is watched from a server that has served: the first requests of a new
        # worker import the upload views and PyAV (some 40 MB in all), which is start-up,
        # not growth while uploading.
        warm_up = new_request("image_sequence")
        warm_data = dpx_frame(16 * 1024)

        def warm_frame(n: int) -> dict[str, str]:
            return {"request": str(warm_up.pk), "filename": f"warm_{n:04d}.dpx"}

        small_files(peer_url, {}, warm_data, WARM_UP_FILES, options.clients, warm_frame)
        small_files(portal_url, headers, warm_data, WARM_UP_FILES, options.clients, warm_frame)
        if not options.skip_big:
            size = options.big_mib * MIB
            expected = _scratch.random_file(source, size)
            video = new_request("primary_video")
            meta = {"request": str(video.pk), "filename": "bench_master.mov"}
            os.sync()
            with MemoryWatch(peer.pid) as peer_memory:
                peer_seconds = big_file(peer_url, {}, source, options.chunk_mib * MIB, meta)
            os.sync()
            with MemoryWatch(portal.pid) as portal_memory:
                portal_seconds = big_file(
                    portal_url, headers, source, options.chunk_mib * MIB, meta
                )
            delivered = video.files.get()
            if delivered.md5 != expected or not delivered.xxh64:
                print(f"  the portal's checksums are wrong or missing: {delivered.md5!r}")
                failed = True
            portal_rate, peer_rate = size / MIB / portal_seconds, size / MIB / peer_seconds
            rows.append(
                [
                    f"one {options.big_mib} MiB file, MiB/s",
                    f"{portal_rate:.0f}",
                    f"{peer_rate:.0f}",
                    f"{portal_rate / peer_rate:.2f}",
                    f"{portal_memory.growth_mb:+.0f} / {peer_memory.growth_mb:+.0f}",
                ]
            )
            source.unlink()
            shutil.rmtree(scratch / "peer-store", ignore_errors=True)
            (scratch / "peer-store").mkdir()
        if not options.skip_small:
            data = dpx_frame(options.size_kib * 1024)
            sequence = new_request("image_sequence")

            def frame(n: int) -> dict[str, str]:
                return {"request": str(sequence.pk), "filename": f"frame_{n:07d}.dpx"}

            with MemoryWatch(peer.pid) as peer_memory:
                peer_seconds, peer_answers, peer_examples = small_files(
                    peer_url, {}, data, options.files, options.clients, frame
                )
            with MemoryWatch(portal.pid) as portal_memory:
                portal_seconds, portal_answers, portal_examples = small_files(
                    portal_url, headers, data, options.files, options.clients, frame
                )
            portal_failures = options.files - portal_answers[201]
            peer_failures = options.files - peer_answers[201]
            portal_rate = options.files / portal_seconds
            peer_rate = options.files / peer_seconds
            rows.append(
                [
                    f"{options.files} DPX frames of {len(data) // 1024} KiB, files/s",
                    f"{portal_rate:.0f} ({portal_failures} failed)",
                    f"{peer_rate:.0f} ({peer_failures} failed)",
                    f"{portal_rate / peer_rate:.2f}",
                    f"{portal_memory.growth_mb:+.0f} / {peer_memory.growth_mb:+.0f}",
                ]
            )
            for name, answers, examples in (
                ("portal", portal_answers, portal_examples),
                ("peer", peer_answers, peer_examples),
            ):
                for status, count in sorted(answers.items()):
                    if status != 201:
                        print(f"  {name}: {count} answered {status}: {examples[status]!r}")
            files = sequence.files
            unhashed = files.filter(md5="").count() + files.filter(xxh64="").count()
            if files.count() != portal_answers[201] or unhashed or portal_failures:
                print(f"  portal: {files.count()} files delivered, {unhashed} checksums missing")
                failed = True

        if options.sequence:
            failed |= deliver_sequence(options, portal_url, headers, portal.pid, new_request)

    if rows:
        _scratch.table(
            f"tus on {label}: the portal (gunicorn, {options.workers} workers of 8 threads, "
            f"{options.allocator}, MD5 + xxHash64) against @tus/server + @tus/file-store; "
            f"{options.clients} clients for small files",
            ["what", "portal", "@tus/server", "ratio", "memory growth MB portal / peer"],
            rows,
        )
        print("targets: ratio >= 1.0, 0 failures, growth < +50 MB")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
