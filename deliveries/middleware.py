"""Request hygiene before any view reads a parameter."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.translation import gettext as _


class RefuseNulMiddleware:
    """Answer 400 to a request whose query string or form fields hold a NUL character.

    No field of the portal has a use for one, and PostgreSQL refuses NUL in text: one
    reaching a query was a server error. Refused here once, before any view or
    middleware reads a parameter, rather than in each of them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.POST parses only form bodies: the bytes of a tus PATCH are not read.
        if _holds_nul(request.GET) or (request.method == "POST" and _holds_nul(request.POST)):
            return HttpResponseBadRequest(
                _(
                    "The address or form sent holds a NUL character (%00), which no field "
                    "accepts. Remove it and try again."
                ),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _holds_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )
