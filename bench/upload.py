"""Benchmark: a tus upload through the portal against a plain buffered write of the
same bytes to the same disk.

    .venv/bin/python bench/upload.py [--size-mib 1024] [--chunk-mib 64]

Starts the portal (`manage.py runserver --noreload`) on a free port of 127.0.0.1 with a
throwaway database and media folder (bench/_scratch.py), signs in as a partner through the sign-in
page, and delivers a generated file with tuspy (the real tus client) in chunks: the
server streams it to staging, computes MD5 and xxHash64 as bytes arrive, and moves it
into storage. Then, in the same run and folder, it copies the same source file with
plain buffered writes (1 MiB reads and writes, no hashing). Both read the source from
the page cache. Target: tus at least 50% of the plain write's throughput.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import _scratch

MIB = 1024 * 1024
PASSWORD = "bench-password-not-secret"


def sign_in(base: str, username: str) -> dict[str, str]:
    """Signs in through the sign-in page, as a person does: the headers a browser sends."""
    import requests

    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=10)
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunk-mib", type=int, default=64, help="tus PATCH size")
    options = parser.parse_args()
    label = _scratch.setup(debug=True)
    from tusclient import client as tus_client

    from deliveries.models import DeliveryRequest

    size = options.size_mib * MIB
    scratch = Path(_scratch.SCRATCH)
    source = scratch / "source.bin"
    print(f"Generating {options.size_mib} MiB in {scratch} ({label}) ...")
    expected_md5 = _scratch.random_file(source, size)
    user = _scratch.partner_admin("Bench Post", password=PASSWORD, role="uploader")
    request_id, username = _scratch.open_request(user).pk, user.username
    with _scratch.runserver() as port:
        base = f"http://127.0.0.1:{port}"
        uploader = tus_client.TusClient(f"{base}/uploads/", headers=sign_in(base, username))
        upload = uploader.uploader(
            str(source),
            chunk_size=options.chunk_mib * MIB,
            metadata={"request": str(request_id), "filename": "bench_master.mov"},
        )
        os.sync()
        started = time.perf_counter()
        upload.upload()
        tus_seconds = time.perf_counter() - started
    delivered = DeliveryRequest.objects.get(pk=request_id).files.get()
    assert delivered.md5 == expected_md5, "the delivered file differs from the source"

    os.sync()
    (scratch / "media").mkdir(exist_ok=True)
    plain_seconds = plain_write(source, scratch / "media" / "plain-copy.bin")

    tus_rate = size / MIB / tus_seconds
    plain_rate = size / MIB / plain_seconds
    print(f"tus upload (MD5 + xxHash64, into storage): {tus_rate:8.1f} MiB/s")
    print(f"plain buffered write of the same bytes:     {plain_rate:8.1f} MiB/s")
    print(f"ratio tus / plain: {tus_rate / plain_rate:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
