"""Email notifications: what a real SMTP server receives (aiosmtpd on a free loopback
port), each person's choices (immediately, daily digest, off), the one-click
unsubscribe link, and sending in the worker with retries and no double send."""

from __future__ import annotations

import datetime
import email
import email.policy
import socket
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from deliveries.models import (
    Comment,
    Notification,
    NotificationSetting,
    Preference,
    RedeliveryReason,
)
from deliveries.people import sending, unsubscribe
from deliveries.people.events import Event, Frequency
from deliveries.tasks import enqueue_digests, send_digest, send_notification


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the SMTP server accepted: one envelope per message."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.original_content, policy=email.policy.default)
            for e in self.envelopes
        ]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "Delivery Portal <portal@studio.example>"
    yield inbox
    controller.stop()


@pytest.fixture
def people(admin_user, uploader, reviewer, staff, org):
    """The partner's Admin (Spanish) and Uploader have addresses, the Reviewer none;
    the studio contact is the partner's default one."""
    admin_user.email = "admin@lumen.example"
    admin_user.first_name, admin_user.last_name = "Ana", "Ruiz"
    admin_user.save()
    Preference.objects.create(user=admin_user, language="es-419")
    uploader.email = "uploader@lumen.example"
    uploader.save()
    staff.email = "contact@studio.example"
    staff.first_name, staff.last_name = "Sam", "Okafor"
    staff.save()
    org.default_studio_contact = staff
    org.save()
    return {"admin": admin_user, "uploader": uploader, "reviewer": reviewer, "staff": staff}


def run_queued_emails() -> int:
    """Run what the web request queued for the worker, as the worker would."""
    queued = DBTaskResult.objects.filter(task_path=send_notification.module_path)
    for row in queued:
        send_notification.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
    count = queued.count()
    queued.delete()
    return count


def subject(message) -> str:
    # A long non-ASCII subject is folded over lines; the parser keeps the fold's space.
    return " ".join(str(message["Subject"]).split())


def unsubscribe_link(message) -> str:
    return str(message["List-Unsubscribe"]).strip().strip("<>")


def token_of(link: str) -> str:
    return urlparse(link).path.rstrip("/").rsplit("/", 1)[-1]


def parts(message) -> tuple[str, str]:
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


