"""Waivers: a studio contact lets a waivable finding stand, with a reason: a finding of
one file, or one about the delivery as a whole (an image sequence's frame count), which
belongs to no file.

A waiver is a row (deliveries/files/waivers.py: who, when, why, file or request, code;
one per file and code, or per request and code) and a mark on the findings it covers,
``"waiver": <its id>``, in the file's ``errors`` or the request's
``delivery_findings``: the rows of the Details Page and its filter then read the file's
effective worst severity without a query per row, and the verdict reads the delivery's
blockers nobody waived from the request's row. Processed again, the files and the
delivery keep the waivers of the findings they still have (processing/runner.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..files.models import SEVERITY_ORDER, DeliveredFile, ProcessingStatus, Severity
from ..files.waivers import Waiver, is_waived
from ..processing.codes import CODES, stored_severity
from . import counters
from .errors import ActionRefused
from .history import HistoryEntry
from .models import DeliveryRequest
from .states import Status

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Where a waiver can be given: where accepting is possible.
WAIVABLE_IN = (Status.PROCESSED,)


def unwaived(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings that still count."""
    return [finding for finding in findings if not is_waived(finding)]


def marked(findings: list[dict[str, Any]], waivers: dict[str, int]) -> list[dict[str, Any]]:
    """The findings with the mark of the waiver of their code ({code: waiver id})."""
    return [
        {**finding, "waiver": waivers[finding["code"]]}
        if finding.get("code") in waivers
        else finding
        for finding in findings
    ]


def status_for(worst: str) -> str:
    """A file fails on a blocker nobody waived."""
    return ProcessingStatus.FAILED if worst == Severity.BLOCKER else ProcessingStatus.PASSED


def effective_worst(findings: Iterable[dict[str, Any]]) -> str:
    """The worst severity among the findings nobody waived, '' without any."""
    return min(
        (stored_severity(finding) for finding in unwaived(findings)),
        key=SEVERITY_ORDER.__getitem__,
        default="",
    )


def why_no_waiver(request: DeliveryRequest) -> str:
    """'' when the request's findings can be waived now, else why not."""
    if request.status in WAIVABLE_IN:
        return ""
    if request.status == Status.ACCEPTED:
        return _(
            "This request is Accepted: its findings were weighed when it was accepted. "
            "Findings can be waived only while a request is Processed."
        )
    return _(
        "Findings can be waived only while a request is Processed, before it is accepted; "
        "this one is %(status)s."
    ) % {"status": request.get_status_display()}


def why_not_waivable(code: str) -> str:
    """'' when a studio contact may waive findings of `code`, else why not."""
    entry = CODES.get(code)
    if entry is None:
        return _("“%(code)s” is not a code processing writes.") % {"code": code}
    if not entry.waivable:
        return _(
            "%(code)s cannot be waived: the file must be delivered again. Ask for "
            "redelivery instead."
        ) % {"code": code}
    return ""


def waive(
    request: DeliveryRequest, file_id: int | None, code: str, *, by: User, reason: str
) -> Waiver:
    """Waive the findings of `code` on one file of `request` (`file_id`), or on the
    delivery as a whole (`file_id` None), for `reason`, and record it: the file's worst
    severity, the request's counters or its delivery blockers, and its history follow.

    Raises ActionRefused with what to do, changing nothing."""
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Give the reason for the waiver."), field="reason")
    refusal = why_not_waivable(code)
    if refusal:
        raise ActionRefused(refusal)
    with transaction.atomic():
        delivered = _locked(request, file_id, why_no_waiver)
        errors = _findings_of(request, delivered)
        findings = [f for f in errors if f.get("code") == code]
        if not findings:
            raise ActionRefused(nothing_to_waive(delivered, code))
        if all(is_waived(f) for f in findings):
            raise ActionRefused(_already_waived(request, delivered, code))
        # A waiver left from an earlier processing run (its findings were stored anew
        # since, without marks) gives way to this one.
        _waivers_of(request, delivered).filter(code=code).delete()
        try:
            with transaction.atomic():
                waiver = Waiver.objects.create(
                    file=delivered,
                    request=None if delivered else request,
                    code=code,
                    reason=reason,
                    waived_by=by,
                )
        except IntegrityError:
            raise ActionRefused(_already_waived(request, delivered, code)) from None
        # With its last blocker waived, the file passes.
        _weighed(
            request,
            delivered,
            marked(errors, {code: waiver.pk}),
            HistoryEntry.Action.WAIVED,
            by=by,
            code=code,
            reason=reason,
        )
    return waiver


def _locked(
    request: DeliveryRequest, file_id: int | None, why_not: Callable[[DeliveryRequest], str]
) -> DeliveredFile | None:
    """The request's row locked first, as by every action on it (a waiver and an accept,
    or two waivers, at once are serialized, the second seeing the first's result), then
    the file's (None for the delivery as a whole, whose findings the request's row
    holds); refused as `why_not` says, or when the file is gone."""
    current = DeliveryRequest.objects.select_for_update().get(pk=request.pk)
    request.take_state_of(current)
    refusal = why_not(request)
    if refusal:
        raise ActionRefused(refusal)
    if file_id is None:
        return None
    delivered = request.files.select_for_update().filter(pk=file_id).first()
    if delivered is None:
        raise ActionRefused(_("This file is no longer part of the request."))
    return delivered


