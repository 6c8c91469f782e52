"""The request list: sorted by what is due (or status, title, last change), the sort
kept in the URL, a count per status, and the same few queries at any size."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deliveries.models import DeliveryRequest, Title

SPANISH = "es-419"


def names_in_order(page: str) -> list[str]:
    return re.findall(r"<td>(Request \w+)<", page)


@pytest.fixture
def requests_of_a_partner(org, make_request):
    """Four requests: their names say their status; due dates not in status order."""
    made = {}
    for name, status, due in (
        ("Request open", "open", datetime.date(2027, 1, 20)),
        ("Request accepted", "accepted", datetime.date(2027, 1, 5)),
        ("Request redelivery", "redelivery", datetime.date(2027, 1, 30)),
        ("Request processed", "processed", datetime.date(2027, 1, 10)),
    ):
        request = make_request(status=status, name=name, files=1)
        DeliveryRequest.objects.filter(pk=request.pk).update(due_date=due)
        made[status] = request
    return made


def test_the_list_is_sorted_by_due_date_soonest_first(client, admin_user, requests_of_a_partner):
    client.force_login(admin_user)
    page = client.get(reverse("request-list")).content.decode()
    assert names_in_order(page) == [
        "Request accepted",
        "Request processed",
        "Request open",
        "Request redelivery",
    ]


def test_sorting_by_status_puts_what_waits_on_the_partner_first(
    client, admin_user, requests_of_a_partner
):
    client.force_login(admin_user)
    page = client.get(reverse("request-list"), {"sort": "status"}).content.decode()
    assert names_in_order(page) == [
        "Request redelivery",
        "Request open",
        "Request processed",
        "Request accepted",
    ]
    # The sort stays in the URL of the tabs and of the form.
    assert '<option value="status" selected>' in page
    assert 'href="?status=open&amp;sort=status&amp;q="' in page


def test_sorting_by_title_and_by_last_change(client, admin_user, org, requests_of_a_partner):
    other = Title.objects.create(name="Aardvark Days")
    DeliveryRequest.objects.filter(pk=requests_of_a_partner["accepted"].pk).update(title=other)
    client.force_login(admin_user)
    page = client.get(reverse("request-list"), {"sort": "title"}).content.decode()
    assert names_in_order(page)[0] == "Request accepted"
    latest = requests_of_a_partner["open"]
    latest.save()  # the last change
    page = client.get(reverse("request-list"), {"sort": "changed"}).content.decode()
    assert names_in_order(page)[0] == "Request open"


def test_each_status_shows_its_count_and_a_tab_filters_by_it(
    client, admin_user, make_request, requests_of_a_partner
):
    make_request(status="open", name="Request second", files=0)
    client.force_login(admin_user)
    page = re.sub(r"\s+", " ", client.get(reverse("request-list")).content.decode())
    assert re.search(r'aria-current="page">All <span class="count">5</span>', page)
    assert re.search(r'>Open <span class="count">2</span>', page)
    assert re.search(r'>Submitted <span class="count">0</span>', page)
    page = client.get(reverse("request-list"), {"status": "open"}).content.decode()
    assert sorted(names_in_order(page)) == ["Request open", "Request second"]
    spanish = client.get(reverse("request-list"), HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode()
    assert re.search(r'>Abierto <span class="count">2</span>', re.sub(r"\s+", " ", spanish))


def test_an_unknown_sort_or_page_shows_the_first_page_by_due_date(
    client, admin_user, requests_of_a_partner
):
    client.force_login(admin_user)
    for params in ({"sort": "nonsense"}, {"page": "-3"}, {"page": "x" * 40}, {"page": "0"}):
        page = client.get(reverse("request-list"), params).content.decode()
        assert names_in_order(page)[0] == "Request accepted", params


def test_the_list_costs_the_same_queries_at_any_size(client, admin_user, org, title):
    client.force_login(admin_user)
    DeliveryRequest.objects.bulk_create(
        DeliveryRequest(
            organization=org,
            title=title,
            name=f"Request {n:05d}",
            asset_type="primary_video",
            due_date=datetime.date(2027, 1, 1) + datetime.timedelta(days=n % 300),
        )
        for n in range(3)
    )
    client.get(reverse("request-list"))  # the first view of a session writes to it
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("request-list"), {"sort": "status"})
    DeliveryRequest.objects.bulk_create(
        DeliveryRequest(
            organization=org,
            title=title,
            name=f"Request {n:05d}",
            asset_type="primary_video",
            due_date=datetime.date(2027, 1, 1) + datetime.timedelta(days=n % 300),
        )
        for n in range(3, 2_000)
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("request-list"), {"sort": "status", "page": "3"})
    assert len(many) == len(few)
    assert "Next page" in page.content.decode()
