"""Partner pages: the list of requests, the Details Page and what it polls while work
is under way. Views fetch through the access helpers and render; the page's actions
are in actions.py.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_GET
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from ..files import naming
from ..files.models import ProcessingStatus, Severity
from ..files.storage import left_to_delete
from ..partners.access import capabilities
from ..partners.roles import Can
from ..people.models import Comment
from ..processing.codes import reasons_for
from ..processing.runner import live_leases, place_in_queue
from ..uploads.early import FIRST_LOOK, LAST_LOOK
from .access import get_file_in_request, get_request_for_user
from .history import NAMES_NAMED
from .models import DeliveryRequest, RedeliveryReason, Status
from .specs import expected_parts
from .waivers import unwaived

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 100
DETAIL_TEMPLATE = "deliveries/request_detail.html"
HISTORY_SHOWN = 30
# The newest comments, oldest first; every one is also in the History.
COMMENTS_SHOWN = 200
FILE_ROW_FIELDS = (
    "request_id",  # the related manager sets each row's request: not deferred
    "name",
    "size",
    "delivered_at",
    "processing_status",
    "metadata",
    "errors",
    "preview__kind",
    "preview__thumbnail",
    "preview__caption",
)
# Where the counters of a processing run are final: files can't change there.
VERDICT_STATUSES = (Status.PROCESSED, Status.ACCEPTED)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
    user: User  # every view taking one is login_required


def ids_from(values: list[str]) -> list[int]:
    """The object ids among a form's values; anything else is ignored. An id of more
    digits than 64 bits hold exists nowhere, and SQLite can't even compare it."""
    return [int(value) for value in values if value.isdecimal() and len(value) <= 18]


# The Details Page ---------------------------------------------------------------------


def _file_page(delivery_request: DeliveryRequest, request: HttpRequest) -> dict[str, Any]:
    """One page of the file list, by keyset on name, so any page costs the same."""
    # Only what a row shows: a page holds 100 rows, each with its deliverer.
    files = (
        delivery_request.files.select_related("preview")
        .only(*FILE_ROW_FIELDS)
        # The deliverer's name alone, not a user object per row.
        .annotate(delivered_by_name=F("delivered_by__username"))
        .order_by("name")
    )
    # After an action, its form sends the filter back: the list stays narrowed.
    name_filter = (request.GET.get("q") or request.POST.get("q", "")).strip()
    if name_filter:
        # A prefix, not a substring: "names starting with" is an index range on
        # (request, name) under byte-order collation (SQLite's BINARY, "C" on
        # PostgreSQL, see migration 0004), where `contains` reads every row.
        files = files.filter(
            name__startswith=name_filter,
            name__gte=name_filter,
            name__lt=name_filter + "\U0010ffff",
        )
    # ?severity=blocker: the files whose worst finding is a blocker, by the
    # (request, worst_severity, name) index.
    severity = request.GET.get("severity", "")
    if severity in Severity.values:
        files = files.filter(worst_severity=severity)
    else:
        severity = ""
    after = request.GET.get("after", "")
    if after:
        files = files.filter(name__gt=after)
    # Nothing to list: skip the scan over removed rows the worker has yet to purge.
    rows = list(files[: PAGE_SIZE + 1]) if delivery_request.file_count else []
    next_after = rows[PAGE_SIZE - 1].name if len(rows) > PAGE_SIZE else ""
    return {
        "files": rows[:PAGE_SIZE],
        "next_after": next_after,
        "name_filter": name_filter,
        "severity_filter": severity,
    }


def processing_progress(delivery_request: DeliveryRequest) -> dict[str, int | None]:
    """How far processing has come, for the banner of a Submitted request.

    queue_position: 0 while a worker processes it, n when n-th in the queue, None when
    neither (see deliveries.processing.runner.place_in_queue).
    """
    # Counters the worker keeps on the row just read, and an index probe for the few
    # files held right now: the same cost at 10 files and at 250,000.
    total, done = delivery_request.file_count, delivery_request.files_processed
    held = live_leases(delivery_request)
    return {
        "total": total,
        "done": min(done, total),
        "failed": delivery_request.files_failed,
        "started": min(done + held, total),
        "queue_position": 0 if held else place_in_queue(delivery_request),
    }


def _history_page(delivery_request: DeliveryRequest, request: HttpRequest) -> dict[str, Any]:
    """The newest history entries, or those older than ?history_before=<entry id>."""
    entries = (
        delivery_request.history.select_related("actor")
        .only(
            "request_id",
            "at",
            "action",
            "before",
            "after",
            "details",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
        )
        .order_by("-at", "-id")
    )
    before = ids_from(request.GET.getlist("history_before")[:1])
    if before:
        anchor = delivery_request.history.filter(pk=before[0]).values("at", "pk").first()
        if anchor:
            entries = entries.filter(
                Q(at__lt=anchor["at"]) | Q(at=anchor["at"], pk__lt=anchor["pk"])
            )
    rows = list(entries[: HISTORY_SHOWN + 1])
    older = rows[HISTORY_SHOWN - 1].pk if len(rows) > HISTORY_SHOWN else None
    return {"history": rows[:HISTORY_SHOWN], "history_older": older, "history_paged": bool(before)}


