"""Serving a preview's parts, under the file's own access rules: an outsider gets
404, as for the file itself; the browser may keep a part, but no shared cache may."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from ..requests.access import get_file_in_request, get_request_for_user
from .models import PreviewPart
from .ranges import ranged_response

# A part never changes under its URL (a file's bytes never change; a new delivery is
# a new file), so the viewer's browser keeps it for a day.
KEPT_SECONDS = 24 * 3600


@login_required
@require_safe
def preview_part(request: HttpRequest, pk: int, file_pk: int, name: str) -> HttpResponseBase:
    delivery_request = get_request_for_user(request.user, pk, with_related=False)
    delivered = get_file_in_request(delivery_request, file_pk)
    part = PreviewPart.objects.filter(file_id=delivered.pk, name=name).first()
    if part is None or not default_storage.exists(part.path):
        raise Http404("No such preview.")
    response = ranged_response(request, default_storage, part.path, part.content_type)
    patch_cache_control(response, private=True, max_age=KEPT_SECONDS)
    patch_vary_headers(response, ("Cookie",))
    return response
