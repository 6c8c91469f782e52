"""Many people acting on one request at once, against the production server (gunicorn
with portal/gunicorn.conf.py, threads in two processes) on the suite's database.

Every answer is a success or a refusal that says why, never a server error, and each
answer agrees with what the database holds: exactly one of N identical actions wins,
and the history names its author.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from deliveries.models import (
    DeliveredFile,
    DeliveryRequest,
    HistoryEntry,
    Membership,
    ProcessingStatus,
    Redelivery,
    RedeliveryReason,
    Status,
)
from deliveries.uploads import staging
from deliveries.uploads.models import Upload

from .tus import metadata, signed_in_headers

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
PARALLEL = 24  # people acting at once
KIB = 1024
T = TypeVar("T")


# The server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parallel-media")


@pytest.fixture(autouse=True)
def _media_root(settings: Any, media_dir: Path) -> Iterator[None]:
    """Replaces conftest's: this process and the server store in the same folder,
    emptied for each test (the database is)."""
    shutil.rmtree(media_dir)
    media_dir.mkdir()
    settings.MEDIA_ROOT = media_dir
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    yield


@pytest.fixture(scope="module")
def server(
    django_db_setup: None, media_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The production server command, two processes of eight threads, on the test
    database. Yields its base URL."""
    port = _free_port()
    var = tmp_path_factory.mktemp("parallel-var")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the sessions the tests create
        "DJANGO_DEBUG": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(var / "static"),
        "PORTAL_MEDIA_ROOT": str(media_dir),
        "PORTAL_VAR_DIR": str(var),
        "PORTAL_LOG_LEVEL": "WARNING",
        "GUNICORN_THREADS": "8",
        # As production runs (README): a thread keeps its connection between requests.
        "DATABASE_CONN_MAX_AGE": "60",
    }
    # Pages name their static files through the manifest collectstatic writes.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "-c",
            "portal/gunicorn.conf.py",
            "portal.wsgi:application",
            "--workers",
            "2",
            "--timeout",
            "60",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(300):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/healthz/")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer /healthz/ within 30 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


# People and their browsers ---------------------------------------------------------


@pytest.fixture
def team(django_user_model: Any, org: Any) -> list[Any]:
    """PARALLEL Admins of the partner, each signed in in their own browser."""
    people = []
    for n in range(PARALLEL):
        user = django_user_model.objects.create_user(username=f"admin-{n:02d}")
        Membership.objects.create(user=user, organization=org, role="admin")
        people.append(user)
    return people


MESSAGE = re.compile(r'<p class="message message-(\w+)">(.*?)</p>', re.S)


@dataclass
class Answer:
    status: int
    text: str  # htmx: the fragments answered; a plain form: the page it redirected to
    redirected: bool = False

    @property
    def successes(self) -> list[str]:
        """The success messages shown to this person."""
        return [text for tag, text in MESSAGE.findall(self.text) if tag == "success"]


# Generous: on a loaded two-core machine 24 parallel actions of one kind, each with a
# few SQLite write transactions taken in turn, have taken over a minute to answer.
TIMEOUT = 180


