"""One big file over several connections (tus concatenation, tus-js-client's
parallelUploads): only when the server announces the extension, its name asked about
before any part is sent, the parts nameless and the final upload naming them in order.

The drop zone talks to a small tus server played by the test (the standard tus 1.0
protocol, to see every part), to the portal's own, which announces the extension, and
to the portal's with the announcement taken out of its OPTIONS answer."""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from .pages import open_details

pytestmark = pytest.mark.browser

MIB = 1024 * 1024
BIG = 64 * MIB  # the drop zone's threshold for parts (frontend/src/text.js)


def picker(page: Page):
    return page.locator("#uploader [data-drop-zone] input[type=file]")


def upload_row(page: Page, name: str):
    return page.locator("#uploader .upload-row").filter(has_text=name)


def big_file(folder: Path) -> Path:
    path = folder / "reel_01.mov"
    with open(path, "wb") as handle:
        for block in range(BIG // MIB):
            handle.write(bytes([block]) * MIB)
    return path


def decoded(metadata: str) -> dict[str, str]:
    pairs = (pair.strip().split(" ") for pair in metadata.split(",") if pair.strip())
    return {key: base64.b64decode(value).decode() for key, value in pairs}


class TusWithConcatenation:
    """An in-memory tus 1.0 server with creation, termination and concatenation."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.uploads: dict[str, dict] = {}
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()
        self.probes: list[dict[str, str]] = []
        self.finals: list[tuple[list[str], dict[str, str]]] = []

    def answer(self, route: Route, status: int, **headers: str) -> None:
        route.fulfill(
            status=status,
            headers={
                "Tus-Resumable": "1.0.0",
                "Access-Control-Expose-Headers": "*",
                **{key.replace("_", "-"): value for key, value in headers.items()},
            },
            body="",
        )

    def __call__(self, route: Route) -> None:
        request = route.request
        headers = request.headers
        method = headers.get("x-http-method-override", request.method)
        url = request.url
        if method == "OPTIONS":
            return self.answer(
                route, 204, Tus_Version="1.0.0", Tus_Extension="creation,termination,concatenation"
            )
        if method == "POST":
            concat = headers.get("upload-concat", "")
            metadata = decoded(headers.get("upload-metadata", ""))
            with self.lock:
                location = f"{self.base}/uploads/fake-{next(self.numbers)}/"
            if concat.startswith("final;"):
                parts = concat.removeprefix("final;").split()
                assert all(
                    self.uploads[part]["offset"] == self.uploads[part]["length"] for part in parts
                )
                self.finals.append((parts, metadata))
                return self.answer(route, 201, Location=location)
            length = int(headers["upload-length"])
            self.uploads[location] = {
                "length": length,
                "offset": 0,
                "partial": concat == "partial",
                "metadata": metadata,
            }
            if concat != "partial":
                self.probes.append(metadata)
            return self.answer(route, 201, Location=location)
        upload = self.uploads.get(url)
        if upload is None:
            return self.answer(route, 404)
        if method == "HEAD":
            return self.answer(
                route, 200, Upload_Offset=str(upload["offset"]), Upload_Length=str(upload["length"])
            )
        if method == "DELETE":
            del self.uploads[url]
            return self.answer(route, 204)
        if method == "PATCH":
            body = request.post_data_buffer or b""
            assert int(headers["upload-offset"]) == upload["offset"]
            upload["offset"] += len(body)
            return self.answer(route, 204, Upload_Offset=str(upload["offset"]))
        return self.answer(route, 405)


def test_a_big_file_travels_in_parts_when_the_server_announces_concatenation(
    partner_page, make_request, tmp_path, live_server
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    server = TusWithConcatenation(live_server.url)
    page.route(lambda url: "/uploads/" in url, server)
    open_details(page, delivery_request)
    picker(page).set_input_files(big_file(tmp_path))
    expect(upload_row(page, "reel_01.mov")).to_contain_text("Delivered", timeout=60_000)
    # The name was asked about (a whole-file creation, terminated) before any part.
    assert server.probes == [{"request": str(delivery_request.pk), "filename": "reel_01.mov"}]
    parts = [upload for upload in server.uploads.values() if upload["partial"]]
    assert len(parts) == 3
    # Parts carry no metadata (tus-js-client's way): the final upload names the file.
    assert all(part["metadata"] == {} for part in parts)
    assert sum(part["length"] for part in parts) == BIG
    [(named, metadata)] = server.finals
    assert [server.uploads[url]["length"] for url in named] == [part["length"] for part in parts]
    assert metadata["filename"] == "reel_01.mov"
    assert metadata["request"] == str(delivery_request.pk)


def _concat_headers(page: Page) -> list[str]:
    """The Upload-Concat of each creation (POST) the page sends."""
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.headers["upload-concat"])
            if request.method == "POST" and "upload-concat" in request.headers
            else None
        ),
    )
    return seen


def _expected_md5() -> str:
    digest = hashlib.md5()
    for block in range(BIG // MIB):
        digest.update(bytes([block]) * MIB)
    return digest.hexdigest()


def test_a_big_file_travels_in_parts_to_the_portals_own_server_and_arrives_whole(
    partner_page, make_request, tmp_path
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    concat_headers = _concat_headers(page)
    open_details(page, delivery_request)
    picker(page).set_input_files(big_file(tmp_path))
    expect(upload_row(page, "reel_01.mov")).to_contain_text("Delivered", timeout=120_000)
    assert concat_headers.count("partial") == 3
    assert sum(header.startswith("final;") for header in concat_headers) == 1
    delivered = delivery_request.files.get(name="reel_01.mov")
    assert delivered.size == BIG and delivered.md5 == _expected_md5() and delivered.xxh64


def test_a_big_file_travels_whole_when_the_server_does_not_announce_concatenation(
    partner_page, make_request, tmp_path
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)

    def without_concatenation(route: Route) -> None:
        if route.request.method != "OPTIONS":
            route.fallback()
            return
        answer = route.fetch()
        headers = dict(answer.headers)
        extensions = [e for e in headers.get("tus-extension", "").split(",") if e.strip()]
        headers["tus-extension"] = ",".join(e for e in extensions if e != "concatenation")
        route.fulfill(response=answer, headers=headers)

    page.route(lambda url: "/uploads/" in url, without_concatenation)
    concat_headers = _concat_headers(page)
    open_details(page, delivery_request)
    picker(page).set_input_files(big_file(tmp_path))
    expect(upload_row(page, "reel_01.mov")).to_contain_text("Delivered", timeout=60_000)
    assert concat_headers == []
    assert delivery_request.files.get(name="reel_01.mov").size == BIG


@pytest.mark.parametrize("when", ["before the final upload", "while the final assembles"])
def test_a_final_upload_refused_for_a_name_delivered_meanwhile_is_replaced_without_resending(
    partner_page, make_request, tmp_path, admin_user, monkeypatch, when
):
    from django.core.files.base import ContentFile

    from deliveries.uploads import staging

    page = partner_page
    delivery_request = make_request(status="open", files=0)
    concat_headers = _concat_headers(page)
    # The parts' bytes travel in PATCHes to the parts' addresses (the question asked
    # before them, a creation with the first bytes, is sent again on Replace: at most
    # 4 MiB, see frontend/src/text.js askFirst).
    parts: set[str] = set()
    carrying: list[str] = []
    page.on(
        "response",
        lambda response: (
            parts.add(response.headers["location"])
            if response.request.headers.get("upload-concat") == "partial"
            and "location" in response.headers
            else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            carrying.append(request.url)
            if request.url in parts
            and request.headers.get("x-http-method-override", request.method) == "PATCH"
            else None
        ),
    )

    def deliver_theirs() -> None:
        # Someone else delivers a file of that name, once.
        if not delivery_request.files.filter(name="reel_01.mov").exists():
            delivery_request.add_file("reel_01.mov", ContentFile(b"theirs"), by=admin_user)

    if when == "before the final upload":

        def before_final(route: Route) -> None:
            if route.request.headers.get("upload-concat", "").startswith("final;"):
                deliver_theirs()
            route.fallback()

        page.route(lambda url: "/uploads/" in url, before_final)
    else:
        assemble = staging.assemble

        def assembling(upload_id, parts):  # noqa: ANN001, ANN202 (staging's own)
            digests = assemble(upload_id, parts)
            deliver_theirs()  # after the final's own check of the name, before its delivery
            return digests

        monkeypatch.setattr(staging, "assemble", assembling)
    open_details(page, delivery_request)
    picker(page).set_input_files(big_file(tmp_path))
    row = upload_row(page, "reel_01.mov")
    expect(row).to_contain_text("already named", timeout=120_000)
    sent = len(carrying)
    assert concat_headers.count("partial") == 3 and sent >= 3
    assert delivery_request.files.get(name="reel_01.mov").size == len(b"theirs")
    row.get_by_role("button", name="Replace").click()
    expect(row).to_contain_text("Delivered", timeout=60_000)
    # The kept parts were named again: no part created, no byte sent a second time.
    assert concat_headers.count("partial") == 3
    assert sum(header.startswith("final;") for header in concat_headers) == 2
    assert len(carrying) == sent
    delivered = delivery_request.files.get(name="reel_01.mov")
    assert delivered.size == BIG and delivered.md5 == _expected_md5()


def test_a_big_file_dropped_again_after_a_reload_resumes_its_parts_without_resending(
    partner_page, make_request, tmp_path
):
    page = partner_page
    delivery_request = make_request(status="open", files=0)
    created: list[str] = []  # the parts' addresses, in the order they were created
    held: list[Route] = []
    done: set[str] = set()
    after_reload: list[tuple[str, str]] = []  # (method, address) of what went to a part
    state = {"reloaded": False}

    def method_of(request) -> str:  # noqa: ANN001 (Playwright's Request)
        return request.headers.get("x-http-method-override", request.method)

    def hold_the_second_part(route: Route) -> None:
        request = route.request
        path = urlsplit(request.url).path
        if method_of(request) == "POST" and request.headers.get("upload-concat") == "partial":
            answer = route.fetch()
            created.append(urlsplit(answer.headers["location"]).path)
            route.fulfill(response=answer)
            return
        if path in created and state["reloaded"]:
            after_reload.append((method_of(request), path))
        if method_of(request) == "PATCH" and path in created and not state["reloaded"]:
            if created.index(path) == 1:
                held.append(route)  # never answered: the connection dies with the page
                return
            answer = route.fetch()
            done.add(path)
            route.fulfill(response=answer)
            return
        route.continue_()

    page.route(lambda url: "/uploads/" in url, hold_the_second_part)
    open_details(page, delivery_request)
    source = big_file(tmp_path)
    picker(page).set_input_files(source)
    for _ in range(600):
        if len(done) == 2 and held:
            break
        page.wait_for_timeout(100)
    assert len(done) == 2 and len(held) == 1, (done, held)

    # The laptop's browser reloads (a crash, a sleep): the partner drops the file again.
    state["reloaded"] = True
    page.reload()
    picker(page).set_input_files(source)
    expect(upload_row(page, "reel_01.mov")).to_contain_text("Delivered", timeout=120_000)

    # Only the part that had not arrived was sent again; the other two were only asked
    # how far they came, and no part was created anew.
    second = created[1]
    assert len(created) == 3
    assert [path for method, path in after_reload if method == "PATCH"] == [second]
    assert {path for method, path in after_reload if method == "HEAD"} <= set(created)
    delivered = delivery_request.files.get(name="reel_01.mov")
    assert delivered.size == BIG and delivered.md5 == _expected_md5() and delivered.xxh64
