import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import Preference


class ViewerTimeZoneMiddleware:
    """Show times in the viewer's own time zone.

    static/js/timezone.js stores the browser's IANA zone in the `portal_tz` cookie;
    without it (first visit, JavaScript off) times stay in the server's zone, UTC.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = request.COOKIES.get("portal_tz", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            # The thread's next work (another request, a test) starts in the default.
            timezone.deactivate()


class RememberedLanguageMiddleware:
    """Speak the language a signed-in user chose last time, on any browser.

    The header's switcher stores the choice (deliveries.views.set_language); here a
    browser without a language cookie of its own (a new device, a cleared browser)
    gets the remembered one, and keeps it through the cookie we set.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        remembered = ""
        cookie_name = settings.LANGUAGE_COOKIE_NAME
        if (
            cookie_name not in request.COOKIES
            # Once per session: most people never choose and would cost a query a page.
            and not request.session.get("portal_language_checked")
            # Last: a view may read the user more cheaply than here.
            and request.user.is_authenticated
        ):
            request.session["portal_language_checked"] = True
            remembered = (
                Preference.objects.filter(user=request.user)
                .values_list("language", flat=True)
                .first()
            ) or ""
            if remembered:
                translation.activate(remembered)
                request.LANGUAGE_CODE = remembered
        response = self.get_response(request)
        if remembered:
            response.set_cookie(
                cookie_name,
                remembered,
                max_age=settings.LANGUAGE_COOKIE_AGE or 365 * 24 * 3600,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
