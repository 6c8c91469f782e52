"""The studio admin's History reads as the partner's: sentences, statuses by their
labels, "System" for the worker, never the stored JSON."""

from django.urls import reverse


def test_the_history_list_reads_as_the_details_page(client, staff, make_request):
    request = make_request(status="processed", files=1)
    client.force_login(staff)
    url = reverse("admin:deliveries_historyentry_changelist") + f"?request__id__exact={request.pk}"
    page = client.get(url).content.decode()
    assert "Status changed from Submitted to Processed." in page
    assert "Delivered “file_000.mov”." in page
    assert "System" in page
    assert '{"size"' not in page and "&quot;size&quot;" not in page
    assert "submitted →" not in page


def test_the_change_page_shows_history_sentences_and_the_buttons_first(client, staff, make_request):
    request = make_request(status="processed", files=1)
    client.force_login(staff)
    page = client.get(
        reverse("admin:deliveries_deliveryrequest_change", args=[request.pk])
    ).content.decode()
    assert page.count('name="_fsm_transition_to"') == 2
    assert page.index('value="accept"') < page.index('name="name"')  # above the fields
    assert "Status changed from Submitted to Processed." in page
    assert '{"size"' not in page and "&quot;size&quot;" not in page


def test_the_change_page_reads_in_spanish(client, staff, make_request):
    request = make_request(status="processed", files=1)
    client.force_login(staff)
    page = client.get(
        reverse("admin:deliveries_deliveryrequest_change", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="es-419",
    ).content.decode()
    assert "Decidir" in page and "Transition (status)" not in page
    assert "El estado cambió de Enviado a Procesado." in page
    assert "Sistema" in page


def test_the_history_list_names_reasons_in_each_viewers_language(client, staff, make_request):
    request = make_request(status="redelivery", files=1)
    client.force_login(staff)
    url = reverse("admin:deliveries_historyentry_changelist") + f"?request__id__exact={request.pk}"
    english = client.get(url).content.decode()
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es-419").content.decode()
    reason = request.redeliveries.get().reasons.get()
    assert f"Reasons: {reason.name}." in english
    assert reason.name_es and f"{reason.name_es}." in spanish


def test_the_redeliveries_of_a_request_are_headed_in_spanish(client, staff, make_request):
    request = make_request(status="redelivery", files=1)
    client.force_login(staff)
    page = client.get(
        reverse("admin:deliveries_deliveryrequest_change", args=[request.pk]),
        HTTP_ACCEPT_LANGUAGE="es-419",
    ).content.decode()
    for spanish in ("Pedida el", "Pedida por", "Se quitaron los archivos", "Nota"):
        assert spanish in page, spanish
    for english in ("Asked at", "Asked by", "Cleared files", "Cleared count"):
        assert english not in page, english
