"""Waivers in the studio admin: a studio contact lets a waivable finding stand, with a
reason; the file's verdict, the request's counts, the Details Page and the History
follow. Accepting with blockers nobody waived needs a reason, recorded."""

import datetime
import html as html_module
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries.management import samples
from deliveries.models import (
    ActionRefused,
    DeliveredFile,
    DeliveryRequest,
    DeliverySpec,
    HistoryEntry,
    Status,
    Waiver,
)
from deliveries.requests.views import blocker_reasons
from deliveries.requests.waivers import waive, withdraw_waiver
from deliveries.tasks import process_request

from .processed import ONLY_RESOLUTION, make_processed
from .racing import race

# The resolution and the frame rate fail (VIDEO-FrameRate may not be waived).
RESOLUTION_AND_RATE = {"video_codecs": "h264"}
REASON = "The director approved the 320×180 proxy for this festival screener."
SPANISH = "es-419"


@pytest.fixture
def studio_client(client, staff):
    client.force_login(staff)
    return client


def text(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def change_url(request) -> str:
    return reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])


def waive_url(request, delivered, code: str) -> str:
    return reverse(
        "admin:deliveries_deliveryrequest_waive",
        kwargs={"object_id": request.pk, "file_pk": delivered.pk, "code": code},
    )


def unwaive_url(request, delivered, code: str) -> str:
    return reverse(
        "admin:deliveries_deliveryrequest_unwaive",
        kwargs={"object_id": request.pk, "file_pk": delivered.pk, "code": code},
    )


def transition_url(request, name: str) -> str:
    return reverse(
        "admin:deliveries_deliveryrequest_transition",
        kwargs={"object_id": request.pk, "transition_name": name},
    )


