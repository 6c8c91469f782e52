"""The events people are emailed about, who hears of each, and how often by default.
Plain data: every module of the package reads it."""

from django.db import models
from django.utils.translation import gettext_lazy


class Event(models.TextChoices):
    REDELIVERY = "redelivery", gettext_lazy("Redelivery asked")
    PROCESSED = "processed", gettext_lazy("Processing finished")
    ACCEPTED = "accepted", gettext_lazy("Request accepted")
    COMMENT = "comment", gettext_lazy("New comment")
    SUBMITTED = "submitted", gettext_lazy("Request submitted")


class Frequency(models.TextChoices):
    IMMEDIATELY = "immediately", gettext_lazy("Immediately")
    DIGEST = "digest", gettext_lazy("Daily digest")
    OFF = "off", gettext_lazy("Off")


# What a partner's member and a studio contact hear of (the settings page offers these).
PARTNER_EVENTS = (Event.REDELIVERY, Event.PROCESSED, Event.ACCEPTED, Event.COMMENT)
# A studio contact hears of processing only when it found blockers.
STUDIO_EVENTS = (Event.SUBMITTED, Event.PROCESSED, Event.COMMENT)

# Immediately for what asks someone to act; a digest for what only informs.
DEFAULTS = {
    Event.REDELIVERY: Frequency.IMMEDIATELY,
    Event.PROCESSED: Frequency.DIGEST,
    Event.ACCEPTED: Frequency.IMMEDIATELY,
    Event.COMMENT: Frequency.IMMEDIATELY,
    Event.SUBMITTED: Frequency.DIGEST,
}

EVENT_HELP = {
    Event.REDELIVERY: gettext_lazy("A request of your team must be delivered again."),
    Event.PROCESSED: gettext_lazy(
        "Processing finished, with its verdict (for studio contacts: only with blockers)."
    ),
    Event.ACCEPTED: gettext_lazy("The studio accepted a delivery of your team."),
    Event.COMMENT: gettext_lazy("Someone commented on a request you follow."),
    Event.SUBMITTED: gettext_lazy("A partner submitted a request you are the contact for."),
}
