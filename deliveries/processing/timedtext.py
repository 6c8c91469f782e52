"""TTML validation: well-formed XML, a ``tt`` root in the TTML namespace, a BCP 47
``xml:lang``, ``xml:id`` identifiers without duplicates, and parseable times.

The document is parsed with expat in a streaming way (no tree is built), so a very
long subtitle file costs little memory, and every finding can name its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, BinaryIO
from xml.parsers import expat

from django.utils.translation import gettext_noop

from .result import Finding

TTML_NS = "http://www.w3.org/ns/ttml"
TTP_NS = "http://www.w3.org/ns/ttml#parameter"
XML_NS = "http://www.w3.org/XML/1998/namespace"
TIMEDTEXT_EXTENSIONS = {"ttml", "dfxp", "xml"}

# RFC 5646 in shape: language, optional extlang, script, region, variants, extensions,
# private use. Underscores are the usual mistake (pt_BR), and they do not match.
_BCP47 = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z\d]{5,8}|\d[A-Za-z\d]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z\d]{2,8})+)*"
    r"(?:-x(?:-[A-Za-z\d]{1,8})+)?$"
    r"|^x(?:-[A-Za-z\d]{1,8})+$"
)
_CLOCK = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d|60)(?:(\.\d+)|:(\d{2,})(?:\.(\d+))?)?$")
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms|f|t)$")
_CHUNK = 1024 * 1024
MAX_FINDINGS = 50


def is_bcp47(tag: str) -> bool:
    return bool(_BCP47.match(tag))


def parse_time(value: str, frame_rate: float = 30.0, tick_rate: float = 1.0) -> float | None:
    """Seconds for a TTML time expression, None when it is not one."""
    value = value.strip()
    match = _CLOCK.match(value)
    if match:
        hours, minutes, seconds, fraction, frames, _subframes = match.groups()
        total: float = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        if fraction:
            total += float(fraction)
        if frames:
            total += int(frames) / frame_rate
        return total
    match = _OFFSET.match(value)
    if match:
        number, unit = float(match.group(1)), match.group(2)
        scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "f": 1 / frame_rate}
        return number * scale[unit] if unit != "t" else number / tick_rate
    return None


def counts_frames(value: str) -> bool:
    value = value.strip()
    match = _CLOCK.match(value)
    return bool(match and match.group(5)) or bool(_OFFSET.match(value) and value.endswith("f"))


def clock_time(seconds: float) -> str:
    """TTML clock time, ``HH:MM:SS.mmm``."""
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


@dataclass
class _State:
    findings: list[Finding] = field(default_factory=list)
    extra_findings: int = 0
    root_seen: bool = False
    language: str = ""
    # The profiles the root declares (ttp:contentProfiles, or TTML1's ttp:profile).
    profiles: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    cues: int = 0
    last_end: float = 0.0
    frame_rate: float = 30.0
    # ttp:frameRate × ttp:frameRateMultiplier, when the root declares them.
    declared_rate: Fraction | None = None
    # Whether a time counts frames (00:00:01:12, 36f), so that the frame rate matters.
    frame_times: bool = False
    tick_rate: float = 1.0

    def add(self, code: str, template: str, **params: Any) -> None:
        self.add_finding(Finding(code, template, params))

    def add_finding(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.extra_findings += 1


def _split(name: str) -> tuple[str, str]:
    namespace, _, local = name.rpartition(" ")
    return namespace, local


def validate(
    handle: BinaryIO,
    *,
    expected_language: str = "",
    tick: Callable[[], None] | None = None,
    partial: bool = False,
) -> tuple[dict[str, Any], list[Finding]]:
    """(metadata, findings) for a TTML document read from `handle`; `partial`: the
    handle holds only the document's start (an upload under way), whose end is not an
    error."""
    state = _State()
    parser = expat.ParserCreate(namespace_separator=" ")
    # No DTD tricks: external entities are never fetched, internal ones are refused.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_entities(*_args: object) -> None:
        raise ValueError("entity declarations are not allowed in TTML")

    parser.EntityDeclHandler = refuse_entities

    def start(name: str, attributes: dict[str, str]) -> None:
        line = parser.CurrentLineNumber
        namespace, local = _split(name)
        if not state.root_seen:
            state.root_seen = True
            _check_root(state, line, namespace, local, attributes, expected_language)
        for key, value in attributes.items():
            attr_ns, attr_local = _split(key)
            if attr_ns == XML_NS and attr_local == "id":
                if value in state.ids:
                    state.add(
                        "TIMEDTEXT-DuplicateId",
                        gettext_noop(
                            "Line %(line)s: xml:id “%(value)s” is already used on line "
                            "%(first)s; identifiers must be unique."
                        ),
                        line=line,
                        value=value,
                        first=state.ids[value],
                    )
                else:
                    state.ids[value] = line
            elif not attr_ns and attr_local == "id":
                state.add(
                    "TIMEDTEXT-IdAttribute",
                    gettext_noop(
                        "Line %(line)s: <%(element)s> has id=“%(value)s”; TTML identifiers are "
                        "written xml:id=“%(value)s”."
                    ),
                    line=line,
                    element=local,
                    value=value,
                )
        if namespace == TTML_NS and local == "p":
            state.cues += 1
        _check_times(state, line, local, attributes)

    parser.StartElementHandler = start
    try:
        while True:
            data = handle.read(_CHUNK)
            if not data and partial:
                break
            parser.Parse(data, not data)
            if not data:
                break
            if tick is not None:
                tick()
    except expat.ExpatError as error:
        reason = expat.ErrorString(error.code)
        return {"format": "TTML"}, [
            Finding(
                "TIMEDTEXT-NotWellFormed",
                gettext_noop(
                    "Line %(line)s: the document is not well-formed XML "
                    "(%(reason)s, column %(column)s)."
                ),
                {"line": error.lineno, "reason": reason, "column": error.offset + 1},
            )
        ]
    except ValueError as error:
        return {"format": "TTML"}, [
            Finding(
                "TIMEDTEXT-NotWellFormed",
                gettext_noop("Line %(line)s: %(error)s."),
                {"line": parser.CurrentLineNumber, "error": str(error)},
            )
        ]
    if state.extra_findings:
        state.findings.append(
            Finding(
                "TIMEDTEXT-MoreErrors",
                gettext_noop("%(count)s more errors like the ones above are not listed."),
                {"count": state.extra_findings},
            )
        )
    metadata: dict[str, Any] = {"format": "TTML", "cues": state.cues}
    if state.language:
        metadata["language"] = state.language
    if state.profiles:
        metadata["profiles"] = state.profiles
    if state.declared_rate is not None:
        rate = state.declared_rate
        metadata["frame_rate_exact"] = f"{rate.numerator}/{rate.denominator}"
        metadata["frame_rate"] = f"{float(rate):.3f}".rstrip("0").rstrip(".") + " fps"
    if state.frame_times:
        metadata["frame_times"] = True
    if state.last_end:
        metadata["duration"] = clock_time(state.last_end)
        metadata["duration_seconds"] = round(state.last_end, 3)
    parts = ["TTML", state.language, f"{state.cues} cue{'s' if state.cues != 1 else ''}"]
    metadata["summary"] = " · ".join(part for part in parts if part)
    return metadata, state.findings


def _check_root(
    state: _State,
    line: int,
    namespace: str,
    local: str,
    attributes: dict[str, str],
    expected_language: str,
) -> None:
    if namespace != TTML_NS or local != "tt":
        shown = f"{{{namespace}}}{local}" if namespace else local
        state.add(
            "TIMEDTEXT-RootNotTT",
            gettext_noop(
                "Line %(line)s: the root element is <%(element)s>; a TTML document starts "
                "with <tt> in the namespace %(namespace)s."
            ),
            line=line,
            element=shown,
            namespace=TTML_NS,
        )
    rate = attributes.get(f"{TTP_NS} frameRate", "")
    if rate.isdigit() and int(rate) > 0:
        declared = Fraction(int(rate))
        multiplier = attributes.get(f"{TTP_NS} frameRateMultiplier", "").split()
        if len(multiplier) == 2 and all(part.isdigit() and int(part) for part in multiplier):
            declared *= Fraction(int(multiplier[0]), int(multiplier[1]))
        state.declared_rate = declared
        state.frame_rate = float(declared)
    ticks = attributes.get(f"{TTP_NS} tickRate", "")
    if ticks.isdigit() and int(ticks) > 0:
        state.tick_rate = float(ticks)
    state.profiles = [
        *attributes.get(f"{TTP_NS} contentProfiles", "").split(),
        *attributes.get(f"{TTP_NS} profile", "").split(),
    ]
    language = attributes.get(f"{XML_NS} lang")
    if language is None or not language.strip():
        state.add(
            "TIMEDTEXT-LangMissing",
            gettext_noop(
                "Line %(line)s: the <tt> element has no xml:lang; give the subtitle language "
                "as a BCP 47 tag, e.g. xml:lang=“es-419”."
            ),
            line=line,
        )
        return
    state.language = language.strip()
    if not is_bcp47(state.language):
        hint = state.language.replace("_", "-")
        template = (
            gettext_noop(
                "Line %(line)s: xml:lang “%(value)s” is not a BCP 47 language tag "
                "(write “%(hint)s”)."
            )
            if is_bcp47(hint)
            else gettext_noop("Line %(line)s: xml:lang “%(value)s” is not a BCP 47 language tag.")
        )
        state.add(
            "TIMEDTEXT-LangInvalid",
            template,
            line=line,
            value=state.language,
            hint=hint,
        )
    elif expected_language and state.language.lower() != expected_language.lower():
        state.add_finding(
            Finding(
                "TIMEDTEXT-LangMismatch",
                gettext_noop(
                    "Line %(line)s: xml:lang is “%(value)s” but this request is for “%(expected)s”."
                ),
                {"line": line, "value": state.language, "expected": expected_language},
                expected=expected_language,
                found=state.language,
            )
        )


def _check_times(state: _State, line: int, local: str, attributes: dict[str, str]) -> None:
    times: dict[str, float] = {}
    for attribute in ("begin", "end", "dur"):
        value = attributes.get(attribute)
        if value is None:
            continue
        seconds = parse_time(value, state.frame_rate, state.tick_rate)
        if not state.frame_times and counts_frames(value):
            state.frame_times = True
        if seconds is None:
            state.add(
                "TIMEDTEXT-TimeInvalid",
                gettext_noop(
                    "Line %(line)s: %(attribute)s=“%(value)s” on <%(element)s> is not a TTML "
                    "time expression (e.g. 00:01:02.500 or 62.5s)."
                ),
                line=line,
                attribute=attribute,
                value=value,
                element=local,
            )
        else:
            times[attribute] = seconds
    if "begin" in times and "end" in times and times["end"] < times["begin"]:
        state.add(
            "TIMEDTEXT-TimeOrder",
            gettext_noop(
                "Line %(line)s: <%(element)s> ends at %(end)s, before it begins at %(begin)s."
            ),
            line=line,
            element=local,
            end=attributes["end"],
            begin=attributes["begin"],
        )
    if "end" in times:
        state.last_end = max(state.last_end, times["end"])
