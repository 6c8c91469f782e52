"""The request's findings in the studio admin, and the waiver of one: a list on the
change page, and a page per finding where a studio contact gives the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..files.models import DeliveredFile, Severity
from ..files.waivers import Waiver
from ..processing.codes import CODES, stored_severity
from ..templatetags.portal import SEVERITY_LABELS, expected_found, finding_message
from .errors import ActionRefused
from .forms import WaiverForm
from .models import DeliveryRequest
from .waivers import (
    is_waived,
    not_waived,
    nothing_to_waive,
    waive,
    why_no_waiver,
    why_no_withdrawal,
    why_not_waivable,
    withdraw_waiver,
)

if TYPE_CHECKING:
    _Base = admin.ModelAdmin[DeliveryRequest]
else:
    _Base = admin.ModelAdmin

# The change page lists the findings of this many files at most, blockers first: a
# 250,000-frame sequence shows the same few codes on every frame.
FILES_LISTED = 100


def _expected_found(finding: dict[str, Any]) -> str:
    return expected_found(finding) or "—"


class FindingsAdminMixin(_Base):
    """Adds the "findings" field to the request's change page and the waiver pages."""

    def waive_url(
        self,
        obj: DeliveryRequest,
        delivered: DeliveredFile | None,
        code: str,
        *,
        withdraw: bool = False,
    ) -> str:
        """The page that waives `code` on a file, or on the delivery as a whole (None)."""
        name = "admin:deliveries_deliveryrequest_" + ("unwaive" if withdraw else "waive")
        if delivered is None:
            return reverse(name + "_whole", kwargs={"object_id": obj.pk, "code": code})
        return reverse(name, kwargs={"object_id": obj.pk, "file_pk": delivered.pk, "code": code})

    @admin.display(description=gettext_lazy("findings"))
    def findings(self, obj: DeliveryRequest) -> str:
        if obj.pk is None:
            return "—"
        listed = obj.files.only("request_id", "name", "errors").order_by("name")
        files = [
            delivered
            for severity in Severity.values
            for delivered in listed.filter(worst_severity=severity)[:FILES_LISTED]
        ][:FILES_LISTED]
        # And the files whose every finding is waived: their waivers stay in view.
        if len(files) < FILES_LISTED:
            files += listed.filter(worst_severity="", waivers__isnull=False).distinct()[
                : FILES_LISTED - len(files)
            ]
        waivers = {
            (w.file_id, w.code): w
            for w in Waiver.objects.filter(Q(file__in=files) | Q(request=obj)).select_related(
                "waived_by"
            )
        }
        refusal = why_no_waiver(obj)
        # Findings about the delivery as a whole (a gap in a sequence, its frame count)
        # come first; they belong to no file.
        rows = [
            (
                _("The delivery as a whole"),
                finding.get("code", ""),
                SEVERITY_LABELS.get(stored_severity(finding), ""),
                _expected_found(finding),
                finding_message(finding),
                self._waiver_cell(obj, None, finding, waivers, refusal),
            )
            for finding in obj.delivery_findings or []
            if "left_off" not in finding
        ]
        for delivered in files:
            for finding in delivered.errors:
                if "left_off" in finding:
                    continue
                code = finding.get("code", "")
                rows.append(
                    (
                        delivered.name,
                        code,
                        SEVERITY_LABELS.get(stored_severity(finding), ""),
                        _expected_found(finding),
                        finding_message(finding),
                        self._waiver_cell(obj, delivered, finding, waivers, refusal),
                    )
                )
        if not rows:
            return _("No findings: nothing in this delivery needs weighing.")
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("File"),
            _("Code"),
            _("Severity"),
            _("Expected / found"),
            _("Finding"),
            _("Waiver"),
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td></tr>",
            rows,
        )
        note = format_html("<p>{}</p>", refusal) if refusal else ""
        return format_html(
            '{}<table class="findings-table" id="findings"><thead>{}</thead><tbody>{}</tbody>'
            "</table>",
            note,
            head,
            body,
        )

    def _waiver_cell(
        self,
        obj: DeliveryRequest,
        delivered: DeliveredFile | None,
        finding: dict[str, Any],
        waivers: dict[tuple[int | None, str], Waiver],
        refusal: str,
    ) -> str:
        code = finding.get("code", "")
        if is_waived(finding):
            waiver = waivers.get((delivered.pk if delivered else None, code))
            sentence = waiver.sentence() if waiver else _("Waived")
            if refusal:
                return sentence
            return format_html(
                '{} <a href="{}" class="unwaive-link">{}</a>',
                sentence,
                self.waive_url(obj, delivered, code, withdraw=True),
                _("Withdraw…"),
            )
        entry = CODES.get(code)
        if entry is None or not entry.waivable:
            if delivered is None:
                return _("Not waivable: accept with a reason, or ask for redelivery")
            return _("Not waivable")
        if refusal:
            return _("Waivable")
        return format_html(
            '<a href="{}" class="waive-link">{}</a>',
            self.waive_url(obj, delivered, code),
            _("Waive…"),
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/waive/<int:file_pk>/<str:code>/",
                self.admin_site.admin_view(self.waive_view),
                name="deliveries_deliveryrequest_waive",
            ),
            path(
                "<path:object_id>/unwaive/<int:file_pk>/<str:code>/",
                self.admin_site.admin_view(self.withdraw_view),
                name="deliveries_deliveryrequest_unwaive",
            ),
            # A finding about the delivery as a whole belongs to no file.
            path(
                "<path:object_id>/waive-whole/<str:code>/",
                self.admin_site.admin_view(self.waive_view),
                name="deliveries_deliveryrequest_waive_whole",
            ),
            path(
                "<path:object_id>/unwaive-whole/<str:code>/",
                self.admin_site.admin_view(self.withdraw_view),
                name="deliveries_deliveryrequest_unwaive_whole",
            ),
            *super().get_urls(),
        ]

    def waive_view(
        self, request: HttpRequest, object_id: str, code: str, file_pk: int | None = None
    ) -> HttpResponse:
        return self._waiver_page(request, object_id, file_pk, code, withdraw=False)

    def withdraw_view(
        self, request: HttpRequest, object_id: str, code: str, file_pk: int | None = None
    ) -> HttpResponse:
        return self._waiver_page(request, object_id, file_pk, code, withdraw=True)

    def _waiver_page(
        self,
        request: HttpRequest,
        object_id: str,
        file_pk: int | None,
        code: str,
        *,
        withdraw: bool,
    ) -> HttpResponse:
        """The page that gives a waiver (or withdraws one) with its reason, for a finding
        of one file or (`file_pk` None) of the delivery as a whole."""
        obj = self.get_object(request, object_id)
        if obj is None:
            # The admin's own answer to a missing object; django-stubs does not list it.
            return self._get_obj_does_not_exist_redirect(  # type: ignore[attr-defined]
                request, self.opts, object_id
            )
        if not self.has_change_permission(request, obj):
            # As the admin's own change view answers such a user.
            raise PermissionDenied
        change_url = reverse("admin:deliveries_deliveryrequest_change", args=[obj.pk])
        whole = file_pk is None
        delivered = obj.files.filter(pk=file_pk).first() if file_pk is not None else None
        errors = obj.delivery_findings if whole else (delivered.errors if delivered else [])
        findings = [f for f in errors if f.get("code") == code]
        form = WaiverForm(request.POST if request.method == "POST" else None, withdraw=withdraw)
        if request.method == "POST" and form.is_valid():
            act = withdraw_waiver if withdraw else waive
            try:
                act(
                    obj,
                    file_pk,
                    code,
                    by=cast(User, request.user),  # the admin lets in signed-in staff only
                    reason=form.cleaned_data["reason"],
                )
            except ActionRefused as refusal:
                if refusal.field == "reason":
                    form.add_error("reason", refusal.message)
                else:
                    self.message_user(request, refusal.message, messages.ERROR)
                    return HttpResponseRedirect(change_url)
            else:
                self.message_user(
                    request, self._done(delivered, code, withdraw=withdraw), messages.SUCCESS
                )
                return HttpResponseRedirect(change_url)
        elif request.method != "POST":
            # Refused before the reason is typed: the same rules waive() and
            # withdraw_waiver() apply.
            why = self._why_not(obj, whole, delivered, findings, code, withdraw=withdraw)
            if why:
                self.message_user(request, why, messages.ERROR)
                return HttpResponseRedirect(change_url)
        holder = Q(request=obj) if whole else Q(file=delivered)
        waiver = (
            Waiver.objects.filter(holder, code=code).select_related("waived_by").first()
            if withdraw and (whole or delivered is not None)
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": (_("Withdraw the waiver of %(code)s") if withdraw else _("Waive %(code)s"))
            % {"code": code},
            "code": code,
            "delivered": delivered,
            "whole": whole,
            "withdraw": withdraw,
            "waiver": waiver,
            "messages_in_words": [finding_message(f) for f in findings],
            "expected_found": [_expected_found(f) for f in findings if f.get("expected")],
            "form": form,
            "change_url": change_url,
        }
        return render(request, "admin/deliveries/deliveryrequest/waive.html", context)

    @staticmethod
    def _why_not(
        obj: DeliveryRequest,
        whole: bool,
        delivered: DeliveredFile | None,
        findings: list[dict[str, Any]],
        code: str,
        *,
        withdraw: bool,
    ) -> str:
        why = why_no_withdrawal(obj) if withdraw else (why_no_waiver(obj) or why_not_waivable(code))
        if why:
            return why
        if not whole and delivered is None:
            return _("This file is no longer part of the request.")
        if withdraw and not any(is_waived(f) for f in findings):
            return not_waived(delivered, code)
        if not withdraw and not findings:
            return nothing_to_waive(delivered, code)
        return ""

    @staticmethod
    def _done(delivered: DeliveredFile | None, code: str, *, withdraw: bool) -> str:
        if delivered is None:
            done = (
                _("Withdrew the waiver of %(code)s on the delivery as a whole.")
                if withdraw
                else _("Waived %(code)s on the delivery as a whole.")
            )
            return done % {"code": code}
        done = (
            _("Withdrew the waiver of %(code)s on “%(name)s”.")
            if withdraw
            else _("Waived %(code)s on “%(name)s”.")
        )
        return done % {"code": code, "name": delivered.name}
