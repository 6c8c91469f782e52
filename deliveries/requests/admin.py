"""The studio contacts' side: requests with transition buttons, partners, reasons."""

from collections.abc import Mapping
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Count, Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm.admin import FSMAdminMixin

from ..files.models import ProcessingStatus
from ..files.waivers import Waiver
from ..numbers import grouped
from .admin_findings import FindingsAdminMixin
from .forms import DeliveryRequestAdminForm
from .history import HistoryEntry
from .history_text import describe, reason_names
from .models import ActionRefused, DeliveryRequest, Redelivery, RedeliveryReason, Status, Title
from .specs import DeliverySpec


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RedeliveryInline(ReadOnlyInline):
    model = Redelivery
    fields = ("asked_at", "asked_by", "reason_list", "cleared_files", "cleared_count", "note")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("reasons"))
    def reason_list(self, obj: Redelivery) -> str:
        return ", ".join(r.name for r in obj.reasons.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Redelivery]:
        return super().get_queryset(request).select_related("asked_by").prefetch_related("reasons")


class HistorySentences:
    """History columns as the partner's Details Page reads them: who ("System" for
    the worker) and one sentence per entry, not the stored fields."""

    _reasons: dict[str, str] | None = None

    @admin.display(description=gettext_lazy("when"), ordering="at")
    def when(self, entry: HistoryEntry) -> str:
        return date_format(timezone.localtime(entry.at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=gettext_lazy("who"))
    def who(self, entry: HistoryEntry) -> str:
        return str(entry.actor) if entry.actor_id else _("System")

    @admin.display(description=gettext_lazy("what"))
    def what(self, entry: HistoryEntry) -> str:
        return describe(entry, self._reason_names)

    def _reason_names(self) -> dict[str, str]:
        # Once per page: the admin makes new inline instances for every request, and
        # the names are in the viewer's language.
        if self._reasons is None:
            self._reasons = reason_names()
        return self._reasons


class HistoryInline(HistorySentences, ReadOnlyInline):
    """The newest entries; the full history is the History list filtered to the request
    (a 250,000-file delivery has as many entries)."""

    model = HistoryEntry
    fields = ("when", "who", "what")
    readonly_fields = fields
    max_num = 0
    per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[HistoryEntry]:
        self._reasons = None
        newest = super().get_queryset(request).select_related("actor").order_by("-at", "-id")
        object_id = (
            request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        )
        if object_id is None:
            return newest.none()
        ids = list(
            newest.filter(request_id=object_id).values_list("pk", flat=True)[: self.per_page]
        )
        return newest.filter(pk__in=ids)


@admin.register(DeliveryRequest)
class DeliveryRequestAdmin(FindingsAdminMixin, FSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    # The transition buttons (Accept, Ask for redelivery) above the fields, not under
    # the files and fifty history entries.
    change_form_template = "admin/deliveries/deliveryrequest/change_form.html"
    form = DeliveryRequestAdminForm
    list_display = [
        "__str__",
        "organization",
        "asset_type",
        "spec",
        "language",
        "due_date",
        "status",
        "studio_contact",
        "auto_submit",
    ]
    list_filter = ["status", "organization", "asset_type", "studio_contact", "due_date"]
    search_fields = ["name", "title__name", "organization__name"]
    list_select_related = ["title", "organization", "spec", "studio_contact"]
    autocomplete_fields = ["title", "organization"]
    readonly_fields = [
        "delivered_files",
        "findings",
        "checksum_manifest",
        "created_at",
        "updated_at",
        "full_history",
    ]
    date_hierarchy = "due_date"
    inlines = [RedeliveryInline, HistoryInline]

    @admin.display(description=gettext_lazy("delivered files"))
    def delivered_files(self, obj: DeliveryRequest) -> str:
        """What to look at before accepting: the files and how processing judged them."""
        if obj.pk is None:
            return "—"
        states = dict(
            obj.files.order_by()
            .values_list("processing_status")
            .annotate(count=Count("pk"))
            .values_list("processing_status", "count")
        )
        summary = ", ".join(
            f"{label}: {grouped(states[value])}"
            for value, label in ProcessingStatus.choices
            if states.get(value)
        )
        verdict = ""
        if obj.status in (Status.PROCESSED, Status.ACCEPTED):
            # The counters of the last processing run: what to weigh before accepting.
            verdict = _(
                "Files with blockers: %(blockers)s · with issues: %(issues)s · with FYIs: "
                "%(fyi)s · blockers of the delivery as a whole: %(whole)s."
            ) % {
                "blockers": grouped(obj.files_failed),
                "issues": grouped(obj.files_with_issues),
                "fyi": grouped(obj.files_with_fyi),
                "whole": grouped(obj.delivery_blockers),
            }
        return format_html(
            '{} — <a href="{}">{}</a>{}',
            summary or _("no files"),
            obj.get_absolute_url(),
            _("Open the Details Page"),
            format_html("<br>{}", verdict) if verdict else "",
        )

    @admin.display(description=gettext_lazy("history"))
    def full_history(self, obj: DeliveryRequest) -> str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:deliveries_historyentry_changelist") + f"?request__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Every history entry of this request"))

    # FSMAdminMixin types itself as the admin of any Model: its own methods that need
    # this admin's DeliveryRequest override it with `ignore[override]`.
    def save_model(
        self,
        request: HttpRequest,
        obj: DeliveryRequest,
        form: ModelForm[DeliveryRequest],
        change: bool,
    ) -> None:
        if not change:
            if obj.spec is None:
                obj.spec = DeliverySpec.default_for(obj.asset_type)
            super().save_model(request, obj, form, change)
            return
        if not form.changed_data:
            return
        # Only what the contact changed: the counters the worker and partners keep
        # moving (file_count, files_to_purge, files_processed…) were read when the form
        # opened, and writing them back would undo whatever happened since.
        obj.save(update_fields=[*form.changed_data, "updated_at"])
        # Nothing changes without a trace: a studio contact's edit is history too.
        HistoryEntry.objects.create(
            request=obj,
            actor=cast(User, request.user),  # the admin lets in signed-in staff only
            action=HistoryEntry.Action.EDITED,
            details={
                "fields": form.changed_data,
                "before": {name: str(form.initial.get(name, "")) for name in form.changed_data},
                "after": {name: str(form.cleaned_data.get(name, "")) for name in form.changed_data},
            },
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        # Moving a request to another partner would hand over its files silently.
        if obj is not None:
            fields.append("organization")
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A request's history must outlive any mistake: ask for redelivery instead.
        return False

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return _("Decide")

    fsm_transition_success_msg = gettext_lazy("“{transition_name}” done.")

    def response_change(self, request: HttpRequest, obj: DeliveryRequest) -> HttpResponse:
        if request.POST.get(self.fsm_post_param) == "accept":
            needed = obj.why_accept_needs_reason()
            if not needed:
                # Nothing to explain: one click accepts, as it always has.
                self._apply_fsm_transition(obj=obj, transition_name="accept", request=request)
                return HttpResponseRedirect(request.path)
            # Accept's form asks for the reason; it says why first.
            self.message_user(request, needed, messages.WARNING)
        return super().response_change(request, obj)

    def fsm_transition_view(
        self, request: HttpRequest, object_id: str, transition_name: str, **kwargs: Any
    ) -> HttpResponse:
        # An address naming no action (a typo, an old bookmark) leads back to the request
        # saying so: django-fsm's own view looks the name up as an attribute and fails.
        if not _is_action(transition_name):
            self.message_user(request, _("There is no such action on a request."), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:deliveries_deliveryrequest_change", args=[object_id])
            )
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def _apply_fsm_transition(  # type: ignore[override]
        self,
        *,
        obj: DeliveryRequest,
        transition_name: str,
        request: HttpRequest,
        kwargs: Mapping[str, Any] | None = None,
    ) -> bool:
        # Every transition goes through the model's act(): it locks the row, checks
        # who may, records history and refuses with a readable message.
        try:
            if not _is_action(transition_name):
                raise ActionRefused(_("There is no such action on a request."))
            by = cast(User, request.user)  # the admin lets in signed-in staff only
            obj.act(getattr(obj, transition_name), by=by, **(kwargs or {}))
        except ActionRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return False
        self.message_user(
            request,
            _("The request is now %(status)s.") % {"status": obj.get_status_display()},
            messages.SUCCESS,
        )
        return True


def _is_action(name: str) -> bool:
    """Whether `name` is one of the request's transitions (an address or a button may
    name anything)."""
    field = DeliveryRequest._meta.get_field("status")
    return name in {t.name for t in field.get_all_transitions(DeliveryRequest)}


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    """Every waiver, read only: they are given on the request's change page."""

    list_display = ["waived_at", "code", "waived_on", "waived_by", "reason"]
    list_filter = ["code"]
    list_select_related = ["file", "request", "waived_by"]
    search_fields = ["code", "file__name", "request__name", "reason"]

    @admin.display(description=gettext_lazy("waived on"))
    def waived_on(self, waiver: Waiver) -> str:
        if waiver.file is not None:
            return waiver.file.name
        return _("%(request)s, the delivery as a whole") % {"request": waiver.request}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(DeliverySpec)
class DeliverySpecAdmin(admin.ModelAdmin):
    list_display = ["name", "asset_type", "is_default"]
    list_filter = ["asset_type", "is_default"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "asset_type", "is_default"]}),
        (gettext_lazy("Picture"), {"fields": ["width", "height", "frame_rate", "video_codecs"]}),
        (
            gettext_lazy("Video"),
            {
                "fields": [
                    "progressive",
                    "colour_primaries",
                    "transfer_characteristics",
                    "full_decode",
                ]
            },
        ),
        (
            gettext_lazy("Running time"),
            {"fields": ["runtime_seconds", "runtime_tolerance_seconds"]},
        ),
        (
            gettext_lazy("Audio"),
            {
                "fields": [
                    "channel_layout",
                    "sample_rate",
                    "bit_depth",
                    "loudness_lufs",
                    "loudness_tolerance_lu",
                ]
            },
        ),
        (gettext_lazy("Timed text"), {"fields": ["timed_text_format"]}),
        (gettext_lazy("Image sequence"), {"fields": ["frame_count"]}),
        (
            gettext_lazy("Artwork"),
            {"fields": ["min_width", "min_height", "image_formats", "colour_modes"]},
        ),
    ]


@admin.register(Title)
class TitleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "season", "episode"]
    search_fields = ["name"]


@admin.register(RedeliveryReason)
class RedeliveryReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active", "order"]
    list_editable = ["active", "order"]
    search_fields = ["name", "code"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(HistorySentences, admin.ModelAdmin):
    list_display = ["when", "request", "who", "what"]
    list_filter = ["action"]
    list_select_related = ["request__title", "actor"]
    search_fields = ["request__title__name", "before", "after"]

    def _reason_names(self) -> dict[str, str]:
        # One ModelAdmin serves every request, in every language: no cache here. Only
        # an entry that names reasons asks, a query each, on a page of 100 at most.
        return reason_names()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: HistoryEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: HistoryEntry | None = None) -> bool:
        return False
