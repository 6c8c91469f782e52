"""The delivery naming rule, as a table of good and bad names, through a real rename."""

from pathlib import Path

import pytest

from deliveries.models import ActionRefused

GOOD = [
    "file_000_v2.mov",
    "LongTide-Feature.UHD.mov",
    "A.mov",
    "x" * 251 + ".mov",  # exactly 255 characters
    "file_000.MOV",  # the extension's case may change
]
BAD = [
    ("with space.mov", "space"),
    ("café.mov", "“é”"),
    ("Ünïcode.mov", "Remove these characters"),
    ("../x.mov", "“/”"),
    ("nul\x00byte.mov", "U+0000"),
    ("x" * 252 + ".mov", "at most 255 characters"),
    ("file_001.mov", "already named"),
    ("file_000.mp4", "Keep the extension “.mov”"),
    ("", "Enter a file name"),
    ("<script>alert(1)</script>.mov", "Remove these characters"),
    ("...", "at least one letter or digit"),
    ("file_000", "Keep the extension"),
]


@pytest.mark.parametrize("name", GOOD)
def test_it_accepts_a_good_name(make_request, admin_user, name):
    request = make_request(files=2)
    delivered = request.files.get(name="file_000.mov")
    request.rename_file(delivered, name, by=admin_user)
    assert request.files.filter(name=name).exists()
    assert request.history.first().after == name


@pytest.mark.parametrize(("name", "explanation"), BAD)
def test_it_refuses_a_bad_name_with_a_reason_and_stores_nothing(
    make_request, admin_user, name, explanation
):
    request = make_request(files=2)
    delivered = request.files.get(name="file_000.mov")
    history_before = request.history.count()
    with pytest.raises(ActionRefused) as refusal:
        request.rename_file(delivered, name, by=admin_user)
    assert explanation in refusal.value.message
    assert refusal.value.field == "name"
    assert sorted(request.files.values_list("name", flat=True)) == [
        "file_000.mov",
        "file_001.mov",
    ]
    assert request.history.count() == history_before


def test_a_new_delivery_may_not_reuse_a_name(make_request, admin_user):
    from django.core.files.base import ContentFile

    request = make_request(files=1)
    with pytest.raises(ActionRefused, match="already named"):
        request.add_file("file_000.mov", ContentFile(b"again"), by=admin_user)
    assert request.files.count() == 1


def test_a_manifest_names_files_without_their_folders():
    from deliveries.files import manifests

    entries = manifests.parse("checksum.txt", b"0123456789abcdef  ./reel1/frame_0001.dpx\n")
    assert entries == [("frame_0001.dpx", "xxh64", "0123456789abcdef")]


def test_a_manifest_listing_one_name_with_two_hashes_is_refused(make_request, admin_user, settings):
    from django.core.files.base import ContentFile

    request = make_request(files=1)
    text = b"0123456789abcdef  file_000.mov\nfedcba9876543210  file_000.mov\n"
    with pytest.raises(ActionRefused, match="twice with different hashes"):
        request.add_file("checksum.txt", ContentFile(text), by=admin_user)
    request.refresh_from_db()
    assert not request.has_checksum
    assert not request.files.filter(name="checksum.txt").exists()
    stored = [path.name for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]
    assert "checksum.txt" not in stored and "file_000.mov" in stored


def test_a_reason_with_markup_characters_is_escaped_once_in_history(
    client, admin_user, make_request
):
    from deliveries.models import RedeliveryReason

    reason = RedeliveryReason.objects.create(
        code="cut", name="Director's cut & more", description="A new cut."
    )
    request = make_request(status="processed")
    request.act(request.ask_for_redelivery, by=admin_user, reasons=[reason], clear_files=True)
    client.force_login(admin_user)
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Director&#x27;s cut &amp; more" in page
    assert "&amp;#x27;" not in page and "&amp;amp;" not in page
