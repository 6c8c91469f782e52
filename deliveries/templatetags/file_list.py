"""The Details Page's file rows, rendered in Python.

A page holds up to 100 rows, each with ~30 values and its 3-dot menu. Through the
template engine a row cost ~0.35 ms, which made a full page four times slower than a
10-file one; this renders the same markup ~10× faster (see bench/details_page.py).
The markup is kept in one place here; the template calls ``{% file_rows %}``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from django import template
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..files.models import SEVERITY_ORDER, UNPROCESSED, DeliveredFile, ProcessingStatus
from ..numbers import grouped
from ..processing.codes import stored_severity
from .portal import (
    SEVERITY_LABELS,
    breakable,
    expected_found,
    finding_message,
    glossary_url,
    technical_summary,
    worst_severity,
)

register = template.Library()

ROW = (
    '<tr id="file-{pk}" class="file-row">\n'
    "{check}"
    '<td class="thumb">{thumb}</td>\n'
    '<td class="name"><a class="file-link" href="{page}?file={pk}" hx-get="{page}?file={pk}">'
    "{shown_name}</a></td>\n"
    "<td>{extension}</td>\n"
    '<td class="num">{size}</td>\n'
    '<td><span>{by}</span> <time class="muted" datetime="{iso}">{when}</time></td>\n'
    "<td>{processing}</td>\n"
    '<td class="actions">\n'
    '<details class="menu row-menu">\n'
    '<summary class="icon-button" aria-label="{actions}">{dots}</summary>\n'
    '<div class="menu-items">\n'
    '<a class="menu-item" href="{page}?file={pk}" hx-get="{page}?file={pk}">{details}</a>\n'
    "{rename}"
    '<a class="menu-item" href="{download}">{download_label}</a>\n'
    "{remove}"
    "</div>\n</details>\n</td>\n</tr>\n"
)
# A page has 100 rows: each menu icon points at one drawing (dots_symbol in the page)
# instead of repeating it, and each link takes its htmx target from the <tbody>.
DOTS = mark_safe(
    '<svg class="icon" width="20" height="20" aria-hidden="true" focusable="false">'
    '<use href="#icon-dots"></use></svg>'
)
CHECK = (
    '<td class="check"><input type="checkbox" name="file" value="{pk}" form="selection" '
    'data-name="{name}" aria-label="{label}"></td>\n'
)
RENAME = (
    '<a class="menu-item" href="{page}?file={pk}&amp;edit=1" hx-get="{page}?file={pk}&amp;edit=1">'
    "{label}</a>\n"
)
REMOVE = (
    '<a class="menu-item danger" href="{page}?confirm=remove&amp;file={pk}" '
    'data-remove-one="{pk}" data-name="{name}">{label}</a>\n'
)

# Fixed size, so the table does not move as pictures arrive; loaded by the browser
# only as the row nears the screen (native lazy loading, no script needed).
THUMB = '<img src="{url}" alt="" width="64" height="36" loading="lazy" decoding="async">'
THUMB_TEXT = '<span class="thumb-text">{text}</span>'
THUMB_NONE = '<span class="thumb-none" aria-hidden="true"></span>'
THUMB_WAIT = '<span class="thumb-wait">{text}</span>'


def thumbnail_cell(f: DeliveredFile, preview_url: str, preparing: str) -> str:
    preview = getattr(f, "preview", None)  # select_related by the page's query
    if preview is None:
        processed = f.processing_status not in UNPROCESSED
        return THUMB_WAIT.format(text=preparing) if processed else THUMB_NONE
    if preview.thumbnail:
        return THUMB.format(url=preview_url.format(f.pk, preview.thumbnail))
    if preview.caption:
        return THUMB_TEXT.format(text=escape(preview.caption))
    return THUMB_NONE


def first_finding(errors: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The finding a row shows in words: the first of the worst severity that still
    counts (a waived one does not)."""
    shown = [error for error in errors if "left_off" not in error and "waiver" not in error]
    if not shown:
        return None
    return min(shown, key=lambda error: SEVERITY_ORDER.get(stored_severity(error), 3))


@register.filter
def processing_state(f: DeliveredFile) -> SafeString:
    """The side panel's line: the row's cell but the finding (the panel lists them all)."""
    return processing_cell(f, with_finding=False)


