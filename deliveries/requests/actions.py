"""The Details Page's actions: each a plain form POST that redirects back to the page;
htmx enhances it and then gets only the fragments that changed. Each fetches through
the access helpers, calls one model method and answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ..numbers import grouped
from ..partners.roles import Can
from .access import get_file_in_request, get_request_for_user
from .forms import RedeliveryForm, RenameForm
from .models import ActionRefused, DeliveryRequest, Status
from .views import DETAIL_TEMPLATE, HtmxHttpRequest, detail_context, ids_from


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
    context = detail_context(request, delivery_request, oob=True, **extra)
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
        delivery_request.act(
            delivery_request.submit, by=request.user, seen_status=_seen_status(request)
        )
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
            # A parsed upload always has a name and a size; the stubs allow None.
            if (upload.size or 0) > settings.PORTAL_UPLOAD_MAX_BYTES:
                raise ActionRefused(
                    _("a file may be at most %(limit)s.")
                    % {"limit": filesizeformat(settings.PORTAL_UPLOAD_MAX_BYTES)}
                )
            delivery_request.add_file(upload.name or "", upload, by=request.user)
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
        errors = [str(e) for field in ("reasons", "note") for e in form.errors.get(field, [])]
        messages.error(request, " ".join(errors) or _("Check the form."))
        if request.htmx:
            return _respond(request, delivery_request, status=400, open_dialog="redelivery")
        url = reverse("request-detail", args=[pk]) + "?dialog=redelivery"
        return HttpResponseRedirect(url)
    try:
        delivery_request.act(
            delivery_request.redelivery_transition(request.user),
            by=request.user,
            seen_status=_seen_status(request),
            reasons=form.cleaned_data["reasons"],
            clear_files=form.cleaned_data["clear_files"],
            note=form.cleaned_data["note"],
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
    ids = ids_from(request.POST.getlist("file"))
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
