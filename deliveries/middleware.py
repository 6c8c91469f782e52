import zoneinfo

from django.utils import timezone


class ViewerTimeZoneMiddleware:
    """Show times in the viewer's own time zone.

    static/js/timezone.js stores the browser's IANA zone in the `portal_tz` cookie;
    without it (first visit, JavaScript off) times stay in the server's zone, UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get("portal_tz", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(name)) if name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
