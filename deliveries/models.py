"""The portal's data: partners and their members, titles, requests, delivered files,
redelivery reasons and records, and the history of every change.

Business rules live here as model methods: views fetch, authorize, call one method.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.functions import Now
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django_fsm import (
    ConcurrentTransition,
    ConcurrentTransitionMixin,
    FSMField,
    can_proceed,
    transition,
)

from . import manifests, naming, removal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    AnyUser = AbstractBaseUser | AnonymousUser


class ActionRefused(Exception):
    """An action the rules do not allow now. Its message tells the partner what to do."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Organization(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=200, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = gettext_lazy("partner organization")
        verbose_name_plural = gettext_lazy("partner organizations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", gettext_lazy("Admin")
    UPLOADER = "uploader", gettext_lazy("Uploader")
    REVIEWER = "reviewer", gettext_lazy("Reviewer")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(gettext_lazy("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_role_per_org")
        ]
        verbose_name = gettext_lazy("member")
        verbose_name_plural = gettext_lazy("members")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organization})"


class Title(models.Model):
    name = models.CharField(gettext_lazy("name"), max_length=300)
    season = models.PositiveSmallIntegerField(gettext_lazy("season"), null=True, blank=True)
    episode = models.PositiveSmallIntegerField(gettext_lazy("episode"), null=True, blank=True)

    class Meta:
        ordering = ["name", "season", "episode"]
        verbose_name = gettext_lazy("title")
        verbose_name_plural = gettext_lazy("titles")

    def __str__(self) -> str:
        if self.season is not None and self.episode is not None:
            return f"{self.name} S{self.season:02d}E{self.episode:02d}"
        if self.season is not None:
            return f"{self.name} S{self.season:02d}"
        return self.name


class AssetType(models.TextChoices):
    PRIMARY_VIDEO = "primary_video", gettext_lazy("Primary video")
    AUDIO = "audio", gettext_lazy("Audio")
    TIMED_TEXT = "timed_text", gettext_lazy("Timed text")
    ARTWORK = "artwork", gettext_lazy("Artwork")
    IMAGE_SEQUENCE = "image_sequence", gettext_lazy("Picture-mastering image sequence")


