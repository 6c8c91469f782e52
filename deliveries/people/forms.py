from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .events import EVENT_HELP, Event, Frequency
from .models import COMMENT_MAX_LENGTH


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Write a comment before you post it."),
            "max_length": _(
                "A comment may be at most %(limit_value)d characters (this one has "
                "%(show_value)d). Shorten it, or split it in two."
            ),
        },
    )


class NotificationSettingsForm(forms.Form):
    """One choice per event the person hears of: immediately, daily digest or off."""

    def __init__(self, *args: Any, events: tuple[Event, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for event in events:
            self.fields[event.value] = forms.ChoiceField(
                label=event.label,
                help_text=EVENT_HELP[event],
                choices=Frequency.choices,
                widget=forms.RadioSelect,
            )
