"""A new user sees verdicts at once: the demo's requests with specs, some with
findings; and Ask for Redelivery pre-selects the reasons the blockers map to."""

import html
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from deliveries.models import DeliveryRequest, RedeliveryReason
from deliveries.tasks import process_request


def text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def demo(db):
    call_command("seed_demo", password="pw-for-tests", stdout=io.StringIO())


def demo_page(client, name: str, title: str, **params) -> str:
    request = DeliveryRequest.objects.get(name=name, title__name=title)
    return client.get(reverse("request-detail", args=[request.pk]), params).content.decode()


def test_the_demo_holds_requests_with_blockers_and_one_ready_for_review(
    client, demo, django_user_model
):
    client.force_login(django_user_model.objects.get(username="partner-admin"))
    trailer = text(demo_page(client, "Trailer UHD", "Paper Moons"))
    assert "1 file has blockers" in trailer
    assert "Expected 3840×2160 · 23.976 fps · ProRes or JPEG 2000" in trailer
    audio = text(demo_page(client, "Audio 5.1 English", "Northern Lights"))
    assert "1 file has blockers" in audio
    # Northern Lights has two Primary Video requests: S01E02 is the accepted one.
    request = DeliveryRequest.objects.get(name="Primary Video", title__episode=2)
    accepted = text(client.get(reverse("request-detail", args=[request.pk])).content.decode())
    assert "Accepted: no blockers" in accepted
    assert "Ready for review" not in accepted  # it was reviewed: it is accepted
    subtitles = text(demo_page(client, "Subtitles Spanish", "Northern Lights"))
    assert "1 file has blockers" in subtitles
    assert "xml:lang is “en-US” but this request is for “es-419”" in subtitles
    listing = text(client.get(reverse("request-list")).content.decode())
    assert listing.count("1 file with blockers") == 3


def test_ask_for_redelivery_preselects_the_reasons_of_the_blockers(client, demo, django_user_model):
    client.force_login(django_user_model.objects.get(username="partner-admin"))
    page = demo_page(client, "Audio 5.1 English", "Northern Lights")
    mapping = RedeliveryReason.objects.get(code="incorrect-channel-mapping")
    other = RedeliveryReason.objects.get(code="timed-text-errors")
    assert re.search(rf'id="reason-{mapping.pk}"[^>]* checked', page)
    assert not re.search(rf'id="reason-{other.pk}"[^>]* checked', page)
    trailer = demo_page(client, "Trailer UHD", "Paper Moons")
    asset_type = RedeliveryReason.objects.get(code="incorrect-asset-type")
    assert re.search(rf'id="reason-{asset_type.pk}"[^>]* checked', trailer)
    assert not re.search(rf'id="reason-{mapping.pk}"[^>]* checked', trailer)


def test_the_demos_image_sequence_submitted_passes_its_spec(demo, django_user_model):
    request = DeliveryRequest.objects.get(name="Picture Master Frames")
    request.act(request.submit, by=django_user_model.objects.get(username="partner-admin"))
    process_request.call(request.pk)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.status == "processed"
    assert (request.files_failed, request.delivery_blockers) == (0, 0)
