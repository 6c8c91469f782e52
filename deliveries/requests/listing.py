"""The list of requests: sorted by what is due, by status, title or last change (the
sort in the URL), with the count of each status, a page at a time.

Pages by offset: a partner has at most some thousands of requests, and a page of the
last of 10,000 reads 10,000 index entries, a millisecond (bench/request_list.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from .access import requests_visible_to
from .models import DeliveryRequest, Status

if TYPE_CHECKING:
    from .views import HtmxHttpRequest

LIST_LIMIT = 100
# What waits on the partner first.
STATUS_ORDER = (
    Status.REDELIVERY,
    Status.OPEN,
    Status.SUBMITTED,
    Status.PROCESSED,
    Status.ACCEPTED,
)
SORTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "due": (gettext_lazy("Due date"), ("due_date", "pk")),
    "status": (gettext_lazy("Status"), ("status_rank", "due_date", "pk")),
    "title": (gettext_lazy("Title"), ("title__name", "name", "pk")),
    "changed": (gettext_lazy("Last change"), ("-updated_at", "-pk")),
}
DEFAULT_SORT = "due"


def _status_rank() -> Case:
    return Case(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(STATUS_ORDER)),
        output_field=IntegerField(),
    )


def _page_number(value: str) -> int:
    """?page=N, from 1; anything else is the first page."""
    return int(value) if value.isdecimal() and 0 < len(value) <= 6 and int(value) > 0 else 1


def status_counts(requests: QuerySet[DeliveryRequest]) -> dict[str, int]:
    counts = dict(requests.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in STATUS_ORDER}


@login_required
@require_GET
def request_list(request: HtmxHttpRequest) -> HttpResponse:
    visible = requests_visible_to(request.user)
    query = request.GET.get("q", "").strip()
    if query:
        visible = visible.filter(Q(title__name__icontains=query) | Q(name__icontains=query))
    counts = status_counts(visible)
    status = request.GET.get("status", "")
    requests = visible.filter(status=status) if status in Status.values else visible
    if status not in Status.values:
        status = ""
    sort = request.GET.get("sort", "")
    if sort not in SORTS:
        sort = DEFAULT_SORT
    if sort == "status":
        requests = requests.annotate(status_rank=_status_rank())
    page = _page_number(request.GET.get("page", ""))
    start = (page - 1) * LIST_LIMIT
    shown = list(
        requests.select_related("title", "organization").order_by(*SORTS[sort][1])[
            start : start + LIST_LIMIT + 1
        ]
    )
    template = "deliveries/request_list.html"
    if request.htmx:
        template += "#request-table"
    return render(
        request,
        template,
        {
            "requests": shown[:LIST_LIMIT],
            "page": page,
            "next_page": page + 1 if len(shown) > LIST_LIMIT else None,
            "previous_page": page - 1 if page > 1 else None,
            "status_tabs": [(value, Status(value).label, counts[value]) for value in STATUS_ORDER],
            "total": sum(counts.values()),
            "status": status,
            "sorts": [(key, label) for key, (label, _) in SORTS.items()],
            "sort": sort,
            "query": query,
        },
    )
