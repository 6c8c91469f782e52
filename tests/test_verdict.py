"""The verdict after processing, as a partner reads it on the Details Page and the
request list; the spec in plain words; the glossary of codes; specs in the admin."""

import datetime
import html as html_module
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries.management import samples
from deliveries.models import DeliveredFile, DeliveryRequest, DeliverySpec, HistoryEntry
from deliveries.processing.codes import CODES
from deliveries.tasks import process_request

CLIP = {"width": 320, "height": 180, "frame_rate": "24/1", "video_codecs": "h264"}
SPANISH = "es-419"


def page_of(client, request, **params) -> str:
    return client.get(reverse("request-detail", args=[request.pk]), params).content.decode()


def text(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_a_conforming_delivery_reads_ready_for_review(client, admin_user, processed):
    request = processed({"Main.mp4": samples.h264_aac_mp4()}, CLIP)
    client.force_login(admin_user)
    page = text(page_of(client, request))
    assert "Ready for review: no blockers" in page
    assert "files have blockers" not in page


def test_a_non_conforming_delivery_says_how_many_files_have_blockers(client, admin_user, processed):
    clip = samples.h264_aac_mp4()
    request = processed({"Feature_UHD.mp4": clip, "Reel2.mp4": clip})
    client.force_login(admin_user)
    html = page_of(client, request)
    assert "2 files have blockers" in text(html)
    assert "Ready for review" not in html
    assert '<span data-count="blocker">2</span>' in html
    # Each row shows its worst severity as a badge.
    assert html.count('<span class="sev sev-blocker">Blocker</span>') >= 2


def test_the_verdict_is_in_spanish_for_a_spanish_reader(client, admin_user, processed):
    request = processed({"Feature_UHD.mp4": samples.h264_aac_mp4()})
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk])
    page = text(client.get(url, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode())
    assert "1 archivo tiene bloqueantes" in page
    assert "Se espera 3840×2160 · 23.976 fps · ProRes o JPEG 2000" in page


def test_the_header_says_what_the_spec_expects_in_plain_words(client, admin_user, processed):
    request = processed(
        {"Main.mp4": samples.h264_aac_mp4()}, {"runtime_seconds": 2530, "video_codecs": ""}
    )
    DeliveryRequest.objects.filter(pk=request.pk).update(spec_overrides={"runtime_seconds": 2530})
    client.force_login(admin_user)
    page = text(page_of(client, request))
    assert "Expected 3840×2160 · 23.976 fps · ProRes or JPEG 2000 · runtime 42:10 ± 1 s" in page


def test_the_side_panel_lists_each_finding_with_expected_found_and_its_glossary_entry(
    client, admin_user, processed
):
    request = processed({"Feature_UHD.mp4": samples.h264_aac_mp4()})
    delivered = DeliveredFile.objects.get(request=request)
    client.force_login(admin_user)
    html = page_of(client, request, file=delivered.pk)
    panel = html[html.index('id="side-panel"') :]
    assert "Expected 3840×2160, found 320×180." in text(panel)
    assert f'href="{reverse("finding-codes")}#VIDEO-Resolution"' in panel
    assert f'href="{reverse("finding-codes")}#VIDEO-FrameRate"' in panel
    assert "the resolution is 320×180, but the spec asks for 3840×2160" in text(panel)


def test_the_details_page_with_findings_costs_no_query_per_row(
    client, reviewer, processed, django_assert_num_queries
):
    clip = samples.h264_aac_mp4()
    request = processed({f"reel_{n}.mp4": clip for n in range(3)})
    # A Reviewer: an Admin's page of a Processed request also loads the redelivery
    # reasons for its dialog, one query more, with or without findings.
    client.force_login(reviewer)
    client.get(reverse("request-detail", args=[request.pk]))  # the session settles
    with django_assert_num_queries(7):  # and the comments
        response = client.get(reverse("request-detail", args=[request.pk]))
    assert "3 files have blockers" in text(response.content.decode())


def test_the_request_list_shows_each_requests_blocker_count(
    client, admin_user, processed, django_assert_num_queries
):
    processed({"Feature_UHD.mp4": samples.h264_aac_mp4()})
    processed({"Main.mp4": samples.h264_aac_mp4()}, CLIP)
    client.force_login(admin_user)
    client.get(reverse("request-list"))
    with django_assert_num_queries(4):  # session, user, status counts, requests
        page = text(client.get(reverse("request-list")).content.decode())
    assert "1 file with blockers" in page
    assert "No blockers" in page


def test_the_glossary_lists_every_code_in_english(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("finding-codes")).content.decode()
    for code in CODES:
        assert f'id="{code}"' in html
    row = html[html.index('id="AUDIO-ChannelLayout"') :]
    row = text(row[: row.index("</tr>")])
    assert "different number of channels" in row
    assert "Deliver the mix in the spec's layout" in row
    assert "Blocker" in row and "No" in row
    assert "Redelivery reason: Incorrect Channel Mapping." in row


def test_the_glossary_is_in_spanish_for_a_spanish_reader(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("finding-codes"), HTTP_ACCEPT_LANGUAGE=SPANISH)
    html = response.content.decode()
    assert "Códigos de hallazgos" in html
    row = html[html.index('id="AUDIO-BitDepth"') :]
    row = text(row[: row.index("</tr>")])
    assert "profundidad de bits" in row
    assert "Problema" in row and "Sí, un contacto del estudio" in row


# The studio admin -------------------------------------------------------------------


@pytest.fixture
def studio_client(client, staff):
    client.force_login(staff)
    return client


def _add_form(org, title, **extra) -> dict:
    data = {
        "organization": org.pk,
        "title": title.pk,
        "name": "Audio 5.1",
        "asset_type": "audio",
        "language": "en",
        "due_date": "2027-01-15",
        "spec_overrides": "{}",
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
    return {**data, **extra}


def test_a_request_added_in_the_admin_takes_its_asset_types_default_spec(studio_client, org, title):
    response = studio_client.post(
        reverse("admin:deliveries_deliveryrequest_add"), _add_form(org, title)
    )
    assert response.status_code == 302
    request = DeliveryRequest.objects.get(name="Audio 5.1")
    assert request.spec.name == "5.1 printmaster 48 kHz 24-bit"


def test_the_admin_sets_a_spec_with_overrides_and_history_records_it(
    studio_client, staff, org, title, make_request
):
    request = make_request(status="open")
    spec = DeliverySpec.objects.get(name="UHD primary video, 23.976p")
    data = _add_form(
        org,
        title,
        name=request.name,
        asset_type="primary_video",
        due_date="2026-12-24",
        language="",
        spec=spec.pk,
        spec_overrides='{"runtime_seconds": 2530}',
    )
    url = reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])
    assert studio_client.post(url, data).status_code == 302
    request.refresh_from_db()
    assert request.spec == spec and request.spec_overrides == {"runtime_seconds": 2530}
    assert request.effective_spec.runtime_seconds == 2530
    entry = HistoryEntry.objects.filter(request=request, action="edited").get()
    assert set(entry.details["fields"]) == {"spec", "spec_overrides"}


