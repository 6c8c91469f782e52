"""One date format and one time format across the portal, the time zone said once,
and a due date that says how far it is."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from deliveries.models import DeliveryRequest

SPANISH = "es-419"


def visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def delivered(client, admin_user, make_request):
    request = make_request(status="open", files=1)
    when = datetime.datetime(2026, 3, 4, 18, 32, tzinfo=datetime.UTC)
    request.files.update(delivered_at=when)
    request.history.update(at=when)
    client.force_login(admin_user)
    return request


@pytest.mark.parametrize(
    ("language", "written"),
    [("en", "Mar 4, 2026, 6:32 PM"), (SPANISH, "4 mar 2026, 18:32")],
)
def test_the_file_table_the_side_panel_and_the_history_write_times_alike(
    client, delivered, language, written
):
    file = delivered.files.get()
    url = reverse("request-detail", args=[delivered.pk])
    page = visible(
        client.get(url, {"file": file.pk}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    )
    # The row, the side panel ("Delivered at") and each History entry.
    assert page.count(written) >= 3, page
    assert "p.m." not in page and "03/04/2026" not in page


def test_the_zone_of_the_times_is_said_once(client, delivered):
    url = reverse("request-detail", args=[delivered.pk])
    client.cookies["portal_tz"] = "America/Mexico_City"
    page = client.get(url).content.decode()
    assert visible(page).count("America/Mexico_City") == 1
    assert 'id="time-zone">America/Mexico_City<' in page
    # 18:32 UTC is 12:32 in Mexico City.
    assert "Mar 4, 2026, 12:32 PM" in visible(page)


@pytest.mark.parametrize(
    ("days", "english", "spanish"),
    [
        (3, "in 3 days", "en 3 días"),
        (1, "due tomorrow", "vence mañana"),
        (0, "due today", "vence hoy"),
        (-2, "2 days overdue", "2 días de retraso"),
    ],
)
def test_a_due_date_says_how_far_it_is(client, admin_user, make_request, days, english, spanish):
    request = make_request(status="open", files=0)
    DeliveryRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() + datetime.timedelta(days=days)
    )
    client.force_login(admin_user)
    for url in (reverse("request-detail", args=[request.pk]), reverse("request-list")):
        shown = visible(client.get(url).content.decode())
        assert english in shown, (url, shown[shown.find("Due") : shown.find("Due") + 120])
        assert spanish in visible(client.get(url, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode())


def test_a_request_that_waits_on_the_studio_says_no_due_news(client, admin_user, make_request):
    request = make_request(status="processed", files=1)
    DeliveryRequest.objects.filter(pk=request.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=5)
    )
    client.force_login(admin_user)
    page = visible(client.get(reverse("request-detail", args=[request.pk])).content.decode())
    assert "overdue" not in page
