"""The delivery naming rule, as a table of good and bad names, through a real rename."""

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