def processing_cell(
    f: DeliveredFile, status_labels: dict[str, str] | None = None, *, with_finding: bool = True
) -> SafeString:
    """A file's processing state in its row: its worst severity as a badge, its
    technical summary, and its worst finding in words ("Expected 5.1 (L R C LFE Ls
    Rs), found 2 channels") with the code linked to its glossary entry."""
    status = f.processing_status
    busy = ' aria-busy="true"' if status == "processing" else ""
    label = (status_labels or {}).get(status) or f.get_processing_status_display()
    html = f'<span class="proc proc-{escape(status)}"{busy}>{escape(str(label))}</span>'
    errors = f.errors or []
    worst = worst_severity(errors) if errors else ""
    if worst:
        html += f' <span class="sev sev-{worst}">{escape(str(SEVERITY_LABELS[worst]))}</span>'
    summary = technical_summary(f)
    if summary:
        html += f' <span class="tech">{escape(summary)}</span>'
    first = first_finding(errors) if with_finding else None
    if first is not None:
        code = escape(first.get("code", ""))
        words = finding_message(first)
        if first.get("expected"):
            words += " " + expected_found(first)
        html += (
            f' <span class="row-finding"><a class="code" href="{glossary_url()}#{code}">'
            f"<code>{code}</code></a> {escape(words)}</span>"
        )
        others = sum(error.get("left_off", 1) for error in errors if "waiver" not in error) - 1
        if others:
            more = ngettext("and %(count)s more finding", "and %(count)s more findings", others) % {
                "count": grouped(others)
            }
            html += f' <span class="more-findings">{escape(more)}</span>'
    waived = sum(1 for error in errors if "waiver" in error) if with_finding else 0
    if waived:
        # The studio let these stand: named in the side panel, counted here.
        label = ngettext("%(count)s finding waived", "%(count)s findings waived", waived) % {
            "count": waived
        }
        html += f' · <span class="more-findings is-waived">{escape(label)}</span>'
    return mark_safe(html)


@register.simple_tag(takes_context=True)
def file_rows(context: template.Context) -> SafeString:
    files: list[DeliveredFile] = context["files"]
    if not files:
        return mark_safe("")
    page = escape(context["page_url"])
    can_remove = context.get("can_remove")
    can_rename = context.get("can_rename")
    request_pk = context["req"].pk
    labels: dict[str, Any] = {
        "details": escape(_("Details")),
        "rename": escape(_("Rename")),
        "download": escape(_("Download")),
        "remove": escape(_("Remove")),
        "dots": DOTS,
    }
    status_labels = {value: str(label) for value, label in ProcessingStatus.choices}
    short_datetime = formats.get_format("SHORT_DATETIME_FORMAT")
    # Per page, not per row: the download link's shape, and sizes and minutes
    # already formatted (an image sequence's frames share both).
    sentinel = "999999999999"
    download_url = reverse("file-download", args=[request_pk, sentinel]).replace(sentinel, "{}")
    preview_url = (
        reverse("file-preview", args=[request_pk, sentinel, "part"])
        .replace(sentinel, "{}")
        .replace("/part", "/{}")
    )
    preparing = escape(_("Preparing preview…"))
    sizes: dict[int, str] = {}
    times: dict[Any, str] = {}
    by_minute = not any(code in short_datetime for code in "suvU")
    select_label = _("Select %(name)s")
    actions_label = _("Actions for %(name)s")
    out = []
    for f in files:
        name = escape(f.name)
        pk = f.pk
        size = sizes.get(f.size)
        if size is None:
            size = sizes[f.size] = escape(filesizeformat(f.size))
        when = timezone.localtime(f.delivered_at)
        shown = times.get(when.replace(second=0, microsecond=0)) if by_minute else None
        if shown is None:
            shown = escape(dateformat.format(when, short_datetime))
            if by_minute:
                times[when.replace(second=0, microsecond=0)] = shown
        out.append(
            ROW.format(
                pk=pk,
                page=page,
                name=name,
                shown_name=breakable(name),
                thumb=thumbnail_cell(f, preview_url, preparing),
                check=(
                    CHECK.format(pk=pk, name=name, label=escape(select_label % {"name": f.name}))
                    if can_remove
                    else ""
                ),
                extension=escape(f.extension.upper()) or "—",
                size=size,
                # Annotated by the page's query (requests.views._file_page).
                by=escape(getattr(f, "delivered_by_name", None) or "—"),
                iso=when.isoformat(),
                when=shown,
                processing=processing_cell(f, status_labels),
                actions=escape(actions_label % {"name": f.name}),
                dots=labels["dots"],
                details=labels["details"],
                rename=(
                    RENAME.format(page=page, pk=pk, label=labels["rename"]) if can_rename else ""
                ),
                download=download_url.format(pk),
                download_label=labels["download"],
                remove=(
                    REMOVE.format(page=page, pk=pk, name=name, label=labels["remove"])
                    if can_remove
                    else ""
                ),
            )
        )
    return mark_safe("".join(out))
