"""Partner pages: the list of requests and the Details Page with its actions.

Each action is a plain form POST that redirects back to the page; htmx enhances it
and then gets only the fragments that changed. Views fetch through the access
helpers, call one model method and render.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n as i18n_views
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from . import naming, page_cache, removal
from .access import (
    Can,
    capabilities,
    get_file_in_request,
    get_request_for_user,
    requests_visible_to,
)
from .forms import RedeliveryForm, RenameForm
from .models import ActionRefused, DeliveryRequest, Preference, RedeliveryReason, Status
from .templatetags.portal import grouped

PAGE_SIZE = 100
LIST_LIMIT = 500
DETAIL_TEMPLATE = "deliveries/request_detail.html"
HISTORY_SHOWN = 30
FILE_ROW_FIELDS = (
    "request_id",
    "name",
    "size",
    "content",
    "delivered_by",
    "delivered_at",
    "processing_status",
    "metadata",
    "errors",
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# The list ---------------------------------------------------------------------------


@login_required
@require_GET
def request_list(request: HtmxHttpRequest) -> HttpResponse:
    requests = (
        requests_visible_to(request.user)
        .select_related("title", "organization")
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        requests = requests.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        requests = requests.filter(Q(title__name__icontains=query) | Q(name__icontains=query))
    # Older pages by keyset: ?before=<id of the last request shown>.
    before = request.GET.get("before", "")
    anchor = None
    if before.isdecimal():
        anchor = DeliveryRequest.objects.filter(pk=int(before)).values("created_at", "pk").first()
    if anchor:
        requests = requests.filter(
            Q(created_at__lt=anchor["created_at"])
            | Q(created_at=anchor["created_at"], pk__lt=anchor["pk"])
        )
    shown = list(requests[: LIST_LIMIT + 1])
    template = "deliveries/request_list.html"
    if request.htmx:
        template += "#request-table"
    return render(
        request,
        template,
        {
            "requests": shown[:LIST_LIMIT],
            "older_than": shown[LIST_LIMIT - 1].pk if len(shown) > LIST_LIMIT else None,
            "paged": anchor is not None,
            "statuses": Status.choices,
            "status": status,
            "query": query,
        },
    )


# The Details Page ---------------------------------------------------------------------


def _file_page(delivery_request: DeliveryRequest, request: HttpRequest) -> dict[str, Any]:
    """One page of the file list, by keyset on name, so any page costs the same."""
    # Only what a row shows: a page holds 100 rows, each with its deliverer.
    files = (
        delivery_request.files.select_related("delivered_by")
        .only(*FILE_ROW_FIELDS, "delivered_by__username")
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
    after = request.GET.get("after", "")
    if after:
        files = files.filter(name__gt=after)
    # Nothing to list: skip the scan over removed rows the worker has yet to purge.
    rows = list(files[: PAGE_SIZE + 1]) if delivery_request.file_count else []
    next_after = rows[PAGE_SIZE - 1].name if len(rows) > PAGE_SIZE else ""
    return {"files": rows[:PAGE_SIZE], "next_after": next_after, "name_filter": name_filter}


def processing_progress(delivery_request: DeliveryRequest) -> dict[str, int | None]:
    """How far processing has come, for the banner of a Submitted request.

    queue_position: 0 while a worker processes it, n when n-th in the queue, None when
    neither (see deliveries.processing.runner.queue_position).
    """
    from .processing import queue_position
    from .processing.runner import live_leases

    # Counters the worker keeps on the row just read, and an index probe for the few
    # files held right now: the same cost at 10 files and at 250,000.
    total, done = delivery_request.file_count, delivery_request.files_processed
    held = live_leases(delivery_request)
    return {
        "total": total,
        "done": min(done, total),
        "failed": delivery_request.files_failed,
        "started": min(done + held, total),
        "queue_position": 0 if held else queue_position(delivery_request),
    }


def _history_page(delivery_request: DeliveryRequest, request: HttpRequest) -> dict[str, Any]:
    """The newest history entries, or those older than ?history_before=<entry id>."""
    entries = (
        delivery_request.history.select_related("actor")
        .only("request_id", "at", "action", "before", "after", "details", "actor__username")
        .order_by("-at", "-id")
    )
    before = request.GET.get("history_before", "")
    if before.isdecimal():
        anchor = delivery_request.history.filter(pk=int(before)).values("at", "pk").first()
        if anchor:
            entries = entries.filter(
                Q(at__lt=anchor["at"]) | Q(at=anchor["at"], pk__lt=anchor["pk"])
            )
    rows = list(entries[: HISTORY_SHOWN + 1])
    older = rows[HISTORY_SHOWN - 1].pk if len(rows) > HISTORY_SHOWN else None
    return {"history": rows[:HISTORY_SHOWN], "history_older": older, "history_paged": bool(before)}


def _detail_context(
    request: HtmxHttpRequest, delivery_request: DeliveryRequest, **extra: Any
) -> dict[str, Any]:
    user = request.user
    caps = capabilities(user, delivery_request)
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
        "submit_blocker": "" if file_count else delivery_request.why_cannot_submit(),
        "can_redeliver_role": can_redeliver_role,
        "redelivery_blocker": (
            delivery_request.why_cannot_ask_for_redelivery(user) if can_redeliver_role else ""
        ),
        "can_remove": Can.REMOVE in caps and may_change_files,
        "can_rename": Can.DELIVER in caps and may_change_files,
        "read_only": not (caps & {Can.DELIVER, Can.REMOVE, Can.REDELIVER}),
        "files_locked_reason": delivery_request.why_files_locked(
            may_ask_for_redelivery=can_redeliver_role
        ),
        "redelivery": redelivery,
        "progress": processing_progress(delivery_request) if status == Status.SUBMITTED else None,
        "cleanup_left": removal.files_left_to_clean(delivery_request),
        **_history_page(delivery_request, request),
        "reasons": (RedeliveryReason.objects.filter(active=True) if can_redeliver_role else []),
        "name_pattern": naming.ALLOWED_NAME_PATTERN,
        **_file_page(delivery_request, request),
    }
    context.update(extra)
    return context


def _panel_context(request: HttpRequest, delivery_request: DeliveryRequest) -> dict[str, Any]:
    """What the URL asks to show open: the side panel or a confirmation dialog."""
    context: dict[str, Any] = {}
    file_pk = request.GET.get("file", "")
    if file_pk.isdecimal() and request.GET.get("confirm") != "remove":
        context["panel_file"] = get_file_in_request(delivery_request, int(file_pk))
        context["panel_edit"] = request.GET.get("edit") == "1"
    if request.GET.get("dialog") == "redelivery":
        context["open_dialog"] = "redelivery"
    if request.GET.get("confirm") == "remove":
        context["open_dialog"] = "remove"
        context["remove_all"] = request.GET.get("all") == "1"
        ids = [int(i) for i in request.GET.getlist("file") if i.isdecimal()]
        context["remove_files"] = list(
            delivery_request.files.filter(pk__in=ids).order_by("name")[:PAGE_SIZE]
        )
    return context


@page_cache.reads_viewer_with_state
@login_required
@require_GET
def request_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    key = page_cache.page_key(request, pk)
    cached = page_cache.cached_page(key) if key else None
    if cached is not None and not settings.PORTAL_PAGE_CACHE_VERIFY:
        return _varies_with_htmx(HttpResponse(cached))
    delivery_request = get_request_for_user(request.user, pk)
    context = _detail_context(
        request, delivery_request, **_panel_context(request, delivery_request)
    )
    template = DETAIL_TEMPLATE
    # htmx restoring a page from history after a cache miss wants all of it.
    if request.htmx and not request.htmx.history_restore_request:
        fragment = {
            "side-panel": "side-panel",
            "file-more": "file-rows",
            "cleanup-banner": "cleanup-banner",
        }.get(request.htmx.target or "", "request-main")
        template += f"#{fragment}"
    response = render(request, template, context)
    if cached is not None and not page_cache.same_page(cached, response.content):
        raise AssertionError(f"The cached Details Page of request {pk} is stale.")
    if key and response.status_code == 200:
        page_cache.keep_page(key, response.content)
    return _varies_with_htmx(response)


def _varies_with_htmx(response: HttpResponse) -> HttpResponse:
    # The same URL answers htmx with a fragment and a browser with the page: a
    # browser's cache must not hand back a fragment on Back.
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


def _respond(
    request: HtmxHttpRequest,
    delivery_request: DeliveryRequest,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """After an action: htmx gets the changed fragments, a plain form a redirect.

    A plain form whose input needs correcting (status 400) gets the whole page
    again, with the error beside the field.
    """
    if not request.htmx and status < 400:
        return HttpResponseRedirect(_back_url(request, delivery_request))
    # What the action committed, read into a new instance. Not refresh_from_db():
    # django-fsm's lifts the status field's protection on the class, for every thread
    # at once, and a request served meanwhile fails ("Direct status modification is
    # not allowed").
    delivery_request = get_request_for_user(request.user, delivery_request.pk)
    context = _detail_context(request, delivery_request, oob=True, **extra)
    if not request.htmx:
        return render(request, DETAIL_TEMPLATE, context, status=status)
    html = "".join(
        render_to_string(f"{DETAIL_TEMPLATE}#{name}", context, request=request)
        for name in ("request-main", "side-panel", "messages")
    )
    return HttpResponse(html, status=status)


def _back_url(request: HttpRequest, delivery_request: DeliveryRequest) -> str:
    url = reverse("request-detail", args=[delivery_request.pk])
    name_filter = request.POST.get("q", "").strip()
    if name_filter:
        url += "?" + urlencode({"q": name_filter})
    return url


def _refused(
    request: HtmxHttpRequest, delivery_request: DeliveryRequest, refusal: ActionRefused
) -> HttpResponse:
    messages.error(request, refusal.message)
    if request.htmx:
        return _respond(request, delivery_request, status=400)
    return HttpResponseRedirect(_back_url(request, delivery_request))


# Actions ---------------------------------------------------------------------------


def _seen_status(request: HttpRequest) -> str | None:
    """The status shown on the page the action was chosen from (its form sends it)."""
    seen = request.POST.get("status_seen")
    return seen if seen in Status.values else None


@login_required
@require_POST
def submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk, needs=Can.DELIVER)
    try:
        delivery_request.act("submit", by=request.user, seen_status=_seen_status(request))
    except ActionRefused as refusal:
        return _refused(request, delivery_request, refusal)
    messages.success(
        request, _("Submitted. Your files are now processing; this page updates by itself.")
    )
    return _respond(request, delivery_request)


@login_required
@require_POST
def delivery_complete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A batch of uploads finished: the browser's uploader posts here, and so do
    command-line clients. A request that submits automatically is submitted now."""
    delivery_request = get_request_for_user(request.user, pk, needs=Can.DELIVER)
    try:
        submitted = delivery_request.complete_delivery()
    except ActionRefused as refusal:
        return _refused(request, delivery_request, refusal)
    if submitted:
        messages.success(
            request,
            _(
                "Delivery complete. This request submits automatically: it is now "
                "Submitted and its files are processing."
            ),
        )
    return _respond(request, delivery_request)


