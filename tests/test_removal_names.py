"""A bulk removal names its files, the first few and how many more, in its
confirmation (also without JavaScript) and in the History."""

from django.urls import reverse

from deliveries.models import HistoryEntry


def detail(client, request, query: str = "") -> str:
    """The page as read: a <wbr> (where a long name may break) is no text."""
    page = client.get(reverse("request-detail", args=[request.pk]) + query).content.decode()
    return page.replace("<wbr>", "")


def test_a_long_name_in_the_confirmation_breaks_after_underscores_not_mid_word(
    client, admin_user, make_request
):
    request = make_request(files=2)
    client.force_login(admin_user)
    page = client.get(
        reverse("request-detail", args=[request.pk]) + "?confirm=remove&all=1"
    ).content.decode()
    assert "file_<wbr>000.<wbr>mov, file_<wbr>001.<wbr>mov</p>" in page


def test_the_confirmation_of_select_all_names_the_first_files_and_the_rest(
    client, admin_user, make_request
):
    request = make_request(files=12)
    client.force_login(admin_user)
    page = detail(client, request, "?confirm=remove&all=1")
    assert "All 12 files of this request will be removed." in page
    assert "file_000.mov, file_001.mov, file_002.mov, file_003.mov, file_004.mov and 7 more" in page


def test_the_confirmation_of_ticked_files_names_them(client, admin_user, make_request):
    request = make_request(files=4)
    client.force_login(admin_user)
    ids = list(request.files.order_by("name").values_list("pk", flat=True))
    page = detail(client, request, f"?confirm=remove&file={ids[1]}&file={ids[3]}")
    assert "2 files will be removed from this request." in page
    assert "file_001.mov, file_003.mov</p>" in page


def test_the_history_of_a_large_removal_names_the_first_files_and_counts_the_rest(
    client, admin_user, make_request
):
    request = make_request(files=3)
    request.remove_files(None, by=admin_user)
    # As a removal of 1,234 files records itself: 50 names kept, the count in full.
    HistoryEntry.objects.create(
        request=request,
        actor=admin_user,
        action=HistoryEntry.Action.REMOVED,
        details={"count": 1234, "names": [f"f_{n:04d}.dpx" for n in range(50)], "all": False},
    )
    client.force_login(admin_user)
    page = detail(client, request)
    assert "Removed all 3 files. file_000.mov, file_001.mov, file_002.mov" in page
    assert (
        "Removed 1,234 files. f_0000.dpx, f_0001.dpx, f_0002.dpx, f_0003.dpx, f_0004.dpx "
        "and 1,229 more" in page
    )
    spanish = client.get(
        reverse("request-detail", args=[request.pk]), HTTP_ACCEPT_LANGUAGE="es-419"
    ).content.decode()
    assert "f_0004.dpx y 1,229 más" in spanish or "f_0004.dpx y 1.229 más" in spanish
