"""One row per tus upload. It stays after its file is delivered (offset == length),
until it expires, so that a client that lost the last answer learns of the success."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy


def upload_expiry() -> datetime.timedelta:
    return settings.UPLOAD_EXPIRY


class UploadQuerySet(models.QuerySet["Upload"]):
    def under_way(self) -> UploadQuerySet:
        """Uploads whose file is not delivered yet."""
        return self.filter(offset__lt=models.F("length"))

    def receiving(self) -> UploadQuerySet:
        """Uploads under way whose bytes arrived in the last few minutes (a long PATCH
        reports every minute): someone is delivering these files now. An upload
        abandoned in a closed tab drops out after that window, not a whole expiry."""
        return self.under_way().filter(expires_at__gt=_receiving_expiry_floor())


PARTIAL = "partial"

# An upload whose bytes arrived this recently is being delivered now.
UPLOAD_UNDER_WAY_WINDOW = datetime.timedelta(minutes=10)


def _receiving_expiry_floor() -> datetime.datetime:
    """Activity pushes expires_at a full expiry ahead: an upload whose expires_at is
    above this received bytes within the under-way window."""
    return timezone.now() - UPLOAD_UNDER_WAY_WINDOW + upload_expiry()


class Upload(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # None for a partial upload whose client named no request (tus concatenation: a
    # part is only bytes; its final upload names the request and the file).
    request = models.ForeignKey(
        "deliveries.DeliveryRequest",
        on_delete=models.CASCADE,
        related_name="uploads",
        verbose_name=gettext_lazy("request"),
        null=True,
        blank=True,
    )
    name = models.CharField(gettext_lazy("name"), max_length=255)
    length = models.BigIntegerField(gettext_lazy("size"))
    # Bytes received and kept. The staging file may briefly hold more (a chunk being
    # received or checked); only this many are ever trusted.
    offset = models.BigIntegerField(gettext_lazy("received"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A partner chose Replace: delivered, it takes the place of the file of its name.
    replaces = models.BooleanField(default=False)
    expires_at = models.DateTimeField(db_index=True)
    # What the first bytes already told (deliveries/uploads/early.py): {} until they
    # were looked at, then {"bytes": how many were read, "settled": whether a later
    # look could tell more, "findings": the findings as DeliveredFile.errors keeps them}.
    early_check = models.JSONField(default=dict, blank=True)
    # tus concatenation: "partial" for a part, "final;<the parts' URLs>" for the upload
    # assembled from them (answered as Upload-Concat), "" otherwise.
    concat = models.TextField(blank=True, default="")

    objects = UploadQuerySet.as_manager()

    class Meta:
        constraints = [
            # Two uploads of one name into one request would collide when the second
            # finishes; refuse the second at creation, before any byte is sent.
            models.UniqueConstraint(fields=["request", "name"], name="one_upload_per_name")
        ]
        verbose_name = gettext_lazy("upload in progress")
        verbose_name_plural = gettext_lazy("uploads in progress")

    def __str__(self) -> str:
        return f"{self.name} ({self.offset}/{self.length})"

    @property
    def is_delivered(self) -> bool:
        return self.offset == self.length

    def is_receiving(self) -> bool:
        """See UploadQuerySet.receiving (read from this row, no query)."""
        return not self.is_delivered and self.expires_at > _receiving_expiry_floor()

    @property
    def is_partial(self) -> bool:
        return self.concat == PARTIAL

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def extend_expiry(self) -> None:
        """Activity keeps an upload alive: it expires a full period after its last bytes."""
        self.expires_at = timezone.now() + upload_expiry()
