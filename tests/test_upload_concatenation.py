"""tus concatenation over real HTTP: a file sent as parts over several connections at
once, then a final upload that names them and delivers the file."""

from __future__ import annotations

import hashlib
import threading

import pytest
import requests
import xxhash
from django.core.files.base import ContentFile
from django.db import connections
from django.urls import reverse

from deliveries.uploads import staging
from deliveries.uploads.models import Upload

from .tus import TUS, head, metadata, patch, signed_in_headers

pytestmark = pytest.mark.django_db(transaction=True)


def create_part(live_server, user, length: int, data: bytes | None = None, meta: str = ""):
    headers = {**TUS, **signed_in_headers(user), "Upload-Length": str(length)}
    headers["Upload-Concat"] = "partial"
    if meta:
        headers["Upload-Metadata"] = meta
    if data is not None:
        headers["Content-Type"] = "application/offset+octet-stream"
    return requests.post(
        live_server.url + reverse("tus-create"), data=data, headers=headers, timeout=10
    )


def create_final(
    live_server, user, request_id: int, name: str, urls: list[str], *, replace: bool = False
):
    told = metadata(request_id, name) + (",replace MQ==" if replace else "")  # base64 "1"
    return requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            **TUS,
            **signed_in_headers(user),
            "Upload-Concat": "final;" + " ".join(urls),
            "Upload-Metadata": told,
        },
        timeout=30,
    )


def send_in_parts(live_server, user, data: bytes, count: int) -> list[str]:
    """Each part over its own connection, all at once, as tus-js-client's parallelUploads."""
    size = -(-len(data) // count)
    pieces = [data[n : n + size] for n in range(0, len(data), size)]
    urls = [create_part(live_server, user, len(piece)).headers["Location"] for piece in pieces]
    answers: list[int] = [0] * len(pieces)

    def send(index: int) -> None:
        try:
            answers[index] = patch(urls[index], user, pieces[index], 0).status_code
        finally:
            # patch() signs in through the database from this thread: a connection left
            # open here outlives the test and stops PostgreSQL's test database from
            # being dropped at the end of the run ("being accessed by other users").
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(pieces))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [204] * len(pieces)
    return urls


def test_the_server_announces_concatenation(live_server):
    answer = requests.options(live_server.url + reverse("tus-create"), timeout=10)
    assert "concatenation" in answer.headers["Tus-Extension"].split(",")


