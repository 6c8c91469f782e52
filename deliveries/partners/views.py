"""Pages around the portal's own: the language switch, remembered for the user, and
the health check."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views import i18n as i18n_views
from django.views.decorators.http import require_GET, require_POST

from .models import Preference


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and the throughput benchmark: the app answers, nothing more."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The admin's pages (and browsers that ignore <link rel="icon">) ask for
    /favicon.ico: the portal's icon, instead of a 404 on every page. Resolved per
    request: the static files' manifest is not read at import."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered for a signed-in user on every device."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        Preference.objects.update_or_create(user=request.user, defaults={"language": language})
    return response