@login_required
@require_POST
def deliver_files(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Without JavaScript: files chosen in a plain form, delivered in one request. It
    can't resume; the drop zone and tus clients can (deliveries/uploads)."""
    delivery_request = get_request_for_user(request.user, pk, needs=Can.DELIVER)
    chosen = request.FILES.getlist("file")
    if not chosen:
        messages.error(request, _("Choose at least one file to deliver."))
        return _respond(request, delivery_request)
    delivered = 0
    for upload in chosen:
        try:
            if upload.size > settings.PORTAL_UPLOAD_MAX_BYTES:
                raise ActionRefused(
                    _("a file may be at most %(limit)s.")
                    % {"limit": filesizeformat(settings.PORTAL_UPLOAD_MAX_BYTES)}
                )
            delivery_request.add_file(upload.name, upload, by=request.user)
            delivered += 1
        except ActionRefused as refusal:
            messages.error(
                request,
                _("“%(name)s” was not delivered: %(reason)s")
                % {"name": upload.name, "reason": refusal.message},
            )
    if delivered:
        messages.success(
            request,
            ngettext("Delivered %(n)s file.", "Delivered %(n)s files.", delivered)
            % {"n": grouped(delivered)},
        )
        try:
            delivery_request.complete_delivery()
        except ActionRefused as refusal:
            messages.error(request, refusal.message)
    return _respond(request, delivery_request)


@login_required
@require_POST
def ask_for_redelivery(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk, needs=Can.REDELIVER)
    form = RedeliveryForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("reasons", [])) or _("Check the form."))
        if request.htmx:
            return _respond(request, delivery_request, status=400, open_dialog="redelivery")
        url = reverse("request-detail", args=[pk]) + "?dialog=redelivery"
        return HttpResponseRedirect(url)
    # A studio contact reopens an Accepted request; everyone else asks on a Processed one.
    action = (
        "reopen"
        if delivery_request.status == Status.ACCEPTED and request.user.is_staff
        else "ask_for_redelivery"
    )
    try:
        delivery_request.act(
            action,
            by=request.user,
            seen_status=_seen_status(request),
            reasons=form.cleaned_data["reasons"],
            clear_files=form.cleaned_data["clear_files"],
        )
    except ActionRefused as refusal:
        return _refused(request, delivery_request, refusal)
    messages.success(request, _("This request is now ready for redelivery."))
    return _respond(request, delivery_request)


