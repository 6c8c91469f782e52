"""What processing one file produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Finding(NamedTuple):
    """One error, in the studio's style: a code such as ``CHECKSUM-Mismatch`` and a
    message that names the file or line and says what to fix.

    The message is kept as its English template (marked with gettext_noop) and its
    parameters, so that each viewer reads it in their own language later.
    """

    code: str
    template: str
    params: dict[str, Any] = {}

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "template": self.template,
            "params": self.params,
        }


@dataclass
class FileResult:
    metadata: dict[str, Any] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)
    md5: str = ""
    xxh64: str = ""

    @property
    def passed(self) -> bool:
        return not self.errors
