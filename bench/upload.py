"""Benchmark: a tus upload through the portal against a plain buffered write of the
same bytes to the same disk.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--chunk-mib 64]

Starts the portal (`manage.py runserver --noreload`) on a free port of 127.0.0.1 with a
throwaway SQLite database and media folder, signs in as a partner through the sign-in
page, and delivers a generated file with tuspy (the real tus client) in chunks: the
server streams it to staging, computes MD5 and xxHash64 as bytes arrive, and moves it
into storage. Then, in the same run and folder, it copies the same source file with
plain buffered writes (1 MiB reads and writes, no hashing). Both read the source from
the page cache. Target: tus at least 50% of the plain write's throughput.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="portal-upload-bench-"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_DEBUG": "1",  # runserver on plain HTTP, no HTTPS redirect
    "DATABASE_URL": f"sqlite:///{SCRATCH / 'bench.sqlite3'}",
    "PORTAL_VAR_DIR": str(SCRATCH),
    "PORTAL_MEDIA_ROOT": str(SCRATCH / "media"),
    "PORTAL_LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from tusclient import client as tus_client  # noqa: E402

from deliveries.models import DeliveryRequest, Membership, Organization, Title  # noqa: E402

MIB = 1024 * 1024
PASSWORD = "bench-password-not-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def generate(path: Path, size: int) -> str:
    """Bytes that differ from MiB to MiB, written without holding them; returns the MD5."""
    block = bytearray(os.urandom(MIB))
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "wb") as handle:
        for index in range(0, size, MIB):
            block[:8] = index.to_bytes(8, "big")
            piece = memoryview(block)[: min(MIB, size - index)]
            handle.write(piece)
            md5.update(piece)
    return md5.hexdigest()


def seed() -> int:
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench-uploader", password=PASSWORD)
    organization = Organization.objects.create(name="Bench Post")
    Membership.objects.create(user=user, organization=organization, role="uploader")
    request = DeliveryRequest.objects.create(
        organization=organization,
        title=Title.objects.create(name="Bench Title"),
        name="Primary Video",
        asset_type="primary_video",
        due_date=datetime.date(2030, 1, 1),
    )
    return request.pk


def serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the portal did not start")


def sign_in(base: str) -> dict[str, str]:
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": "bench-uploader", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
    )
    answer.raise_for_status()
    cookies = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    return {"Cookie": cookies, "X-CSRFToken": session.cookies["csrftoken"]}


def plain_write(source: Path, target: Path) -> float:
    started = time.perf_counter()
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(MIB):
            writer.write(chunk)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=64, help="tus PATCH size")
    options = parser.parse_args()
    size = options.size_mib * MIB
    source = SCRATCH / "source.bin"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    try:
        print(f"Generating {options.size_mib} MiB in {SCRATCH} ...")
        expected_md5 = generate(source, size)
        request_id = seed()
        server = serve(port)
        headers = sign_in(base)
        uploader = tus_client.TusClient(f"{base}/uploads/", headers=headers).uploader(
            str(source),
            chunk_size=options.chunk_mib * MIB,
            metadata={"request": str(request_id), "filename": "bench_master.mov"},
        )
        os.sync()
        started = time.perf_counter()
        uploader.upload()
        tus_seconds = time.perf_counter() - started
        delivered = DeliveryRequest.objects.get(pk=request_id).files.get()
        assert delivered.md5 == expected_md5, "the delivered file differs from the source"

        os.sync()
        plain_seconds = plain_write(source, SCRATCH / "media" / "plain-copy.bin")

        tus_rate = size / MIB / tus_seconds
        plain_rate = size / MIB / plain_seconds
        print(f"tus upload (MD5 + xxHash64, into storage): {tus_rate:8.1f} MiB/s")
        print(f"plain buffered write of the same bytes:     {plain_rate:8.1f} MiB/s")
        print(f"ratio tus / plain: {tus_rate / plain_rate:.2f} (target >= 0.50)")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