def test_asking_for_redelivery_with_a_note_emails_the_partners_team_in_their_language(
    client, people, make_request, smtp, django_capture_on_commit_callbacks
):
    request = make_request(status="processed")
    assert request.studio_contact == people["staff"]
    reason = RedeliveryReason.objects.get(code="missing-asset")
    client.force_login(people["staff"])
    note = "Reel 2 <b>drifts</b>, see https://notes.example/reel2"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("request-redelivery", args=[request.pk]),
            {"reasons": [reason.pk], "note": note, "status_seen": "processed"},
        )
    assert response.status_code == 302
    assert smtp.envelopes == [], "nothing is sent in the web request"
    assert run_queued_emails() == 2

    by_recipient = {tuple(e.rcpt_tos): e for e in smtp.envelopes}
    assert set(by_recipient) == {("admin@lumen.example",), ("uploader@lumen.example",)}
    spanish, english = (
        email.message_from_bytes(by_recipient[(who,)].original_content, policy=email.policy.default)
        for who in ("admin@lumen.example", "uploader@lumen.example")
    )
    assert subject(spanish) == f"Se pidió una nueva entrega: {request}"
    assert subject(english) == f"Redelivery asked: {request}"
    assert spanish["From"] == "Delivery Portal <portal@studio.example>"
    text, html = parts(spanish)
    assert "Sam Okafor pidió una nueva entrega" in text
    assert reason.name_es in text
    assert note in text
    assert f"http://127.0.0.1:8000/requests/{request.pk}/" in text
    assert 'lang="es-419"' in html
    assert "&lt;b&gt;drifts&lt;/b&gt;" in html and "<b>drifts" not in html
    assert '<a href="https://notes.example/reel2"' in html
    assert f'href="http://127.0.0.1:8000/requests/{request.pk}/"' in html

    link = unsubscribe_link(spanish)
    assert spanish["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = token_of(link)
    assert unsubscribe.read(token) == unsubscribe.Unsubscribe(people["admin"].pk, "redelivery")
    assert link in text

    # The note opened the thread, beside the reasons.
    comment = Comment.objects.get(request=request)
    assert comment.body == note and comment.redelivery is not None


def test_a_partners_reply_emails_the_studio_contact_and_the_team_but_not_the_author(
    client, people, make_request, smtp, django_capture_on_commit_callbacks
):
    request = make_request(status="redelivery")
    client.force_login(people["uploader"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("request-comment", args=[request.pk]), {"body": "Fixed, on its way."})
    run_queued_emails()
    recipients = sorted(r for e in smtp.envelopes for r in e.rcpt_tos)
    assert recipients == ["admin@lumen.example", "contact@studio.example"]
    studio = next(m for m in smtp.messages if m["To"] == "contact@studio.example")
    assert subject(studio) == f"New comment: {request}"
    text, html = parts(studio)
    assert "partner-uploader commented on" in text and "Fixed, on its way." in text
    assert 'lang="en"' in html


def test_a_submitted_request_is_told_to_its_studio_contact_by_digest_by_default(
    people, make_request
):
    request = make_request(status="submitted")
    row = Notification.objects.get(event=Event.SUBMITTED)
    assert row.recipient == people["staff"] and row.digest and row.request == request


def test_processing_finished_tells_the_team_and_only_with_blockers_the_studio_contact(
    people, make_request
):
    make_request(status="processed")
    told = set(Notification.objects.filter(event="processed").values_list("recipient", flat=True))
    assert told == {people["admin"].pk, people["uploader"].pk}
    row = Notification.objects.filter(event="processed").first()
    assert row.digest  # processed goes to the digest by default
    assert row.context == {"files": 2, "blockers": 0, "issues": 0, "fyi": 0, "delivery_blockers": 0}


def test_a_request_with_blockers_is_told_to_its_studio_contact_too(people, make_request):
    request = make_request(status="submitted")
    request.files.update(processing_status="failed")
    type(request).objects.filter(pk=request.pk).update(files_failed=2, files_processed=2)
    request.files_failed = 2
    request.act(request.finish_processing, by=None)
    told = set(Notification.objects.filter(event="processed").values_list("recipient", flat=True))
    assert people["staff"].pk in told


def test_accepting_emails_the_team_immediately(
    people, make_request, smtp, django_capture_on_commit_callbacks
):
    request = make_request(status="processed")
    with django_capture_on_commit_callbacks(execute=True):
        request.act(request.accept, by=people["staff"])
    assert run_queued_emails() == 2
    subjects = sorted(subject(m) for m in smtp.messages)
    assert subjects == [f"Accepted: {request}", f"Aceptada: {request}"]


def test_an_event_turned_off_owes_nobody_an_email(people, make_request):
    NotificationSetting.choose(people["admin"], Event.ACCEPTED, Frequency.OFF)
    request = make_request(status="processed")
    request.act(request.accept, by=people["staff"])
    told = Notification.objects.filter(event="accepted").values_list("recipient", flat=True)
    assert list(told) == [people["uploader"].pk]


def test_the_daily_digest_sends_what_happened_before_its_time_once(people, make_request, smtp):
    NotificationSetting.choose(people["uploader"], Event.COMMENT, Frequency.DIGEST)
    first = make_request(status="open", name="Audio")
    second = make_request(status="open", name="Subtitles")
    Comment.post(first, people["admin"], "Morning: reel 1 is in.")
    Comment.post(second, people["staff"], "Please use the new template.")
    Comment.post(first, people["admin"], "Evening: reel 2 is in.")
    # A fixed clock: the morning's two comments at 08:00 and 09:00, the evening's at 20:00,
    # the digest run at 12:00.
    day = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    rows = Notification.objects.filter(recipient=people["uploader"], event="comment")
    for row, hour in zip(rows.order_by("id"), (8, 9, 20), strict=True):
        row.created_at = day.replace(hour=hour)
        row.save()
    noon = day.replace(hour=12)

    assert enqueue_digests(noon) == [people["uploader"].pk]
    queued = DBTaskResult.objects.get(task_path=send_digest.module_path)
    send_digest.call(**queued.args_kwargs["kwargs"])
    send_digest.call(**queued.args_kwargs["kwargs"])  # run twice: still one email
    assert len(smtp.envelopes) == 1
    digest = smtp.messages[0]
    assert digest["To"] == "uploader@lumen.example"
    assert subject(digest) == "Your daily digest: 2 updates"
    text, html = parts(digest)
    assert "Morning: reel 1 is in." in text and "Please use the new template." in text
    assert "Evening" not in text
    assert str(first) in html and str(second) in html
    token = token_of(unsubscribe_link(digest))
    assert unsubscribe.read(token).event == unsubscribe.DIGEST

    # The next day's run sends the evening's comment, alone.
    assert enqueue_digests(noon + datetime.timedelta(days=1)) == [people["uploader"].pk]
    assert sending.send_digest(people["uploader"].pk, noon + datetime.timedelta(days=1)) is None
    assert len(smtp.envelopes) == 2
    assert "Evening: reel 2 is in." in parts(smtp.messages[1])[0]
    assert enqueue_digests(noon + datetime.timedelta(days=2)) == []


def test_an_email_already_sent_is_not_sent_again(people, make_request, smtp):
    request = make_request(status="processed")
    request.act(request.accept, by=people["staff"])
    row = Notification.objects.get(recipient=people["uploader"], event="accepted")
    send_notification.call(row.pk)
    send_notification.call(row.pk)
    assert [e.rcpt_tos for e in smtp.envelopes].count(["uploader@lumen.example"]) == 1


def test_an_email_another_worker_is_sending_is_left_to_it(people, make_request, smtp):
    request = make_request(status="processed")
    request.act(request.accept, by=people["staff"])
    row = Notification.objects.get(recipient=people["uploader"], event="accepted")
    assert sending._claim(Notification.objects.filter(pk=row.pk), timezone.now()) is not None
    assert sending.send_notification(row.pk) is None
    assert smtp.envelopes == []


def test_a_failed_send_is_retried_later_with_a_longer_wait_then_given_up(
    people, make_request, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    request = make_request(status="processed")
    request.act(request.accept, by=people["staff"])
    row = Notification.objects.get(recipient=people["uploader"], event="accepted")

    before = timezone.now()
    assert send_notification.call(row.pk).startswith("retry at")
    retry = DBTaskResult.objects.get(task_path=send_notification.module_path)
    assert retry.run_after >= before + datetime.timedelta(seconds=30)
    row.refresh_from_db()
    assert row.attempts == 1 and row.sent_at is None and row.last_error
    assert "retrying" in caplog.text

    waits = [sending.retry_delay(n).total_seconds() for n in range(1, 6)]
    assert waits == sorted(waits) and waits[0] == 30
    for _ in range(sending.MAX_ATTEMPTS - 1):
        sending.send_notification(row.pk)
    row.refresh_from_db()
    assert row.given_up_at is not None and row.attempts == sending.MAX_ATTEMPTS
    assert "Gave up" in caplog.text


def test_the_unsubscribe_link_asks_then_turns_its_event_off_without_signing_in(
    people, make_request
):
    from django.test import Client

    anonymous = Client(enforce_csrf_checks=True)
    token = unsubscribe.token_for(people["admin"].pk, Event.COMMENT)
    url = reverse("unsubscribe", args=[token])
    page = anonymous.get(url)
    # In the recipient's language (Ana reads Spanish), though nobody is signed in.
    assert page.status_code == 200 and "Nuevo comentario" in page.content.decode()
    theirs = anonymous.get(
        reverse("unsubscribe", args=[unsubscribe.token_for(people["uploader"].pk, Event.COMMENT)])
    )
    assert "New comment" in theirs.content.decode()
    assert NotificationSetting.choices_of(people["admin"])["comment"] == "immediately"

    # A mail client's one-click button: a POST with no session and no CSRF token.
    done = anonymous.post(url, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert NotificationSetting.choices_of(people["admin"])["comment"] == "off"
    assert NotificationSetting.choices_of(people["uploader"])["comment"] == "immediately"

    request = make_request(status="open")
    Comment.post(request, people["staff"], "Anyone?")
    told = Notification.objects.filter(event="comment").values_list("recipient", flat=True)
    assert list(told) == [people["uploader"].pk]


def test_the_digests_link_turns_off_every_event_sent_by_digest(client, people):
    token = unsubscribe.token_for(people["admin"].pk, unsubscribe.DIGEST)
    client.post(reverse("unsubscribe", args=[token]))
    choices = NotificationSetting.choices_of(people["admin"])
    assert choices["processed"] == "off"
    assert choices["submitted"] == "digest"  # a studio contact's event: not theirs to stop
    assert choices["redelivery"] == choices["accepted"] == choices["comment"] == "immediately"


def test_a_forged_or_another_persons_token_is_refused_and_changes_nothing(client, people):
    mine = unsubscribe.token_for(people["uploader"].pk, Event.COMMENT)
    theirs = unsubscribe.token_for(people["admin"].pk, Event.COMMENT)
    # The admin's payload under the uploader's signature; a signature of another salt.
    spliced = theirs.split(":")[0] + ":" + mine.split(":")[1]
    other_salt = signing.Signer(salt="another").sign_object(
        {"u": people["admin"].pk, "e": "comment"}
    )
    for token in (spliced, other_salt, mine[:-2], "not-a-token"):
        response = client.post(reverse("unsubscribe", args=[token]))
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert not NotificationSetting.objects.exists()


def test_the_settings_page_saves_each_events_choice(client, people):
    client.force_login(people["uploader"])
    page = client.get(reverse("notification-settings")).content.decode()
    assert "uploader@lumen.example" in page
    assert 'name="submitted"' not in page  # a studio contact's event
    response = client.post(
        reverse("notification-settings"),
        {"redelivery": "immediately", "processed": "off", "accepted": "digest", "comment": "off"},
    )
    assert response.status_code == 302
    choices = NotificationSetting.choices_of(people["uploader"])
    assert (choices["processed"], choices["accepted"], choices["comment"]) == (
        "off",
        "digest",
        "off",
    )


def test_the_settings_page_refuses_an_unknown_choice_and_keeps_the_old_ones(client, people):
    client.force_login(people["uploader"])
    response = client.post(
        reverse("notification-settings"),
        {"redelivery": "hourly", "processed": "off", "accepted": "off", "comment": "off"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationSetting.objects.exists()


def test_a_studio_contact_chooses_among_their_own_events(client, people):
    client.force_login(people["staff"])
    page = client.get(reverse("notification-settings")).content.decode()
    assert 'name="submitted"' in page and 'name="comment"' in page
    assert 'name="accepted"' not in page


def test_the_header_links_to_the_email_settings(client, people):
    client.force_login(people["reviewer"])
    page = client.get(reverse("request-list")).content.decode()
    assert f'href="{reverse("notification-settings")}"' in page


def test_the_studio_admin_lists_each_email_with_its_last_error(client, people, make_request):
    request = make_request(status="processed")
    request.act(request.accept, by=people["staff"])
    Notification.objects.filter(recipient=people["uploader"], event="accepted").update(
        attempts=2, last_error="421 Service not available"
    )
    client.force_login(people["staff"])
    page = client.get(reverse("admin:deliveries_notification_changelist")).content.decode()
    assert "partner-uploader" in page and "partner-admin" in page
    row = Notification.objects.get(recipient=people["uploader"], event="accepted")
    detail = client.get(reverse("admin:deliveries_notification_change", args=[row.pk]))
    assert "421 Service not available" in detail.content.decode()
