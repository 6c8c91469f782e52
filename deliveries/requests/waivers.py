"""Waivers: a studio contact lets a waivable finding of a file stand, with a reason.

A waiver is a row (deliveries/files/waivers.py: who, when, why, file, code; one per
file and code) and a mark on the findings it covers, ``"waiver": <its id>`` in the
file's ``errors``: the rows of the Details Page and its filter then read the file's
effective worst severity without a query per row, and a new processing run of the
file, which stores its findings anew, leaves no mark behind on findings nobody has
weighed yet (the earlier waiver's row then gives way to the next waiver of its code).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..files.models import SEVERITY_ORDER, DeliveredFile, ProcessingStatus, Severity
from ..files.waivers import Waiver
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


def is_waived(finding: dict[str, Any]) -> bool:
    return "waiver" in finding


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


def waive(request: DeliveryRequest, file_id: int, code: str, *, by: User, reason: str) -> Waiver:
    """Waive the findings of `code` on one file of `request`, for `reason`, and record
    it: the file's worst severity, the request's counters and its history follow.

    Raises ActionRefused with what to do, changing nothing."""
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Give the reason for the waiver."), field="reason")
    refusal = why_not_waivable(code)
    if refusal:
        raise ActionRefused(refusal)
    with transaction.atomic():
        delivered = _locked_file(request, file_id, why_no_waiver)
        findings = [f for f in delivered.errors if f.get("code") == code]
        if not findings:
            raise ActionRefused(
                _("“%(name)s” has no %(code)s finding to waive.")
                % {"name": delivered.name, "code": code}
            )
        if all(is_waived(f) for f in findings):
            raise ActionRefused(_already_waived(delivered, code))
        # A waiver left from an earlier processing run of the file (its findings were
        # stored anew since, without marks) gives way to this one.
        Waiver.objects.filter(file=delivered, code=code).delete()
        try:
            with transaction.atomic():
                waiver = Waiver.objects.create(
                    file=delivered, code=code, reason=reason, waived_by=by
                )
        except IntegrityError:
            raise ActionRefused(_already_waived(delivered, code)) from None
        # With its last blocker waived, the file passes.
        _weighed(
            request,
            delivered,
            marked(delivered.errors, {code: waiver.pk}),
            HistoryEntry.Action.WAIVED,
            by=by,
            code=code,
            reason=reason,
        )
    return waiver


def _locked_file(
    request: DeliveryRequest, file_id: int, why_not: Callable[[DeliveryRequest], str]
) -> DeliveredFile:
    """The request's row locked first, as by every action on it (a waiver and an accept,
    or two waivers, at once are serialized, the second seeing the first's result), then
    the file's; refused as `why_not` says, or when the file is gone."""
    current = DeliveryRequest.objects.select_for_update().get(pk=request.pk)
    request.take_state_of(current)
    refusal = why_not(request)
    if refusal:
        raise ActionRefused(refusal)
    delivered = request.files.select_for_update().filter(pk=file_id).first()
    if delivered is None:
        raise ActionRefused(_("This file is no longer part of the request."))
    return delivered


def _weighed(
    request: DeliveryRequest,
    delivered: DeliveredFile,
    errors: list[dict[str, Any]],
    action: str,
    *,
    by: User,
    code: str,
    reason: str,
) -> None:
    """The file's findings with a waiver's mark put on or taken off: its worst severity
    and verdict, the request's counters and its history follow."""
    was = effective_worst(delivered.errors)
    now = effective_worst(errors)
    DeliveredFile.objects.filter(pk=delivered.pk).update(
        errors=errors, worst_severity=now, processing_status=status_for(now)
    )
    counters.waived(request, was=was, now=now)
    HistoryEntry.objects.create(
        request=request,
        actor=by,
        action=action,
        before=code,
        after=delivered.name,
        details={"code": code, "file": delivered.name, "reason": reason},
    )


def withdraw_waiver(
    request: DeliveryRequest, file_id: int, code: str, *, by: User, reason: str
) -> None:
    """Withdraw the waiver of `code` on one file of `request` (given by mistake, say),
    for `reason`, and record it: the findings count again, and the file's worst
    severity, the request's counters and its history follow, as they did for the waiver.

    Raises ActionRefused with what to do, changing nothing."""
    reason = reason.strip()
    if not reason:
        raise ActionRefused(_("Give the reason for withdrawing the waiver."), field="reason")
    with transaction.atomic():
        delivered = _locked_file(request, file_id, why_no_withdrawal)
        if not any(is_waived(f) and f.get("code") == code for f in delivered.errors):
            raise ActionRefused(
                _("%(code)s on “%(name)s” is not waived.") % {"code": code, "name": delivered.name}
            )
        Waiver.objects.filter(file=delivered, code=code).delete()
        unmarked = [
            {key: value for key, value in finding.items() if key != "waiver"}
            if finding.get("code") == code
            else finding
            for finding in delivered.errors
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


def _already_waived(delivered: DeliveredFile, code: str) -> str:
    earlier = Waiver.objects.filter(file=delivered, code=code).select_related("waived_by").first()
    if earlier is None:
        return _("%(code)s on “%(name)s” is already waived.") % {
            "code": code,
            "name": delivered.name,
        }
    return _("%(code)s on “%(name)s” is already waived. %(waiver)s") % {
        "code": code,
        "name": delivered.name,
        "waiver": earlier.sentence(),
    }


def waivers_of(delivered: DeliveredFile) -> dict[str, Waiver]:
    """The waivers marked on a file's findings, by code (the side panel's one query)."""
    marked = {f["waiver"] for f in delivered.errors or [] if is_waived(f)}
    if not marked:
        return {}
    return {w.code: w for w in Waiver.objects.filter(pk__in=marked).select_related("waived_by")}
