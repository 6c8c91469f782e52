"""Requests made, delivered, submitted and processed by the worker's task for tests: by
default a primary video against the UHD spec, with the spec's values overridden where a
test wants a finding (or none)."""

import datetime

from django.core.files.base import ContentFile

from deliveries.models import DeliveryRequest, DeliverySpec
from deliveries.tasks import process_request

UHD = "UHD primary video, 23.976p"
# Only the resolution fails (VIDEO-Resolution: a waivable blocker).
ONLY_RESOLUTION = {"frame_rate": "24/1", "video_codecs": "h264"}


def uhd_spec() -> DeliverySpec:
    # Migrated with the defaults; a transaction=True test flushes them, so made again.
    spec, _ = DeliverySpec.objects.get_or_create(
        name=UHD,
        defaults={
            "asset_type": "primary_video",
            "width": 3840,
            "height": 2160,
            "frame_rate": "24000/1001",
            "video_codecs": "prores,jpeg2000",
        },
    )
    return spec


def make_processed(
    org,
    title,
    files: dict[str, bytes],
    overrides: dict | None = None,
    *,
    spec: str = UHD,
    language: str = "",
) -> DeliveryRequest:
    """A request against the spec named `spec`, holding `files`, once processed."""
    spec_row = uhd_spec() if spec == UHD else DeliverySpec.objects.get(name=spec)
    request = DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name="Checked delivery",
        asset_type=spec_row.asset_type,
        language=language,
        due_date=datetime.date(2026, 12, 24),
        spec=spec_row,
        spec_overrides=overrides or {},
    )
    for name, content in files.items():
        request.add_file(name, ContentFile(content), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    return DeliveryRequest.objects.get(pk=request.pk)