def _findings_of(request: DeliveryRequest, delivered: DeliveredFile | None) -> list[dict[str, Any]]:
    return delivered.errors if delivered is not None else request.delivery_findings


def _waivers_of(request: DeliveryRequest, delivered: DeliveredFile | None) -> QuerySet[Waiver]:
    if delivered is not None:
        return Waiver.objects.filter(file=delivered)
    return Waiver.objects.filter(request=request)


def _weighed(
    request: DeliveryRequest,
    delivered: DeliveredFile | None,
    errors: list[dict[str, Any]],
    action: str,
    *,
    by: User,
    code: str,
    reason: str,
) -> None:
    """The findings of a file (or of the delivery as a whole, `delivered` None) with a
    waiver's mark put on or taken off: the file's worst severity and verdict and the
    request's counters, or the request's delivery blockers, and its history follow."""
    if delivered is None:
        request.delivery_findings = errors
        DeliveryRequest.objects.filter(pk=request.pk).update(delivery_findings=errors)
        details = {"code": code, "reason": reason}
    else:
        was = effective_worst(delivered.errors)
        now = effective_worst(errors)
        DeliveredFile.objects.filter(pk=delivered.pk).update(
            errors=errors, worst_severity=now, processing_status=status_for(now)
        )
        counters.waived(request, was=was, now=now)
        details = {"code": code, "file": delivered.name, "reason": reason}
    HistoryEntry.objects.create(
        request=request,
        actor=by,
        action=action,
        before=code,
        after=delivered.name if delivered else "",
        details=details,
    )


def withdraw_waiver(
    request: DeliveryRequest, file_id: int | None, code: str, *, by: User, reason: str
) -> None:
    """Withdraw the waiver of `code` on one file of `request` (or on the delivery as a
    whole, `file_id` None), given by mistake, say, for `reason`, and record it: the
    findings count again, and what followed the waiver follows its withdrawal.

    Raises ActionRefused with what to do, changing nothing."""
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Give the reason for withdrawing the waiver."), field="reason")
    with transaction.atomic():
        delivered = _locked(request, file_id, why_no_withdrawal)
        errors = _findings_of(request, delivered)
        if not any(is_waived(f) and f.get("code") == code for f in errors):
            raise ActionRefused(not_waived(delivered, code))
        _waivers_of(request, delivered).filter(code=code).delete()
        unmarked = [
            {key: value for key, value in finding.items() if key != "waiver"}
            if finding.get("code") == code
            else finding
            for finding in errors
        ]
        _weighed(
            request,
            delivered,
            unmarked,
            HistoryEntry.Action.WAIVER_WITHDRAWN,
            by=by,
            code=code,
            reason=reason,
        )


def nothing_to_waive(delivered: DeliveredFile | None, code: str) -> str:
    if delivered is None:
        return _("The delivery as a whole has no %(code)s finding to waive.") % {"code": code}
    return _("“%(name)s” has no %(code)s finding to waive.") % {
        "name": delivered.name,
        "code": code,
    }


def not_waived(delivered: DeliveredFile | None, code: str) -> str:
    if delivered is None:
        return _("%(code)s on the delivery as a whole is not waived.") % {"code": code}
    return _("%(code)s on “%(name)s” is not waived.") % {"code": code, "name": delivered.name}


def why_no_withdrawal(request: DeliveryRequest) -> str:
    """'' when the request's waivers can be withdrawn now, else why not."""
    if request.status in WAIVABLE_IN:
        return ""
    if request.status == Status.ACCEPTED:
        return _(
            "This request is Accepted: the waivers it was accepted with stand. Waivers can "
            "be withdrawn only while a request is Processed."
        )
    return _(
        "Waivers can be withdrawn only while a request is Processed, before it is "
        "accepted; this one is %(status)s."
    ) % {"status": request.get_status_display()}


def _already_waived(request: DeliveryRequest, delivered: DeliveredFile | None, code: str) -> str:
    if delivered is None:
        said = _("%(code)s on the delivery as a whole is already waived.") % {"code": code}
    else:
        said = _("%(code)s on “%(name)s” is already waived.") % {
            "code": code,
            "name": delivered.name,
        }
    earlier = _waivers_of(request, delivered).filter(code=code).select_related("waived_by").first()
    return f"{said} {earlier.sentence()}" if earlier else said


def waivers_of(findings: Iterable[dict[str, Any]]) -> dict[str, Waiver]:
    """The waivers marked on findings (a file's, or the delivery's), by code: one query,
    none without a mark."""
    marked = {f["waiver"] for f in findings if is_waived(f)}
    if not marked:
        return {}
    return {w.code: w for w in Waiver.objects.filter(pk__in=marked).select_related("waived_by")}
