"""Sign-in: each failed attempt is answered more slowly, until django-axes locks the
address or the user out for a while (settings.AXES_*)."""

import time

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse


def failure_delay(failures: int) -> float:
    """Seconds to wait before answering a failed sign-in: doubles with each failure,
    capped so that a slowed answer never holds a server worker for long."""
    if failures <= 0:
        return 0.0
    step = settings.PORTAL_SIGNIN_DELAY_STEP
    return min(settings.PORTAL_SIGNIN_DELAY_CAP, step * 2 ** (failures - 1))


class SlowingLoginView(auth_views.LoginView):
    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        credentials = get_credentials(form.data.get("username", ""))
        failures = AxesProxyHandler.get_failures(self.request, credentials)
        time.sleep(failure_delay(failures))
        return super().form_invalid(form)