class Status(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    SUBMITTED = "submitted", gettext_lazy("Submitted")
    PROCESSED = "processed", gettext_lazy("Processed")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    REDELIVERY = "redelivery", gettext_lazy("Redelivery")


FILE_CHANGES_ALLOWED = (Status.OPEN, Status.REDELIVERY)
UPLOAD_UNDER_WAY_WINDOW = datetime.timedelta(minutes=10)


def _is_system(user: AnyUser | None) -> bool:
    return user is None


def _may(capability: str):
    """A transition permission read from the role table in deliveries.access, so that
    the page's controls and the state machine can never disagree on who may act."""

    def check(instance: DeliveryRequest, user: AnyUser | None) -> bool:
        from .access import Can, capabilities  # access imports this module

        return _is_system(user) or Can[capability] in capabilities(user, instance)

    return check


_may_deliver = _may("DELIVER")
_may_ask_for_redelivery = _may("REDELIVER")


def _is_studio_contact(instance: DeliveryRequest, user: AnyUser | None) -> bool:
    return _is_system(user) or getattr(user, "is_staff", False)


class DeliveryRequest(ConcurrentTransitionMixin, models.Model):
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
        "DeliveredFile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("checksum manifest"),
        help_text=gettext_lazy("Set when a checksum.txt or MHL file is delivered."),
    )
    # Kept in the same transactions as deliveries and removals: a COUNT(*) over
    # 250,000 rows would cost more than the rest of the Details Page.
    file_count = models.PositiveIntegerField(gettext_lazy("files"), default=0, editable=False)
    # Removing every file hides them at once: files with an id up to this one are gone
    # for everyone, and the worker deletes their rows (see deliveries.removal).
    files_removed_through = models.BigIntegerField(default=0, editable=False)
    files_to_purge = models.PositiveIntegerField(default=0, editable=False)
    # Bumped with every write to what the Details Page lists beside this row (files,
    # history, storage to clean): the page cache's key (deliveries/page_cache.py).
    page_version = models.PositiveBigIntegerField(default=0, editable=False)
    # Progress of the current processing run, kept in step with each stored result
    # (deliveries.processing.runner) so the Submitted banner never counts 250,000 rows.
    files_processed = models.PositiveIntegerField(default=0, editable=False)
    files_failed = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(gettext_lazy("created"), auto_now_add=True)
    updated_at = models.DateTimeField(gettext_lazy("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]
        verbose_name = gettext_lazy("request")
        verbose_name_plural = gettext_lazy("requests")

    def __str__(self) -> str:
        return f"{self.title} · {self.name}"

    def get_absolute_url(self) -> str:
        # The admin's "View on site": studio contacts open any Details Page.
        return reverse("request-detail", args=[self.pk])

    # Who may do what ------------------------------------------------------------

    def role_of(self, user: AnyUser | None) -> str | None:
        """The user's role in this request's organization, or None for outsiders."""
        if user is None or not user.is_authenticated:
            return None
        cache = getattr(user, "_portal_roles", None)
        if cache is None:
            cache = dict(
                Membership.objects.filter(user=user).values_list("organization_id", "role")
            )
            user._portal_roles = cache  # one query per user and request cycle
        return cache.get(self.organization_id)

    # Derived facts ----------------------------------------------------------------

    @property
    def has_checksum(self) -> bool:
        return self.checksum_manifest_id is not None

    @property
    def files_changeable(self) -> bool:
        return self.status in FILE_CHANGES_ALLOWED and not self.has_checksum

    def has_delivered_files(self) -> bool:
        # The edge as a constant, not the visible manager's join: after "remove all"
        # the planners can then answer from the id index instead of walking up to
        # 250,000 hidden rows (PostgreSQL took 36 ms).
        through = (
            DeliveryRequest.objects.filter(pk=self.pk)
            .values_list("files_removed_through", flat=True)
            .first()
        )
        if through is None:
            return False
        return DeliveredFile._base_manager.filter(request_id=self.pk, pk__gt=through).exists()

    def no_upload_receiving(self) -> bool:
        # Submitting would refuse the last bytes of a file still arriving.
        return not self.uploads.receiving().exists()

    def all_files_processed(self) -> bool:
        return not self.files.filter(
            processing_status__in=[ProcessingStatus.PENDING, ProcessingStatus.PROCESSING]
        ).exists()

    def why_files_locked(self, *, may_ask_for_redelivery: bool = True) -> str:
        """Why files can't be delivered, renamed or removed now ('' when they can).
        `may_ask_for_redelivery`: whether the reader may ask for redelivery themselves
        (an Uploader is pointed at who can)."""
        if self.status == Status.ACCEPTED:
            return _(
                "This request is Accepted, so its files can't be changed. "
                "Contact your studio contact to reopen it."
            )
        if self.status == Status.SUBMITTED:
            return _(
                "This request is Submitted and its files are being processed; "
                "they can't be changed until processing ends."
            )
        if self.status == Status.PROCESSED:
            if not may_ask_for_redelivery:
                return _(
                    "This request is Processed, so its files can't be changed. Your "
                    "partner's Admin or your studio contact can ask for redelivery."
                )
            return _(
                "This request is Processed, so its files can't be changed. "
                "Ask for redelivery to deliver again."
            )
        if self.has_checksum and not may_ask_for_redelivery:
            return _(
                "This is a request with a checksum: its manifest pins every file's name and "
                "content, so files can't be renamed or removed one by one, and only files it "
                "lists can still be delivered. To replace them, your partner's Admin can ask "
                "for redelivery with “Clear existing files from this request” once the "
                "request is Processed."
            )
        if self.has_checksum:
            return _(
                "This is a request with a checksum: its manifest pins every file's name and "
                "content, so files can't be renamed or removed one by one, and only files it "
                "lists can still be delivered. To replace them, ask for redelivery with "
                "“Clear existing files from this request” once the request is Processed."
            )
        return ""

    def why_cannot_submit(self) -> str:
        if self.status in (Status.OPEN, Status.REDELIVERY):
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
            Status.ACCEPTED: _(
                "This request is Accepted. Contact your studio contact to reopen it."
            ),
        }[self.status]

    def why_cannot_ask_for_redelivery(self, user: AnyUser | None = None) -> str:
        if self.status == Status.PROCESSED:
            return ""
        if self.status == Status.ACCEPTED:
            if user is not None and getattr(user, "is_staff", False):
                return ""
            return _(
                "This request is Accepted. Contact your studio contact to reopen it for redelivery."
            )
        if self.status == Status.SUBMITTED:
            return _(
                "This request is still processing. You can ask for redelivery once it is Processed."
            )
        return _(
            "This request is already open for delivery (%(status)s): deliver or remove "
            "files, then submit."
        ) % {"status": self.get_status_display()}

    # Transitions: one per row of the lifecycle table. Call them through `act()`,
    # which locks the row, checks who may, saves and records history.

    @transition(
        field=status,
        source=[Status.OPEN, Status.REDELIVERY],
        target=Status.SUBMITTED,
        conditions=[has_delivered_files, no_upload_receiving],
        permission=_may_deliver,
        custom={"admin": False, "label": gettext_lazy("Submit")},
    )
    def submit(self) -> dict[str, Any]:
        from .processing import enqueue

        # After commit: a worker must never see the request before it is Submitted, and
        # a refused or rolled-back submit must enqueue nothing.
        request_id = self.pk
        done = self.files.filter(
            processing_status__in=[ProcessingStatus.PASSED, ProcessingStatus.FAILED]
        ).aggregate(
            processed=models.Count("pk"),
            failed=models.Count("pk", filter=models.Q(processing_status=ProcessingStatus.FAILED)),
        )
        self.files_processed, self.files_failed = done["processed"], done["failed"]
        DeliveryRequest.objects.filter(pk=request_id).update(
            files_processed=self.files_processed, files_failed=self.files_failed
        )
        transaction.on_commit(lambda: enqueue(request_id))
        return {}

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.PROCESSED,
        conditions=[all_files_processed],
        permission=_is_system,
        custom={"admin": False, "label": gettext_lazy("Finish processing")},
    )
    def finish_processing(self) -> dict[str, Any]:
        return {}

    @transition(
        field=status,
        source=Status.PROCESSED,
        target=Status.ACCEPTED,
        permission=_is_studio_contact,
        custom={
            "label": gettext_lazy("Accept"),
            "help_text": gettext_lazy("The delivery is complete: the partner is done."),
        },
    )
    def accept(self) -> dict[str, Any]:
        return {}

    @transition(
        field=status,
        source=Status.PROCESSED,
        target=Status.REDELIVERY,
        permission=_may_ask_for_redelivery,
        custom={
            "label": gettext_lazy("Ask for redelivery"),
            "help_text": gettext_lazy(
                "The partner delivers again; they see the reasons on the Details Page."
            ),
            "form": "deliveries.forms.AdminRedeliveryForm",
        },
    )
    def ask_for_redelivery(
        self,
        reasons: Iterable[RedeliveryReason] = (),
        clear_files: bool = False,
        by: AnyUser | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        return self._record_redelivery(reasons, clear_files, by, note)

    @transition(
        field=status,
        source=Status.ACCEPTED,
        target=Status.REDELIVERY,
        permission=_is_studio_contact,
        custom={
            "label": gettext_lazy("Reopen for redelivery"),
            "help_text": gettext_lazy(
                "An accepted request opens again for the partner to deliver; they see "
                "the reasons on the Details Page."
            ),
            "form": "deliveries.forms.AdminRedeliveryForm",
        },
    )
    def reopen(
        self,
        reasons: Iterable[RedeliveryReason] = (),
        clear_files: bool = False,
        by: AnyUser | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        return self._record_redelivery(reasons, clear_files, by, note)

    def _record_redelivery(
        self,
        reasons: Iterable[RedeliveryReason],
        clear_files: bool,
        by: AnyUser | None,
        note: str,
    ) -> dict[str, Any]:
        reasons = list(reasons)
        if not reasons:
            raise ActionRefused(_("Choose at least one reason for redelivery."), field="reasons")
        cleared = 0
        if clear_files:
            from .removal import remove_all_files

            # The manifest goes with the files: the request loses its checksum lock.
            cleared = remove_all_files(self)
        record = Redelivery.objects.create(
            request=self,
            cleared_files=clear_files,
            cleared_count=cleared,
            asked_by=by,
            note=note,
        )
        record.reasons.set(reasons)
        return {
            "reasons": [r.code for r in reasons],
            "cleared_files": clear_files,
            "cleared_count": cleared,
            "redelivery_id": record.pk,
        }

    REFUSALS = {
        "accept": lambda r: (
            _("Only a Processed request can be accepted; this one is %(status)s.")
            % {"status": r.get_status_display()}
        ),
        "reopen": lambda r: (
            _("Only an Accepted request can be reopened; this one is %(status)s.")
            % {"status": r.get_status_display()}
        ),
        "finish_processing": lambda r: _(
            "Processing can finish only for a Submitted request whose files are all processed."
        ),
        "submit": lambda r: r.why_cannot_submit(),
        "ask_for_redelivery": lambda r: r.why_cannot_ask_for_redelivery(),
    }

    def act(
        self, action: str, *, by: AnyUser | None, seen_status: str | None = None, **kwargs: Any
    ) -> HistoryEntry:
        """Run the transition `action` for `by` (None: the system) and record it.

        `seen_status`: the status the person saw when they chose the action (their
        page's form sends it). When the request has moved on since, they are told so
        instead of acting on a state they never saw.

        Raises ActionRefused with a message a partner can act on, changing nothing.
        """
        if action not in self.REFUSALS:
            raise ValueError(f"unknown action {action!r}")
        method = getattr(self, action)
        with transaction.atomic():
            # Lock the row so that two people acting at once are serialized: the second
            # sees the first one's result instead of overwriting it.
            current = DeliveryRequest.objects.select_for_update().get(pk=self.pk)
            if current.status != self.status or seen_status not in (None, current.status):
                self._reload_status(current)
                raise ActionRefused(self._changed_meanwhile())
            if not can_proceed(method, check_conditions=False):
                raise ActionRefused(self.REFUSALS[action](self))
            transition_meta = method._django_fsm.get_transition(self.status)
            if by is not None and not transition_meta.has_perm(self, by):
                raise ActionRefused(_("Your role does not allow this action."))
            if not can_proceed(method):
                raise ActionRefused(self.REFUSALS[action](self))
            before = self.status
            if action in ("ask_for_redelivery", "reopen"):
                kwargs["by"] = by
            details = method(**kwargs) or {}
            try:
                self.save(update_fields=["status", "updated_at"])
            except ConcurrentTransition:
                raise ActionRefused(self._changed_meanwhile()) from None
            return HistoryEntry.objects.create(
                request=self,
                actor=by,
                action=HistoryEntry.Action.STATUS_CHANGED,
                before=before,
                after=self.status,
                details=details,
            )

    def _reload_status(self, current: DeliveryRequest) -> None:
        # The field is protected against assignment; copy the fresh state the way
        # Django itself loads it.
        self.__dict__["status"] = current.status
        self.checksum_manifest_id = current.checksum_manifest_id
        self.file_count = current.file_count
        self.files_removed_through = current.files_removed_through
        self.files_to_purge = current.files_to_purge
        self._update_initial_state()

    def _changed_meanwhile(self) -> str:
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
        return self.act("submit", by=None)

    # File operations --------------------------------------------------------------

    def _lock_for_file_change(self, *, delivering: bool = False) -> None:
        """Inside a transaction: lock the row and refuse unless files may change.

        A manifest pins existing files, not new ones: delivering stays open in a
        request with a checksum, renaming and removing do not.
        """
        current = DeliveryRequest.objects.select_for_update().get(pk=self.pk)
        self._reload_status(current)
        allowed = self.status in FILE_CHANGES_ALLOWED if delivering else self.files_changeable
        if not allowed:
            raise ActionRefused(self.why_files_locked())

    def rename_file(self, file: DeliveredFile, new_name: str, *, by: AnyUser | None) -> None:
        try:
            naming.check_rename(file.name, new_name)
        except ValidationError as error:
            raise ActionRefused(error.messages[0], field="name") from None
        if new_name == file.name:
            return
        with transaction.atomic():
            self._lock_for_file_change()
            if self.files.filter(name=new_name).exclude(pk=file.pk).exists():
                raise ActionRefused(naming.duplicate_name_error(new_name).messages[0], field="name")
            if self.uploads.under_way().filter(name=new_name).exists():
                # Taking the name would make that upload fail at its last byte.
                raise ActionRefused(
                    _(
                        "“%(name)s” is being uploaded to this request right now. Choose "
                        "another name, or wait for that upload to finish."
                    )
                    % {"name": new_name},
                    field="name",
                )
            removal.free_name(self, new_name)
            old_name = file.name
            updated = self.files.filter(pk=file.pk, name=old_name).update(name=new_name)
            if not updated:
                raise ActionRefused(
                    _("This file was changed or removed by someone else. Reload and try again.")
                )
            file.name = new_name
            HistoryEntry.objects.create(
                request=self,
                actor=by,
                action=HistoryEntry.Action.RENAMED,
                before=old_name,
                after=new_name,
            )

    def remove_files(self, file_ids: Iterable[int] | None, *, by: AnyUser | None) -> int:
        """Remove the given files (None: every file). Returns how many were removed.

        A fixed number of statements whatever the count; stored content is deleted
        by the worker after commit (see deliveries.removal).
        """
        with transaction.atomic():
            self._lock_for_file_change()
            ids = None if file_ids is None else list(file_ids)
            files = self.files.all() if ids is None else self.files.filter(pk__in=ids)
            names = list(files.order_by("name").values_list("name", flat=True)[:51])
            if ids is None:
                count = removal.remove_all_files(self)
            else:
                count = removal.remove_selected_files(self, ids)
            if count == 0:
                raise ActionRefused(
                    _("Nothing was removed: the selected files are no longer in this request.")
                )
            HistoryEntry.objects.create(
                request=self,
                actor=by,
                action=HistoryEntry.Action.REMOVED,
                before=names[0] if count == 1 else "",
                details={"count": count, "names": names[:50], "all": file_ids is None},
            )
            return count

    def add_file(
        self,
        name: str,
        content: Any,
        *,
        by: AnyUser | None,
        md5: str = "",
        xxh64: str = "",
        in_transaction: Callable[[DeliveredFile], None] | None = None,
    ) -> DeliveredFile:
        """Deliver one file; `content` is a django File. Refused outside Open/Redelivery.

        `in_transaction(file)` runs in the transaction that adds the file's row: what
        it writes commits with the delivery or not at all, and if it raises, nothing
        is delivered and the stored bytes are deleted. Call this outside any other
        transaction: one that rolled back after this returned would leave the stored
        bytes behind, and on SQLite it would hold the write lock while they are copied.
        """
        try:
            naming.check_name_shape(name)
        except ValidationError as error:
            raise ActionRefused(error.messages[0], field="name") from None
        delivered = DeliveredFile(
            request=self,
            name=name,
            size=content.size,
            delivered_by=by if by is not None and by.is_authenticated else None,
            md5=md5,
            xxh64=xxh64,
        )
        # Store the bytes before taking the request's lock: a large copy (to object
        # storage, say) must not hold up everyone else's actions on this request.
        delivered.content.save(storage_key(self.pk, name), content, save=False)
        stored_path = delivered.content.name
        try:
            with transaction.atomic():
                self._lock_for_file_change(delivering=True)
                if self.files.filter(name=name).exists():
                    raise ActionRefused(naming.duplicate_name_error(name).messages[0], field="name")
                refusal = self.why_name_not_deliverable(name)
                if refusal:
                    raise ActionRefused(refusal, field="name")
                removal.free_name(self, name)
                delivered.save()
                removal.count_delivered(self)
                HistoryEntry.objects.create(
                    request=self,
                    actor=by,
                    action=HistoryEntry.Action.DELIVERED,
                    after=name,
                    details={"size": delivered.size},
                )
                if manifests.is_manifest_name(name):
                    self._attach_manifest(delivered)
                if in_transaction is not None:
                    in_transaction(delivered)
        except BaseException:
            # Refused or failed: the rows rolled back, so the stored bytes go too.
            default_storage.delete(stored_path)
            raise
        return delivered

    def why_name_not_deliverable(self, name: str) -> str:
        """In a request with a checksum, the manifest decides which files may still
        arrive (those it lists: a batch's files may land after its manifest); '' when
        `name` may be delivered."""
        if self.checksum_manifest_id is None:
            return ""
        manifest = self.checksum_manifest.name
        if manifests.is_manifest_name(name):
            # A second manifest would silently unpin what the first pins.
            return _(
                "This request already has its checksum manifest, “%(manifest)s”, and a "
                "request has only one. To replace it, ask for a redelivery that clears "
                "all files once the request is Processed."
            ) % {"manifest": manifest}
        listed = ManifestEntry.objects.filter(manifest_id=self.checksum_manifest_id, file_name=name)
        if not listed.exists():
            return _(
                "%(manifest)s does not list “%(name)s”, and a request with a checksum "
                "takes only the files its manifest lists. Check the file's name against "
                "the manifest."
            ) % {"manifest": manifest, "name": name}
        return ""

    def _attach_manifest(self, manifest: DeliveredFile) -> None:
        """A delivered checksum.txt or MHL makes this a request with a checksum."""
        try:
            with manifest.content.open("rb") as handle:
                entries = manifests.parse(manifest.name, handle)
        except manifests.ManifestError as error:
            raise ActionRefused(str(error), field="name") from None
        ManifestEntry.objects.bulk_create(
            [
                ManifestEntry(
                    manifest=manifest, file_name=name, algorithm=algorithm, expected_hash=digest
                )
                for name, algorithm, digest in entries
            ],
            ignore_conflicts=True,
        )
        self.checksum_manifest = manifest
        DeliveryRequest.objects.filter(pk=self.pk).update(checksum_manifest=manifest)


def storage_key(request_id: int, name: str) -> str:
    # A random folder per file: renaming never moves stored bytes, and two deliveries
    # of the same name never collide.
    return f"deliveries/{request_id}/{uuid.uuid4().hex}/{name}"


class ProcessingStatus(models.TextChoices):
    PENDING = "pending", gettext_lazy("Pending")
    PROCESSING = "processing", gettext_lazy("Processing")
    PASSED = "passed", gettext_lazy("Passed")
    FAILED = "failed", gettext_lazy("Failed")


class VisibleFileManager(models.Manager["DeliveredFile"]):
    """Files not removed. Removing every file of a request hides them at once, before
    the worker deletes their rows; `_base_manager` still sees them."""

    def get_queryset(self) -> models.QuerySet[DeliveredFile]:
        # `id + 0`: a condition no index can serve, so that the planners keep using the
        # (request, name) index to find and order files instead of scanning by id.
        return (
            super()
            .get_queryset()
            .filter(GreaterThan(models.F("pk") + 0, models.F("request__files_removed_through")))
        )


class DeliveredFile(models.Model):
    request = models.ForeignKey(DeliveryRequest, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(gettext_lazy("name"), max_length=naming.MAX_NAME_LENGTH)
    size = models.BigIntegerField(gettext_lazy("size"))
    content = models.FileField(gettext_lazy("content"), max_length=500, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("delivered by"),
    )
    delivered_at = models.DateTimeField(gettext_lazy("delivered at"), default=timezone.now)
    md5 = models.CharField("MD5", max_length=32, blank=True)
    xxh64 = models.CharField("xxHash64", max_length=16, blank=True)
    processing_status = models.CharField(
        gettext_lazy("processing"),
        max_length=20,
        choices=ProcessingStatus.choices,
        default=ProcessingStatus.PENDING,
    )
    processed_at = models.DateTimeField(gettext_lazy("processed at"), null=True, blank=True)
    # Technical metadata from inspection: container, duration, codecs, resolution, ...
    metadata = models.JSONField(gettext_lazy("technical metadata"), default=dict, blank=True)
    # [{"code": "MEDIA-DecodeError", "message": "..."}]
    errors = models.JSONField(gettext_lazy("errors"), default=list, blank=True)

    objects = VisibleFileManager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "name"], name="unique_file_name_in_request")
        ]
        # The few files a worker holds, and whether any wait, without reading the
        # other 250,000 (the Submitted banner asks every 3 seconds).
        indexes = [
            models.Index(fields=["request", "processing_status"], name="file_processing_state")
        ]
        verbose_name = gettext_lazy("delivered file")
        verbose_name_plural = gettext_lazy("delivered files")

    def __str__(self) -> str:
        return self.name

    @property
    def extension(self) -> str:
        return naming.extension_of(self.name)


