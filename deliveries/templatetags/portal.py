"""Small presentation helpers for the partner pages."""

import re
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..files.models import DeliveredFile, Severity
from ..files.waivers import Waiver, is_waived
from ..numbers import grouped
from ..processing.codes import stored_severity
from ..processing.result import more_of_a_kind
from ..requests.history import HistoryEntry
from ..requests.history_text import describe, names_and_more, reason_names
from ..requests.specs import one_of
from ..requests.states import Status
from ..requests.waivers import effective_worst, waivers_of

register = template.Library()


_SVG = (
    '<svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" '
    'focusable="false">{}</svg>'
)


_DOTS = (
    '<circle cx="5" cy="12" r="2"/><circle cx="12" cy="12" r="2"/><circle cx="19" cy="12" r="2"/>'
)


@register.simple_tag
def icon_dots() -> SafeString:
    return mark_safe(_SVG.format(_DOTS))


@register.simple_tag
def dots_symbol() -> SafeString:
    """The drawing the file rows' menu icons point at (deliveries/templatetags/file_list.py)."""
    return mark_safe(
        f'<svg hidden><symbol id="icon-dots" viewBox="0 0 24 24">{_DOTS}</symbol></svg>'
    )


@register.simple_tag
def icon_trash() -> SafeString:
    return mark_safe(
        _SVG.format(
            '<path d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 '
            '0v8h2v-8h-2z"/>'
        )
    )


@register.simple_tag
def icon_lock() -> SafeString:
    return mark_safe(
        _SVG.format(
            '<path d="M12 2a5 5 0 0 0-5 5v3H5v12h14V10h-2V7a5 5 0 0 0-5-5zm-3 8V7a3 3 0 0 1 '
            '6 0v3H9z"/>'
        )
    )


@register.simple_tag(takes_context=True)
def history_text(context: template.Context, entry: HistoryEntry) -> str:
    """One sentence per history entry (deliveries/requests/history_text.py)."""
    return describe(entry, lambda: _reason_names(context))


@register.simple_tag
def removal_names(names: list[str], total: int) -> str:
    """The files a removal takes, named in its confirmation; a long name may break
    after "_", "-" and "." (never inside a word) on a narrow screen."""
    if total <= 1:
        return ""
    return mark_safe(breakable(escape(names_and_more(names, total))))


_BREAK_AFTER = re.compile(r"([_.\-])")  # escape() writes none of these


def breakable(escaped: str) -> str:
    """Escaped text of file names that may break after "_", "-" and "." only."""
    return _BREAK_AFTER.sub(r"\1<wbr>", escaped)


@register.filter
def breakable_name(name: str) -> SafeString:
    return mark_safe(breakable(escape(name)))


@register.simple_tag
def names_and_more_pattern() -> str:
    """The same sentence for static/js/portal.js to fill: "{names} and {count} more"."""
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", 2) % {
        "names": "{names}",
        "count": "{count}",
    }


def _reason_names(context: template.Context) -> dict[str, str]:
    # Loaded once per page, whatever the number of history entries.
    cache = context.render_context.get("reason_names")
    if cache is None:
        cache = reason_names()
        context.render_context["reason_names"] = cache
    return cache


TECHNICAL_LABELS = {
    "container": gettext_lazy("Container"),
    "duration": gettext_lazy("Duration"),
    "video_codec": gettext_lazy("Video codec"),
    "resolution": gettext_lazy("Resolution"),
    "frame_rate": gettext_lazy("Frame rate"),
    "scan_type": gettext_lazy("Scan"),
    "video_bit_depth": gettext_lazy("Video bit depth"),
    "colour_primaries": gettext_lazy("Colour primaries"),
    "transfer_characteristics": gettext_lazy("Transfer characteristics"),
    "bit_rate": gettext_lazy("Bit rate"),
    "audio_codec": gettext_lazy("Audio codec"),
    "channels": gettext_lazy("Channels"),
    "channel_layout": gettext_lazy("Channel layout"),
    "sample_rate": gettext_lazy("Sample rate"),
    "loudness": gettext_lazy("Integrated loudness"),
    "color_mode": gettext_lazy("Colour mode"),
    "bit_depth": gettext_lazy("Bit depth"),
    "format": gettext_lazy("Format"),
    "dimensions": gettext_lazy("Dimensions"),
    "language": gettext_lazy("Language"),
}


@register.filter
def finding_message(error: dict[str, Any]) -> str:
    """A processing error in the viewer's language: stored as an English template
    and its parameters (see deliveries.processing.result.Finding)."""
    if "left_off" in error:
        return more_of_a_kind(error["left_off"])
    template = error.get("template")
    if not template:
        return error.get("message", "")
    # Words such as "timed text" or "primary video" ride in the parameters; names and
    # numbers pass through gettext unchanged.
    params = {key: translated(value) for key, value in (error.get("params") or {}).items()}
    try:
        return _(template) % params if params else _(template)
    except (KeyError, TypeError, ValueError):
        return error.get("message", "")


@register.filter
def expected_found(error: dict[str, Any]) -> str:
    """ "Expected …, found …." of a finding against the spec, in the viewer's language;
    "" for a finding that compares nothing."""
    if not error.get("expected"):
        return ""
    return _("Expected %(expected)s, found %(found)s.") % {
        "expected": translated(error["expected"]),
        "found": translated(error.get("found", "")),
    }


