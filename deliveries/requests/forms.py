from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..people.models import COMMENT_MAX_LENGTH
from .models import DeliveryRequest, RedeliveryReason
from .specs import clean_overrides


class RedeliveryForm(forms.Form):
    reasons = forms.ModelMultipleChoiceField(
        queryset=RedeliveryReason.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        label=_("Reason for redelivery"),
        error_messages={"required": _("Choose at least one reason for redelivery.")},
    )
    clear_files = forms.BooleanField(
        required=False, label=_("Clear existing files from this request")
    )
    # Optional; it becomes the first comment of the thread, beside the reasons.
    note = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Note (optional)"),
    )


class AdminRedeliveryForm(RedeliveryForm):
    """The admin's transition form: the same choices and note, the note worded for the
    studio's side."""

    note = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Note to the partner"),
    )


class AdminAcceptForm(forms.Form):
    """Accept's form in the admin, asked for only while blockers nobody waived remain
    (the model refuses to accept them without a reason, whatever the path)."""

    reason = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Reason to accept with blockers"),
        help_text=_("Recorded in the request's history, which the partner sees."),
    )


class WaiverForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Why this finding may stand"),
        help_text=_("Recorded in the request's history and shown to the partner on the file."),
        error_messages={"required": _("Give the reason for the waiver.")},
    )

    def __init__(self, *args: Any, withdraw: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if withdraw:
            field = self.fields["reason"]
            field.label = _("Why the waiver is withdrawn")
            field.help_text = _(
                "Recorded in the request's history, which the partner sees; the finding "
                "counts again."
            )
            field.error_messages["required"] = _("Give the reason for withdrawing the waiver.")


class RenameForm(forms.Form):
    # No length limit here: the model's naming rule explains a too-long name itself.
    name = forms.CharField(label=_("File name"), required=False, strip=False)


class DeliveryRequestAdminForm(forms.ModelForm):
    """The studio admin's request form: a spec of the request's asset type, and its
    overrides checked field by field before anything is stored."""

    class Meta:
        model = DeliveryRequest
        fields = [
            "organization",
            "title",
            "name",
            "asset_type",
            "language",
            "due_date",
            "studio_contact",
            "auto_submit",
            "spec",
            "spec_overrides",
        ]
        help_texts = {
            "spec": _("Left empty on a new request, the default spec of its asset type is taken."),
            "spec_overrides": _(
                'Fields of the spec that differ for this request, as JSON: {"runtime_seconds": '
                '2530, "frame_rate": "25/1"}.'
            ),
        }

    def clean_spec_overrides(self) -> dict[str, Any]:
        overrides = self.cleaned_data.get("spec_overrides") or {}
        clean_overrides(overrides)
        return overrides

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        spec, asset_type = cleaned.get("spec"), cleaned.get("asset_type")
        if spec is not None and asset_type and spec.asset_type != asset_type:
            self.add_error(
                "spec",
                gettext("“%(spec)s” is a spec for %(type)s; choose one for %(wanted)s.")
                % {
                    "spec": spec,
                    "type": spec.get_asset_type_display(),
                    "wanted": DeliveryRequest(asset_type=asset_type).get_asset_type_display(),
                },
            )
        return cleaned