@pytest.mark.parametrize(
    "overrides, says",
    [
        ('{"runtime": 10}', "“runtime” is not a field of a spec"),
        ('{"frame_rate": "fast"}', "Write the frame rate as a fraction"),
        ('{"width": "wide"}', "width:"),
        ("[1, 2]", "Write the overrides as a JSON object"),
    ],
)
def test_a_wrong_override_is_refused_with_what_to_write_and_nothing_is_stored(
    studio_client, org, title, make_request, overrides, says
):
    request = make_request(status="open")
    spec = DeliverySpec.objects.get(name="UHD primary video, 23.976p")
    data = _add_form(
        org,
        title,
        name=request.name,
        asset_type="primary_video",
        due_date="2026-12-24",
        language="",
        spec=spec.pk,
        spec_overrides=overrides,
    )
    url = reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])
    response = studio_client.post(url, data)
    assert response.status_code == 200
    assert says in html_module.unescape(response.content.decode())
    request.refresh_from_db()
    assert request.spec is None and request.spec_overrides == {}


def test_a_spec_of_another_asset_type_is_refused(studio_client, org, title):
    video = DeliverySpec.objects.get(name="UHD primary video, 23.976p")
    response = studio_client.post(
        reverse("admin:deliveries_deliveryrequest_add"), _add_form(org, title, spec=video.pk)
    )
    assert response.status_code == 200
    assert "is a spec for Primary video; choose one for Audio" in response.content.decode()
    assert not DeliveryRequest.objects.filter(name="Audio 5.1").exists()


