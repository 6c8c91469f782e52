"""Every action in every status: allowed ones move the request and leave history;
refused ones explain why and change nothing."""

import pytest
from django.core.files.base import ContentFile

from deliveries.models import (
    ActionRefused,
    DeliveryRequest,
    HistoryEntry,
    ProcessingStatus,
    RedeliveryReason,
    Status,
)

STATUSES = [s.value for s in Status]
TRANSITIONS = {
    # action: {from status: to status}
    "submit": {"open": "submitted", "redelivery": "submitted"},
    "finish_processing": {"submitted": "processed"},
    "accept": {"processed": "accepted"},
    "ask_for_redelivery": {"processed": "redelivery"},
    "reopen": {"accepted": "redelivery"},
}
REFUSAL_WORDS = {
    ("submit", "submitted"): "already Submitted",
    ("submit", "processed"): "Ask for redelivery",
    ("submit", "accepted"): "Contact your studio contact to reopen it",
    ("ask_for_redelivery", "accepted"): "Contact your studio contact to reopen it",
    ("ask_for_redelivery", "submitted"): "still processing",
    ("ask_for_redelivery", "open"): "already open for delivery",
    ("accept", "open"): "Only a Processed request can be accepted",
    ("reopen", "processed"): "Only an Accepted request can be reopened",
}


def snapshot(request: DeliveryRequest) -> tuple:
    request = DeliveryRequest.objects.get(pk=request.pk)
    return (
        request.status,
        request.checksum_manifest_id,
        sorted(request.files.values_list("name", flat=True)),
        request.history.count(),
        request.redeliveries.count(),
    )


def run(request: DeliveryRequest, action: str, user) -> HistoryEntry:
    if action == "finish_processing":
        request.files.update(processing_status=ProcessingStatus.PASSED)
        return request.act(getattr(request, action), by=None)
    kwargs = {}
    if action in ("ask_for_redelivery", "reopen"):
        kwargs["reasons"] = RedeliveryReason.objects.filter(code="other")
    return request.act(getattr(request, action), by=user, **kwargs)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_each_transition_moves_only_from_its_source_states(
    make_request, admin_user, staff, action, status
):
    request = make_request(status=status)
    user = staff if action in ("accept", "reopen") else admin_user
    target = TRANSITIONS[action].get(status)
    if target:
        entry = run(request, action, user)
        request.refresh_from_db()
        assert request.status == target
        assert entry.before == status and entry.after == target
        assert entry.actor == (None if action == "finish_processing" else user)
        assert request.history.filter(action="status", after=target).exists()
    else:
        before = snapshot(request)
        if action == "finish_processing":
            # Refused before any file is touched: call the transition directly.
            with pytest.raises(ActionRefused) as refusal:
                request.act(getattr(request, action), by=None)
        else:
            with pytest.raises(ActionRefused) as refusal:
                run(request, action, user)
        assert snapshot(request) == before
        assert refusal.value.message
        expected = REFUSAL_WORDS.get((action, status))
        if expected:
            assert expected in refusal.value.message


FILE_ACTIONS = ["rename", "remove_one", "remove_many", "clear_all"]


def do_file_action(request: DeliveryRequest, action: str, user) -> None:
    files = list(request.files.exclude(name="checksum.txt").order_by("name"))
    if action == "rename":
        request.rename_file(files[0], "renamed_000.mov", by=user)
    elif action == "remove_one":
        request.remove_files([files[0].pk], by=user)
    elif action == "remove_many":
        request.remove_files([f.pk for f in files[:2]], by=user)
    else:
        request.remove_files(None, by=user)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", FILE_ACTIONS)
def test_file_operations_work_only_while_open_or_in_redelivery(
    make_request, admin_user, action, status
):
    request = make_request(status=status, files=3)
    if status in ("open", "redelivery"):
        history_before = request.history.count()
        do_file_action(request, action, admin_user)
        names = set(request.files.values_list("name", flat=True))
        expected = {
            "rename": {"renamed_000.mov", "file_001.mov", "file_002.mov"},
            "remove_one": {"file_001.mov", "file_002.mov"},
            "remove_many": {"file_002.mov"},
            "clear_all": set(),
        }[action]
        assert names == expected
        assert request.history.count() == history_before + 1
        entry = request.history.first()
        assert entry.actor == admin_user
        assert entry.action == ("renamed" if action == "rename" else "removed")
    else:
        before = snapshot(request)
        with pytest.raises(ActionRefused) as refusal:
            do_file_action(request, action, admin_user)
        assert snapshot(request) == before
        assert request.get_status_display() in refusal.value.message


@pytest.mark.parametrize("action", FILE_ACTIONS)
def test_a_request_with_a_checksum_refuses_renaming_and_removing(make_request, admin_user, action):
    request = make_request(status="open", files=3, checksum=True)
    assert request.has_checksum
    before = snapshot(request)
    with pytest.raises(ActionRefused) as refusal:
        do_file_action(request, action, admin_user)
    assert "request with a checksum" in refusal.value.message
    assert snapshot(request) == before


@pytest.mark.parametrize("name", ["CHECKSUM.TXT", "checksum.txt.mhl", "reel.mhl"])
def test_a_second_checksum_manifest_is_refused(make_request, admin_user, name):
    """The first manifest pins the files; a second one must not silently unpin them."""
    request = make_request(status="open", files=2, checksum=True)
    first = request.checksum_manifest
    before = snapshot(request)
    with pytest.raises(ActionRefused, match="already has its checksum manifest, “checksum.txt”"):
        request.add_file(name, ContentFile(b"ffff  file_000.mov\n"), by=admin_user)
    request.refresh_from_db()
    assert request.checksum_manifest == first
    assert snapshot(request) == before


