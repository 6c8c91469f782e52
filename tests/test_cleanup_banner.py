"""The clean-up banner shows only for work that lasts: not after one file's removal,
but after select-all, or while a large backlog of stored content is deleted; once
shown it counts down to the end."""

from django.urls import reverse

from deliveries.files.models import StorageDeletion
from deliveries.requests.views import CLEANUP_SHOWN_FROM

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "request-main"}
BANNER = "Cleaning up storage"


def remove(client, request, **data):
    url = reverse("files-remove", args=[request.pk])
    return client.post(url, data, **HTMX).content.decode()


def poll(client, request, *, cleaning: bool) -> str:
    url = reverse("request-progress", args=[request.pk]) + "?seen=open"
    if cleaning:
        url += "&cleaning=1"
    return client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="progress").content.decode()


def test_removing_one_file_shows_no_banner_and_starts_no_poll(client, admin_user, make_request):
    request = make_request(files=3)
    client.force_login(admin_user)
    one = request.files.get(name="file_001.mov")
    page = remove(client, request, file=str(one.pk))
    assert "Removed 1 file." in page
    assert StorageDeletion.objects.filter(request_id=request.pk).count() == 1  # still queued
    assert BANNER not in page and "request-progress" not in page.split('id="progress"')[1][:200]
    assert BANNER not in client.get(reverse("request-detail", args=[request.pk])).content.decode()


def test_removing_all_files_shows_the_banner(client, admin_user, make_request):
    request = make_request(files=3)
    client.force_login(admin_user)
    page = remove(client, request, all="1")
    assert "Cleaning up storage: 3 files left" in page and "cleaning=1" in page


def test_a_large_backlog_of_stored_content_shows_and_counts_down_to_the_end(
    client, admin_user, make_request
):
    request = make_request(files=1)
    client.force_login(admin_user)
    StorageDeletion.objects.bulk_create(
        StorageDeletion(request_id=request.pk, path=f"gone/{n}.mov")
        for n in range(CLEANUP_SHOWN_FROM)
    )
    page = client.get(reverse("request-detail", args=[request.pk])).content.decode()
    assert f"Cleaning up storage: {CLEANUP_SHOWN_FROM:,} files left" in page

    # The worker has deleted all but 10: a page showing the banner keeps counting...
    keep = StorageDeletion.objects.order_by("pk").values_list("pk", flat=True)[:10]
    StorageDeletion.objects.exclude(pk__in=list(keep)).delete()
    assert "Cleaning up storage: 10 files left" in poll(client, request, cleaning=True)
    # ...while a page opened now shows no banner for so little.
    assert BANNER not in poll(client, request, cleaning=False)
    StorageDeletion.objects.all().delete()
    assert BANNER not in poll(client, request, cleaning=True)
