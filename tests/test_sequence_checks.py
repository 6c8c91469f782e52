"""An image sequence checked as a whole: gaps listed as ranges in one finding, and the
frame count against the spec; cheap at 250,000 frames (rows, not stored bytes)."""

import datetime
import time

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries.management import samples
from deliveries.models import DeliveredFile, DeliveryRequest, DeliverySpec, Status
from deliveries.processing import sequence_checks
from deliveries.tasks import process_request

FRAME = {"width": 64, "height": 36, "bit_depth": 8}


@pytest.fixture
def sequence(org, title):
    def make(frames: list[int], overrides: dict | None = None) -> DeliveryRequest:
        request = DeliveryRequest.objects.create(
            organization=org,
            title=title,
            name="Picture Master Frames",
            asset_type="image_sequence",
            due_date=datetime.date(2026, 12, 24),
            spec=DeliverySpec.objects.get(name="DCI 4K image sequence 16-bit"),
            spec_overrides={**FRAME, **(overrides or {})},
        )
        png = samples.png_image(64, 36)
        for n in frames:
            request.add_file(f"Show_{n:07d}.png", ContentFile(png), by=None)
        request.act(request.submit, by=None)
        process_request.call(request.pk)
        return DeliveryRequest.objects.get(pk=request.pk)

    return make


def codes(request: DeliveryRequest) -> dict[str, dict]:
    return {finding["code"]: finding for finding in request.delivery_findings}


def test_a_contiguous_sequence_of_the_right_count_has_no_findings(sequence):
    request = sequence(list(range(1, 11)), {"frame_count": 10})
    assert request.status == Status.PROCESSED
    assert request.delivery_findings == []


def test_gaps_are_one_blocker_listing_the_missing_ranges(client, admin_user, sequence):
    request = sequence([1, 2, 3, 7, 8, 10])
    missing = codes(request)["SEQUENCE-MissingFrames"]
    assert missing["severity"] == "blocker"
    assert missing["found"] == "4–6, 9"
    client.force_login(admin_user)
    page = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert "The delivery as a whole has blockers" in page
    assert "Frames missing from the sequence (4): 4–6, 9." in page
    assert f'href="{reverse("finding-codes")}#SEQUENCE-MissingFrames"' in page
    listing = client.get(reverse("request-list")).content.decode()
    assert "Blockers in the delivery as a whole" in listing
    # No file has a blocker, and the page says so rather than only "Blocker 0".
    assert "No single file has a blocker: the findings below are about the delivery" in page


def test_the_studio_admin_lists_the_findings_of_the_delivery_as_a_whole(client, staff, sequence):
    request = sequence([1, 2, 3, 7, 8, 10])
    client.force_login(staff)
    url = reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])
    page = client.get(url).content.decode()
    table = page[page.index('id="findings"') :]
    table = table[: table.index("</table>")]
    assert "The delivery as a whole" in table
    assert "SEQUENCE-MissingFrames" in table
    assert "Frames missing from the sequence (4): 4–6, 9." in table
    url = reverse("request-detail", args=[request.pk])
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es-419").content.decode()
    assert "La entrega en su conjunto tiene bloqueantes" in spanish
    assert "Cuadros que faltan en la secuencia (4): 4–6, 9." in spanish


def test_a_frame_count_other_than_the_specs_is_a_blocker(sequence):
    request = sequence(list(range(1, 6)), {"frame_count": 8})
    count = codes(request)["SEQUENCE-FrameCount"]
    assert (count["expected"], count["found"], count["severity"]) == ("8", "5", "blocker")


def test_without_a_frame_count_the_runtime_times_the_rate_is_expected(sequence):
    request = sequence(list(range(1, 6)), {"runtime_seconds": 0.25, "frame_rate": "24/1"})
    assert codes(request)["SEQUENCE-FrameCount"]["expected"] == "6"


def test_gaps_among_250000_frames_cost_one_pass_over_their_names(org, title):
    """Rows only: the sequence check reads names, never stored bytes."""
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Big sequence",
        asset_type="image_sequence",
        due_date=datetime.date(2026, 12, 24),
        spec=DeliverySpec.objects.get(name="DCI 4K image sequence 16-bit"),
        spec_overrides={"frame_count": 250_000},
    )
    missing = {1204, 1205, 1206, 1207, 1208, 1209, 1210, 88002}
    DeliveredFile.objects.bulk_create(
        [
            DeliveredFile(request=request, name=f"Frame_{n:07d}.dpx", size=1)
            for n in range(1, 250_001 + len(missing))
            if n not in missing
        ],
        batch_size=5000,
    )
    started = time.perf_counter()
    findings = {f.code: f for f in sequence_checks.check(request)}
    elapsed = time.perf_counter() - started
    assert findings["SEQUENCE-MissingFrames"].found == "1,204–1,210, 88,002"
    assert "SEQUENCE-FrameCount" not in findings
    assert elapsed < 5, f"{elapsed:.2f} s for 250,000 names"