# The few English words processing stores in a file's technical summary and details
# (FFmpeg's layout names, "16-bit"), said in the viewer's language as they are shown.
_BITS = re.compile(r"\b(\d+)-bit\b")
_COUNTED_CHANNELS = re.compile(r"\b(\d+) channels?\b")
_LAYOUT_WORDS = {"mono": gettext_lazy("mono"), "stereo": gettext_lazy("stereo")}
_LAYOUT_WORD = re.compile(r"\b(mono|stereo)\b")


def technical_words(text: str) -> str:
    text = _BITS.sub(lambda m: _("%(bits)s-bit") % {"bits": m[1]}, text)
    text = _COUNTED_CHANNELS.sub(
        lambda m: ngettext("%(count)s channel", "%(count)s channels", int(m[1])) % {"count": m[1]},
        text,
    )
    return _LAYOUT_WORD.sub(lambda m: str(_LAYOUT_WORDS[m[1]]), text)


@register.filter
def technical_summary(delivered: DeliveredFile) -> str:
    """The one-line technical summary, with its few words in the viewer's language."""
    metadata = delivered.metadata or {}
    if metadata.get("format") == "Checksum manifest":
        count = metadata.get("entries", 0)
        return ngettext(
            "Checksum manifest · %(count)s entry", "Checksum manifest · %(count)s entries", count
        ) % {"count": grouped(count)}
    if metadata.get("format") == "TTML" and "cues" in metadata:
        cues = ngettext("%(count)s cue", "%(count)s cues", metadata["cues"]) % {
            "count": grouped(metadata["cues"])
        }
        return " · ".join(part for part in ("TTML", metadata.get("language"), cues) if part)
    return technical_words(metadata.get("summary", ""))


@register.filter
def technical_details(delivered: DeliveredFile) -> list[tuple[str, str]]:
    metadata = delivered.metadata or {}
    return [
        (
            str(label),
            _(metadata[key])
            if key in ("format", "scan_type")
            else technical_words(str(metadata[key])),
        )
        for key, label in TECHNICAL_LABELS.items()
        if metadata.get(key) not in (None, "")
    ]


SEVERITY_LABELS = dict(Severity.choices)


def worst_severity(errors: list[dict]) -> str:
    """The worst finding that still counts: a waived one no longer does."""
    return effective_worst(errors)


@register.filter
def severity(error: dict) -> str:
    return stored_severity(error)


@register.filter
def severity_label(value: str) -> str:
    return str(SEVERITY_LABELS.get(value, ""))


@register.filter
def worst_of(delivered: DeliveredFile) -> str:
    return worst_severity(delivered.errors or [])


def glossary_url() -> str:
    return reverse("finding-codes")


@register.filter
def translated(value: Any) -> Any:
    """A word a finding stores in English (marked with gettext_noop), in the viewer's
    language; technical values ("3840×2160") pass unchanged. A list is what a spec
    allows, read as alternatives ("TIFF or PNG", "TIFF o PNG")."""
    if isinstance(value, list):
        return one_of([str(translated(item)) for item in value])
    return _(value) if isinstance(value, str) and value else value


# The statuses in which a request waits on the partner: only then is its due date news.
WAITING_ON_PARTNER = frozenset({Status.OPEN, Status.REDELIVERY})
SOON_DAYS = 7


@register.filter
def due(delivery_request: Any) -> SafeString:
    """How far the due date is, for a request that waits on the partner: "in 3 days",
    "due today", "2 days overdue"; the viewer's today, in their time zone."""
    if delivery_request.status not in WAITING_ON_PARTNER or not delivery_request.due_date:
        return mark_safe("")
    days = (delivery_request.due_date - timezone.localdate()).days
    if days < 0:
        text = ngettext("%(count)s day overdue", "%(count)s days overdue", -days)
        kind = "overdue"
    elif days == 0:
        text, kind = _("due today"), "soon"
    elif days == 1:
        text, kind = _("due tomorrow"), "soon"
    else:
        text = ngettext("in %(count)s day", "in %(count)s days", days)
        kind = "soon" if days <= SOON_DAYS else "later"
    shown = text % {"count": grouped(abs(days))} if "%(count)s" in text else text
    return mark_safe(f'<span class="due due-{kind}">{escape(shown)}</span>')


@register.filter
def person(user: Any) -> str:
    """A person as the rest of the page names them: their full name, else the username
    (the header, comments and emails name the studio contact "Sam Okafor", so the
    banner and the History do too)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


@register.simple_tag
def time_zone() -> str:
    """The zone the page's times are in (the browser's, static/js/timezone.js), said
    once on the page."""
    return timezone.get_current_timezone_name()


@register.filter
def findings_with_waivers(findings: list[dict] | None) -> list[tuple[dict, Waiver | None]]:
    """Findings (a file's, or the delivery's as a whole), each with the waiver that lets
    it stand, if any."""
    waivers = waivers_of(findings or [])
    return [
        (error, waivers.get(error.get("code", "")) if is_waived(error) else None)
        for error in findings or []
    ]
