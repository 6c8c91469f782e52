"""A parameter no page can use is refused (400) or ignored, never a server error.

PostgreSQL refuses NUL in text: a `%00` reaching a query was a 500 there. Run these with
DATABASE_URL pointing at PostgreSQL as well as on SQLite.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deliveries.models import DeliveryRequest, HistoryEntry

NUL_REFUSAL = "NUL"


@pytest.fixture
def signed_in(client: Client, uploader) -> Client:
    client.force_login(uploader)
    return client


def detail(request: DeliveryRequest) -> str:
    return reverse("request-detail", args=[request.pk])


GET_WITH_NUL = {
    "list search": lambda r: reverse("request-list") + "?q=%00",
    "list page": lambda r: reverse("request-list") + "?page=1%00",
    "list status": lambda r: reverse("request-list") + "?status=open%00",
    "file filter": lambda r: detail(r) + "?q=a%00",
    "file page": lambda r: detail(r) + "?after=%00",
    "history page": lambda r: detail(r) + "?history_before=%00",
    "panel file": lambda r: detail(r) + "?file=%00",
    "parameter name": lambda r: detail(r) + "?%00=1",
}


@pytest.mark.parametrize("case", list(GET_WITH_NUL))
def test_a_nul_in_a_query_parameter_is_refused(signed_in, make_request, case):
    request = make_request(files=2)
    response = signed_in.get(GET_WITH_NUL[case](request))
    assert response.status_code == 400
    assert NUL_REFUSAL in response.content.decode()


def test_a_nul_in_a_rename_is_refused_and_changes_nothing(signed_in, make_request):
    request = make_request(files=2)
    delivered = request.files.get(name="file_000.mov")
    history = HistoryEntry.objects.count()
    response = signed_in.post(
        reverse("file-rename", args=[request.pk, delivered.pk]), {"name": "file\x00_9.mov"}
    )
    assert response.status_code == 400
    assert NUL_REFUSAL in response.content.decode()
    assert request.files.filter(name="file_000.mov").exists()
    assert HistoryEntry.objects.count() == history


def test_a_nul_in_the_filter_a_form_sends_back_is_refused_and_removes_nothing(
    signed_in, admin_user, make_request
):
    signed_in.force_login(admin_user)
    request = make_request(files=2)
    ids = list(request.files.values_list("pk", flat=True))
    response = signed_in.post(
        reverse("files-remove", args=[request.pk]), {"file": ids, "q": "file\x00"}
    )
    assert response.status_code == 400
    assert NUL_REFUSAL in response.content.decode()
    assert request.files.count() == 2


def test_a_nul_in_the_sign_in_form_is_refused(client, uploader):
    response = client.post(reverse("login"), {"username": "partner\x00", "password": "x"})
    assert response.status_code == 400
    assert NUL_REFUSAL in response.content.decode()


OVERSIZED = "9" * 30  # past any database integer

GET_OVERSIZED = {
    "list page": lambda r: reverse("request-list") + f"?page={OVERSIZED}",
    "history page": lambda r: detail(r) + f"?history_before={OVERSIZED}",
    "panel file": lambda r: detail(r) + f"?file={OVERSIZED}",
    "remove confirmation": lambda r: detail(r) + f"?confirm=remove&file={OVERSIZED}",
}


@pytest.mark.parametrize("case", list(GET_OVERSIZED))
def test_an_id_past_any_integer_is_not_a_server_error(signed_in, make_request, case):
    request = make_request(files=2)
    response = signed_in.get(GET_OVERSIZED[case](request))
    assert response.status_code in (200, 400, 404)


def test_removing_an_id_past_any_integer_removes_nothing(signed_in, admin_user, make_request):
    signed_in.force_login(admin_user)
    request = make_request(files=2)
    response = signed_in.post(reverse("files-remove", args=[request.pk]), {"file": [OVERSIZED]})
    assert response.status_code in (200, 302, 400, 409)
    assert request.files.count() == 2