def change_form(request) -> dict:
    data = {
        "title": request.title_id,
        "name": request.name,
        "asset_type": request.asset_type,
        "language": request.language,
        "due_date": request.due_date.isoformat(),
        "spec": request.spec_id or "",
        "spec_overrides": "{}",
    }
    for prefix in ("redeliveries", "history"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def detail(client, request, **params) -> str:
    return client.get(reverse("request-detail", args=[request.pk]), params).content.decode()


# The findings on the change page -------------------------------------------------------


def test_the_change_page_lists_each_finding_in_words(studio_client, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, RESOLUTION_AND_RATE)
    delivered = request.files.get()
    html = studio_client.get(change_url(request)).content.decode()
    table = text(html[html.index('id="findings"') :])
    assert "Main.mp4 VIDEO-Resolution Blocker Expected 3840×2160, found 320×180." in table
    assert "the resolution is 320×180, but the spec asks for 3840×2160" in table
    assert "VIDEO-FrameRate Blocker" in table and "Not waivable" in table
    # Only the waivable one offers a waiver.
    assert waive_url(request, delivered, "VIDEO-Resolution") in html
    assert waive_url(request, delivered, "VIDEO-FrameRate") not in html


def test_the_change_page_of_a_request_without_findings_says_so(studio_client, make_request):
    request = make_request(status="processed")
    page = text(studio_client.get(change_url(request)).content.decode())
    assert "No findings: nothing in this delivery needs weighing." in page


# Waiving -----------------------------------------------------------------------------


def test_a_studio_contact_waives_a_finding_and_everything_follows(
    client, studio_client, staff, admin_user, processed
):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    assert request.files_failed == 1
    form = studio_client.get(waive_url(request, delivered, "VIDEO-Resolution")).content.decode()
    assert "Main.mp4" in form and "Expected 3840×2160, found 320×180." in text(form)

    response = studio_client.post(
        waive_url(request, delivered, "VIDEO-Resolution"), {"reason": REASON}, follow=True
    )
    assert "Waived VIDEO-Resolution on “Main.mp4”." in text(response.content.decode())
    waiver = Waiver.objects.get()
    assert (waiver.file, waiver.code, waiver.waived_by, waiver.reason) == (
        delivered,
        "VIDEO-Resolution",
        staff,
        REASON,
    )
    # The file's verdict and the request's counters follow.
    delivered.refresh_from_db()
    assert (delivered.worst_severity, delivered.processing_status) == ("", "passed")
    request.refresh_from_db()
    assert (request.files_failed, request.files_with_issues, request.files_with_fyi) == (0, 0, 0)
    # The History names the studio contact and the reason.
    entry = request.history.filter(action=HistoryEntry.Action.WAIVED).get()
    assert entry.actor == staff
    admin_page = text(studio_client.get(change_url(request)).content.decode())
    assert f"Waived VIDEO-Resolution on “Main.mp4”: {REASON}" in admin_page
    # The waived finding stays in the change page's list, with its waiver.
    listed = admin_page[admin_page.index("Expected / found") :]
    assert "Main.mp4 VIDEO-Resolution Blocker" in listed
    assert "Waived by studio-contact on" in listed

    # The partner's Details Page: no blockers, none listed, the waiver on the file.
    client.force_login(admin_user)
    page = text(detail(client, request))
    assert "Ready for review: no blockers" in page
    assert f"studio-contact Waived VIDEO-Resolution on “Main.mp4”: {REASON}" in page
    blocked = detail(client, request, severity="blocker")
    assert 'id="file-rows"' not in blocked
    assert "No file has blockers left: waived findings no longer count." in blocked
    html = detail(client, request, file=delivered.pk)
    panel = text(html[html.index('id="side-panel"') :])
    assert "Waived VIDEO-Resolution" in panel
    assert "Waived by studio-contact on" in panel and REASON in panel
    # Its row no longer shows a blocker badge nor the finding; it counts it waived.
    rows = html[html.index('id="file-rows"') : html.index("</tbody>")]
    assert "sev-blocker" not in rows
    assert "VIDEO-Resolution" not in rows
    assert "1 finding waived" in text(rows)


def test_the_waiver_reads_in_spanish_for_a_spanish_reader(client, staff, admin_user, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason="Aprobado.")
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk])
    page = text(
        client.get(url, {"file": delivered.pk}, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode()
    )
    assert "Lista para revisión: sin bloqueantes" in page
    assert "Se dispensó VIDEO-Resolution en “Main.mp4”: Aprobado." in page
    assert "Dispensado por studio-contact el" in page


def test_a_waiver_without_a_reason_is_refused_and_nothing_changes(studio_client, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    response = studio_client.post(
        waive_url(request, delivered, "VIDEO-Resolution"), {"reason": "   "}
    )
    assert response.status_code == 200
    assert "Give the reason for the waiver." in response.content.decode()
    assert not Waiver.objects.exists()
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 1


def test_a_code_that_may_not_be_waived_is_refused_with_what_to_do(studio_client, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, RESOLUTION_AND_RATE)
    delivered = request.files.get()
    for method in (studio_client.get, studio_client.post):
        response = method(
            waive_url(request, delivered, "VIDEO-FrameRate"), {"reason": REASON}, follow=True
        )
        assert response.status_code == 200
        assert "VIDEO-FrameRate cannot be waived: the file must be delivered again." in (
            text(response.content.decode())
        )
    assert not Waiver.objects.exists()
    assert not request.history.filter(action=HistoryEntry.Action.WAIVED).exists()


def test_a_finding_the_file_does_not_have_cannot_be_waived(studio_client, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    with pytest.raises(ActionRefused, match="has no VIDEO-Codec finding to waive"):
        waive(request, delivered.pk, "VIDEO-Codec", by=staff, reason=REASON)
    response = studio_client.post(
        waive_url(request, delivered, "VIDEO-Codec"), {"reason": REASON}, follow=True
    )
    assert "“Main.mp4” has no VIDEO-Codec finding to waive." in text(response.content.decode())
    with pytest.raises(ActionRefused, match="no longer part of the request"):
        waive(request, delivered.pk + 1000, "VIDEO-Resolution", by=staff, reason=REASON)
    assert not Waiver.objects.exists()


def test_waiving_one_of_two_blockers_leaves_the_file_blocked(staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, RESOLUTION_AND_RATE)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    delivered.refresh_from_db()
    assert (delivered.worst_severity, delivered.processing_status) == ("blocker", "failed")
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 1


def test_an_issue_waived_leaves_the_files_with_issues(staff, org, title):
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Audio 5.1",
        asset_type="audio",
        due_date=datetime.date(2026, 12, 24),
        spec=DeliverySpec.objects.get(name="5.1 printmaster 48 kHz 24-bit"),
    )
    # 16-bit in a 24-bit request: AUDIO-BitDepth, a waivable issue.
    request.add_file("mix.wav", ContentFile(samples.wav_audio(channels=6)), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.files_with_issues == 1
    waive(request, request.files.get().pk, "AUDIO-BitDepth", by=staff, reason=REASON)
    assert request.files_with_issues == 0
    assert DeliveryRequest.objects.get(pk=request.pk).files_with_issues == 0


def test_the_same_waiver_twice_is_refused_saying_who_gave_it(staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    with pytest.raises(ActionRefused, match="already waived. Waived by studio-contact"):
        waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason="Again.")
    assert Waiver.objects.count() == 1
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 0


def test_waivers_are_given_only_while_the_request_is_processed(studio_client, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    request.act(request.accept, by=staff, reason="Screener only.")
    with pytest.raises(ActionRefused, match="This request is Accepted"):
        waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    page = studio_client.get(change_url(request)).content.decode()
    assert "Findings can be waived only while a request is Processed." in text(page)
    assert waive_url(request, delivered, "VIDEO-Resolution") not in page
    response = studio_client.post(
        waive_url(request, delivered, "VIDEO-Resolution"), {"reason": REASON}, follow=True
    )
    assert "This request is Accepted" in text(response.content.decode())
    assert not Waiver.objects.exists()


def test_a_partner_cannot_reach_the_waiver_page(client, admin_user, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    client.force_login(admin_user)
    response = client.post(waive_url(request, delivered, "VIDEO-Resolution"), {"reason": REASON})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Waiver.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(2))
def test_two_waivers_of_one_finding_at_once_one_wins_and_the_other_is_told(
    postgres_only,
    org,
    title,
    staff,
    django_user_model,
    repeat,
):
    request = make_processed(org, title, {"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    other = django_user_model.objects.create_user(username="studio-two", is_staff=True)
    copies = [DeliveryRequest.objects.get(pk=request.pk) for _ in range(2)]
    results = race(
        *[
            lambda c=c, who=who: waive(c, delivered.pk, "VIDEO-Resolution", by=who, reason=REASON)
            for c, who in zip(copies, (staff, other), strict=True)
        ]
    )
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(refused) == 1 and "already waived" in refused[0].message
    assert Waiver.objects.count() == 1
    assert request.history.filter(action=HistoryEntry.Action.WAIVED).count() == 1
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(2))
def test_two_withdrawals_of_one_waiver_at_once_count_the_finding_once(
    postgres_only,
    org,
    title,
    staff,
    django_user_model,
    repeat,
):
    request = make_processed(org, title, {"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    other = django_user_model.objects.create_user(username="studio-two", is_staff=True)
    copies = [DeliveryRequest.objects.get(pk=request.pk) for _ in range(2)]
    results = race(
        *[
            lambda c=c, who=who: withdraw_waiver(
                c, delivered.pk, "VIDEO-Resolution", by=who, reason="Wrong request."
            )
            for c, who in zip(copies, (staff, other), strict=True)
        ]
    )
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(refused) == 1 and "is not waived" in refused[0].message
    assert not Waiver.objects.exists()
    assert request.history.filter(action=HistoryEntry.Action.WAIVER_WITHDRAWN).count() == 1
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 1


# Accepting with blockers -------------------------------------------------------------------


def test_accepting_with_unwaived_blockers_needs_a_reason_on_any_path(staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    with pytest.raises(ActionRefused, match="1 file still has blockers nobody waived"):
        request.act(request.accept, by=staff)
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.PROCESSED
    request.act(request.accept, by=staff, reason="Screener only; the master follows.")
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.ACCEPTED


def test_the_admins_accept_asks_for_the_reason_and_history_records_it(
    client, studio_client, admin_user, processed
):
    clip = samples.h264_aac_mp4()
    request = processed({"Main.mp4": clip, "Reel2.mp4": clip, "Reel3.mp4": clip}, ONLY_RESOLUTION)
    response = studio_client.post(
        change_url(request), {"_fsm_transition_to": "accept", **change_form(request)}
    )
    assert response.status_code == 302
    assert response["Location"] == transition_url(request, "accept")
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.PROCESSED
    form = studio_client.get(response["Location"]).content.decode()
    assert "3 files still have blockers nobody waived." in text(form)
    assert 'name="reason"' in form

    refused = studio_client.post(transition_url(request, "accept"), {"reason": ""})
    assert refused.status_code == 200
    assert "3 files still have blockers nobody waived." in text(refused.content.decode())
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.PROCESSED

    accepted = studio_client.post(
        transition_url(request, "accept"), {"reason": "Screener only."}, follow=True
    )
    assert "The request is now Accepted." in text(accepted.content.decode())
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.status == Status.ACCEPTED
    sentence = (
        "Status changed from Processed to Accepted. Accepted with 3 files with blockers: "
        "Screener only."
    )
    client.force_login(admin_user)
    assert sentence in text(detail(client, request))
    spanish = client.get(
        reverse("request-detail", args=[request.pk]), HTTP_ACCEPT_LANGUAGE=SPANISH
    ).content.decode()
    assert "Aceptada con 3 archivos con bloqueantes: Screener only." in text(spanish)


def test_accept_works_in_one_click_once_every_blocker_is_waived(studio_client, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    waive(request, request.files.get().pk, "VIDEO-Resolution", by=staff, reason=REASON)
    response = studio_client.post(
        change_url(request), {"_fsm_transition_to": "accept", **change_form(request)}, follow=True
    )
    assert "The request is now Accepted." in text(response.content.decode())
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.status == Status.ACCEPTED
    assert request.history.first().details == {}


# Ask for Redelivery's pre-selected reasons -----------------------------------------------


def test_a_waived_blocker_preselects_no_redelivery_reason(client, admin_user, staff, processed):
    request = processed(
        {"Main.mp4": samples.h264_aac_mp4(), "Broken.mp4": samples.corrupt_video()},
        ONLY_RESOLUTION,
    )
    assert blocker_reasons(request) == {"incorrect-asset-type", "video-decode-errors"}
    main = request.files.get(name="Main.mp4")
    waive(request, main.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    assert blocker_reasons(request) == {"video-decode-errors"}
    client.force_login(admin_user)
    html = detail(client, request, dialog="redelivery")
    checked = set(re.findall(r'data-reason-name="([^"]+)" checked', html))
    assert checked == {"Video Decode Errors"}


def test_a_waived_blocker_beside_another_on_one_file_preselects_only_the_other(staff, make_request):
    request = make_request(status="processed", files=1)
    # One file with two blockers mapping to two reasons; only one may be waived.
    request.files.update(
        processing_status="failed",
        worst_severity="blocker",
        errors=[
            {"code": "VIDEO-Resolution", "severity": "blocker", "params": {}},
            {"code": "MEDIA-DecodeError", "severity": "blocker", "params": {}},
        ],
    )
    delivered = DeliveredFile.objects.get(request=request)
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    assert blocker_reasons(request) == {"video-decode-errors"}


def test_a_waived_file_removed_with_a_redelivery_takes_its_waiver_along(staff, processed):
    from deliveries.models import RedeliveryReason
    from deliveries.requests.cleanup import purge_removed_files

    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    waive(request, request.files.get().pk, "VIDEO-Resolution", by=staff, reason=REASON)
    request.act(
        request.ask_for_redelivery,
        by=staff,
        reasons=RedeliveryReason.objects.filter(code="other"),
        clear_files=True,
    )
    purge_removed_files()
    assert not DeliveredFile._base_manager.filter(request=request).exists()
    assert not Waiver.objects.exists()


def test_a_studio_user_who_may_not_change_requests_is_refused_and_nothing_changes(
    client, django_user_model, processed
):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    viewer = django_user_model.objects.create_user(username="studio-viewer", is_staff=True)
    client.force_login(viewer)
    for method in (client.get, client.post):
        response = method(waive_url(request, delivered, "VIDEO-Resolution"), {"reason": REASON})
        assert response.status_code == 403
    assert not Waiver.objects.exists()
    assert DeliveryRequest.objects.get(pk=request.pk).files_failed == 1


def test_the_waiver_page_of_a_request_that_does_not_exist_leads_back(studio_client):
    url = reverse(
        "admin:deliveries_deliveryrequest_waive",
        kwargs={"object_id": 999999, "file_pk": 1, "code": "VIDEO-Resolution"},
    )
    response = studio_client.get(url, follow=True)
    assert response.status_code == 200
    assert "doesn’t exist" in response.content.decode()


def test_a_waiver_still_stands_when_the_files_are_processed_again(staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    DeliveryRequest.objects.filter(pk=request.pk).update(status="submitted")
    process_request.call(request.pk, rerun=True)
    request = DeliveryRequest.objects.get(pk=request.pk)
    delivered = request.files.get()
    assert request.status == "processed"
    assert request.files_failed == 0
    assert delivered.processing_status == "passed"
    assert delivered.worst_severity != "blocker"
    assert [
        f.get("waiver") is not None for f in delivered.errors if f["code"] == "VIDEO-Resolution"
    ] == [True]


# Withdrawing a waiver ------------------------------------------------------------------

MISTAKE = "Waived on the wrong request: the festival screener is another delivery."


def test_a_waiver_given_by_mistake_is_withdrawn_and_the_finding_counts_again(
    client, studio_client, staff, admin_user, processed
):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    listed = studio_client.get(change_url(request)).content.decode()
    assert unwaive_url(request, delivered, "VIDEO-Resolution") in listed
    form = text(
        studio_client.get(unwaive_url(request, delivered, "VIDEO-Resolution")).content.decode()
    )
    assert "Withdraw the waiver of VIDEO-Resolution" in form
    assert "Waived by studio-contact on" in form and REASON in form

    response = studio_client.post(
        unwaive_url(request, delivered, "VIDEO-Resolution"), {"reason": MISTAKE}, follow=True
    )
    page = text(response.content.decode())
    assert "Withdrew the waiver of VIDEO-Resolution on “Main.mp4”." in page
    assert not Waiver.objects.exists()
    delivered.refresh_from_db()
    assert (delivered.worst_severity, delivered.processing_status) == ("blocker", "failed")
    assert not any("waiver" in finding for finding in delivered.errors)
    request.refresh_from_db()
    assert (request.files_failed, request.files_with_issues) == (1, 0)
    entry = request.history.filter(action=HistoryEntry.Action.WAIVER_WITHDRAWN).get()
    assert (entry.actor, entry.details["reason"]) == (staff, MISTAKE)
    # The finding may be waived again: the change page offers it.
    assert waive_url(request, delivered, "VIDEO-Resolution") in response.content.decode()

    # The partner sees the blocker again, and in the History who withdrew the waiver.
    client.force_login(admin_user)
    partner = text(detail(client, request))
    assert "Ready for review: no blockers" not in partner
    assert f"Withdrew the waiver of VIDEO-Resolution on “Main.mp4”: {MISTAKE}" in partner
    rows = detail(client, request, severity="blocker")
    assert "Main.mp4" in text(rows[rows.index('id="file-rows"') :])
    # Accepting now needs a reason again.
    assert blocker_reasons(request)


def test_a_withdrawal_reads_in_spanish_for_a_spanish_reader(client, staff, admin_user, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    withdraw_waiver(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=MISTAKE)
    client.force_login(admin_user)
    client.cookies["django_language"] = SPANISH
    page = text(detail(client, request))
    assert f"Se retiró la dispensa de VIDEO-Resolution en “Main.mp4”: {MISTAKE}" in page


def test_a_withdrawal_without_a_reason_is_refused_and_nothing_changes(
    studio_client, staff, processed
):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    response = studio_client.post(
        unwaive_url(request, delivered, "VIDEO-Resolution"), {"reason": "  "}
    )
    assert response.status_code == 200
    assert "Give the reason for withdrawing the waiver." in text(response.content.decode())
    assert Waiver.objects.count() == 1
    delivered.refresh_from_db()
    assert delivered.processing_status == "passed"
    assert not request.history.filter(action=HistoryEntry.Action.WAIVER_WITHDRAWN).exists()


def test_a_finding_nobody_waived_has_no_waiver_to_withdraw(studio_client, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    with pytest.raises(ActionRefused, match="VIDEO-Resolution on “Main.mp4” is not waived."):
        withdraw_waiver(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=MISTAKE)
    response = studio_client.get(unwaive_url(request, delivered, "VIDEO-Resolution"), follow=True)
    assert "VIDEO-Resolution on “Main.mp4” is not waived." in text(response.content.decode())
    delivered.refresh_from_db()
    assert delivered.processing_status == "failed"


def test_an_accepted_requests_waivers_stand(studio_client, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    request.act(request.accept, by=staff)
    listed = studio_client.get(change_url(request)).content.decode()
    assert unwaive_url(request, delivered, "VIDEO-Resolution") not in listed
    with pytest.raises(ActionRefused, match="the waivers it was accepted with stand"):
        withdraw_waiver(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=MISTAKE)
    response = studio_client.post(
        unwaive_url(request, delivered, "VIDEO-Resolution"), {"reason": MISTAKE}, follow=True
    )
    assert "the waivers it was accepted with stand" in text(response.content.decode())
    assert Waiver.objects.count() == 1
    delivered.refresh_from_db()
    assert delivered.processing_status == "passed"


def test_a_partner_cannot_reach_the_withdrawal_page(client, admin_user, staff, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    client.force_login(admin_user)
    response = client.post(unwaive_url(request, delivered, "VIDEO-Resolution"), {"reason": "x"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Waiver.objects.count() == 1


# The delivery as a whole ---------------------------------------------------------------

SEQUENCE = "DCI 4K image sequence 16-bit"
FRAMES = {"width": 64, "height": 36, "bit_depth": 8}
HANDLES = "The three extra frames are the agreed head handles; editorial trims them."


@pytest.fixture
def sequence(processed):
    """A processed image sequence of `frames` (numbers) against a spec asking for
    `count` frames: SEQUENCE-FrameCount (waivable) when they differ, and
    SEQUENCE-MissingFrames (not waivable) when the numbers have a gap."""

    def make(frames, count: int) -> DeliveryRequest:
        png = samples.png_image(64, 36)
        return processed(
            {f"Show_{n:07d}.png": png for n in frames},
            {**FRAMES, "frame_count": count},
            spec=SEQUENCE,
            name="Picture Master Frames",
        )

    return make


def whole_url(request, code: str, *, withdraw: bool = False) -> str:
    name = "unwaive_whole" if withdraw else "waive_whole"
    return reverse(
        f"admin:deliveries_deliveryrequest_{name}", kwargs={"object_id": request.pk, "code": code}
    )


def test_a_frame_count_of_the_whole_sequence_is_waived_and_everything_follows(
    client, studio_client, staff, admin_user, sequence
):
    request = sequence(range(1, 6), 3)
    assert [f["code"] for f in request.delivery_findings] == ["SEQUENCE-FrameCount"]
    assert (request.files_failed, request.delivery_blockers) == (0, 1)
    listed = studio_client.get(change_url(request)).content.decode()
    assert whole_url(request, "SEQUENCE-FrameCount") in listed
    form = text(studio_client.get(whole_url(request, "SEQUENCE-FrameCount")).content.decode())
    assert "The delivery as a whole" in form and "Expected 3, found 5." in form

    response = studio_client.post(
        whole_url(request, "SEQUENCE-FrameCount"), {"reason": HANDLES}, follow=True
    )
    assert "Waived SEQUENCE-FrameCount on the delivery as a whole." in text(
        response.content.decode()
    )
    waiver = Waiver.objects.get()
    assert (waiver.request, waiver.file, waiver.code, waiver.waived_by, waiver.reason) == (
        request,
        None,
        "SEQUENCE-FrameCount",
        staff,
        HANDLES,
    )
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.delivery_blockers == 0
    assert [f.get("waiver") for f in request.delivery_findings] == [waiver.pk]
    # The admin lists it waived, with its withdrawal; accepting needs no reason now.
    admin_page = text(studio_client.get(change_url(request)).content.decode())
    assert "The delivery as a whole SEQUENCE-FrameCount Blocker" in admin_page
    assert "Waived by studio-contact on" in admin_page
    assert request.why_accept_needs_reason() == ""

    # The partner: no blockers, the finding shown waived with who and why, in the History.
    client.force_login(admin_user)
    page = text(detail(client, request))
    assert "Ready for review: no blockers" in page
    assert "The delivery as a whole has blockers" not in page
    assert "studio-contact Waived SEQUENCE-FrameCount" in page
    assert "Waived by studio-contact on" in page
    assert f"Waived SEQUENCE-FrameCount on the delivery as a whole: {HANDLES}" in page
    assert not blocker_reasons(request)

    client.force_login(staff)
    response = client.post(
        change_url(request), {"_fsm_transition_to": "accept", **change_form(request)}, follow=True
    )
    assert "The request is now Accepted." in text(response.content.decode())
    assert DeliveryRequest.objects.get(pk=request.pk).history.first().details == {}


def test_missing_frames_of_the_whole_sequence_cannot_be_waived(studio_client, sequence):
    request = sequence([1, 2, 4], 3)
    assert {f["code"] for f in request.delivery_findings} == {"SEQUENCE-MissingFrames"}
    listed = studio_client.get(change_url(request)).content.decode()
    assert "Not waivable: accept with a reason, or ask for redelivery" in text(listed)
    assert whole_url(request, "SEQUENCE-MissingFrames") not in listed
    response = studio_client.post(
        whole_url(request, "SEQUENCE-MissingFrames"), {"reason": HANDLES}, follow=True
    )
    assert "SEQUENCE-MissingFrames cannot be waived" in text(response.content.decode())
    assert not Waiver.objects.exists()
    assert DeliveryRequest.objects.get(pk=request.pk).delivery_blockers == 1


def test_a_delivery_finding_it_does_not_have_or_without_a_reason_is_refused(
    studio_client, staff, sequence
):
    request = sequence(range(1, 4), 3)
    assert request.delivery_findings == []
    response = studio_client.get(whole_url(request, "SEQUENCE-FrameCount"), follow=True)
    assert "The delivery as a whole has no SEQUENCE-FrameCount finding to waive." in text(
        response.content.decode()
    )
    request = sequence(range(1, 6), 3)
    response = studio_client.post(whole_url(request, "SEQUENCE-FrameCount"), {"reason": " "})
    assert response.status_code == 200
    assert not Waiver.objects.exists()
    with pytest.raises(ActionRefused, match="Give the reason for the waiver"):
        waive(request, None, "SEQUENCE-FrameCount", by=staff, reason="")
    assert DeliveryRequest.objects.get(pk=request.pk).delivery_blockers == 1


def test_the_same_delivery_waiver_twice_is_refused_saying_who_gave_it(staff, sequence):
    request = sequence(range(1, 6), 3)
    waive(request, None, "SEQUENCE-FrameCount", by=staff, reason=HANDLES)
    with pytest.raises(ActionRefused) as refused:
        waive(request, None, "SEQUENCE-FrameCount", by=staff, reason=HANDLES)
    assert "SEQUENCE-FrameCount on the delivery as a whole is already waived." in str(
        refused.value.message
    )
    assert "Waived by studio-contact on" in str(refused.value.message)
    assert Waiver.objects.count() == 1


def test_a_delivery_waiver_given_by_mistake_is_withdrawn_and_the_blocker_counts_again(
    client, studio_client, staff, admin_user, sequence
):
    request = sequence(range(1, 6), 3)
    waive(request, None, "SEQUENCE-FrameCount", by=staff, reason=HANDLES)
    listed = studio_client.get(change_url(request)).content.decode()
    assert whole_url(request, "SEQUENCE-FrameCount", withdraw=True) in listed
    form = text(
        studio_client.get(whole_url(request, "SEQUENCE-FrameCount", withdraw=True)).content.decode()
    )
    assert "Withdraw the waiver of SEQUENCE-FrameCount" in form and HANDLES in form

    response = studio_client.post(
        whole_url(request, "SEQUENCE-FrameCount", withdraw=True), {"reason": MISTAKE}, follow=True
    )
    assert "Withdrew the waiver of SEQUENCE-FrameCount on the delivery as a whole." in text(
        response.content.decode()
    )
    assert not Waiver.objects.exists()
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.delivery_blockers == 1
    assert not any("waiver" in f for f in request.delivery_findings)
    assert request.why_accept_needs_reason()
    client.force_login(admin_user)
    page = text(detail(client, request))
    assert "The delivery as a whole has blockers" in page
    assert (
        f"Withdrew the waiver of SEQUENCE-FrameCount on the delivery as a whole: {MISTAKE}" in page
    )
    # Withdrawn already: a second withdrawal is told so.
    with pytest.raises(ActionRefused, match="on the delivery as a whole is not waived"):
        withdraw_waiver(request, None, "SEQUENCE-FrameCount", by=staff, reason=MISTAKE)


def test_a_delivery_waiver_stands_while_its_finding_stays_the_same_and_goes_when_it_changes(
    staff, sequence
):
    request = sequence(range(1, 6), 3)
    waiver = waive(request, None, "SEQUENCE-FrameCount", by=staff, reason=HANDLES)
    # Processed again, the same five frames against the same count: the waiver stands.
    DeliveryRequest.objects.filter(pk=request.pk).update(status="submitted")
    process_request.call(request.pk, rerun=True)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.status == "processed"
    assert [f.get("waiver") for f in request.delivery_findings] == [waiver.pk]
    assert request.delivery_blockers == 0
    # The spec now asks for four: five frames is another finding, nobody weighed it.
    DeliveryRequest.objects.filter(pk=request.pk).update(
        status="submitted", spec_overrides={**FRAMES, "frame_count": 4}
    )
    process_request.call(request.pk, rerun=True)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert [(f["code"], f["expected"]) for f in request.delivery_findings] == [
        ("SEQUENCE-FrameCount", "4")
    ]
    assert not any("waiver" in f for f in request.delivery_findings)
    assert request.delivery_blockers == 1
    assert not Waiver.objects.exists()


def test_delivery_waivers_are_given_only_while_the_request_is_processed(
    studio_client, staff, sequence
):
    request = sequence(range(1, 6), 3)
    DeliveryRequest.objects.filter(pk=request.pk).update(status=Status.ACCEPTED)
    request = DeliveryRequest.objects.get(pk=request.pk)
    response = studio_client.post(
        whole_url(request, "SEQUENCE-FrameCount"), {"reason": HANDLES}, follow=True
    )
    assert "This request is Accepted" in text(response.content.decode())
    assert not Waiver.objects.exists()
    assert DeliveryRequest.objects.get(pk=request.pk).delivery_blockers == 1


def test_a_delivery_waiver_reads_in_spanish_for_a_spanish_reader(
    client, staff, admin_user, sequence
):
    request = sequence(range(1, 6), 3)
    waive(request, None, "SEQUENCE-FrameCount", by=staff, reason="Aprobado.")
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk])
    page = text(client.get(url, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode())
    assert "Lista para revisión: sin bloqueantes" in page
    assert "Se dispensó SEQUENCE-FrameCount en la entrega en su conjunto: Aprobado." in page
    assert "Dispensado por studio-contact el" in page


def test_a_waiver_names_the_studio_contact_as_the_history_does(
    client, staff, admin_user, processed
):
    staff.first_name, staff.last_name = "Sam", "Okafor"
    staff.save()
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, ONLY_RESOLUTION)
    delivered = request.files.get()
    waive(request, delivered.pk, "VIDEO-Resolution", by=staff, reason=REASON)
    client.force_login(admin_user)
    panel = text(detail(client, request, file=delivered.pk))
    assert "Waived by Sam Okafor on" in panel
    assert "studio-contact" not in panel
