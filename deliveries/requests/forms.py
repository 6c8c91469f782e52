from django import forms
from django.utils.translation import gettext_lazy as _

from .models import RedeliveryReason


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


class AdminRedeliveryForm(RedeliveryForm):
    """The admin's transition form: the same choices, plus a note for the partner."""

    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Note to the partner"),
    )


class RenameForm(forms.Form):
    # No length limit here: the model's naming rule explains a too-long name itself.
    name = forms.CharField(label=_("File name"), required=False, strip=False)