def post_action(base_url: str, headers: dict[str, str], path: str, data: Any, htmx: bool) -> Answer:
    """POST an action as the page's form does, with htmx or as a plain form."""
    url = base_url + path
    if htmx:
        answer = requests.post(
            url, data=data, headers={**headers, "HX-Request": "true"}, timeout=TIMEOUT
        )
        return Answer(answer.status_code, html.unescape(answer.text))
    answer = requests.post(url, data=data, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    if answer.status_code not in (302, 303):
        return Answer(answer.status_code, html.unescape(answer.text))
    # The message the action left waits in this browser's session: the page shows it.
    page = requests.get(base_url + answer.headers["Location"], headers=headers, timeout=TIMEOUT)
    assert page.status_code == 200, page.status_code
    return Answer(answer.status_code, html.unescape(page.text), redirected=True)


def race(count: int, action: Callable[[int], T]) -> list[T]:
    """Run action(0) … action(count - 1) in threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        try:
            barrier.wait(timeout=30)
            return action(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def assert_no_server_error(answers: list[Answer]) -> None:
    errors = [(n, a.status, a.text[:300]) for n, a in enumerate(answers) if a.status >= 500]
    assert not errors, errors


def split(answers: list[Answer], success: str) -> tuple[list[int], list[int]]:
    """The indexes of the answers that report `success`, and of the others."""
    won = [n for n, a in enumerate(answers) if any(success in m for m in a.successes)]
    return won, [n for n in range(len(answers)) if n not in won]


def assert_refused(answers: list[Answer], indexes: list[int], *messages: str) -> None:
    """Each of these answers is a refusal that says why (a 400 to htmx, a redirect to
    the page showing the message to a plain form)."""
    for n in indexes:
        answer = answers[n]
        assert answer.status == (302 if answer.redirected else 400), (n, answer.status)
        assert not answer.successes, (n, answer.successes)
        assert any(message in answer.text for message in messages), (n, answer.text[:2000])


def prepared(team: list[Any], base_url: str) -> list[dict[str, str]]:
    return [signed_in_headers(user, origin=base_url) for user in team]


# Status changes ------------------------------------------------------------------------


def test_of_many_submits_at_once_one_wins_and_the_rest_are_told_why(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="open", files=3)
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: post_action(
            server,
            browsers[n],
            f"/requests/{request.pk}/submit/",
            {"status_seen": "open"},
            htmx=n % 2 == 0,
        ),
    )
    assert_no_server_error(answers)
    won, lost = split(answers, "Submitted. Your files are now processing")
    assert len(won) == 1, [(a.status, a.text[:200]) for a in answers]
    assert answers[won[0]].status == (302 if answers[won[0]].redirected else 200)
    assert_refused(
        answers, lost, "Someone else changed this request", "This request is already Submitted"
    )
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    submits = request.history.filter(action=HistoryEntry.Action.STATUS_CHANGED, after="submitted")
    assert [entry.actor for entry in submits] == [team[won[0]]]


def test_of_many_redelivery_requests_at_once_one_wins_and_clears_once(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="processed", files=5)
    reason = RedeliveryReason.objects.get(code="other")
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: post_action(
            server,
            browsers[n],
            f"/requests/{request.pk}/redelivery/",
            {"status_seen": "processed", "reasons": [reason.pk], "clear_files": "on"},
            htmx=n % 2 == 0,
        ),
    )
    assert_no_server_error(answers)
    won, lost = split(answers, "This request is now ready for redelivery.")
    assert len(won) == 1, [(a.status, a.text[:200]) for a in answers]
    assert_refused(answers, lost, "Someone else changed this request")
    request.refresh_from_db()
    assert request.status == Status.REDELIVERY
    assert request.file_count == 0
    assert list(Redelivery.objects.values_list("asked_by", "cleared_count")) == [
        (team[won[0]].pk, 5)
    ]
    changes = request.history.filter(action=HistoryEntry.Action.STATUS_CHANGED, before="processed")
    assert [entry.actor for entry in changes] == [team[won[0]]]


# File changes --------------------------------------------------------------------------


def test_many_files_renamed_to_one_name_at_once_exactly_one_takes_it(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="open", files=PARALLEL)
    files = list(request.files.order_by("name"))
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: post_action(
            server,
            browsers[n],
            f"/requests/{request.pk}/files/{files[n].pk}/rename/",
            {"name": "final.mov"},
            htmx=n % 2 == 0,
        ),
    )
    assert_no_server_error(answers)
    won, lost = split(answers, "to “final.mov”.")
    assert len(won) == 1, [(a.status, a.text[:200]) for a in answers]
    assert answers[won[0]].successes == [f"Renamed “{files[won[0]].name}” to “final.mov”."]
    assert_refused(answers, lost, "Another file in this request is already named “final.mov”")
    assert list(request.files.filter(name="final.mov").values_list("pk", flat=True)) == [
        files[won[0]].pk
    ]
    renames = request.history.filter(action=HistoryEntry.Action.RENAMED)
    assert [(e.actor, e.before, e.after) for e in renames] == [
        (team[won[0]], files[won[0]].name, "final.mov")
    ]


def test_one_file_removed_by_many_at_once_is_removed_once(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="open", files=3)
    target = request.files.order_by("name").first()
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: post_action(
            server,
            browsers[n],
            f"/requests/{request.pk}/files/remove/",
            {"file": [target.pk]},
            htmx=n % 2 == 0,
        ),
    )
    assert_no_server_error(answers)
    won, lost = split(answers, "Removed 1 file.")
    assert len(won) == 1, [(a.status, a.text[:200]) for a in answers]
    assert_refused(answers, lost, "Nothing was removed")
    request.refresh_from_db()
    assert request.file_count == 2
    assert not request.files.filter(pk=target.pk).exists()
    removals = request.history.filter(action=HistoryEntry.Action.REMOVED)
    assert [(e.actor, e.before) for e in removals] == [(team[won[0]], target.name)]


def test_every_file_removed_by_many_at_once_is_removed_once(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="open", files=30)
    ids = list(request.files.values_list("pk", flat=True))
    browsers = prepared(team, server)
    # Half tick the corner checkbox (all files), half tick every row.
    answers = race(
        PARALLEL,
        lambda n: post_action(
            server,
            browsers[n],
            f"/requests/{request.pk}/files/remove/",
            {"all": "1"} if n % 4 < 2 else {"file": ids},
            htmx=n % 2 == 0,
        ),
    )
    assert_no_server_error(answers)
    won, lost = split(answers, "Removed 30 files.")
    assert len(won) == 1, [(a.status, a.text[:200]) for a in answers]
    assert_refused(answers, lost, "Nothing was removed")
    request.refresh_from_db()
    assert request.file_count == 0
    assert not request.files.exists()
    removals = request.history.filter(action=HistoryEntry.Action.REMOVED)
    assert [(e.actor, e.details["count"]) for e in removals] == [(team[won[0]], 30)]


# Deliveries (tus) ----------------------------------------------------------------------


def tus_deliver(
    base_url: str, headers: dict[str, str], request_id: int, name: str, data: bytes
) -> requests.Response:
    """One whole file in one tus creation-with-upload, as the drop zone sends a small
    file."""
    return requests.post(
        base_url + "/uploads/",
        data=data,
        headers={
            **headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(request_id, name),
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=TIMEOUT,
    )


def content_of(n: int, size: int = 64 * KIB) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (size // 32)


def assert_nothing_left_behind() -> None:
    out = io.StringIO()
    call_command("check_storage", "--min-age-minutes", "0", stdout=out)
    assert "No orphaned stored files." in out.getvalue(), out.getvalue()
    assert "point at content that is not stored" not in out.getvalue(), out.getvalue()
    root = staging.staging_root()
    assert not root.exists() or not any(root.iterdir()), list(root.iterdir())


def test_many_files_delivered_at_once_all_arrive(
    server: str, team: list[Any], make_request: Callable
) -> None:
    request = make_request(status="open", files=0)
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: tus_deliver(server, browsers[n], request.pk, f"reel_{n:02d}.mov", content_of(n)),
    )
    assert [a.status_code for a in answers] == [201] * PARALLEL, [a.text for a in answers]
    request.refresh_from_db()
    assert request.file_count == PARALLEL
    delivered = {f.name: (f.md5, f.delivered_by_id) for f in request.files.all()}
    assert delivered == {
        f"reel_{n:02d}.mov": (hashlib.md5(content_of(n)).hexdigest(), team[n].pk)
        for n in range(PARALLEL)
    }
    assert request.history.filter(action=HistoryEntry.Action.DELIVERED).count() == PARALLEL
    assert_nothing_left_behind()


@pytest.mark.parametrize("who", ["one person in many tabs", "many people"])
def test_one_name_delivered_by_many_at_once_is_delivered_once_and_leaves_nothing_behind(
    server: str, team: list[Any], make_request: Callable, who: str
) -> None:
    request = make_request(status="open", files=0)
    if who == "one person in many tabs":
        team = [team[0]] * PARALLEL
    browsers = prepared(team, server)
    answers = race(
        PARALLEL,
        lambda n: tus_deliver(server, browsers[n], request.pk, "dup.mp4", content_of(n)),
    )
    statuses = [a.status_code for a in answers]
    won = [n for n, status in enumerate(statuses) if status == 201]
    assert len(won) == 1, [(a.status_code, a.text) for a in answers]
    for n, answer in enumerate(answers):
        if n in won:
            continue
        assert answer.status_code in (400, 409), (n, answer.status_code, answer.text)
        assert "dup.mp4" in answer.text, answer.text
    delivered = request.files.get()
    assert delivered.name == "dup.mp4"
    assert delivered.md5 == hashlib.md5(content_of(won[0])).hexdigest()
    assert delivered.delivered_by == team[won[0]]
    assert request.history.filter(action=HistoryEntry.Action.DELIVERED).count() == 1
    assert list(Upload.objects.values_list("created_by", "offset")) == [(team[won[0]].pk, 64 * KIB)]
    assert_nothing_left_behind()


def test_four_clients_deliver_200_files_without_an_error(
    server: str, uploader: Any, make_request: Callable
) -> None:
    """The SQLite default used to answer 'database is locked' to two thirds of them."""
    request = make_request(status="open", files=0)
    clients, per_client = 4, 50
    browsers = [signed_in_headers(uploader, origin=server) for _ in range(clients)]

    def deliver_batch(client: int) -> list[tuple[str, int, str]]:
        answers = []
        for n in range(per_client):
            name = f"frame_{client}_{n:03d}.dpx"
            answer = tus_deliver(server, browsers[client], request.pk, name, content_of(n))
            answers.append((name, answer.status_code, answer.text[:200]))
        return answers

    answers = [answer for batch in race(clients, deliver_batch) for answer in batch]
    assert [a for a in answers if a[1] != 201] == []
    request.refresh_from_db()
    assert request.file_count == clients * per_client
    assert request.files.count() == clients * per_client
    assert_nothing_left_behind()


# While the worker processes -----------------------------------------------------------


def test_a_partner_acts_without_an_error_while_the_worker_stores_results(
    server: str, team: list[Any], make_request: Callable
) -> None:
    """The worker writes a result per file; meanwhile partners deliver, rename, remove
    and submit on another request."""
    from deliveries.tasks import process_request

    busy = make_request(status="submitted", files=100, name="Busy")
    other = make_request(status="open", files=PARALLEL, name="Other")
    files = list(other.files.order_by("name"))
    browsers = prepared(team, server)
    stop = threading.Event()
    worker_errors: list[BaseException] = []

    def worker() -> None:
        # Processes the busy request again and again until the partners are done.
        try:
            while not stop.is_set():
                process_request.call(busy.pk)
                DeliveredFile.objects.filter(request=busy).update(
                    processing_status=ProcessingStatus.PENDING
                )
                DeliveryRequest.objects.filter(pk=busy.pk).update(
                    status=Status.SUBMITTED, files_processed=0, files_failed=0
                )
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            worker_errors.append(error)
        finally:
            connections.close_all()

    def partner(n: int) -> list[tuple[str, int, str]]:
        done = []
        data = {"name": f"renamed_{n:02d}.mov"}
        rename = post_action(
            server, browsers[n], f"/requests/{other.pk}/files/{files[n].pk}/rename/", data, True
        )
        done.append(("rename", rename.status, rename.text[:200]))
        for k in range(2):
            delivered = tus_deliver(
                server, browsers[n], other.pk, f"new_{n:02d}_{k}.mov", content_of(k)
            )
            done.append(("deliver", delivered.status_code, delivered.text[:200]))
        return done

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        stored = DeliveryRequest.objects.filter(pk=busy.pk, files_processed__gt=0)
        while not stored.exists() and thread.is_alive():
            time.sleep(0.05)  # the worker has stored a result: it is under way
        answers = [answer for batch in race(PARALLEL, partner) for answer in batch]
        submit = post_action(
            server, browsers[0], f"/requests/{other.pk}/submit/", {"status_seen": "open"}, True
        )
    finally:
        stop.set()
        thread.join(timeout=TIMEOUT)
    assert worker_errors == []
    assert [a for a in answers if a[1] not in (200, 201)] == []
    assert submit.status == 200, submit.text[:2000]
    other.refresh_from_db()
    assert other.status == Status.SUBMITTED
    assert other.file_count == PARALLEL * 3
    assert set(other.files.filter(name__startswith="renamed_").values_list("pk", flat=True)) == {
        f.pk for f in files
    }
