"""History entries as sentences, the same on the Details Page and in the studio admin:
"Status changed from Submitted to Processed.", "Removed 7 files. a.mov, b.mov and 5
more"."""

from collections.abc import Callable

from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..numbers import grouped
from .forms import DeliveryRequestAdminForm
from .history import NAMES_NAMED, HistoryEntry, status_label
from .models import DeliveryRequest, RedeliveryReason


def describe(entry: HistoryEntry, reason_names: Callable[[], dict[str, str]]) -> str:
    """One sentence per history entry, escaped (names come from partners).

    `reason_names()` gives the redelivery reasons' names by code, asked only for an
    entry that names reasons."""
    details = entry.details or {}
    if entry.action == HistoryEntry.Action.STATUS_CHANGED:
        text = format_html(
            _("Status changed from {before} to {after}."),
            before=status_label(entry.before),
            after=status_label(entry.after),
        )
        codes = details.get("reasons") or []
        if codes:
            names = reason_names()
            text += format_html(
                " {}: {}.",
                _("Reasons"),
                ", ".join(names.get(code, code) for code in codes),
            )
        if details.get("reason"):
            text += format_html(" {}", accepted_despite(details))
        if details.get("cleared_files"):
            count = details.get("cleared_count", 0)
            text += format_html(
                " {}",
                ngettext("%(count)s file cleared.", "%(count)s files cleared.", count)
                % {"count": grouped(count)},
            )
        return text
    if entry.action == HistoryEntry.Action.EDITED:
        labels = [
            str(DeliveryRequest._meta.get_field(name).verbose_name)
            for name in details.get("fields", [])
            if name in EDITABLE_FIELDS
        ]
        return format_html(_("Changed in the studio admin: {fields}."), fields=", ".join(labels))
    if entry.action == HistoryEntry.Action.WAIVED and "file" not in details:
        return format_html(
            _("Waived {code} on the delivery as a whole: {reason}"),
            code=details.get("code", entry.before),
            reason=details.get("reason", ""),
        )
    if entry.action == HistoryEntry.Action.WAIVER_WITHDRAWN and "file" not in details:
        return format_html(
            _("Withdrew the waiver of {code} on the delivery as a whole: {reason}"),
            code=details.get("code", entry.before),
            reason=details.get("reason", ""),
        )
    if entry.action == HistoryEntry.Action.WAIVED:
        return format_html(
            _("Waived {code} on “{name}”: {reason}"),
            code=details.get("code", entry.before),
            name=details.get("file", entry.after),
            reason=details.get("reason", ""),
        )
    if entry.action == HistoryEntry.Action.WAIVER_WITHDRAWN:
        return format_html(
            _("Withdrew the waiver of {code} on “{name}”: {reason}"),
            code=details.get("code", entry.before),
            name=details.get("file", entry.after),
            reason=details.get("reason", ""),
        )
    if entry.action == HistoryEntry.Action.COMMENTED:
        if details.get("redelivery_id"):
            return format_html(
                _("Noted with the redelivery: “{text}”"), text=details.get("excerpt", "")
            )
        return format_html(_("Commented: “{text}”"), text=details.get("excerpt", ""))
    if entry.action == HistoryEntry.Action.DELIVERED:
        if details.get("replaced"):
            return format_html(_("Replaced “{name}” with a new delivery."), name=entry.after)
        return format_html(_("Delivered “{name}”."), name=entry.after)
    if entry.action == HistoryEntry.Action.RENAMED:
        return format_html(_("Renamed “{old}” to “{new}”."), old=entry.before, new=entry.after)
    if entry.action == HistoryEntry.Action.REMOVED:
        count = details.get("count", 1)
        if count == 1 and entry.before:
            return format_html(_("Removed “{name}”."), name=entry.before)
        if details.get("all"):
            summary = ngettext(
                "Removed all files (%(count)s).", "Removed all %(count)s files.", count
            ) % {"count": grouped(count)}
        else:
            summary = ngettext("Removed %(count)s file.", "Removed %(count)s files.", count) % {
                "count": grouped(count)
            }
        removed: list[str] = details.get("names") or []
        if not removed:
            return summary
        return format_html("{} {}", summary, names_and_more(removed, count))
    return str(entry)


def accepted_despite(details: dict) -> str:
    """Why a request was accepted with blockers nobody waived, as its entry says."""
    files = details.get("blocker_files", 0)
    if files:
        return ngettext(
            "Accepted with %(count)s file with blockers: %(reason)s",
            "Accepted with %(count)s files with blockers: %(reason)s",
            files,
        ) % {"count": grouped(files), "reason": details["reason"]}
    return _("Accepted with blockers of the delivery as a whole: %(reason)s") % {
        "reason": details["reason"]
    }


def names_and_more(names: list[str], total: int) -> str:
    """The first few names and how many others: "a.mov, b.mov and 1,234 more"."""
    shown = names[:NAMES_NAMED]
    listed = ", ".join(shown)
    more = total - len(shown)
    if more <= 0:
        return listed
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", more) % {
        "names": listed,
        "count": grouped(more),
    }


# What a studio contact can edit in the admin (the partner is fixed once created).
EDITABLE_FIELDS = frozenset(DeliveryRequestAdminForm.Meta.fields) - {"organization"}


def reason_names() -> dict[str, str]:
    """The redelivery reasons' names by code, in the viewer's language."""
    return {r.code: r.localized_name for r in RedeliveryReason.objects.all()}
