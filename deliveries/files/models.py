"""Delivered files, the lines of their checksum manifests, and stored content waiting
to be deleted. A file belongs to a request (deliveries.requests), named here by its
label so that this package needs nothing of that one."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy

from . import naming


class ProcessingStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    PROCESSING = "processing", gettext_lazy("Processing")
    PASSED = "passed", gettext_lazy("Passed")
    FAILED = "failed", gettext_lazy("Failed")


UNPROCESSED = (ProcessingStatus.PENDING, ProcessingStatus.PROCESSING)


class Severity(models.TextChoices):
    """How much a finding of processing matters, worst first. A file with a blocker
    fails; issues and FYIs leave it passed, with notes for the studio to weigh."""

    BLOCKER = "blocker", gettext_lazy("Blocker")
    ISSUE = "issue", gettext_lazy("Issue")
    FYI = "fyi", gettext_lazy("FYI")


SEVERITY_ORDER: dict[str, int] = {Severity.BLOCKER: 0, Severity.ISSUE: 1, Severity.FYI: 2}


def storage_key(request_id: int, name: str) -> str:
    # A random folder per file: renaming never moves stored bytes, and two deliveries
    # of the same name never collide.
    return f"deliveries/{request_id}/{uuid.uuid4().hex}/{name}"


class VisibleFileManager(models.Manager["DeliveredFile"]):
    """Files not removed. Removing every file of a request hides them at once, before
    the worker deletes their rows; `_base_manager` still sees them."""

    def get_queryset(self) -> models.QuerySet[DeliveredFile]:
        # `id + 0`: a condition no index can serve, so that the planners keep using the
        # (request, name) index to find and order files instead of scanning by id.
        return (
            super()
            .get_queryset()
            .filter(GreaterThan(models.F("pk") + 0, models.F("request__files_removed_through")))
        )


class DeliveredFile(models.Model):
    request = models.ForeignKey(
        "deliveries.DeliveryRequest", on_delete=models.CASCADE, related_name="files"
    )
    name = models.CharField(gettext_lazy("name"), max_length=naming.MAX_NAME_LENGTH)
    size = models.BigIntegerField(gettext_lazy("size"))
    content = models.FileField(gettext_lazy("content"), max_length=500, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("delivered by"),
    )
    delivered_at = models.DateTimeField(gettext_lazy("delivered at"), default=timezone.now)
    md5 = models.CharField("MD5", max_length=32, blank=True)
    xxh64 = models.CharField("xxHash64", max_length=16, blank=True)
    processing_status = models.CharField(
        gettext_lazy("processing"),
        max_length=20,
        choices=ProcessingStatus.choices,
        default=ProcessingStatus.PENDING,
    )
    processed_at = models.DateTimeField(gettext_lazy("processed at"), null=True, blank=True)
    # Technical metadata from inspection: container, duration, codecs, resolution, ...
    metadata = models.JSONField(gettext_lazy("technical metadata"), default=dict, blank=True)
    # [{"code": "MEDIA-DecodeError", "message": "..."}]
    errors = models.JSONField(gettext_lazy("errors"), default=list, blank=True)
    # The worst severity among `errors` ('' without any), kept beside them so that a
    # submit can count the kept results by severity in one aggregate.
    worst_severity = models.CharField(
        gettext_lazy("worst severity"),
        max_length=10,
        choices=Severity.choices,
        blank=True,
        default="",
        editable=False,
    )

    objects = VisibleFileManager()

    class Meta:
        app_label = "deliveries"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="unique_file_name_in_request")
        ]
        # The few files a worker holds, and whether any wait, without reading the
        # other 250,000 (the Submitted banner asks every 3 seconds).
        indexes = [
            models.Index(fields=["request", "processing_status"], name="file_processing_state"),
            # "Files with blockers" pages through a 250,000-file request by name.
            models.Index(fields=["request", "worst_severity", "name"], name="file_worst_severity"),
        ]
        verbose_name = gettext_lazy("delivered file")
        verbose_name_plural = gettext_lazy("delivered files")

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        return naming.extension_of(self.name)


class StorageDeletion(models.Model):
    """Stored content whose file row is gone: the worker deletes it from storage, then
    this row. Written in the same transaction as the file rows' DELETE, so a path is
    never forgotten, and removed only once its content is deleted."""

    request_id = models.BigIntegerField(null=True, db_index=True)
    path = models.CharField(max_length=500)
    queued_at = models.DateTimeField(db_default=Now())

    class Meta:
        app_label = "deliveries"
        verbose_name = gettext_lazy("stored file to delete")
        verbose_name_plural = gettext_lazy("stored files to delete")

    def __str__(self) -> str:
        return self.path


class ManifestEntry(models.Model):
    """One line of a checksum manifest: the hash a named file must have."""

    manifest = models.ForeignKey(DeliveredFile, on_delete=models.CASCADE, related_name="entries")
    file_name = models.CharField(max_length=naming.MAX_NAME_LENGTH)
    algorithm = models.CharField(max_length=10, choices=[("md5", "MD5"), ("xxh64", "xxHash64")])
    expected_hash = models.CharField(max_length=64)

    class Meta:
        app_label = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["manifest", "file_name"], name="one_entry_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.expected_hash}  {self.file_name}"
