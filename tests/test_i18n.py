"""Latin-American Spanish (es-419): every string a partner sees is translated.

Each page is rendered in English and in Spanish; a text of the English page that shows
unchanged in the Spanish one is an untranslated string, unless it is data (a file name,
a user name, the title, a number). Visible text includes what assistive technology and
the page's script show: aria-label, placeholder, title, alt and the data-* texts.

The catalogs are compiled from locale/ into a temporary folder for the test run, so a
stale or missing .mo cannot hide a gap (scripts/check_translations.sh compiles the real
ones).
"""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from deliveries.models import RedeliveryReason

SPANISH = "es-419"
LOCALE_DIR = Path(django_settings.BASE_DIR) / "locale"
CATALOG = LOCALE_DIR / "es_419" / "LC_MESSAGES" / "django.po"

# Attributes whose values people read or hear, besides the text between tags.
TEXT_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt", "data-some", "data-all"}
TEXT_ATTRIBUTE_PREFIXES = ("data-text-", "data-empty")
SKIPPED_ELEMENTS = {"script", "style"}

# Spelled the same in both languages, and correct Spanish as they are.
SAME_IN_BOTH = ["Manual"]
# A number and a unit: "2 bytes", "1,5 KB" (Spanish "byte" and "bytes" are the English ones).
QUANTITY = re.compile(r"\d+(?:[.,]\d+)?\s*(?:bytes?|KB|MB|GB|TB|PB)\b")
# A placeholder the page's script fills in ("{name}: {problem}"): code, not English.
PLACEHOLDER = re.compile(r"\{\w+\}")


# Compiling and rendering ------------------------------------------------------------


@pytest.fixture(scope="session")
def compiled_locale(tmp_path_factory) -> Path:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is needed to compile the translation catalogs")
    root = tmp_path_factory.mktemp("locale")
    for po in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        mo = root / po.relative_to(LOCALE_DIR).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)
    return root