def test_only_one_spec_per_asset_type_may_be_the_default(studio_client):
    response = studio_client.post(
        reverse("admin:deliveries_deliveryspec_add"),
        {"name": "Another audio spec", "asset_type": "audio", "is_default": "on"},
    )
    assert response.status_code == 200
    assert "already the default for this asset type" in response.content.decode()
    assert not DeliverySpec.objects.filter(name="Another audio spec").exists()


def test_a_resubmit_keeps_the_counts_of_the_files_it_does_not_redo(
    org, title, staff, django_capture_on_commit_callbacks
):
    from deliveries.models import RedeliveryReason

    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Audio 5.1",
        asset_type="audio",
        due_date=datetime.date(2026, 12, 24),
        spec=DeliverySpec.objects.get(name="5.1 printmaster 48 kHz 24-bit"),
    )
    # 16-bit in a 24-bit request: an issue, the file passes.
    request.add_file("mix.wav", ContentFile(samples.wav_audio(channels=6)), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.files_with_issues == 1
    request.act(request.ask_for_redelivery, by=staff, reasons=RedeliveryReason.objects.all()[:1])
    request.add_file("stereo.wav", ContentFile(samples.wav_audio(channels=2)), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert request.status == "processed"
    assert (request.files_processed, request.files_failed, request.files_with_issues) == (2, 1, 1)


def test_a_finding_stored_before_severities_shows_its_codes_default(
    client, admin_user, make_request
):
    request = make_request(status="processed", files=1)
    request.files.update(
        processing_status="failed",
        errors=[{"code": "MEDIA-DecodeError", "message": "file_000.mov: damaged."}],
    )
    client.force_login(admin_user)
    delivered = request.files.get()
    html = page_of(client, request, file=delivered.pk)
    assert '<span class="sev sev-blocker">Blocker</span>' in html


def test_files_with_blockers_can_be_listed_alone(client, admin_user, org, title):
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Audio 5.1",
        asset_type="audio",
        due_date=datetime.date(2026, 12, 24),
        spec=DeliverySpec.objects.get(name="5.1 printmaster 48 kHz 24-bit"),
        spec_overrides={"bit_depth": 16},
    )
    request.add_file("a_surround.wav", ContentFile(samples.wav_audio(channels=6)), by=None)
    request.add_file("b_stereo.wav", ContentFile(samples.wav_audio(channels=2)), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    client.force_login(admin_user)
    everything = page_of(client, request)
    assert "a_surround.wav" in everything and "b_stereo.wav" in everything
    assert "?severity=blocker" in everything
    blocked = page_of(client, request, severity="blocker")
    rows = blocked[blocked.index('id="file-rows"') : blocked.index("</tbody>")]
    assert "b_stereo.wav" in rows and "a_surround.wav" not in rows
    assert 'id="all-files-link"' in blocked


def test_the_admin_change_page_sums_up_the_verdict(client, staff, processed):
    request = processed({"Feature_UHD.mp4": samples.h264_aac_mp4()})
    client.force_login(staff)
    url = reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])
    page = text(client.get(url).content.decode())
    assert "Files with blockers: 1 · with issues: 0 · with FYIs: 0" in page


def test_each_row_says_its_worst_finding_in_words_with_its_glossary_link(
    client, admin_user, processed
):
    request = processed({"Feature_UHD.mp4": samples.h264_aac_mp4()})
    delivered = request.files.get()
    worst = min(delivered.errors, key=lambda e: ["blocker", "issue", "fyi"].index(e["severity"]))
    client.force_login(admin_user)
    html = page_of(client, request)
    row = html[html.index(f'id="file-{delivered.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/help/codes/#{worst["code"]}"' in row
    assert f"Expected {worst['expected']}, found {worst['found']}." in text(row)
    others = len(delivered.errors) - 1
    if others:
        assert f"and {others} more finding" in text(row)
    # In Spanish, the same row in words.
    spanish = client.get(
        reverse("request-detail", args=[request.pk]), HTTP_ACCEPT_LANGUAGE=SPANISH
    ).content.decode()
    row = spanish[spanish.index(f'id="file-{delivered.pk}"') :]
    row = text(row[: row.index("</tr>")])
    assert f"Se esperaba {worst['expected']}; se encontró {worst['found']}." in row
    if others:
        assert f"y {others} hallazgos más" in row
