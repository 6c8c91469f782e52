"""The delivery naming rule, shared by renames, uploads and the browser's own check."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_NAME_LENGTH = 255
ALLOWED_NAME = re.compile(r"[A-Za-z0-9._-]+")
# Exposed to the browser so its check and ours can never drift apart.
ALLOWED_NAME_PATTERN = "^[A-Za-z0-9._-]+$"


def extension_of(name: str) -> str:
    """The part after the last dot, lower-cased; '' when the name has none."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def _describe(char: str) -> str:
    if char == " ":
        return _("space")
    if not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"“{char}”"


def check_name_shape(name: str) -> None:
    """Raise ValidationError unless `name` alone follows the naming rule."""
    if name == "":
        raise ValidationError(_("Enter a file name."), code="empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("A file name can have at most %(max)d characters; this one has %(count)d.")
            % {"max": MAX_NAME_LENGTH, "count": len(name)},
            code="too_long",
        )
    bad = sorted({c for c in name if not ALLOWED_NAME.fullmatch(c)}, key=name.index)
    if bad:
        shown = ", ".join(_describe(c) for c in bad[:5])
        raise ValidationError(
            ngettext(
                "File names may use only letters a–z and A–Z, digits 0–9, dot (.), "
                "underscore (_) and hyphen (-). Remove this character: %(chars)s.",
                "File names may use only letters a–z and A–Z, digits 0–9, dot (.), "
                "underscore (_) and hyphen (-). Remove these characters: %(chars)s.",
                len(bad),
            )
            % {"chars": shown},
            code="characters",
        )
    if set(name) == {"."}:
        raise ValidationError(
            _("A file name must contain at least one letter or digit."), code="dots"
        )


def check_rename(old_name: str, new_name: str) -> None:
    """Raise ValidationError unless renaming `old_name` to `new_name` keeps the rule."""
    check_name_shape(new_name)
    old_ext, new_ext = extension_of(old_name), extension_of(new_name)
    if old_ext != new_ext:
        if old_ext:
            message = _(
                "Keep the extension “.%(ext)s”: a rename can't change the type of a file."
            ) % {"ext": old_ext}
        else:
            message = _("This file has no extension; a rename can't add one.")
        raise ValidationError(message, code="extension")


def duplicate_name_error(name: str) -> ValidationError:
    return ValidationError(
        _("Another file in this request is already named “%(name)s”. Choose a different name.")
        % {"name": name},
        code="duplicate",
    )
