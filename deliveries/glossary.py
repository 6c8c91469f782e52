"""The glossary of finding codes at /help/codes/: every code of
deliveries/processing/codes.py, in the viewer's language, each entry an anchor that
the findings on the Details Page link to."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .processing.codes import CODES
from .requests.reasons import RedeliveryReason


@login_required
@require_GET
def finding_codes(request: HttpRequest) -> HttpResponse:
    reasons = {reason.code: reason for reason in RedeliveryReason.objects.all()}
    entries = [(entry, reasons.get(entry.reason)) for entry in CODES.values()]
    return render(request, "deliveries/finding_codes.html", {"entries": entries})
