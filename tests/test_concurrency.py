"""Two people acting on one request at once: exactly one wins, on PostgreSQL from two
real connections."""

import threading

import pytest
from django.db import connection, connections

from deliveries.models import ActionRefused, DeliveryRequest, RedeliveryReason, Status

from .racing import race


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_accept_and_ask_for_redelivery_at_once_only_one_wins(
    postgres_only, make_request, admin_user, staff, repeat
):
    request = make_request(status="processed")
    reasons = list(RedeliveryReason.objects.filter(code="other"))
    # Both people loaded the page while it was Processed.
    theirs = DeliveryRequest.objects.get(pk=request.pk)
    mine = DeliveryRequest.objects.get(pk=request.pk)
    results = race(
        lambda: theirs.act(theirs.accept, by=staff),
        lambda: mine.act(mine.ask_for_redelivery, by=admin_user, reasons=reasons),
    )
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(refused) == 1
    assert "Someone else changed this request" in refused[0].message
    final = DeliveryRequest.objects.get(pk=request.pk)
    assert final.status in (Status.ACCEPTED, Status.REDELIVERY)
    assert final.history.filter(action="status", before="processed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_submit_twice_at_once_records_one_change(postgres_only, make_request, admin_user):
    request = make_request(status="open")
    copies = [DeliveryRequest.objects.get(pk=request.pk) for _ in range(2)]
    results = race(*[lambda c=c: c.act(c.submit, by=admin_user) for c in copies])
    assert sum(isinstance(r, ActionRefused) for r in results) == 1
    assert request.history.filter(action="status", after="submitted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_concurrent_transition_guard_refuses_a_stale_save(postgres_only, make_request, staff):
    # Even code that bypasses act()'s row lock cannot overwrite a newer status.
    from django_fsm import ConcurrentTransition

    request = make_request(status="processed")
    stale = DeliveryRequest.objects.get(pk=request.pk)
    request.act(request.accept, by=staff)
    stale.ask_for_redelivery(reasons=RedeliveryReason.objects.all()[:1], by=staff)
    with pytest.raises(ConcurrentTransition):
        stale.save()
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.ACCEPTED


@pytest.mark.django_db(transaction=True)
def test_a_claim_waiting_on_a_file_another_worker_just_finished_takes_nothing(
    postgres_only, make_request
):
    """A claim blocked behind another worker's store must see the stored result and
    refuse, not take the file again (which would process it twice and count it twice)."""
    import time

    from django.db import transaction

    from deliveries.models import DeliveredFile, ProcessingStatus
    from deliveries.processing import runner

    request = make_request(status="submitted", files=1)
    file = request.files.get()
    DeliveredFile.objects.filter(pk=file.pk).update(processing_status=ProcessingStatus.PENDING)
    stored = threading.Event()
    claimed: list = []

    def other_worker_stores():
        with transaction.atomic():
            DeliveredFile.objects.filter(pk=file.pk).select_for_update().get()
            DeliveredFile._base_manager.filter(pk=file.pk).update(
                processing_status=ProcessingStatus.PASSED
            )
            stored.set()
            time.sleep(0.5)  # the claim below now waits on this row
        connections.close_all()

    def late_claim():
        stored.wait(timeout=10)
        claimed.append(runner._claim(file.pk))
        connections.close_all()

    threads = [threading.Thread(target=other_worker_stores), threading.Thread(target=late_claim)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert claimed == [None]
    file.refresh_from_db()
    assert file.processing_status == ProcessingStatus.PASSED


def wait_until_a_query_waits_for_a_lock(seconds: float = 10) -> None:
    import time

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no query came to wait for a lock")


def run_in_threads(*targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def stores_once_set(event, request, lease, outcome: dict):
    """A worker that stores a passing result once ``event`` is set; ``outcome["stored"]``
    holds what the store answered, or the error it raised."""
    from deliveries.processing import runner
    from deliveries.processing.result import FileResult

    def stores():
        event.wait(timeout=10)
        try:
            outcome["stored"] = runner._store(
                request, lease, FileResult(md5="a" * 32, xxh64="b" * 16)
            )
        except Exception as error:
            outcome["stored"] = error
        finally:
            connections.close_all()

    return stores


def submitted_with_a_claimed_file(make_request):
    from deliveries.models import DeliveredFile, ProcessingStatus
    from deliveries.processing import runner

    request = make_request(status="submitted", files=1)
    file = request.files.get()
    DeliveredFile.objects.filter(pk=file.pk).update(processing_status=ProcessingStatus.PENDING)
    return request, file, runner._claim(file.pk)


@pytest.mark.django_db(transaction=True)
def test_a_result_stored_while_the_request_row_is_locked_waits_without_deadlock(
    postgres_only, make_request
):
    """Locks go request row first, then file, everywhere: a rerun or a partner action
    holding the request while it writes a file is waited for, not deadlocked with."""
    from django.db import transaction

    from deliveries.models import DeliveredFile, ProcessingStatus

    request, file, lease = submitted_with_a_claimed_file(make_request)
    locked = threading.Event()
    outcome: dict = {}

    def holds_the_request_then_writes_the_file():
        try:
            with transaction.atomic():
                DeliveryRequest.objects.select_for_update().get(pk=request.pk)
                locked.set()
                wait_until_a_query_waits_for_a_lock()  # the store, behind this row
                DeliveredFile._base_manager.filter(pk=file.pk).update(md5="0" * 32)
        except Exception as error:  # a deadlock is detected and raised here or below
            outcome["holder"] = error
        finally:
            connections.close_all()

    run_in_threads(
        holds_the_request_then_writes_the_file, stores_once_set(locked, request, lease, outcome)
    )
    assert outcome == {"stored": True}
    file.refresh_from_db()
    request.refresh_from_db()
    assert file.processing_status == ProcessingStatus.PASSED and file.md5 == "a" * 32
    assert request.files_processed == 1


@pytest.mark.django_db(transaction=True)
def test_a_file_released_while_its_result_is_stored_is_not_counted(postgres_only, make_request):
    """The counters move first; when the file turns out to be released meanwhile (its
    lease expired and a watchdog gave it back), the count is taken back with it."""
    from django.db import transaction

    from deliveries.models import DeliveredFile, ProcessingStatus

    request, file, lease = submitted_with_a_claimed_file(make_request)
    released = threading.Event()
    outcome: dict = {}

    def releases_the_file():
        try:
            with transaction.atomic():
                DeliveredFile._base_manager.filter(pk=file.pk).update(
                    processing_status=ProcessingStatus.PENDING, metadata={}
                )
                released.set()
                wait_until_a_query_waits_for_a_lock()  # the store, behind this file
        finally:
            connections.close_all()

    run_in_threads(releases_the_file, stores_once_set(released, request, lease, outcome))
    assert outcome == {"stored": False}
    file.refresh_from_db()
    request.refresh_from_db()
    assert file.processing_status == ProcessingStatus.PENDING
    assert (request.files_processed, request.files_failed) == (0, 0)