def test_a_request_with_a_checksum_takes_only_the_files_its_manifest_lists(
    make_request, admin_user
):
    """A batch's files may land after its manifest; a file it doesn't list would be
    stuck there, neither removable nor passing processing."""
    request = make_request(status="open", files=0)
    manifest = f"{'0' * 32}  reel_01.mov\n{'1' * 32}  reel_02.mov\n"
    request.add_file("checksum.txt", ContentFile(manifest.encode()), by=admin_user)
    request.add_file("reel_01.mov", ContentFile(b"one"), by=admin_user)
    before = snapshot(request)
    with pytest.raises(ActionRefused, match="checksum.txt does not list “extra.mov”"):
        request.add_file("extra.mov", ContentFile(b"extra"), by=admin_user)
    assert snapshot(request) == before
    request.add_file("reel_02.mov", ContentFile(b"two"), by=admin_user)
    assert set(request.files.values_list("name", flat=True)) == {
        "checksum.txt",
        "reel_01.mov",
        "reel_02.mov",
    }


def test_submit_needs_at_least_one_delivered_file(make_request, admin_user):
    request = make_request(status="open", files=0)
    with pytest.raises(ActionRefused, match="Deliver at least one file"):
        request.act(request.submit, by=admin_user)
    request.refresh_from_db()
    assert request.status == Status.OPEN
    assert request.history.count() == 0


def test_processing_cannot_finish_while_a_file_is_pending(make_request):
    request = make_request(status="submitted", files=2)
    request.files.filter(name="file_000.mov").update(processing_status="passed")
    with pytest.raises(ActionRefused):
        request.act(request.finish_processing, by=None)
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_redelivery_with_clear_removes_every_file_and_releases_the_checksum_lock(
    make_request, admin_user, staff
):
    request = make_request(status="open", files=3, checksum=True)
    request.act(request.submit, by=admin_user)
    request.files.update(processing_status="passed")
    request.act(request.finish_processing, by=None)
    reasons = RedeliveryReason.objects.filter(code__in=["missing-asset", "other"])
    request.act(request.ask_for_redelivery, by=admin_user, reasons=reasons, clear_files=True)
    request.refresh_from_db()
    assert request.status == Status.REDELIVERY
    assert request.files.count() == 0
    assert not request.has_checksum
    record = request.redeliveries.get()
    assert record.cleared_files and record.cleared_count == 4
    assert record.asked_by == admin_user
    assert set(record.reasons.values_list("code", flat=True)) == {"missing-asset", "other"}
    entry = request.history.first()
    assert entry.details["reasons"] == ["missing-asset", "other"]
    assert entry.details["cleared_count"] == 4


def test_redelivery_without_clear_keeps_files(make_request, admin_user):
    request = make_request(status="processed", files=2)
    request.act(
        request.ask_for_redelivery,
        by=admin_user,
        reasons=RedeliveryReason.objects.filter(code="other"),
    )
    assert request.files.count() == 2


def test_redelivery_without_a_reason_is_refused(make_request, admin_user):
    request = make_request(status="processed")
    before = snapshot(request)
    with pytest.raises(ActionRefused, match="at least one reason"):
        request.act(request.ask_for_redelivery, by=admin_user, reasons=[])
    assert snapshot(request) == before


def test_a_partner_cannot_reopen_or_accept(make_request, admin_user):
    accepted = make_request(status="accepted")
    with pytest.raises(ActionRefused, match="role"):
        accepted.act(accepted.reopen, by=admin_user, reasons=RedeliveryReason.objects.all()[:1])
    processed = make_request(status="processed", name="Audio")
    with pytest.raises(ActionRefused, match="role"):
        processed.act(processed.accept, by=admin_user)


def test_an_uploader_cannot_ask_for_redelivery(make_request, uploader):
    request = make_request(status="processed")
    with pytest.raises(ActionRefused, match="role"):
        request.act(
            request.ask_for_redelivery, by=uploader, reasons=RedeliveryReason.objects.all()[:1]
        )
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.PROCESSED


def test_a_stale_copy_is_told_the_request_changed(make_request, admin_user, staff):
    request = make_request(status="processed")
    stale = DeliveryRequest.objects.get(pk=request.pk)
    request.act(request.accept, by=staff)
    with pytest.raises(ActionRefused, match="Someone else changed this request"):
        stale.act(
            stale.ask_for_redelivery, by=admin_user, reasons=RedeliveryReason.objects.all()[:1]
        )
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.ACCEPTED
    assert stale.status == Status.ACCEPTED  # the stale copy now shows the new state


def test_the_status_cannot_be_assigned_directly(make_request):
    request = make_request(status="open")
    with pytest.raises(AttributeError):
        request.status = Status.ACCEPTED


def test_default_redelivery_reasons_ship_with_descriptions(db):
    reasons = RedeliveryReason.objects.filter(active=True)
    names = set(reasons.values_list("name", flat=True))
    assert {"Incorrect Asset Type", "Video Decode Errors", "Timed Text Errors", "Other"} <= names
    for reason in reasons:
        assert len(reason.description) > 60
        assert reason.name_es and reason.description_es