def verdict(delivery_request: DeliveryRequest) -> dict[str, int] | None:
    """The request's verdict after processing, from its counters: as cheap at 250,000
    files as at one. None before processing has finished, or while files may change."""
    if delivery_request.status not in VERDICT_STATUSES:
        return None
    return {
        "blockers": delivery_request.files_failed,
        "issues": delivery_request.files_with_issues,
        "fyi": delivery_request.files_with_fyi,
        "delivery_blockers": delivery_request.delivery_blockers,
        "delivery_findings": delivery_request.delivery_findings,
    }


# Ask for Redelivery pre-selects the reasons of the blockers of this many failed files
# at most: the first hundred of 250,000 frames name the same few reasons.
BLOCKERS_SAMPLED = 100


def blocker_reasons(delivery_request: DeliveryRequest) -> set[str]:
    """The codes of the redelivery reasons that the request's blockers map to."""
    failed = delivery_request.files.filter(processing_status=ProcessingStatus.FAILED)
    sampled = failed.order_by().values_list("errors", flat=True)[:BLOCKERS_SAMPLED]
    # A waived blocker asks for nothing: the studio let it stand.
    found = [finding for errors in sampled for finding in unwaived(errors)]
    return reasons_for([*found, *unwaived(delivery_request.delivery_findings)])


def comments_of(delivery_request: DeliveryRequest) -> list[Comment]:
    newest = delivery_request.comments.select_related("author").order_by("-created_at", "-id")
    return list(reversed(newest[:COMMENTS_SHOWN]))


def detail_context(
    request: HtmxHttpRequest, delivery_request: DeliveryRequest, **extra: Any
) -> dict[str, Any]:
    user = request.user
    caps = capabilities(user, delivery_request.organization_id)
    file_count = delivery_request.file_count
    status = delivery_request.status
    may_change_files = delivery_request.files_changeable
    redelivery = None
    if status == Status.REDELIVERY:
        redelivery = (
            delivery_request.redeliveries.select_related("asked_by")
            .prefetch_related("reasons")
            .first()
        )
    can_redeliver_role = Can.REDELIVER in caps
    context = {
        "req": delivery_request,
        "page_url": reverse("request-detail", args=[delivery_request.pk]),
        "Status": Status,
        "file_count": file_count,
        "can_deliver": Can.DELIVER in caps,
        "can_submit": Can.DELIVER in caps and status in (Status.OPEN, Status.REDELIVERY),
        "submit_blocker": "" if file_count else delivery_request.why_not_submit(),
        "can_redeliver_role": can_redeliver_role,
        "redelivery_blocker": (
            delivery_request.why_no_redelivery_for(user) if can_redeliver_role else ""
        ),
        "can_remove": Can.REMOVE in caps and may_change_files,
        "can_rename": Can.DELIVER in caps and may_change_files,
        "read_only": not (caps & {Can.DELIVER, Can.REMOVE, Can.REDELIVER}),
        "files_locked_reason": delivery_request.why_files_locked(
            may_ask_for_redelivery=can_redeliver_role
        ),
        "redelivery": redelivery,
        "progress": processing_progress(delivery_request) if status == Status.SUBMITTED else None,
        "verdict": (found := verdict(delivery_request)),
        "preselected_reasons": (
            blocker_reasons(delivery_request)
            if found and (found["blockers"] or found["delivery_blockers"]) and can_redeliver_role
            else set()
        ),
        "expected": expected_parts(spec) if (spec := delivery_request.effective_spec) else [],
        "cleanup_left": cleanup_to_show(delivery_request),
        **_history_page(delivery_request, request),
        "comments": comments_of(delivery_request),
        "comment_form": None,
        "can_comment": Can.COMMENT in caps,
        "reasons": (RedeliveryReason.objects.filter(active=True) if can_redeliver_role else []),
        "name_pattern": naming.ALLOWED_NAME_PATTERN,
        "early_look": FIRST_LOOK,
        "early_last_look": LAST_LOOK,
        "names_named": NAMES_NAMED,
        **_file_page(delivery_request, request),
    }
    context.update(extra)
    return context


def _panel_context(request: HttpRequest, delivery_request: DeliveryRequest) -> dict[str, Any]:
    """What the URL asks to show open: the side panel or a confirmation dialog."""
    context: dict[str, Any] = {}
    file_pk = ids_from(request.GET.getlist("file")[:1])
    if file_pk and request.GET.get("confirm") != "remove":
        context["panel_file"] = get_file_in_request(delivery_request, file_pk[0])
        context["panel_edit"] = request.GET.get("edit") == "1"
    if request.GET.get("dialog") == "redelivery":
        context["open_dialog"] = "redelivery"
    if request.GET.get("confirm") == "remove":
        context["open_dialog"] = "remove"
        context["remove_all"] = request.GET.get("all") == "1"
        ids = ids_from(request.GET.getlist("file"))
        context["remove_files"] = list(
            delivery_request.files.filter(pk__in=ids).order_by("name")[:PAGE_SIZE]
        )
        if context["remove_all"]:
            # Named in the confirmation: the first few, by name.
            first = delivery_request.files.order_by("name").values_list("name", flat=True)
            context["remove_names"] = list(first[:NAMES_NAMED])
        else:
            context["remove_names"] = [f.name for f in context["remove_files"]]
    return context


