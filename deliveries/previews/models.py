"""What was made of a file to show it, and where each stored part of it lies.

A ``Preview`` row says a file's preview is made (until then the page says "Preparing
preview…"). Each stored image or proxy is a ``PreviewPart`` row naming its storage
path, so that removal queues those paths with the file's own content
(deliveries/requests/removal.py) and ``check_storage`` knows them. The file's request
is copied on each row: removal's INSERT … SELECT then needs no join."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from ..files.models import DeliveredFile


class PreviewKind(models.TextChoices):
    VIDEO = "video", gettext_lazy("Video")
    AUDIO = "audio", gettext_lazy("Audio")
    IMAGE = "image", gettext_lazy("Image")
    TEXT = "text", gettext_lazy("Timed text")
    NONE = "none", gettext_lazy("No preview")


class Preview(models.Model):
    file = models.OneToOneField(
        DeliveredFile, on_delete=models.CASCADE, primary_key=True, related_name="preview"
    )
    request_id = models.BigIntegerField(db_index=True)
    kind = models.CharField(max_length=10, choices=PreviewKind.choices)
    # The part a row shows ("thumb.jpg", "thumb.png"), '' without one.
    thumbnail = models.CharField(max_length=40, blank=True)
    # A row's words when it has no picture: a timed-text file's first cue.
    caption = models.CharField(max_length=120, blank=True)
    # Everything else the side panel shows: strip times, channels, loudness, cues...
    info = models.JSONField(default=dict, blank=True)
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "deliveries"
        verbose_name = gettext_lazy("preview")
        verbose_name_plural = gettext_lazy("previews")

    def __str__(self) -> str:
        return f"{self.kind} preview of file {self.file_id}"


class PreviewPart(models.Model):
    file = models.ForeignKey(DeliveredFile, on_delete=models.CASCADE, related_name="+")
    request_id = models.BigIntegerField()
    name = models.CharField(max_length=40)
    path = models.CharField(max_length=500)
    content_type = models.CharField(max_length=40)

    class Meta:
        app_label = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["file", "name"], name="one_preview_part_per_name")
        ]

    def __str__(self) -> str:
        return self.path


class SequencePreview(models.Model):
    """An image sequence seen as a whole: its first, middle and last frames, a strip of
    frames across it and its missing ranges. The frames' own thumbnails are the
    pictures; this row stores only which frames and where the gaps are."""

    request_id = models.BigIntegerField(primary_key=True)
    info = models.JSONField(default=dict)
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "deliveries"

    def __str__(self) -> str:
        return f"sequence preview of request {self.request_id}"