class StorageDeletion(models.Model):
    """Stored content whose file row is gone: the worker deletes it from storage, then
    this row. Written in the same transaction as the file rows' DELETE, so a path is
    never forgotten, and removed only once its content is deleted."""

    request_id = models.BigIntegerField(null=True, db_index=True)
    path = models.CharField(max_length=500)
    queued_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = gettext_lazy("stored file to delete")
        verbose_name_plural = gettext_lazy("stored files to delete")

    def __str__(self) -> str:
        return self.path


class ManifestEntry(models.Model):
    """One line of a checksum manifest: the hash a named file must have."""

    manifest = models.ForeignKey(DeliveredFile, on_delete=models.CASCADE, related_name="entries")
    file_name = models.CharField(max_length=naming.MAX_NAME_LENGTH)
    algorithm = models.CharField(max_length=10, choices=[("md5", "MD5"), ("xxh64", "xxHash64")])
    expected_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["manifest", "file_name"], name="one_entry_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.expected_hash}  {self.file_name}"


class RedeliveryReason(models.Model):
    code = models.SlugField(gettext_lazy("code"), max_length=60, unique=True)
    name = models.CharField(gettext_lazy("name"), max_length=120)
    description = models.TextField(gettext_lazy("description"))
    name_es = models.CharField(gettext_lazy("name (Español)"), max_length=120, blank=True)
    description_es = models.TextField(gettext_lazy("description (Español)"), blank=True)
    active = models.BooleanField(gettext_lazy("active"), default=True)
    order = models.PositiveSmallIntegerField(gettext_lazy("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = gettext_lazy("redelivery reason")
        verbose_name_plural = gettext_lazy("redelivery reasons")

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        if (get_language() or "").startswith("es") and self.name_es:
            return self.name_es
        return self.name

    @property
    def localized_description(self) -> str:
        if (get_language() or "").startswith("es") and self.description_es:
            return self.description_es
        return self.description


class Redelivery(models.Model):
    request = models.ForeignKey(
        DeliveryRequest, on_delete=models.CASCADE, related_name="redeliveries"
    )
    reasons = models.ManyToManyField(RedeliveryReason, related_name="+")
    cleared_files = models.BooleanField(default=False)
    cleared_count = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-asked_at", "-id"]
        verbose_name = gettext_lazy("redelivery")
        verbose_name_plural = gettext_lazy("redeliveries")

    def __str__(self) -> str:
        return f"{self.request} · {self.asked_at:%Y-%m-%d %H:%M}"


class HistoryQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args: Any, **kwargs: Any) -> list:
        created = super().bulk_create(objs, *args, **kwargs)
        from .page_cache import bump

        bump({entry.request_id for entry in created})  # as save() does, for each request
        return created


class HistoryEntry(models.Model):
    class Action(models.TextChoices):
        STATUS_CHANGED = "status", gettext_lazy("Status changed")
        DELIVERED = "delivered", gettext_lazy("File delivered")
        RENAMED = "renamed", gettext_lazy("File renamed")
        REMOVED = "removed", gettext_lazy("Files removed")
        EDITED = "edited", gettext_lazy("Request edited")

    request = models.ForeignKey(DeliveryRequest, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # None: the system (the processing worker, automatic submission).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    before = models.CharField(max_length=300, blank=True)
    after = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = HistoryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["request", "-at"])]
        verbose_name = gettext_lazy("history entry")
        verbose_name_plural = gettext_lazy("history")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.before} → {self.after}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Every change to a request's files or state writes an entry, in the
        # transaction of the change: one place to tell the page cache.
        from .page_cache import bump

        bump([self.request_id])


# Uploads in progress (tus) live in their own module; importing it registers the model.
from .uploads.models import Upload  # noqa: E402, F401


class Preference(models.Model):
    """What a person chose for themselves, kept across browsers and devices."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preference"
    )
    language = models.CharField(
        gettext_lazy("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = gettext_lazy("preference")
        verbose_name_plural = gettext_lazy("preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or '-'}"
