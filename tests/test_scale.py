"""Scale: the Details Page and removal cost the same at any file count, select-all
removes every file, the worker deletes removed files' rows and stored content (and
resumes after a crash), and check_storage proves nothing is orphaned.

Counts stay small here; bench/ measures 250,000 files."""

from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from deliveries.files import storage
from deliveries.management.commands.create_big_request import create_big_request
from deliveries.models import (
    DeliveredFile,
    DeliveryRequest,
    ManifestEntry,
    RedeliveryReason,
    StorageDeletion,
)
from deliveries.requests import cleanup
from deliveries.tasks import clean_up_removed_files

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "request-main"}


def detail_url(request):
    return reverse("request-detail", args=[request.pk])


def remove_url(request):
    return reverse("files-remove", args=[request.pk])


def big(org, files: int, *, stored: bool = False) -> DeliveryRequest:
    return create_big_request(files, organization=org.name, write_content=stored)


def stored_paths(request) -> list[str]:
    return list(
        DeliveredFile._base_manager.filter(request=request).values_list("content", flat=True)
    )


def page_queries(client, request) -> int:
    client.get(detail_url(request))  # warm the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(detail_url(request)).status_code == 200
    return len(queries)


# The Details Page at any size -----------------------------------------------------------


def test_the_page_runs_the_same_queries_at_10_and_300_files(
    client, admin_user, org, django_assert_num_queries
):
    small, large = big(org, 10), big(org, 300)
    client.force_login(admin_user)
    expected = page_queries(client, small)
    assert page_queries(client, large) == expected
    # session, user, the request with the viewer's role, cleanup backlog, one page of
    # files, history, comments
    with django_assert_num_queries(7):
        client.get(detail_url(large))


def test_the_header_shows_the_total_count_and_the_list_one_page(client, admin_user, org):
    request = big(org, 1234)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert '<dd id="file-count">1,234</dd>' in page
    assert page.count('class="file-row"') == 100
    assert "?after=frame_0000099.dpx" in page


def test_select_all_says_every_file_of_the_request_is_selected(client, admin_user, org):
    request = big(org, 250)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert 'data-total="250"' in page
    assert 'data-all="All 250 files selected"' in page
    assert 'aria-label="Select all 250 files"' in page


def test_select_all_of_a_single_file_says_one_file(client, admin_user, org):
    request = big(org, 1)
    client.force_login(admin_user)
    page = client.get(detail_url(request)).content.decode()
    assert 'data-all="All 1 file selected"' in page
    assert 'data-text-all="All 1 file of this request will be removed."' in page


def test_the_file_count_follows_deliveries_and_removals(admin_user, make_request):
    request = make_request(files=3)
    assert DeliveryRequest.objects.get(pk=request.pk).file_count == 3
    request.remove_files([request.files.get(name="file_000.mov").pk], by=admin_user)
    assert DeliveryRequest.objects.get(pk=request.pk).file_count == 2
    request.remove_files(None, by=admin_user)
    assert DeliveryRequest.objects.get(pk=request.pk).file_count == 0
    request.add_file("again.mov", ContentFile(b"x"), by=admin_user)
    assert DeliveryRequest.objects.get(pk=request.pk).file_count == 1


# Removal: bounded, immediate, one path ------------------------------------------------------


def removal_queries(client, request, data) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(remove_url(request), data, **HTMX)
    assert response.status_code == 200
    return len(queries)


def test_removing_every_file_runs_the_same_queries_at_10_and_1000_files(client, admin_user, org):
    small, large = big(org, 10), big(org, 1000)
    client.force_login(admin_user)
    client.get(detail_url(small))
    assert removal_queries(client, large, {"all": "1"}) == removal_queries(
        client, small, {"all": "1"}
    )
    assert not large.files.exists() and not small.files.exists()


def test_removing_a_selection_runs_the_same_queries_for_2_and_60_files(client, admin_user, org):
    request = big(org, 100)
    ids = list(request.files.values_list("pk", flat=True))
    client.force_login(admin_user)
    client.get(detail_url(request))
    assert removal_queries(client, request, {"file": ids[:2]}) == removal_queries(
        client, request, {"file": ids[2:62]}
    )
    assert request.files.count() == 38
    assert StorageDeletion.objects.filter(request_id=request.pk).count() == 62


