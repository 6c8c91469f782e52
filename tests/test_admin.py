"""The studio contacts' admin: transition buttons, the redelivery form, read-only history."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries.models import DeliveryRequest, HistoryEntry, RedeliveryReason, Status


@pytest.fixture
def studio_client(client, staff):
    # pytest-django's admin_client would sign in our partner Admin (the admin_user
    # fixture of tests/conftest.py), so the studio contact gets its own.
    client.force_login(staff)
    return client


def change_url(request) -> str:
    return reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])


def transition_url(request, name: str) -> str:
    return reverse(
        "admin:deliveries_deliveryrequest_transition",
        kwargs={"object_id": request.pk, "transition_name": name},
    )


def test_the_change_page_offers_accept_and_redelivery_on_a_processed_request(
    studio_client, make_request
):
    request = make_request(status="processed")
    page = studio_client.get(change_url(request)).content.decode()
    assert 'value="accept"' in page
    assert 'value="ask_for_redelivery"' in page
    assert 'value="submit"' not in page and 'value="finish_processing"' not in page


def test_accept_button_accepts_and_records_the_studio_contact(client, staff, make_request):
    request = make_request(status="processed")
    client.force_login(staff)
    response = client.post(
        change_url(request),
        {"_fsm_transition_to": "accept", **_form_data(request)},
        follow=True,
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    entry = request.history.first()
    assert entry.actor == staff and entry.after == Status.ACCEPTED
    assert "The request is now Accepted." in response.content.decode()


def test_redelivery_form_asks_for_reasons_and_can_clear_files(client, staff, make_request):
    request = make_request(status="processed", files=3)
    client.force_login(staff)
    page = client.get(transition_url(request, "ask_for_redelivery")).content.decode()
    assert "Incorrect Channel Mapping" in page and "Clear existing files" in page
    reasons = RedeliveryReason.objects.filter(code__in=["missing-asset", "other"])
    response = client.post(
        transition_url(request, "ask_for_redelivery"),
        {"reasons": [r.pk for r in reasons], "clear_files": "on", "note": "Reel 2 missing."},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.REDELIVERY
    assert request.files.count() == 0
    record = request.redeliveries.get()
    assert record.note == "Reel 2 missing." and record.asked_by == staff


def test_redelivery_form_without_a_reason_changes_nothing(client, staff, make_request):
    request = make_request(status="processed")
    client.force_login(staff)
    response = client.post(transition_url(request, "ask_for_redelivery"), {})
    assert response.status_code == 200
    assert "Choose at least one reason" in response.content.decode()
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.PROCESSED


def test_a_studio_contact_reopens_an_accepted_request(client, staff, make_request):
    request = make_request(status="accepted")
    client.force_login(staff)
    page = client.get(change_url(request)).content.decode()
    assert 'value="reopen"' in page and 'value="accept"' not in page
    client.post(
        transition_url(request, "reopen"),
        {"reasons": [RedeliveryReason.objects.get(code="creative-change-needed").pk]},
    )
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.REDELIVERY


def test_a_stale_accept_is_refused_with_a_message(client, staff, make_request):
    request = make_request(status="open")
    client.force_login(staff)
    response = client.post(
        change_url(request),
        {"_fsm_transition_to": "accept", **_form_data(request)},
        follow=True,
    )
    assert "Only a Processed request can be accepted" in response.content.decode()
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.OPEN


def test_the_status_is_read_only_in_the_form(client, staff, make_request):
    request = make_request(status="open")
    client.force_login(staff)
    client.post(change_url(request), {**_form_data(request), "status": "accepted"})
    assert DeliveryRequest.objects.get(pk=request.pk).status == Status.OPEN


def test_history_is_visible_but_cannot_be_changed_or_deleted(client, staff, make_request):
    request = make_request(status="processed")
    entry = request.history.first()
    client.force_login(staff)
    assert client.get(reverse("admin:deliveries_historyentry_changelist")).status_code == 200
    view = client.get(reverse("admin:deliveries_historyentry_change", args=[entry.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    delete = client.post(
        reverse("admin:deliveries_historyentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert HistoryEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:deliveries_organization_add",
        "admin:deliveries_title_add",
        "admin:deliveries_redeliveryreason_add",
    ],
)
def test_partners_titles_and_reasons_are_editable(studio_client, url_name):
    assert studio_client.get(reverse(url_name)).status_code == 200


def _form_data(request) -> dict:
    """The change form's fields as they stand, plus empty inline management forms."""
    data = {
        "organization": request.organization_id,
        "title": request.title_id,
        "name": request.name,
        "asset_type": request.asset_type,
        "language": request.language,
        "due_date": request.due_date.isoformat(),
    }
    for prefix in ("redeliveries", "history"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_the_change_page_links_to_the_full_history_and_keeps_the_partner_fixed(
    studio_client, make_request
):
    request = make_request(status="open", files=3)
    page = studio_client.get(change_url(request)).content.decode()
    assert f"?request__id__exact={request.pk}" in page
    assert 'name="organization"' not in page
    delete = reverse("admin:deliveries_deliveryrequest_delete", args=[request.pk])
    assert studio_client.post(delete, {"post": "yes"}).status_code == 403
    assert DeliveryRequest.objects.filter(pk=request.pk).exists()


def test_an_edit_in_the_admin_is_recorded_in_history(studio_client, staff, make_request):
    import datetime

    request = make_request(status="open")
    data = {**_form_data(request), "due_date": "2027-01-15", "language": "es-419"}
    response = studio_client.post(change_url(request), data)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.due_date == datetime.date(2027, 1, 15)
    entry = request.history.first()
    assert entry.action == "edited" and entry.actor == staff
    assert set(entry.details["fields"]) == {"due_date", "language"}
    assert entry.details["before"]["due_date"] == "2026-12-24"
    page = studio_client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert "Changed in the studio admin: language, due date." in page


def test_an_edit_in_the_admin_keeps_what_partners_changed_meanwhile(
    studio_client, make_request, monkeypatch
):
    from deliveries.requests.admin import DeliveryRequestAdmin

    request = make_request(status="open", files=2)
    save = DeliveryRequestAdmin.save_model

    def a_delivery_lands_first(self, http_request, obj, form, change):
        # Between the admin's read of the request and its save, a partner delivers.
        DeliveryRequest.objects.get(pk=obj.pk).add_file(
            "late_file.mov", ContentFile(b"late"), by=None
        )
        save(self, http_request, obj, form, change)

    monkeypatch.setattr(DeliveryRequestAdmin, "save_model", a_delivery_lands_first)
    data = {**_form_data(request), "name": "Primary Video (v2)"}
    response = studio_client.post(change_url(request), data)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.name == "Primary Video (v2)"
    assert request.file_count == 3 == request.files.count()


def test_the_change_page_sums_up_the_files_and_opens_the_details_page(studio_client, make_request):
    request = make_request(status="processed", files=3)
    request.files.filter(name="file_000.mov").update(processing_status="failed")
    request.files.exclude(name="file_000.mov").update(processing_status="passed")
    page = studio_client.get(change_url(request)).content.decode()
    assert "Passed: 2, Failed: 1" in page
    details = reverse("request-detail", args=[request.pk])
    assert f'<a href="{details}">Open the Details Page</a>' in page
    assert studio_client.get(details).status_code == 200


def test_the_transition_pages_say_what_each_transition_does(studio_client, make_request):
    request = make_request(status="processed")
    page = studio_client.get(transition_url(request, "ask_for_redelivery")).content.decode()
    assert "they see the reasons on the Details Page" in page
    assert "<p>None</p>" not in page
    change = studio_client.get(change_url(request)).content.decode()
    assert 'title="None"' not in change
    assert 'title="The delivery is complete: the partner is done."' in change


@pytest.mark.parametrize("name", ["redeliver", "save", "delete"])
def test_an_address_naming_no_action_leads_back_to_the_request_saying_so(
    studio_client, make_request, name
):
    request = make_request(status="processed")
    response = studio_client.get(transition_url(request, name))
    assert response.status_code == 302 and response["Location"] == change_url(request)
    page = studio_client.get(response["Location"]).content.decode()
    assert "There is no such action on a request." in page
    response = studio_client.post(transition_url(request, name), {"reason": "typo"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.PROCESSED
