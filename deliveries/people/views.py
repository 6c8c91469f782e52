"""The comment thread's form, the email settings page and the unsubscribe link."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..partners.access import is_studio_contact
from ..partners.roles import Can
from ..requests.access import get_request_for_user
from ..requests.views import DETAIL_TEMPLATE, HtmxHttpRequest, detail_context
from .emails import language_of
from .events import PARTNER_EVENTS, STUDIO_EVENTS, Event, Frequency
from .forms import CommentForm, NotificationSettingsForm
from .models import Comment, NotificationSetting
from .unsubscribe import DIGEST, read

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@login_required
@require_POST
def post_comment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Everyone who sees a request may talk on it: Reviewers too (they read, and they
    talk), and studio contacts."""
    delivery_request = get_request_for_user(request.user, pk, needs=Can.COMMENT)
    form = CommentForm(request.POST)
    if form.is_valid():
        Comment.post(delivery_request, request.user, form.cleaned_data["body"])
        messages.success(request, _("Your comment is posted."))
        if not request.htmx:
            url = reverse("request-detail", args=[pk]) + "#comments"
            return HttpResponseRedirect(url)
        form = CommentForm()
        status = 200
    else:
        status = 400
    context = detail_context(request, delivery_request, oob=True, comment_form=form)
    if not request.htmx:
        # The page again, the text kept and the error beside it.
        return render(request, DETAIL_TEMPLATE, context, status=status)
    html = "".join(
        render_to_string(f"{DETAIL_TEMPLATE}#{name}", context, request=request)
        for name in ("request-main", "messages")
    )
    return HttpResponse(html, status=status)


def events_for(user: User) -> tuple[Event, ...]:
    """The events a person hears of: a studio contact's, a partner's, or both."""
    events = STUDIO_EVENTS if is_studio_contact(user) else ()
    if not is_studio_contact(user) or user.memberships.exists():
        events = (*events, *(e for e in PARTNER_EVENTS if e not in events))
    return tuple(e for e in Event if e in events)


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HtmxHttpRequest) -> HttpResponse:
    events = events_for(request.user)
    current = NotificationSetting.choices_of(request.user)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, events=events)
        if form.is_valid():
            for event, frequency in form.cleaned_data.items():
                NotificationSetting.choose(request.user, event, frequency)
            messages.success(request, _("Your email settings are saved."))
            return HttpResponseRedirect(reverse("notification-settings"))
        status = 400
    else:
        form = NotificationSettingsForm(initial=current, events=events)
        status = 200
    return render(
        request,
        "people/notification_settings.html",
        {"form": form, "email": request.user.email},
        status=status,
    )


@csrf_exempt  # the token is the credential: mail clients POST here without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link turns off, with one button; POST turns it off. A GET
    never changes anything: mail scanners open every link of an email. Mail clients'
    own unsubscribe button POSTs here directly (RFC 8058)."""
    wanted = read(token)
    user = (
        get_user_model().objects.filter(pk=wanted.user_id, is_active=True).first()
        if wanted
        else None
    )
    if wanted is None or user is None:
        return render(request, "people/unsubscribe.html", {"invalid": True}, status=404)
    if wanted.event == DIGEST:
        # The events the person hears of (a partner has no "submitted") now sent by digest.
        theirs = events_for(user)
        events = [
            e
            for e, frequency in NotificationSetting.choices_of(user).items()
            if frequency == Frequency.DIGEST and e in theirs
        ]
    else:
        events = [wanted.event]
    done = request.method == "POST"
    if done:
        for event in events:
            NotificationSetting.choose(user, event, Frequency.OFF)
    # In the language of the email it came from: the link opens signed out, often in
    # another browser than the portal's.
    with translation.override(language_of(user)):
        return render(
            request,
            "people/unsubscribe.html",
            {
                "done": done,
                "digest": wanted.event == DIGEST,
                "event_names": [str(Event(e).label) for e in events],
                "token": token,
            },
        )
