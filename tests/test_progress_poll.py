"""The poll of a page whose processing or clean-up is under way: a small fragment,
answered 304 Not Modified while nothing it shows has changed."""

from django.urls import reverse

from deliveries.models import DeliveryRequest, ProcessingStatus
from deliveries.requests import counters

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "progress"}


def progress_url(request, seen: str) -> str:
    return reverse("request-progress", args=[request.pk]) + f"?seen={seen}"


def test_an_unchanged_poll_is_answered_304_and_a_change_with_the_new_counts(
    client, admin_user, make_request, django_assert_max_num_queries
):
    request = make_request(status="submitted", files=3)
    client.force_login(admin_user)
    first = client.get(progress_url(request, "submitted"), **HTMX)
    assert first.status_code == 200
    assert "Processing 0 of 3 files" in first.content.decode()
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    etag = first["ETag"]

    # session, user, the request with the role, clean-up backlog, leases, queue (2)
    with django_assert_max_num_queries(7):
        again = client.get(progress_url(request, "submitted"), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert again.status_code == 304 and again.content == b""

    # A file is processed: the next poll shows it.
    request.files.filter(name="file_000.mov").update(processing_status=ProcessingStatus.PASSED)
    counters.processed(request, worst_severity="")
    changed = client.get(progress_url(request, "submitted"), HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert changed.status_code == 200
    assert "Processing 1 of 3 files" in changed.content.decode()
    assert changed["ETag"] != etag


def test_the_etag_differs_by_language(client, admin_user, make_request):
    request = make_request(status="submitted", files=1)
    client.force_login(admin_user)
    english = client.get(progress_url(request, "submitted"), **HTMX)
    spanish = client.get(progress_url(request, "submitted"), HTTP_ACCEPT_LANGUAGE="es-419", **HTMX)
    assert "Procesando" in spanish.content.decode()
    assert english["ETag"] != spanish["ETag"]


def test_once_the_request_left_the_status_the_page_shows_the_main_part_replaces_it(
    client, admin_user, make_request
):
    request = make_request(status="processed", files=2)
    client.force_login(admin_user)
    response = client.get(progress_url(request, "submitted"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#request-main"
    assert response["HX-Reswap"] == "outerHTML"
    page = response.content.decode()
    assert 'id="request-main"' in page and "Processed" in page
    assert "hx-get" not in page.split('id="progress"')[1].split(">")[0]  # polls no more


def test_an_outsider_polls_nothing(client, outsider, make_request):
    request = make_request(status="submitted", files=1)
    client.force_login(outsider)
    assert client.get(progress_url(request, "submitted"), **HTMX).status_code == 404
    assert DeliveryRequest.objects.get(pk=request.pk).status == "submitted"