@pytest.fixture(autouse=True)
def _fresh_catalogs(settings, compiled_locale):
    settings.LOCALE_PATHS = [compiled_locale]


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fragments: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self._skipping += 1
        self._attributes(attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attributes(attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.fragments.append(data)

    def _attributes(self, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name in TEXT_ATTRIBUTES or name.startswith(TEXT_ATTRIBUTE_PREFIXES)):
                self.fragments.append(value)


def visible_text(html: str) -> set[str]:
    """The page's texts, one fragment per text node or attribute, spaces collapsed."""
    parser = _VisibleText()
    parser.feed(html.replace("<wbr>", ""))  # a line-break opportunity, inside a word
    parser.close()
    return {" ".join(f.split()) for f in parser.fragments} - {""}


def is_ui_text(fragment: str, data: list[str]) -> bool:
    """Whether anything but data is left once data values and quantities are taken out."""
    for value in sorted({*data, *SAME_IN_BOTH, *autonyms()}, key=len, reverse=True):
        fragment = fragment.replace(value, " ")
    fragment = QUANTITY.sub(" ", fragment)
    fragment = PLACEHOLDER.sub(" ", fragment)
    return re.search(r"[^\W\d_]", fragment) is not None


def autonyms() -> list[str]:
    """The language switcher names each language in that language, on every page."""
    return [name for _code, name in django_settings.LANGUAGES]


def render(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert response["Content-Language"] == language, url  # what a screen reader is told
    return page


def untranslated(client, url: str, data: list[str]) -> list[str]:
    english = visible_text(render(client, url, "en"))
    spanish = visible_text(render(client, url, SPANISH))
    assert english != spanish
    return sorted(f for f in english & spanish if is_ui_text(f, data))


def assert_all_spanish(client, url: str, data: list[str]) -> None:
    gaps = untranslated(client, url, data)
    assert not gaps, "English text left in the Spanish page: " + " | ".join(gaps)


def request_data(delivery_request, user) -> list[str]:
    files = list(delivery_request.files.all())
    return [
        str(delivery_request.title),
        delivery_request.name,
        str(delivery_request.organization),
        user.get_username(),
        *(f.name for f in files),
        *(f.extension.upper() for f in files if f.extension),
        timezone.get_default_timezone_name(),  # the zone the page's times are in
    ]


def detail_url(delivery_request, **query: str) -> str:
    url = reverse("request-detail", args=[delivery_request.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


# Whole pages ----------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "submitted", "processed", "redelivery", "accepted"])
def test_the_details_page_shows_no_english_text_in_spanish(
    client, admin_user, make_request, status
):
    delivery_request = make_request(status=status, files=3)
    client.force_login(admin_user)
    data = request_data(delivery_request, admin_user)
    assert_all_spanish(client, detail_url(delivery_request), data)


def test_the_redelivery_dialog_of_a_processed_request_is_in_spanish(
    client, admin_user, make_request
):
    delivery_request = make_request(status="processed", files=2)
    client.force_login(admin_user)
    url = detail_url(delivery_request, dialog="redelivery")
    page = render(client, url, SPANISH)
    assert 'id="redelivery-dialog"' in page and "data-open-on-load" in page
    assert "Pedir nueva entrega" in page
    assert_all_spanish(client, url, request_data(delivery_request, admin_user))


def test_the_side_panel_renaming_a_file_is_in_spanish(client, admin_user, make_request):
    delivery_request = make_request(status="open", files=2)
    delivered = delivery_request.files.order_by("name").first()
    client.force_login(admin_user)
    url = detail_url(delivery_request, file=str(delivered.pk), edit="1")
    assert 'id="rename-input"' in render(client, url, SPANISH)
    assert_all_spanish(client, url, request_data(delivery_request, admin_user))


def test_the_remove_confirmation_is_in_spanish(client, admin_user, make_request):
    delivery_request = make_request(status="open", files=2)
    client.force_login(admin_user)
    url = detail_url(delivery_request, confirm="remove", all="1")
    assert_all_spanish(client, url, request_data(delivery_request, admin_user))


def test_the_request_list_shows_no_english_text_in_spanish(client, admin_user, make_request):
    requests = [make_request(status=s, name=f"Request {s}") for s in ("open", "processed")]
    client.force_login(admin_user)
    data = [admin_user.get_username(), *(r.name for r in requests), str(requests[0].title)]
    assert_all_spanish(client, reverse("request-list"), data)


def test_an_empty_request_list_is_in_spanish(client, admin_user):
    client.force_login(admin_user)
    data = ["nothing", admin_user.get_username()]
    assert_all_spanish(client, reverse("request-list") + "?q=nothing", data)


def test_the_sign_in_page_shows_no_english_text_in_spanish(client, db):
    assert_all_spanish(client, reverse("login"), [])


def test_a_failed_sign_in_is_explained_in_spanish(client, admin_user):
    url = reverse("login")
    form = {"username": admin_user.get_username(), "password": "not the password"}
    english = client.post(url, form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    spanish = client.post(url, form, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode()
    assert 'class="form-error"' in english and 'class="form-error"' in spanish
    gaps = sorted(
        f
        for f in visible_text(english) & visible_text(spanish)
        if is_ui_text(f, [admin_user.get_username()])
    )
    assert not gaps, "English text left in the Spanish page: " + " | ".join(gaps)


def test_the_password_change_page_shows_no_english_text_in_spanish(client, admin_user):
    client.force_login(admin_user)
    assert_all_spanish(client, reverse("password_change"), [admin_user.get_username()])


# Messages, refusals and data --------------------------------------------------------


def test_a_refused_rename_explains_the_naming_rule_in_spanish(client, admin_user, make_request):
    delivery_request = make_request(status="open", files=1)
    delivered = delivery_request.files.get()
    client.force_login(admin_user)
    url = reverse("file-rename", args=[delivery_request.pk, delivered.pk])
    response = client.post(url, {"name": "with space.mov"}, HTTP_ACCEPT_LANGUAGE=SPANISH)
    assert response.status_code == 400
    error = re.search(r'<p id="rename-error"[^>]*>(.*?)</p>', response.content.decode())
    assert error is not None
    message = error.group(1)
    assert "Los nombres de archivo solo pueden usar letras" in message
    assert "Quite este carácter: espacio." in message
    assert "File names" not in message and "space" not in message


def test_a_refused_submit_says_why_in_spanish(client, admin_user, make_request):
    delivery_request = make_request(status="processed", files=1)
    client.force_login(admin_user)
    url = reverse("request-submit", args=[delivery_request.pk])
    response = client.post(url, HTTP_ACCEPT_LANGUAGE=SPANISH, follow=True)
    page = response.content.decode()
    assert "Esta solicitud está en estado Procesado." in page
    assert "This request is Processed" not in page


def test_the_redelivery_reason_names_show_in_spanish(client, admin_user, make_request):
    delivery_request = make_request(status="redelivery", files=1)
    asked = delivery_request.redeliveries.get().reasons.get()
    client.force_login(admin_user)
    english = render(client, detail_url(delivery_request), "en")
    spanish = render(client, detail_url(delivery_request), SPANISH)
    assert asked.name in english and asked.name_es not in english
    assert asked.name_es in spanish and asked.description_es in spanish
    assert asked.name not in spanish
    # The redelivery dialog of a Processed request lists every active reason.
    processed = make_request(status="processed", files=1)
    spanish = render(client, detail_url(processed), SPANISH)
    for reason in RedeliveryReason.objects.filter(active=True):
        assert reason.name_es in spanish
        assert f">{reason.name}<" not in spanish


def test_the_language_switcher_turns_the_portal_spanish(client, admin_user):
    client.force_login(admin_user)
    list_url = reverse("request-list")
    response = client.post(reverse("set_language"), {"language": SPANISH, "next": list_url})
    assert response.status_code == 302 and response["Location"] == list_url
    page = client.get(list_url).content.decode()
    assert f'<html lang="{SPANISH}">' in page and "Solicitudes" in page


def test_a_browser_asking_for_another_spanish_gets_latin_american_spanish(client, db):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert f'<html lang="{SPANISH}">' in response.content.decode()


def test_the_spanish_catalog_has_no_untranslated_or_fuzzy_entry(compiled_locale):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOG)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_processing_results_read_in_the_viewers_language(client, admin_user, make_request):
    from deliveries.management.samples import broken_ttml
    from deliveries.processing.timedtext import validate

    delivery_request = make_request(status="submitted", files=1)
    import io

    metadata, findings = validate(io.BytesIO(broken_ttml()), expected_language="")
    delivery_request.files.update(
        processing_status="failed",
        metadata=metadata,
        errors=[finding.as_json() for finding in findings],
    )
    delivered = delivery_request.files.get()
    client.force_login(admin_user)
    url = detail_url(delivery_request, file=str(delivered.pk))
    english = render(client, url, "en")
    spanish = render(client, url, SPANISH)
    assert "is not a BCP 47 language tag" in english
    assert "no es una etiqueta de idioma BCP 47" in spanish
    assert "is not a BCP 47 language tag" not in spanish
    assert "subtítulos" in spanish or "subtítulo" in spanish


def test_the_chosen_language_is_remembered_for_the_user_on_another_browser(
    client, admin_user, make_request
):
    from django.test import Client

    from deliveries.models import Preference

    delivery_request = make_request(files=1)
    client.force_login(admin_user)
    client.post(reverse("set_language"), {"language": SPANISH, "next": "/requests/"})
    assert Preference.objects.get(user=admin_user).language == SPANISH

    laptop = Client()  # a browser with no language cookie, asking for English
    laptop.force_login(admin_user)
    response = laptop.get(detail_url(delivery_request), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert 'lang="es-419"' in page and "Archivos entregados" in page
    assert response["Content-Language"] == SPANISH
    # Its partial pages (htmx) and its error pages speak it too.
    partial = laptop.get(detail_url(delivery_request), headers={"HX-Request": "true"})
    assert partial["Content-Language"] == SPANISH
    missing = laptop.get("/requests/999999/")
    assert missing.status_code == 404 and missing["Content-Language"] == SPANISH
    assert 'lang="es-419"' in missing.content.decode()
    assert laptop.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == SPANISH


def test_counts_read_as_latin_american_spanish_writes_them(client, admin_user, org):
    """250,000 and 11.9 MB (CLDR es-419), as the browser's own formatting shows them
    beside, not Spain's 250.000 and 11,9 MB."""
    from deliveries.management.commands.create_big_request import create_big_request

    request = create_big_request(1_234, organization=org.name)
    client.force_login(admin_user)
    url = reverse("request-detail", args=[request.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=SPANISH).content.decode()
    assert '<dd id="file-count">1,234</dd>' in page
    assert "Seleccionar los 1,234 archivos" in page
    assert "11.9" in page and "11,9" not in page


def test_a_files_technical_words_read_in_the_viewers_language(client, admin_user, processed):
    from deliveries.management import samples

    request = processed(
        {"Main.mp4": samples.h264_aac_mp4(), "Mix.wav": samples.wav_audio(seconds=1, channels=2)}
    )
    client.force_login(admin_user)
    video, wav = request.files.get(name="Main.mp4"), request.files.get(name="Mix.wav")
    english = render(client, detail_url(request, file=str(wav.pk)), "en")
    spanish = render(client, detail_url(request, file=str(wav.pk)), SPANISH)
    assert "PCM 16-bit" in english and "2 channels" in english
    assert "PCM 16 bits" in spanish and "2 canales" in spanish
    assert "16-bit" not in spanish and "2 channels" not in spanish
    spanish = render(client, detail_url(request, file=str(video.pk)), SPANISH)
    assert "estéreo AAC" in spanish and "stereo" not in spanish
