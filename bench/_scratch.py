"""A scratch database and media folder for one benchmark run; never the project's.

SQLite (the default): a file in a temporary folder. With DATABASE_URL=postgres://…,
a separate database `bench_portal` on that server, created now and dropped at exit.
Import this module before Django; call setup() to migrate and get the database label.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes.util
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DATABASE = "bench_portal"
SCRATCH = tempfile.mkdtemp(prefix="portal-bench-")


def _postgres(url: str) -> str:
    import psycopg

    parts = urlsplit(url)
    # Named after the database given, so that two people benchmarking against one
    # server (each with their own DATABASE_URL) never drop each other's.
    given = parts.path.strip("/")
    bench_database = f"{BENCH_DATABASE}_{given}" if given else BENCH_DATABASE
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {bench_database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {bench_database}")

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {bench_database} WITH (FORCE)")

    atexit.register(drop)
    return urlunsplit(parts._replace(path=f"/{bench_database}"))


def configure(debug: bool = False, in_memory: bool = False) -> str:
    """Point the settings at scratch places (`debug`: DJANGO_DEBUG, as runserver wants
    it: plain HTTP, static files from static/; `in_memory`: an SQLite database in this
    process's memory, for a bench that serves nothing). Returns the database's label."""
    atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
    url = os.environ.get("DATABASE_URL", "")
    if in_memory:
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
        label = "SQLite in memory"
    elif url.startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = _postgres(url)
        label = "PostgreSQL"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}/bench.sqlite3"
        label = "SQLite"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_SECRET_KEY": "bench-only-not-secret",
            "DJANGO_DEBUG": "1" if debug else "",
            "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": f"{SCRATCH}/static",
            "PORTAL_VAR_DIR": SCRATCH,
            "PORTAL_MEDIA_ROOT": f"{SCRATCH}/media",
            "PORTAL_LOG_LEVEL": "WARNING",
        }
    )
    return label


def setup(debug: bool = False, in_memory: bool = False) -> str:
    label = configure(debug, in_memory)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    return label


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def jemalloc() -> str | None:
    """jemalloc's library name when this machine has it (Debian: libjemalloc2): README's
    "Running in production" preloads it into gunicorn."""
    return ctypes.util.find_library("jemalloc")


@contextlib.contextmanager
def gunicorn(workers: int = 2, extra: tuple[str, ...] = ()) -> Iterator[int]:
    """The portal under gunicorn on a free loopback port, as production runs it.
    Yields the port once /healthz/ answers."""
    with gunicorn_process(workers, extra) as (port, _server):
        yield port


@contextlib.contextmanager
def gunicorn_process(
    workers: int = 2, extra: tuple[str, ...] = (), allocator: str = "jemalloc"
) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn() that also yields the arbiter's process (to measure its memory, say).
    `allocator`: "jemalloc" preloads it as production does, when this machine has it
    (else glibc's, with a warning); "glibc" keeps glibc's malloc."""
    from django.db import connections

    connections.close_all()  # the server's workers open their own
    env = os.environ.copy()
    if allocator == "jemalloc":
        library = jemalloc()
        if library is None:
            print("warning: no jemalloc here (apt-get install libjemalloc2): glibc's malloc")
        else:
            env["LD_PRELOAD"] = library
    port = free_port()
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "portal.wsgi:application",
            "--workers",
            str(workers),
            *extra,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=str(ROOT),
        env=env,
    )
    try:
        _wait_until_answering(port)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def runserver() -> Iterator[int]:
    """Django's development server (after setup(debug=True)) on a free loopback port.
    Yields the port once /healthz/ answers."""
    from django.db import connections

    connections.close_all()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=str(ROOT),
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_answering(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_until_answering(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the portal did not start")


def partner_admin(
    organization: str = "Lumen Post", password: str | None = None, role: str = "admin"
):
    """A partner user of `organization`: its Admin, or the `role` given ("uploader")."""
    from django.contrib.auth import get_user_model

    from deliveries.models import Membership, Organization

    org, _created = Organization.objects.get_or_create(name=organization)
    user = get_user_model().objects.create_user(username=f"bench-{org.pk}", password=password)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def open_request(user, asset_type: str = "primary_video", name: str = "Primary Video"):
    """An Open request of `user`'s (first) organization, due in 2030."""
    import datetime

    from deliveries.models import DeliveryRequest, Title

    return DeliveryRequest.objects.create(
        organization=user.memberships.first().organization,
        title=Title.objects.create(name="Bench Title"),
        name=name,
        asset_type=asset_type,
        due_date=datetime.date(2030, 1, 1),
    )


def random_file(path: Path, size: int) -> str:
    """`size` bytes that differ from MiB to MiB, written without holding them all;
    returns their MD5."""
    mib = 1024 * 1024
    block = bytearray(os.urandom(mib))
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "wb") as handle:
        for index in range(0, size, mib):
            block[:8] = index.to_bytes(8, "big")
            piece = memoryview(block)[: min(mib, size - index)]
            handle.write(piece)
            md5.update(piece)
    return md5.hexdigest()


def median_seconds(action: Callable[[], object], repeat: int, warm: int = 3) -> float:
    for _ in range(warm):
        action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).rjust(width) for cell, width in zip(line, widths, strict=True)))
