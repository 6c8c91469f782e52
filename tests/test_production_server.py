"""The production server command (portal/gunicorn.conf.py) keeps an upload going for
longer than gunicorn's worker timeout: the upload is one long request per file."""

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xxhash
from django.conf import settings
from django.db import connection
from tusclient import client as tus_client

from deliveries.uploads.models import Upload

from .tus import TUS, encode_metadata, signed_in_headers

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 3  # seconds; the upload below takes about three times as long


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_gunicorn(tmp_path: Path, *options: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the session this test signs in with
        "DJANGO_DEBUG": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "PORTAL_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "-c",
            "portal/gunicorn.conf.py",
            "portal.wsgi:application",
            *options,
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(150):
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/healthz/")
            if probe.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.terminate()
        pytest.fail("gunicorn did not answer /healthz/ within 15 s")
    return process, port


@pytest.fixture
def server(transactional_db, tmp_path):
    process, port = start_gunicorn(tmp_path, "--workers", "1", "--timeout", str(TIMEOUT))
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_upload_longer_than_the_worker_timeout_completes(server, admin_user, make_request):
    request = make_request(files=0)
    headers = {**signed_in_headers(admin_user, origin=f"http://127.0.0.1:{server}"), **TUS}
    size, pieces = 3 * 1024 * 1024, 12
    fields = encode_metadata({"request": str(request.pk), "name": "slow_file.mov"})
    conn = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    conn.request(
        "POST",
        "/uploads/",
        headers={**headers, "Upload-Length": str(size), "Upload-Metadata": fields},
    )
    created = conn.getresponse()
    created.read()
    assert created.status == 201, created.status
    path = "/" + created.getheader("Location").split("/", 3)[3]

    conn.putrequest("PATCH", path)
    for name, value in {
        **headers,
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
        "Content-Length": str(size),
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    started = time.monotonic()
    for _ in range(pieces):  # a slow line: the bytes trickle in over ~3x the timeout
        conn.send(b"x" * (size // pieces))
        time.sleep(TIMEOUT * 3 / pieces)
    answer = conn.getresponse()
    answer.read()
    assert time.monotonic() - started > TIMEOUT * 2
    assert answer.status == 204, answer.status
    assert answer.getheader("Upload-Offset") == str(size)
    delivered = request.files.get(name="slow_file.mov")
    assert delivered.size == size
    assert not Upload.objects.filter(offset__lt=size).exists()


@pytest.mark.parametrize(
    ("chunk", "patches"),
    [(64 * 1024, 96), (5 * 1024 * 1024 // 4, 40)],
    ids=["small PATCHes, read at once", "large PATCHes, hashed as they are written"],
)
def test_a_file_whose_patches_two_worker_processes_took_has_both_checksums(
    transactional_db, tmp_path, admin_user, make_request, chunk, patches
):
    # Each PATCH is a new connection (keepalive 0), so the two workers share them; a
    # worker's running hashes are then behind, and must catch up from the staged bytes.
    log = tmp_path / "access.log"
    process, port = start_gunicorn(
        tmp_path,
        "--workers",
        "2",
        "--access-logfile",
        str(log),
        "--access-logformat",
        "%(p)s %(m)s %(s)s",
    )
    try:
        request = make_request(files=0)
        source = tmp_path / "reel.mov"
        source.write_bytes(
            b"".join(hashlib.sha256(bytes([n])).digest() * (chunk // 32) for n in range(patches))
        )
        uploader = tus_client.TusClient(
            f"http://127.0.0.1:{port}/uploads/",
            headers=signed_in_headers(admin_user, origin=f"http://127.0.0.1:{port}"),
        ).uploader(
            str(source),
            chunk_size=chunk,
            metadata={"request": str(request.pk), "filename": "reel.mov"},
        )
        uploader.upload()
    finally:
        process.terminate()
        process.wait(timeout=10)
    taken = [line.split() for line in log.read_text().splitlines() if " PATCH " in line]
    assert len(taken) == patches and {status for _pid, _m, status in taken} == {"204"}
    assert len({pid for pid, _m, _status in taken}) == 2, "one worker took every PATCH"
    delivered = request.files.get(name="reel.mov")
    data = source.read_bytes()
    assert delivered.md5 == hashlib.md5(data).hexdigest()
    assert delivered.xxh64 == xxhash.xxh64(data).hexdigest()