def test_the_worker_purges_removed_rows_in_a_bounded_number_of_queries(admin_user, org):
    counts = []
    for files in (10, 1000):
        request = big(org, files)
        request.remove_files(None, by=admin_user)
        with CaptureQueriesContext(connection) as queries:
            assert cleanup.purge_removed_files() == files
        counts.append(len(queries))
        assert not DeliveredFile._base_manager.filter(request=request).exists()
    assert counts[0] == counts[1]


def test_removed_files_disappear_at_once_and_the_page_shows_the_cleanup(
    client, admin_user, make_request
):
    request = make_request(files=3)
    client.force_login(admin_user)
    page = client.post(remove_url(request), {"all": "1"}, **HTMX).content.decode()
    assert "Removed 3 files." in page
    assert "No files have been delivered to this request yet." in page
    assert "Cleaning up storage: 3 files left" in page
    assert 'hx-trigger="every 2s"' in page
    # Rows stay hidden until the worker deletes them, with their stored content.
    assert DeliveredFile._base_manager.filter(request=request).count() == 3
    assert all(default_storage.exists(path) for path in stored_paths(request))

    clean_up_removed_files.call()

    # The banner's poll: the last answer empties the banner and polls no more.
    fragment = client.get(
        reverse("request-progress", args=[request.pk]) + "?seen=open",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="progress",
    ).content.decode()
    assert '<div id="cleanup-banner">' in fragment
    assert "Cleaning up storage" not in fragment and "hx-get" not in fragment
    assert "Cleaning up storage" not in client.get(detail_url(request)).content.decode()


def test_the_history_records_one_entry_with_the_count(admin_user, org):
    request = big(org, 120)
    request.remove_files(None, by=admin_user)
    entry = request.history.get(action="removed")
    assert entry.details["count"] == 120 and entry.details["all"] is True
    assert len(entry.details["names"]) == 50


def test_the_worker_deletes_stored_content_of_every_removal_path(
    admin_user, staff, make_request, django_capture_on_commit_callbacks
):
    one = make_request(files=2, name="One")
    every = make_request(files=3, name="Every")
    cleared = make_request(status="processed", files=2, checksum=True, name="Cleared")
    paths = stored_paths(one)[:1] + stored_paths(every) + stored_paths(cleared)
    assert all(default_storage.exists(path) for path in paths)

    with django_capture_on_commit_callbacks(execute=True):
        one.remove_files([one.files.get(name="file_000.mov").pk], by=admin_user)
        every.remove_files(None, by=admin_user)
        cleared.act(
            cleared.ask_for_redelivery,
            by=staff,
            reasons=RedeliveryReason.objects.all()[:1],
            clear_files=True,
        )
    assert DBTaskResult.objects.filter(task_path=clean_up_removed_files.module_path).count() == 3
    cleared.refresh_from_db()
    assert cleared.checksum_manifest_id is None and cleared.file_count == 0

    result = clean_up_removed_files.call()

    assert result == {"purged_rows": 6, "deleted_content": 7}
    assert not any(default_storage.exists(path) for path in paths)
    assert one.files.count() == 1
    assert not DeliveredFile._base_manager.filter(request__in=[every, cleared]).exists()
    assert not ManifestEntry.objects.exists()
    assert not StorageDeletion.objects.exists()


def test_a_removed_name_can_be_delivered_again_before_the_worker_runs(admin_user, make_request):
    request = make_request(files=2)
    request.remove_files(None, by=admin_user)
    request.add_file("file_001.mov", ContentFile(b"new"), by=admin_user)
    assert list(request.files.values_list("name", flat=True)) == ["file_001.mov"]
    assert request.files.get().content.read() == b"new"
    clean_up_removed_files.call()
    assert list(request.files.values_list("name", flat=True)) == ["file_001.mov"]
    assert DeliveryRequest.objects.get(pk=request.pk).file_count == 1


def test_every_relation_to_a_file_is_handled_by_the_deletion_path():
    # purge() deletes rows without Django's collector: each relation is handled in SQL.
    relations = {
        (rel.related_model._meta.label, rel.field.name, rel.on_delete.__name__)
        for rel in DeliveredFile._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete
    }
    assert relations == {
        ("deliveries.ManifestEntry", "manifest", "CASCADE"),
        ("deliveries.DeliveryRequest", "checksum_manifest", "SET_NULL"),
        ("deliveries.Waiver", "file", "CASCADE"),
        ("deliveries.Preview", "file", "CASCADE"),
        ("deliveries.PreviewPart", "file", "CASCADE"),
    }, "handle the new relation in deliveries.requests.removal.purge()"


