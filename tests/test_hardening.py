"""Holes an attack round found: a list that told outsiders about other partners'
requests (a cursor once did), and a rename that could make or unmake a checksum
manifest."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from deliveries.models import ActionRefused, DeliveryRequest, HistoryEntry


def listed_names(client, **params) -> list[str]:
    response = client.get(reverse("request-list"), params)
    assert response.status_code == 200
    return [request.name for request in response.context["requests"]]


def test_the_list_pages_and_counts_only_what_the_viewer_may_see(
    client, outsider, other_org, make_request
):
    make_request(name="Ours A", organization=other_org)
    make_request(name="Hidden")  # Lumen Post's: the outsider can't see it
    make_request(name="Ours B", organization=other_org)
    client.force_login(outsider)
    assert sorted(listed_names(client)) == ["Ours A", "Ours B"]
    assert listed_names(client, page="2") == []
    response = client.get(reverse("request-list"))
    assert response.context["total"] == 2
    assert dict((s, n) for s, _, n in response.context["status_tabs"])["open"] == 2


@pytest.mark.parametrize("manifest_name", ["checksum.txt", "CHECKSUM.TXT"])
def test_a_rename_cannot_make_a_file_a_manifest(make_request, admin_user, manifest_name):
    request = make_request(files=1)
    request.add_file("notes.txt", ContentFile(b"0000000000000000  file_000.mov\n"), by=None)
    notes = request.files.get(name="notes.txt")
    with pytest.raises(ActionRefused, match="can neither create nor remove a manifest"):
        request.rename_file(notes, manifest_name, by=admin_user)
    request = DeliveryRequest.objects.get(pk=request.pk)
    assert not request.has_checksum
    assert sorted(request.files.values_list("name", flat=True)) == ["file_000.mov", "notes.txt"]
    assert not request.history.filter(action=HistoryEntry.Action.RENAMED).exists()
    # The real manifest can still be delivered, and pins the files.
    request.add_file("checksum.txt", ContentFile(b"0000000000000000  file_000.mov\n"), by=None)
    assert DeliveryRequest.objects.get(pk=request.pk).has_checksum


def test_renaming_to_a_manifest_name_is_explained_on_the_page(client, admin_user, make_request):
    request = make_request(files=0)
    request.add_file("notes.txt", ContentFile(b"a note"), by=None)
    delivered = request.files.get()
    client.force_login(admin_user)
    response = client.post(
        reverse("file-rename", args=[request.pk, delivered.pk]),
        {"name": "checksum.txt"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "can neither create nor remove a manifest" in response.content.decode()
    assert DeliveryRequest.objects.get(pk=request.pk).checksum_manifest_id is None


@pytest.mark.parametrize(
    "params",
    [
        {"file": "9" * 30},
        {"history_before": "9" * 30},
        {"file": "9" * 30, "confirm": "remove"},
    ],
)
def test_an_id_too_large_for_any_row_is_ignored(client, admin_user, make_request, params):
    request = make_request(files=1)
    client.force_login(admin_user)
    response = client.get(reverse("request-detail", args=[request.pk]), params)
    assert response.status_code in (200, 404)


def test_a_list_cursor_too_large_for_any_row_is_ignored(client, admin_user, make_request):
    make_request(name="Only")
    client.force_login(admin_user)
    assert listed_names(client, before="9" * 30) == ["Only"]