def test_parts_sent_at_once_are_delivered_as_one_file_with_both_checksums(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    data = b"".join(hashlib.sha256(bytes([n])).digest() * 1000 for n in range(100))
    urls = send_in_parts(live_server, uploader, data, 4)
    assert not delivery_request.files.exists()  # a part is never a file by itself

    answer = create_final(live_server, uploader, delivery_request.pk, "reel_01.mov", urls)

    assert answer.status_code == 201, answer.text
    delivered = delivery_request.files.get()
    assert delivered.name == "reel_01.mov" and delivered.size == len(data)
    assert delivered.md5 == hashlib.md5(data).hexdigest()
    assert delivered.xxh64 == xxhash.xxh64(data).hexdigest()
    with delivered.content.open("rb") as stored:
        assert stored.read() == data
    # The parts are used up; the final upload tells what it was made of.
    assert not Upload.objects.filter(concat="partial").exists()
    told = head(answer.headers["Location"], uploader)
    assert told.headers["Upload-Offset"] == told.headers["Upload-Length"] == str(len(data))
    assert told.headers["Upload-Concat"] == "final;" + " ".join(urls)
    assert delivery_request.history.filter(action="delivered", after="reel_01.mov").count() == 1


def test_a_part_may_ride_along_with_its_creation_and_be_resumed(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    first = create_part(live_server, uploader, 6, data=b"abc")
    assert first.status_code == 201 and first.headers["Upload-Offset"] == "3"
    url = first.headers["Location"]
    assert head(url, uploader).headers["Upload-Concat"] == "partial"
    assert patch(url, uploader, b"def", 3).status_code == 204
    second = create_part(live_server, uploader, 3, data=b"ghi")
    answer = create_final(
        live_server, uploader, delivery_request.pk, "notes.txt", [url, second.headers["Location"]]
    )
    assert answer.status_code == 201, answer.text
    assert delivery_request.files.get().md5 == hashlib.md5(b"abcdefghi").hexdigest()


def test_a_final_upload_before_its_parts_are_complete_is_refused_and_changes_nothing(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    done = create_part(live_server, uploader, 3, data=b"abc").headers["Location"]
    unfinished = create_part(live_server, uploader, 10, data=b"abc").headers["Location"]
    answer = create_final(
        live_server, uploader, delivery_request.pk, "reel.mov", [done, unfinished]
    )
    assert answer.status_code == 400
    assert "Part 2 has 3 of its 10 bytes" in answer.text
    assert not delivery_request.files.exists()
    assert Upload.objects.filter(concat="partial").count() == 2  # both can still go on


def test_a_final_upload_of_someone_elses_parts_is_refused(
    live_server, make_request, uploader, admin_user
):
    delivery_request = make_request(files=0)
    theirs = create_part(live_server, admin_user, 3, data=b"abc").headers["Location"]
    answer = create_final(live_server, uploader, delivery_request.pk, "reel.mov", [theirs])
    assert answer.status_code == 404
    assert "Part 1 of Upload-Concat is not a partial upload of yours" in answer.text
    assert head(theirs, uploader).status_code == 404  # and the part is not theirs to see
    assert not delivery_request.files.exists()


def test_a_final_upload_under_a_bad_or_taken_name_is_refused_before_assembling(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=1)
    taken = delivery_request.files.get().name
    part = create_part(live_server, uploader, 3, data=b"abc").headers["Location"]
    bad = create_final(live_server, uploader, delivery_request.pk, "my reel.mov", [part])
    assert bad.status_code == 400
    duplicate = create_final(live_server, uploader, delivery_request.pk, taken, [part])
    assert duplicate.status_code == 400 and "already" in duplicate.text
    assert delivery_request.files.count() == 1
    assert head(part, uploader).headers["Upload-Offset"] == "3"  # untouched, usable


def test_a_final_refused_after_assembling_keeps_its_parts_to_be_named_again(
    live_server, make_request, admin_user, uploader, monkeypatch
):
    # A colleague delivers a file of the same name while the parts are being put
    # together: the final is refused, and not one of the parts' bytes is lost. The
    # partner replaces the colleague's file with the same parts, sending nothing again.
    delivery_request = make_request(files=0)
    data = b"".join(hashlib.sha256(bytes([n])).digest() * 500 for n in range(30))
    urls = send_in_parts(live_server, admin_user, data, 3)
    assemble = staging.assemble

    def meanwhile(upload_id, parts):
        digests = assemble(upload_id, parts)
        delivery_request.add_file("reel_03.mov", ContentFile(b"theirs"), by=uploader)
        return digests

    monkeypatch.setattr(staging, "assemble", meanwhile)
    refused = create_final(live_server, admin_user, delivery_request.pk, "reel_03.mov", urls)
    assert refused.status_code == 400 and "already" in refused.text
    assert delivery_request.files.get().size == len(b"theirs")
    assert [head(url, admin_user).headers["Upload-Offset"] for url in urls] == [
        head(url, admin_user).headers["Upload-Length"] for url in urls
    ]
    # On disk too: the first part gave back the bytes the assembly appended to it.
    part_ids = [url.rstrip("/").rsplit("/", 1)[-1] for url in urls]
    assert [staging.staged_size(part_id) for part_id in part_ids] == [
        int(head(url, admin_user).headers["Upload-Length"]) for url in urls
    ]
    monkeypatch.setattr(staging, "assemble", assemble)

    again = create_final(
        live_server, admin_user, delivery_request.pk, "reel_03.mov", urls, replace=True
    )
    assert again.status_code == 201, again.text
    delivered = delivery_request.files.get()
    assert delivered.size == len(data) and delivered.xxh64 == xxhash.xxh64(data).hexdigest()
    with delivered.content.open("rb") as stored:
        assert stored.read() == data
    assert not Upload.objects.filter(concat="partial").exists()


def test_a_first_part_linked_elsewhere_is_copied_not_shared(tmp_path):
    # A process that died between delivering a final and discarding its parts leaves
    # the first part's bytes linked to the delivered file: assembling them again must
    # not write into that file.
    first, second, final = "a" * 32, "b" * 32, "c" * 32
    for upload_id, data in ((first, b"abc"), (second, b"def")):
        staging.create(upload_id)
        staging.data_path(upload_id).write_bytes(data)
    delivered = tmp_path / "delivered"
    delivered.hardlink_to(staging.data_path(first))
    staging.create(final)
    staging.assemble(final, [(first, 3), (second, 3)])
    assert staging.data_path(final).read_bytes() == b"abcdef"
    assert delivered.read_bytes() == b"abc"


def test_a_first_part_that_lost_bytes_on_disk_is_never_padded(live_server, make_request, uploader):
    # A crash before the part's last bytes were written out: its row says complete.
    delivery_request = make_request(files=0)
    first = create_part(live_server, uploader, 3, data=b"abc").headers["Location"]
    second = create_part(live_server, uploader, 3, data=b"def").headers["Location"]
    staging.truncate(first.rstrip("/").rsplit("/", 1)[-1], 2)
    answer = create_final(live_server, uploader, delivery_request.pk, "notes.txt", [first, second])
    assert answer.status_code == 404
    assert not delivery_request.files.exists()


def test_a_reviewer_may_not_send_parts(live_server, make_request, reviewer, outsider):
    delivery_request = make_request(files=0)
    assert create_part(live_server, reviewer, 3, data=b"abc").status_code == 403
    # Naming another organization's request: as if it did not exist.
    named = metadata(delivery_request.pk, "x.mov")
    assert create_part(live_server, outsider, 3, data=b"abc", meta=named).status_code == 404
    assert not Upload.objects.exists()


def test_a_final_upload_naming_something_that_is_no_upload_is_refused(
    live_server, make_request, uploader
):
    delivery_request = make_request(files=0)
    answer = create_final(
        live_server, uploader, delivery_request.pk, "reel.mov", [live_server.url + "/requests/"]
    )
    assert answer.status_code == 400 and "is not an upload's address" in answer.text


def test_tus_js_client_style_parts_carry_no_metadata_and_the_final_names_the_file(
    live_server, make_request, uploader
):
    # Parts are created without Upload-Metadata; the final carries it (base64).
    delivery_request = make_request(files=0)
    part = create_part(live_server, uploader, 4, data=b"wxyz")
    assert part.status_code == 201
    assert Upload.objects.get().request_id is None
    answer = create_final(
        live_server, uploader, delivery_request.pk, "audio_51.wav", [part.headers["Location"]]
    )
    assert answer.status_code == 201
    assert delivery_request.files.get().name == "audio_51.wav"


def test_parts_that_name_the_request_in_their_metadata_do_not_collide_with_each_other(
    live_server, make_request, uploader
):
    # A client may send the file's metadata with every part: each part's name is empty,
    # and a second part "of the same name" in the same request was refused.
    delivery_request = make_request(files=0)
    named = metadata(delivery_request.pk, "reel_02.mov")
    parts = [
        create_part(live_server, uploader, 3, data=piece, meta=named) for piece in (b"abc", b"def")
    ]
    assert [part.status_code for part in parts] == [201, 201], parts[1].text
    answer = create_final(
        live_server,
        uploader,
        delivery_request.pk,
        "reel_02.mov",
        [part.headers["Location"] for part in parts],
    )
    assert answer.status_code == 201, answer.text
    assert delivery_request.files.get().md5 == hashlib.md5(b"abcdef").hexdigest()