@login_required
@require_GET
def request_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk)
    context = detail_context(request, delivery_request, **_panel_context(request, delivery_request))
    template = DETAIL_TEMPLATE
    # htmx restoring a page from history after a cache miss wants all of it.
    if request.htmx and not request.htmx.history_restore_request:
        fragment = {"side-panel": "side-panel", "file-more": "file-rows"}.get(
            request.htmx.target or "", "request-main"
        )
        template += f"#{fragment}"
    return _varies_with_htmx(render(request, template, context))


def files_left_to_clean(delivery_request: DeliveryRequest) -> int:
    """Removed files whose rows or stored content the worker has still to delete."""
    return delivery_request.files_to_purge + left_to_delete(delivery_request.pk)


# Below this, deleting stored content takes the worker a fraction of a second (some
# 10,000 files a second, see the README's benchmarks): not worth a banner.
CLEANUP_SHOWN_FROM = 1_000


def cleanup_to_show(delivery_request: DeliveryRequest, *, showing: bool = False) -> int:
    """How many removed files the clean-up banner counts down, 0 for no banner.

    Only work that lasts shows: rows hidden for the worker (select-all, clear) or a
    large backlog of stored content, not the one file just removed. A banner already
    on the page (`showing`) counts down to the end rather than vanishing at the
    threshold."""
    left = files_left_to_clean(delivery_request)
    lasting = delivery_request.files_to_purge > 0 or left >= CLEANUP_SHOWN_FROM
    return left if lasting or showing else 0


# The poll of a page whose work is under way ------------------------------------------


def _progress_state(request: HttpRequest, pk: int) -> dict[str, Any]:
    """Everything the progress fragment shows, read once per poll (the ETag and the
    fragment both come from it)."""
    cached: dict[str, Any] | None = getattr(request, "_portal_progress", None)
    if cached is None:
        delivery_request = get_request_for_user(request.user, pk, with_related=False)
        submitted = delivery_request.status == Status.SUBMITTED
        cached = {
            "req": delivery_request,
            "progress": processing_progress(delivery_request) if submitted else None,
            "cleanup_left": cleanup_to_show(
                delivery_request, showing=request.GET.get("cleaning") == "1"
            ),
        }
        request._portal_progress = cached  # type: ignore[attr-defined]
    return cached


def _progress_etag(request: HttpRequest, pk: int) -> str:
    state = _progress_state(request, pk)
    delivery_request = state["req"]
    seen = request.GET.get("seen", "")
    shown = (
        delivery_request.status,
        seen,
        state["progress"],
        state["cleanup_left"],
        translation.get_language(),
        request.GET.get("q", ""),
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


@login_required
@require_GET
@condition(etag_func=_progress_etag)
def request_progress(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """What a page polls while processing or clean-up is under way: the two banners,
    answered 304 Not Modified while nothing they show has changed. Once the request
    has left the status the page shows, the whole main part is sent instead."""
    state = _progress_state(request, pk)
    delivery_request: DeliveryRequest = state["req"]
    if request.GET.get("seen", delivery_request.status) != delivery_request.status:
        context = detail_context(request, delivery_request, oob=True)
        parts = ["request-main"]
        if request.htmx:
            # The messages shown were about the status the page showed ("Submitted.
            # Your files are now processing"): replaced, out of band, by today's.
            parts.append("messages")
        html = "".join(
            render_to_string(f"{DETAIL_TEMPLATE}#{part}", context, request=request)
            for part in parts
        )
        response = HttpResponse(html)
        if request.htmx:
            response = reswap(retarget(response, "#request-main"), "outerHTML")
    else:
        context = {
            **state,
            "page_url": reverse("request-detail", args=[pk]),
            "name_filter": request.GET.get("q", ""),
            "Status": Status,
        }
        response = render(request, f"{DETAIL_TEMPLATE}#progress", context)
    # Kept by the browser, asked again with If-None-Match on every poll.
    patch_cache_control(response, private=True, no_cache=True)
    return _varies_with_htmx(response)


def _varies_with_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers htmx with a fragment and a browser with the page: a
    # browser's cache must not hand back a fragment on Back.
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


@login_required
@require_GET
def download_file(
    request: HttpRequest, pk: int, file_pk: int
) -> HttpResponseRedirect | FileResponse:
    delivery_request = get_request_for_user(request.user, pk)
    delivered = get_file_in_request(delivery_request, file_pk)
    if not delivered.content:
        messages.error(request, _("This file's content is no longer stored."))
        return HttpResponseRedirect(reverse("request-detail", args=[pk]))
    return FileResponse(delivered.content.open("rb"), as_attachment=True, filename=delivered.name)
