from django.db import models
from django.utils.translation import gettext_lazy


class AssetType(models.TextChoices):
    PRIMARY_VIDEO = "primary_video", gettext_lazy("Primary video")
    AUDIO = "audio", gettext_lazy("Audio")
    TIMED_TEXT = "timed_text", gettext_lazy("Timed text")
    ARTWORK = "artwork", gettext_lazy("Artwork")
    IMAGE_SEQUENCE = "image_sequence", gettext_lazy("Picture-mastering image sequence")


class Status(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    SUBMITTED = "submitted", gettext_lazy("Submitted")
    PROCESSED = "processed", gettext_lazy("Processed")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    REDELIVERY = "redelivery", gettext_lazy("Redelivery")
