"""What processing one file produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Finding(NamedTuple):
    """One error, in the studio's style: a code such as ``CHECKSUM-Mismatch`` and a
    message that names the file or line and says what to fix."""

    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class FileResult:
    metadata: dict[str, Any] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)
    md5: str = ""
    xxh64: str = ""

    @property
    def passed(self) -> bool:
        return not self.errors
