"""Titles, requests and their state machine, redelivery reasons and records.

The lifecycle of PRODUCT.md is written here once: each row of its table is one
``@transition`` with its permission and conditions, followed by the refusal a partner
reads when it can't run (``why_not_<transition>``). :meth:`DeliveryRequest.act` is the
one way to run any of them: it locks the row, refuses a stale choice, checks the
rules and records the change. Operations on files are in ``file_changes``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import (
    ConcurrentTransition,
    ConcurrentTransitionMixin,
    FSMField,
    can_proceed,
    has_transition_perm,
    transition,
)

from ..files.models import UNPROCESSED, DeliveredFile, ProcessingStatus, Severity
from ..files.waivers import carry_waivers, is_waived
from ..numbers import grouped
from ..partners.access import capabilities
from ..partners.models import Organization
from ..partners.roles import Can
from ..people.models import Comment
from . import counters, removal
from .contact import StudioContact
from .errors import ActionRefused
from .file_changes import FILE_CHANGES_ALLOWED, FileChanges
from .history import HistoryEntry
from .reasons import RedeliveryReason
from .redeliveries import Redelivery
from .specs import DeliverySpec
from .states import AssetType, Status
from .titles import Title

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..partners.roles import AnyUser

__all__ = [
    "ActionRefused",
    "AssetType",
    "FILE_CHANGES_ALLOWED",
    "Redelivery",
    "RedeliveryReason",
    "Status",
    "Title",
]


# django-fsm types a transition's conditions and permission as taking any Model (and a
# user with permissions): ours take the DeliveryRequest they guard, which its types
# can't say. Hence the `ignore[list-item]` and `ignore[arg-type]` on the transitions.


def _may(capability: Can) -> Callable[[DeliveryRequest, AnyUser | None], bool]:
    """A transition permission read from the role table (deliveries/partners/roles.py),
    so that the page's controls and the state machine never disagree. The system
    (user None: the worker, automatic submission) may run any transition it reaches."""

    def check(instance: DeliveryRequest, user: AnyUser | None) -> bool:
        return user is None or capability in capabilities(user, instance.organization_id)

    return check


def _is_system(instance: DeliveryRequest, user: AnyUser | None) -> bool:
    return user is None


class DeliveryRequest(FileChanges, ConcurrentTransitionMixin, StudioContact, models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=gettext_lazy("partner"),
    )
    title = models.ForeignKey(
        Title, on_delete=models.PROTECT, related_name="requests", verbose_name=gettext_lazy("title")
    )
    name = models.CharField(gettext_lazy("request name"), max_length=200)
    asset_type = models.CharField(
        gettext_lazy("asset type"), max_length=30, choices=AssetType.choices
    )
    language = models.CharField(
        gettext_lazy("language"),
        max_length=35,
        blank=True,
        help_text=gettext_lazy("BCP 47, e.g. es-419"),
    )
    due_date = models.DateField(gettext_lazy("due date"))
    status = FSMField(
        gettext_lazy("status"), default=Status.OPEN, choices=Status.choices, protected=True
    )
    auto_submit = models.BooleanField(
        gettext_lazy("submits automatically"),
        default=False,
        help_text=gettext_lazy("Submit by itself when a delivery completes."),
    )
    checksum_manifest = models.ForeignKey(
        DeliveredFile,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("checksum manifest"),
        help_text=gettext_lazy("Set when a checksum.txt or MHL file is delivered."),
    )
    spec = models.ForeignKey(
        DeliverySpec, models.PROTECT, null=True, blank=True, verbose_name=gettext_lazy("spec")
    )
    spec_overrides = models.JSONField(gettext_lazy("spec overrides"), default=dict, blank=True)
    # The counters of deliveries/requests/counters.py, which alone changes them.
    # files_failed: files with a blocker; files_with_issues/_fyi: by worst severity.
    file_count = models.PositiveIntegerField(gettext_lazy("files"), default=0, editable=False)
    files_removed_through = models.BigIntegerField(default=0, editable=False)
    files_to_purge = models.PositiveIntegerField(default=0, editable=False)
    files_processed = models.PositiveIntegerField(default=0, editable=False)
    files_failed = models.PositiveIntegerField(default=0, editable=False)
    files_with_issues = models.PositiveIntegerField(default=0, editable=False)
    files_with_fyi = models.PositiveIntegerField(default=0, editable=False)
    # Findings about the delivery as a whole (an image sequence's gaps), set when
    # processing finishes.
    delivery_findings = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)

    class Meta:
        app_label = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        verbose_name = gettext_lazy("request")
        verbose_name_plural = gettext_lazy("requests")

    def __str__(self) -> str:
        return f"{self.title} · {self.name}"

    def get_absolute_url(self) -> str:
        # The admin's "View on site": studio contacts open any Details Page.
        return reverse("request-detail", args=[self.pk])

    # Conditions ---------------------------------------------------------------------

    @cached_property
    def effective_spec(self) -> DeliverySpec | None:
        """The request's template with its overrides, what its files are checked against
        (once per request: the worker asks it for each of 250,000 frames)."""
        if self.spec is None:
            return None
        return self.spec.with_overrides(self.spec_overrides or {})

    def has_delivered_files(self) -> bool:
        # The edge as a constant, not the visible manager's join: after "remove all"
        # the planners can then answer from the id index instead of walking up to
        # 250,000 hidden rows (PostgreSQL took 36 ms).
        return DeliveredFile._base_manager.filter(
            request_id=self.pk, pk__gt=self.files_removed_through
        ).exists()

    def no_upload_receiving(self) -> bool:
        # Submitting would refuse the last bytes of a file still arriving.
        return not self.uploads.receiving().exists()

    def all_files_processed(self) -> bool:
        return not self.files.filter(processing_status__in=UNPROCESSED).exists()

    # The lifecycle: one transition per row of PRODUCT.md's table ---------------------

    # Open / Redelivery → Submitted: a partner's Admin or Uploader, or the system when
    # a delivery completes and the request submits automatically.
    @transition(
        field=status,
        source=[Status.OPEN, Status.REDELIVERY],
        target=Status.SUBMITTED,
        conditions=[has_delivered_files, no_upload_receiving],  # type: ignore[list-item]
        permission=_may(Can.DELIVER),  # type: ignore[arg-type]
        custom={"admin": False, "label": gettext_lazy("Submit")},
    )
    def submit(self, by: User | None = None) -> dict[str, Any]:
        # Files already processed keep their results; processing starts after commit
        # (deliveries/tasks.py listens for the transition).
        done = self.files.filter(
            processing_status__in=[ProcessingStatus.PASSED, ProcessingStatus.FAILED]
        ).aggregate(
            processed=models.Count("pk"),
            failed=models.Count("pk", filter=models.Q(processing_status=ProcessingStatus.FAILED)),
            issues=models.Count("pk", filter=models.Q(worst_severity=Severity.ISSUE)),
            fyi=models.Count("pk", filter=models.Q(worst_severity=Severity.FYI)),
        )
        counters.processing_started(self, **done)
        return {}

    def why_not_submit(self) -> str:
        if self.status in FILE_CHANGES_ALLOWED:
            if not self.has_delivered_files():
                return _("Deliver at least one file before you submit this request.")
            receiving = list(self.uploads.receiving().values_list("name", flat=True)[:4])
            if receiving:
                return ngettext(
                    "“%(names)s” is still being uploaded to this request. Submit once it "
                    "has arrived, or cancel its upload first.",
                    "Files are still being uploaded to this request (%(names)s). Submit "
                    "once they have arrived, or cancel their uploads first.",
                    len(receiving),
                ) % {"names": ", ".join(receiving[:3]) + ("…" if len(receiving) > 3 else "")}
            return ""
        return {
            Status.SUBMITTED: _("This request is already Submitted; its files are processing."),
            Status.PROCESSED: _(
                "This request is Processed. Ask for redelivery to deliver it again."
            ),
            Status.ACCEPTED: self.accepted_refusal("submit"),
        }[Status(self.status)]

    # Submitted → Processed: the system, once every file is processed.
    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.PROCESSED,
        conditions=[all_files_processed],  # type: ignore[list-item]
        permission=_is_system,  # type: ignore[arg-type]
        custom={"admin": False, "label": gettext_lazy("Finish processing")},
    )
    def finish_processing(
        self, by: User | None = None, findings: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        # Processed again, the delivery keeps the waivers of findings that read the same.
        self.delivery_findings = carry_waivers(self.delivery_findings, findings or [], self.pk)
        type(self).objects.filter(pk=self.pk).update(delivery_findings=self.delivery_findings)
        return {}

    @property
    def delivery_blockers(self) -> int:
        """The blockers about the delivery as a whole that nobody waived."""
        return sum(
            f.get("severity") == Severity.BLOCKER and not is_waived(f)
            for f in self.delivery_findings
        )

    def why_not_finish_processing(self) -> str:
        return _(
            "Processing can finish only for a Submitted request whose files are all processed."
        )

    # Processed → Accepted: a studio contact.
    @transition(
        field=status,
        source=Status.PROCESSED,
        target=Status.ACCEPTED,
        permission=_may(Can.ACCEPT),  # type: ignore[arg-type]
        custom={
            "label": gettext_lazy("Accept"),
            "help_text": gettext_lazy("The delivery is complete: the partner is done."),
            "form": "deliveries.requests.forms.AdminAcceptForm",
        },
    )
    def accept(self, by: User | None = None, reason: str = "") -> dict[str, Any]:
        # Blockers nobody waived may be accepted, but never silently: on any path.
        needed = self.why_accept_needs_reason()
        if not needed:
            return {}
        if not reason.strip():
            raise ActionRefused(needed, field="reason")
        return {
            "blocker_files": self.files_failed,
            "delivery_blockers": self.delivery_blockers,
            "reason": reason.strip(),
        }

    def why_accept_needs_reason(self) -> str:
        """'' when nothing unwaived blocks the request (waived findings no longer count:
        counters.waived), else what accepting needs."""
        if self.files_failed:
            return ngettext(
                "%(count)s file still has blockers nobody waived. Waive them, or give the "
                "reason to accept the request anyway.",
                "%(count)s files still have blockers nobody waived. Waive them, or give the "
                "reason to accept the request anyway.",
                self.files_failed,
            ) % {"count": grouped(self.files_failed)}
        if self.delivery_blockers:
            return _(
                "The delivery as a whole has blockers. Give the reason to accept the request "
                "anyway."
            )
        return ""

    def why_not_accept(self) -> str:
        return _("Only a Processed request can be accepted; this one is %(status)s.") % {
            "status": self.get_status_display()
        }

    # Processed → Redelivery: a partner's Admin, or a studio contact.
    @transition(
        field=status,
        source=Status.PROCESSED,
        target=Status.REDELIVERY,
        permission=_may(Can.REDELIVER),  # type: ignore[arg-type]
        custom={
            "label": gettext_lazy("Ask for redelivery"),
            "help_text": gettext_lazy(
                "The partner delivers again; they see the reasons on the Details Page."
            ),
            "form": "deliveries.requests.forms.AdminRedeliveryForm",
        },
    )
    def ask_for_redelivery(
        self,
        by: User | None = None,
        reasons: Iterable[RedeliveryReason] = (),
        clear_files: bool = False,
        note: str = "",
    ) -> dict[str, Any]:
        return self._record_redelivery(reasons, clear_files, by, note)

    def why_not_ask_for_redelivery(self) -> str:
        if self.status == Status.ACCEPTED:
            return self.accepted_refusal("redeliver")
        if self.status == Status.SUBMITTED:
            return _(
                "This request is still processing. You can ask for redelivery once it is Processed."
            )
        return _(
            "This request is already open for delivery (%(status)s): deliver or remove "
            "files, then submit."
        ) % {"status": self.get_status_display()}

    # Accepted → Redelivery: a studio contact only.
    @transition(
        field=status,
        source=Status.ACCEPTED,
        target=Status.REDELIVERY,
        permission=_may(Can.REOPEN),  # type: ignore[arg-type]
        custom={
            "label": gettext_lazy("Reopen for redelivery"),
            "help_text": gettext_lazy(
                "An accepted request opens again for the partner to deliver; they see "
                "the reasons on the Details Page."
            ),
            "form": "deliveries.requests.forms.AdminRedeliveryForm",
        },
    )
    def reopen(
        self,
        by: User | None = None,
        reasons: Iterable[RedeliveryReason] = (),
        clear_files: bool = False,
        note: str = "",
    ) -> dict[str, Any]:
        return self._record_redelivery(reasons, clear_files, by, note)

    def why_not_reopen(self) -> str:
        return _("Only an Accepted request can be reopened; this one is %(status)s.") % {
            "status": self.get_status_display()
        }

    def redelivery_transition(self, user: AnyUser | None) -> Callable[..., dict[str, Any]]:
        """How `user` asks for redelivery here: an Accepted request is reopened by who
        may reopen it; anything else is asked for (and refused where it can't be)."""
        if self.status == Status.ACCEPTED and _may(Can.REOPEN)(self, user):
            return self.reopen
        return self.ask_for_redelivery

    def why_no_redelivery_for(self, user: AnyUser | None) -> str:
        """'' when `user` may ask for redelivery now, else why not."""
        chosen = self.redelivery_transition(user)
        return "" if can_proceed(chosen) else self.refusal(chosen)

    def _record_redelivery(
        self,
        reasons: Iterable[RedeliveryReason],
        clear_files: bool,
        by: User | None,
        note: str,
    ) -> dict[str, Any]:
        reasons = list(reasons)
        if not reasons:
            raise ActionRefused(_("Choose at least one reason for redelivery."), field="reasons")
        # The manifest goes with the files: the request loses its checksum lock.
        cleared = removal.remove_all_files(self) if clear_files else 0
        record = Redelivery.objects.create(
            request=self,
            cleared_files=clear_files,
            cleared_count=cleared,
            asked_by=by,
            note=note,
        )
        record.reasons.set(reasons)
        if note.strip():
            # The note is the first word of a conversation: it opens the thread.
            Comment.post(self, by, note, redelivery=record)
        return {
            "reasons": [r.code for r in reasons],
            "cleared_files": clear_files,
            "cleared_count": cleared,
            "redelivery_id": record.pk,
        }

    # The one way to run a transition -----------------------------------------------

    def refusal(self, transition_method: Callable[..., Any]) -> str:
        """Why this transition can't run now, in words a partner can act on."""
        why: Callable[[], str] = getattr(self, f"why_not_{transition_method.__name__}")
        return why()

    def act(
        self,
        transition_method: Callable[..., dict[str, Any]],
        *,
        by: User | None,
        seen_status: str | None = None,
        **kwargs: Any,
    ) -> HistoryEntry:
        """Run one of this request's transitions (``request.act(request.submit, …)``)
        for `by` (None: the system) and record it.

        `seen_status`: the status the person saw when they chose the action (their
        page's form sends it). When the request has moved on since, they are told so
        instead of acting on a state they never saw.

        Raises ActionRefused with a message a partner can act on, changing nothing.
        """
        with transaction.atomic():
            # Lock the row so that two people acting at once are serialized: the second
            # sees the first one's result instead of overwriting it.
            current = DeliveryRequest.objects.select_for_update().get(pk=self.pk)
            stale = current.status != self.status or seen_status not in (None, current.status)
            self.take_state_of(current)
            if stale:
                raise ActionRefused(self.changed_meanwhile())
            if not can_proceed(transition_method):
                raise ActionRefused(self.refusal(transition_method))
            if by is not None and not has_transition_perm(transition_method, by):
                raise ActionRefused(_("Your role does not allow this action."))
            before = self.status
            details = transition_method(by=by, **kwargs)
            try:
                self.save(update_fields=["status", "updated_at"])
            except ConcurrentTransition:
                raise ActionRefused(self.changed_meanwhile()) from None
            return HistoryEntry.objects.create(
                request=self,
                actor=by,
                action=HistoryEntry.Action.STATUS_CHANGED,
                before=before,
                after=self.status,
                details=details,
            )

    def take_state_of(self, current: DeliveryRequest) -> None:
        """Copy the state of a fresh read of this row (locked by the caller). The status
        field refuses assignment: it is set the way Django itself loads it, on this
        instance only (django-fsm's refresh_from_db would flip a flag every thread
        shares)."""
        self.__dict__["status"] = current.status
        for name in (
            "checksum_manifest_id",
            "file_count",
            "files_removed_through",
            "files_to_purge",
            "files_processed",
            "files_failed",
            "files_with_issues",
            "files_with_fyi",
            "delivery_findings",
            "updated_at",
        ):
            setattr(self, name, getattr(current, name))
        self._update_initial_state()

    def changed_meanwhile(self) -> str:
        return _(
            "Someone else changed this request while you were working: it is now "
            "%(status)s. Review it and try again if still needed."
        ) % {"status": self.get_status_display()}

    def complete_delivery(self) -> HistoryEntry | None:
        """A batch of uploads finished. A request that submits automatically is now
        submitted by the system; any other stays open for the partner's Submit.

        Not while other uploads to it are still under way: submitting would refuse
        their last bytes. The batch that finishes last submits.
        """
        if not self.auto_submit or self.status not in FILE_CHANGES_ALLOWED:
            return None
        if self.uploads.receiving().exists():
            return None
        return self.act(self.submit, by=None)
