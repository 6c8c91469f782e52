"""What processing one file produces, and how much of it is kept.

A file chooses what its findings quote: a TTML ``begin`` of 350 KB quoted sixty times
stored 35 MB of findings for one row. So the findings are bounded once, here, when a
result is stored, whatever check made them: each quoted value is cut to
``EXCERPT_CHARS``, and a file keeps ``FINDINGS_PER_CODE`` findings of one code, then
one that says how many more there were.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import ngettext

from ..files.models import SEVERITY_ORDER, Severity
from ..requests.specs import one_of
from .codes import severity_of

EXCERPT_CHARS = 80
FINDINGS_PER_CODE = 20
# Parameters the portal writes itself (a sentence of media.py's decode check), never
# quoted from the file: they are kept whole.
PORTAL_WRITTEN_PARAMS = frozenset({"problem"})


def excerpt(value: str) -> str:
    if len(value) <= EXCERPT_CHARS:
        return value
    return value[: EXCERPT_CHARS - 1] + "…"


def more_of_a_kind(count: int) -> str:
    """The finding that stands for `count` left-off ones, in the active language."""
    return ngettext(
        "…and %(count)s more finding of this kind.",
        "…and %(count)s more findings of this kind.",
        count,
    ) % {"count": number_format(count, force_grouping=True)}


def worded(value: Any) -> Any:
    """A parameter of a finding as a sentence takes it: a list of what a spec allows
    becomes "A, B or C"; anything else is itself."""
    return one_of([str(v) for v in value]) if isinstance(value, list) else value


class Finding(NamedTuple):
    """One error, in the studio's style: a code such as ``CHECKSUM-Mismatch`` and a
    message that names the file or line and says what to fix.

    The message is kept as its English template (marked with gettext_noop) and its
    parameters, so that each viewer reads it in their own language later. A parameter
    that is a list holds alternatives (the codecs a spec allows), which the sentence
    reads as "A, B or C" (`one_of`).

    A check against the request's spec also says what it `expected` and what it
    `found`, in technical notation that needs no translation ("3840×2160", "5.1 (L R C
    LFE Ls Rs)"). The severity is the code's default (deliveries/processing/codes.py)
    unless the check names one.
    """

    code: str
    template: str
    params: dict[str, Any] = {}
    expected: str | list[str] = ""
    found: str = ""
    severity_given: str = ""

    @property
    def message(self) -> str:
        if not self.params:
            return self.template
        return self.template % {key: worded(value) for key, value in self.params.items()}

    @property
    def severity(self) -> str:
        return self.severity_given or severity_of(self.code)

    def excerpted(self) -> Finding:
        params = {
            key: excerpt(value)
            if isinstance(value, str) and key not in PORTAL_WRITTEN_PARAMS
            else value
            for key, value in self.params.items()
        }
        return self._replace(params=params)

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "template": self.template,
            "params": self.params,
            "severity": self.severity,
            **({"expected": self.expected, "found": self.found} if self.expected else {}),
        }


@dataclass
class FileResult:
    metadata: dict[str, Any] = field(default_factory=dict)
    errors: list[Finding] = field(default_factory=list)
    md5: str = ""
    xxh64: str = ""

    @property
    def passed(self) -> bool:
        """A file fails on a blocker; issues and FYIs leave it passed, with notes."""
        return self.worst_severity != Severity.BLOCKER

    @property
    def worst_severity(self) -> str:
        """The worst severity among the findings, '' without any."""
        return min(
            (finding.severity for finding in self.errors),
            key=SEVERITY_ORDER.__getitem__,
            default="",
        )

    def stored_errors(self) -> list[dict[str, Any]]:
        """The findings as the database keeps them: excerpted, at most
        FINDINGS_PER_CODE of one code, and where more were found, one entry in their
        place that counts them (its ``left_off`` is what the page renders)."""
        stored: list[dict[str, Any]] = []
        seen: Counter[str] = Counter()
        summaries: dict[str, dict[str, Any]] = {}
        for finding in self.errors:
            seen[finding.code] += 1
            if seen[finding.code] <= FINDINGS_PER_CODE:
                stored.append(finding.excerpted().as_json())
            elif finding.code not in summaries:
                summaries[finding.code] = {
                    "code": finding.code,
                    "params": {},
                    "severity": finding.severity,
                }
                stored.append(summaries[finding.code])
        for code, summary in summaries.items():
            left_off = seen[code] - FINDINGS_PER_CODE
            with translation.override("en"):
                summary["message"] = more_of_a_kind(left_off)
            summary["params"] = {"count": left_off}
            summary["left_off"] = left_off
        return stored