@login_required
@require_POST
def remove_files(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk, needs=Can.REMOVE)
    remove_all = request.POST.get("all") == "1"
    ids = [int(i) for i in request.POST.getlist("file") if i.isdecimal()]
    if not remove_all and not ids:
        return _refused(
            request,
            delivery_request,
            ActionRefused(_("Select at least one file to remove.")),
        )
    try:
        count = delivery_request.remove_files(None if remove_all else ids, by=request.user)
    except ActionRefused as refusal:
        return _refused(request, delivery_request, refusal)
    messages.success(
        request,
        ngettext("Removed %(count)s file.", "Removed %(count)s files.", count)
        % {"count": grouped(count)},
    )
    return _respond(request, delivery_request)


@login_required
@require_POST
def rename_file(request: HtmxHttpRequest, pk: int, file_pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk, needs=Can.DELIVER)
    delivered = get_file_in_request(delivery_request, file_pk)
    form = RenameForm(request.POST)
    form.is_valid()
    new_name = form.cleaned_data.get("name", "")
    old_name = delivered.name
    try:
        delivery_request.rename_file(delivered, new_name, by=request.user)
    except ActionRefused as refusal:
        if refusal.field != "name":
            return _refused(request, delivery_request, refusal)
        # The name needs correcting: keep the panel open in edit mode with the error.
        return _respond(
            request,
            delivery_request,
            status=400,
            panel_file=delivered,
            panel_edit=True,
            rename_value=new_name,
            rename_error=refusal.message,
        )
    if old_name != delivered.name:
        messages.success(
            request,
            _("Renamed “%(old)s” to “%(new)s”.") % {"old": old_name, "new": delivered.name},
        )
    return _respond(request, delivery_request, panel_file=delivered)


@login_required
@require_GET
def download_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    delivery_request = get_request_for_user(request.user, pk)
    delivered = get_file_in_request(delivery_request, file_pk)
    if not delivered.content:
        messages.error(request, _("This file's content is no longer stored."))
        return HttpResponseRedirect(reverse("request-detail", args=[pk]))
    return FileResponse(delivered.content.open("rb"), as_attachment=True, filename=delivered.name)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the throughput benchmark: the app answers, nothing more."""
    return HttpResponse("ok", content_type="text/plain")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered for a signed-in user on every device."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        Preference.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
