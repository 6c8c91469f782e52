"""Requests made, delivered, submitted and processed by the worker's task for tests: by
default a primary video against the UHD spec, with the spec's values overridden where a
test wants a finding (or none)."""

import datetime
import importlib

from django.core.files.base import ContentFile

from deliveries.models import DeliveredFile, DeliveryRequest, DeliverySpec
from deliveries.tasks import process_request

DEFAULT_SPECS = importlib.import_module("deliveries.migrations.0011_quality_checks").DEFAULT_SPECS
UHD = "UHD primary video, 23.976p"
# Only the resolution fails (VIDEO-Resolution: a waivable blocker).
ONLY_RESOLUTION = {"frame_rate": "24/1", "video_codecs": "h264"}


def spec_named(name: str) -> DeliverySpec:
    """A default spec. A transactional test empties the tables the migrations filled:
    then it is made again, from the migration's own list."""
    spec = DeliverySpec.objects.filter(name=name).first()
    if spec is None:
        spec = DeliverySpec.objects.create(**next(s for s in DEFAULT_SPECS if s["name"] == name))
    return spec


def open_request(
    org, title, spec: str, *, name: str = "Checked delivery", language: str = "", overrides=None
) -> DeliveryRequest:
    """An Open request against the default spec named `spec`."""
    spec_row = spec_named(spec)
    return DeliveryRequest.objects.create(
        organization=org,
        title=title,
        name=name,
        asset_type=spec_row.asset_type,
        language=language,
        due_date=datetime.date(2026, 12, 24),
        spec=spec_row,
        spec_overrides=overrides or {},
    )


def make_processed(
    org,
    title,
    files: dict[str, bytes],
    overrides: dict | None = None,
    *,
    spec: str = UHD,
    language: str = "",
    name: str = "Primary Video",
) -> DeliveryRequest:
    """A request named `name` against the spec named `spec`, holding `files`, once
    processed."""
    request = open_request(org, title, spec, name=name, language=language, overrides=overrides)
    for name, content in files.items():
        request.add_file(name, ContentFile(content), by=None)
    request.act(request.submit, by=None)
    process_request.call(request.pk)
    return DeliveryRequest.objects.get(pk=request.pk)


def findings(request: DeliveryRequest, name: str) -> dict[str, dict]:
    """The findings on the file `name` of `request`, by code."""
    delivered = DeliveredFile.objects.get(request=request, name=name)
    return {error["code"]: error for error in delivered.errors}