# A worker killed half-way ----------------------------------------------------------------


def test_an_interrupted_storage_cleanup_resumes_on_the_next_run(admin_user, make_request):
    request = make_request(files=5)
    paths = stored_paths(request)
    request.remove_files(None, by=admin_user)
    cleanup.purge_removed_files()
    assert storage.clean_storage(batch=2, max_batches=1) == 2  # the worker stops here
    assert StorageDeletion.objects.count() == 3
    clean_up_removed_files.call()
    assert not StorageDeletion.objects.exists()
    assert not any(default_storage.exists(path) for path in paths)


def test_a_worker_killed_mid_batch_loses_nothing(admin_user, make_request, monkeypatch):
    request = make_request(files=4)
    paths = stored_paths(request)
    request.remove_files(None, by=admin_user)
    deleted = []

    def dies_after_two(storage, path):
        if len(deleted) == 2:
            raise SystemExit("worker killed")
        default_storage.delete(path)
        deleted.append(path)

    monkeypatch.setattr(storage, "delete_stored", dies_after_two)
    with pytest.raises(SystemExit):
        clean_up_removed_files.call()
    # The batch's transaction rolled back: its paths are still queued, none forgotten.
    assert StorageDeletion.objects.count() == 4
    monkeypatch.undo()
    clean_up_removed_files.call()
    assert not StorageDeletion.objects.exists()
    assert not any(default_storage.exists(path) for path in paths)


def test_an_interrupted_purge_resumes_on_the_next_run(admin_user, org, monkeypatch):
    request = big(org, 25)
    request.remove_files(None, by=admin_user)
    real_purge = cleanup.purge
    chunks = []

    def dies_on_the_third_chunk(request, rows):
        if len(chunks) == 2:
            raise SystemExit("worker killed")
        chunks.append(1)
        return real_purge(request, rows)

    monkeypatch.setattr(cleanup, "purge", dies_on_the_third_chunk)
    with pytest.raises(SystemExit):
        cleanup.purge_removed_files(chunk=10)
    assert DeliveredFile._base_manager.filter(request=request).count() == 5
    assert DeliveryRequest.objects.get(pk=request.pk).files_to_purge == 5
    monkeypatch.undo()
    assert cleanup.purge_removed_files(chunk=10) == 5
    assert DeliveryRequest.objects.get(pk=request.pk).files_to_purge == 0
    assert StorageDeletion.objects.filter(request_id=request.pk).count() == 25


def test_each_cleanup_run_leaves_a_follow_up_while_work_remains(admin_user, make_request):
    request = make_request(files=2)
    clean_up_removed_files.call()
    assert not DBTaskResult.objects.exists()  # nothing to do, nothing scheduled
    request.remove_files(None, by=admin_user)
    clean_up_removed_files.call()
    clean_up_removed_files.call()
    follow_up = DBTaskResult.objects.get(task_path=clean_up_removed_files.module_path)
    assert follow_up.status == TaskResultStatus.READY
    assert follow_up.run_after is not None


# check_storage ---------------------------------------------------------------------------


def check_storage(*args: str) -> str:
    out = StringIO()
    call_command("check_storage", "--min-age-minutes", "0", *args, stdout=out)
    return out.getvalue()


def test_check_storage_finds_an_orphan_and_deletes_it(admin_user, make_request):
    request = make_request(files=2)
    orphan = default_storage.save("deliveries/999/lost/left_behind.mov", ContentFile(b"x"))
    report = check_storage()
    assert f"orphan: {orphan}" in report
    assert "1 orphaned stored files; --delete deletes them." in report
    assert default_storage.exists(orphan)

    report = check_storage("--delete")
    assert "Deleted 1 orphaned stored files." in report
    assert not default_storage.exists(orphan)
    assert all(default_storage.exists(path) for path in stored_paths(request))


def test_check_storage_finds_nothing_after_a_removal_is_cleaned(admin_user, make_request):
    request = make_request(files=3)
    request.remove_files(None, by=admin_user)
    assert "No orphaned stored files." in check_storage()  # queued, not orphaned
    clean_up_removed_files.call()
    report = check_storage()
    assert report.startswith("0 stored files; 0 file rows; 0 queued")
    assert "No orphaned stored files." in report


def test_the_health_check_answers_without_signing_in(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.content == b"ok"
