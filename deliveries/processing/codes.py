"""Every code a finding of processing can carry: what it means, how to fix it, its
default severity, whether a studio contact may waive it, and the redelivery reason it
maps to. The checks take each finding's severity from here, the Details Page its
badge, and the glossary at /help/codes/ its entries: one table for the three.

A finding's code is stable: partners search for it and the studio's reports quote it.
Rename one only with a data migration of the stored findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..files.models import Severity

BLOCKER, ISSUE, FYI = Severity.BLOCKER, Severity.ISSUE, Severity.FYI


class Code(NamedTuple):
    code: str
    severity: Severity
    waivable: bool
    # The redelivery reason (RedeliveryReason.code, migration 0002) a blocker maps to.
    reason: str
    meaning: Promise
    fix: Promise


_TABLE = (
    # Against the request's spec ---------------------------------------------------
    Code(
        "VIDEO-Resolution",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The video's frame size is not the resolution the request's spec asks for."),
        _("Deliver the master at the resolution the request's spec names."),
    ),
    Code(
        "VIDEO-FrameRate",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _(
            "The video's frame rate is not the spec's. Rates are compared exactly: "
            "23.976 fps (24000/1001) is not 24 fps."
        ),
        _("Deliver the master at the frame rate the spec names; do not retime it."),
    ),
    Code(
        "VIDEO-Codec",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The video is encoded with a codec the spec does not allow."),
        _("Encode the master with one of the codecs the spec lists."),
    ),
    Code(
        "VIDEO-Interlaced",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _(
            "The spec asks for progressive video and the file is interlaced, or does not "
            "say (then an FYI)."
        ),
        _("Deliver a progressive master; do not interlace or field-swap it on export."),
    ),
    Code(
        "VIDEO-BitDepth",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The video's bits per component (from its pixel format) are not the spec's."),
        _("Export the master at the spec's bit depth, such as 10-bit 4:2:2 or 12-bit 4:4:4."),
    ),
    Code(
        "VIDEO-ColourPrimaries",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _(
            "The video declares other colour primaries than the spec's, or none (then an "
            "FYI: the file can't be judged)."
        ),
        _("Grade and tag the master in the spec's colour space (BT.709, BT.2020, P3-D65)."),
    ),
    Code(
        "VIDEO-TransferCharacteristics",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _(
            "The video declares another transfer function than the spec's (SDR BT.709, HDR "
            "PQ or HLG), or none (then an FYI)."
        ),
        _("Export the master with the spec's transfer function, tagged in the file."),
    ),
    Code(
        "AUDIO-Loudness",
        BLOCKER,
        True,
        "other",
        _(
            "The programme's integrated loudness (ITU-R BS.1770, gated, over the whole file) "
            "is outside the spec's target and tolerance."
        ),
        _(
            "Measure the mix with a BS.1770 meter and bring it within the spec's range, "
            "without clipping, then deliver it again."
        ),
    ),
    Code(
        "MEDIA-Runtime",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The file's running time is outside the spec's runtime and its tolerance."),
        _(
            "Check that this is the right cut of the title and that nothing is cut off, "
            "then deliver the full programme."
        ),
    ),
    Code(
        "AUDIO-ChannelLayout",
        BLOCKER,
        False,
        "incorrect-channel-mapping",
        _("The audio has a different number of channels than the spec's layout."),
        _("Deliver the mix in the spec's layout, each channel in its standard position."),
    ),
    Code(
        "AUDIO-SampleRate",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _("The audio's sample rate is not the spec's."),
        _("Export the mix at the spec's sample rate from the original session."),
    ),
    Code(
        "AUDIO-BitDepth",
        ISSUE,
        True,
        "incorrect-asset-type",
        _("The audio's bit depth is not the spec's, or the audio is not uncompressed PCM."),
        _("Export uncompressed PCM at the spec's bit depth."),
    ),
    Code(
        "SEQUENCE-Resolution",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("A frame of the image sequence is not the spec's resolution."),
        _("Render every frame at the spec's resolution and deliver the frames again."),
    ),
    Code(
        "SEQUENCE-BitDepth",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("A frame of the image sequence has a different bit depth than the spec's."),
        _("Render every frame at the spec's bit depth and deliver the frames again."),
    ),
    Code(
        "SEQUENCE-MissingFrames",
        BLOCKER,
        False,
        "missing-asset",
        _("Frame numbers of the image sequence are missing: the sequence has gaps."),
        _("Deliver the missing frames listed, named like the others."),
    ),
    Code(
        "SEQUENCE-FrameCount",
        BLOCKER,
        True,
        "missing-asset",
        _(
            "The sequence does not have the number of frames the spec asks for (its frame "
            "count, or its runtime × frame rate)."
        ),
        _("Deliver every frame of the programme, and only those."),
    ),
    Code(
        "ARTWORK-TooSmall",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The image is smaller than the spec's minimum dimensions."),
        _("Deliver the artwork at the spec's minimum size or larger; do not upscale it."),
    ),
    Code(
        "ARTWORK-ColourMode",
        BLOCKER,
        True,
        "incorrect-asset-type",
        _("The image's colour mode (RGB, CMYK, greyscale…) is not one the spec allows."),
        _("Convert the artwork to a colour mode the spec lists (RGB for screens) and save it."),
    ),
    Code(
        "ARTWORK-Format",
        ISSUE,
        True,
        "incorrect-asset-type",
        _("The image is in a format the spec does not list."),
        _("Save the artwork in one of the formats the spec lists."),
    ),
    Code(
        "TIMEDTEXT-Profile",
        ISSUE,
        True,
        "timed-text-errors",
        _("The document does not declare the TTML profile the spec asks for."),
        _(
            "Export the subtitles in the spec's profile; an IMSC 1.1 Text document "
            'declares ttp:contentProfiles="http://www.w3.org/ns/ttml/profile/imsc1.1/text".'
        ),
    ),
    Code(
        "TIMEDTEXT-FrameRate",
        BLOCKER,
        True,
        "timed-text-errors",
        _(
            "The document's frame rate (ttp:frameRate × ttp:frameRateMultiplier) is not the "
            "spec's, so frame-based times land on other frames than the video's."
        ),
        _(
            'Declare the programme\'s rate: 23.976 fps is ttp:frameRate="24" '
            'ttp:frameRateMultiplier="1000 1001".'
        ),
    ),
    # What every file is checked for -----------------------------------------------
    Code(
        "ASSET-TypeMismatch",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _(
            "The file is not the kind of asset the request asks for (for example audio in a "
            "timed-text request)."
        ),
        _("Deliver the asset the request names, or remove the file."),
    ),
    Code(
        "FILE-ExtensionMismatch",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _("The file's content is not in the format its extension names."),
        _("Deliver the right file, or the same file under a name with the right extension."),
    ),
    Code(
        "FILE-Missing",
        BLOCKER,
        False,
        "missing-asset",
        _("The file's stored content is missing from the studio's storage."),
        _("Deliver the file again."),
    ),
    Code(
        "MEDIA-DecodeError",
        BLOCKER,
        False,
        "video-decode-errors",
        _(
            "The audio or video can't be opened or decoded: the file is damaged or truncated. "
            "Every packet is read; the pictures are decoded at a sample (first, every tenth "
            "of the running time, last), or all of them where the spec asks, and the first "
            "one that fails is named by frame number and timecode."
        ),
        _("Export the file again, check that it plays to the end, and deliver it again."),
    ),
    Code(
        "MEDIA-NoStreams",
        BLOCKER,
        False,
        "missing-asset",
        _("The file holds neither audio nor video."),
        _("Deliver the media file itself."),
    ),
    Code(
        "MEDIA-NoVideoStream",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _("A primary video request received a file without a video stream."),
        _("Deliver the file with its picture."),
    ),
    Code(
        "MEDIA-NoAudioStream",
        BLOCKER,
        False,
        "incorrect-asset-type",
        _("An audio request received a file without an audio stream."),
        _("Deliver the audio file."),
    ),
    Code(
        "MEDIA-FrameTooLarge",
        BLOCKER,
        False,
        "other",
        _("The video's pictures are larger than the portal reads (8192×8192)."),
        _("Deliver it at a studio resolution, or ask your studio contact."),
    ),
    Code(
        "IMAGE-DecodeError",
        BLOCKER,
        False,
        "missing-asset",
        _("The image can't be read: it is damaged or not an image."),
        _("Export the image again and deliver it again."),
    ),
    Code(
        "IMAGE-TooLarge",
        BLOCKER,
        False,
        "other",
        _("The image is larger than the portal reads (8192×8192)."),
        _("Deliver it at a smaller size, or ask your studio contact."),
    ),
    Code(
        "TIMEDTEXT-NotWellFormed",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The timed-text file is not well-formed XML."),
        _("Fix the XML at the line named (an unclosed tag, a bad character) and deliver it."),
    ),
    Code(
        "TIMEDTEXT-RootNotTT",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The document is not TTML: its root element is not <tt> in the TTML namespace."),
        _("Export TTML (IMSC) from your subtitling tool."),
    ),
    Code(
        "TIMEDTEXT-LangMissing",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The <tt> element has no xml:lang."),
        _("Set xml:lang on <tt> to the request's language."),
    ),
    Code(
        "TIMEDTEXT-LangInvalid",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The xml:lang is not a BCP 47 language tag (pt_BR instead of pt-BR, for example)."),
        _("Write the language as a BCP 47 tag, such as es-419."),
    ),
    Code(
        "TIMEDTEXT-LangMismatch",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The document's language is not the request's language."),
        _("Deliver the subtitles of the request's language, with that xml:lang."),
    ),
    Code(
        "TIMEDTEXT-IdAttribute",
        BLOCKER,
        False,
        "timed-text-errors",
        _("An id attribute is written without the xml: namespace."),
        _("Write xml:id instead of id."),
    ),
    Code(
        "TIMEDTEXT-DuplicateId",
        BLOCKER,
        False,
        "timed-text-errors",
        _("Two elements share one xml:id."),
        _("Give every element its own xml:id."),
    ),
    Code(
        "TIMEDTEXT-TimeInvalid",
        BLOCKER,
        False,
        "timed-text-errors",
        _("A begin, end or dur value is not a TTML time expression."),
        _("Write times as HH:MM:SS.mmm, HH:MM:SS:FF or an offset such as 12.5s."),
    ),
    Code(
        "TIMEDTEXT-TimeOrder",
        BLOCKER,
        False,
        "timed-text-errors",
        _("A cue ends before it begins."),
        _("Correct the cue's begin and end times."),
    ),
    Code(
        "TIMEDTEXT-MoreErrors",
        BLOCKER,
        False,
        "timed-text-errors",
        _("The document has more errors than the portal lists."),
        _("Fix the errors listed, validate the file in your tool, and deliver it again."),
    ),
    Code(
        "CHECKSUM-Mismatch",
        BLOCKER,
        False,
        "missing-asset",
        _("The file's checksum is not the one its checksum manifest lists."),
        _("Deliver the file again (it changed in transfer), or correct the manifest."),
    ),
    Code(
        "CHECKSUM-MissingEntry",
        BLOCKER,
        False,
        "missing-asset",
        _("The file is not listed in the request's checksum manifest."),
        _("Add the file to the manifest, or remove the file."),
    ),
    Code(
        "CHECKSUM-FileMissing",
        BLOCKER,
        False,
        "missing-asset",
        _("The checksum manifest lists a file that was not delivered."),
        _("Deliver the missing file, or correct the manifest."),
    ),
    Code(
        "PROCESSING-InternalError",
        BLOCKER,
        False,
        "other",
        _("The portal could not process the file because of an error of its own."),
        _("Nothing: the studio has been notified and will process it again."),
    ),
)

CODES: dict[str, Code] = {entry.code: entry for entry in _TABLE}


def severity_of(code: str) -> Severity:
    """The default severity of `code`; a code missing from the table is a bug of the
    check that wrote it (KeyError), so that its test fails."""
    return CODES[code].severity


def stored_severity(finding: dict) -> str:
    """A stored finding's severity; one stored before severities existed takes its
    code's default, and an unknown code is a blocker (its file failed)."""
    severity = finding.get("severity")
    if severity in Severity.values:
        return severity
    code = CODES.get(finding.get("code", ""))
    return code.severity if code else Severity.BLOCKER


def reasons_for(findings: Iterable[dict]) -> set[str]:
    """The redelivery reasons (their codes) that the blockers among `findings` map to."""
    return {
        CODES[f["code"]].reason
        for f in findings
        if f.get("code") in CODES and stored_severity(f) == Severity.BLOCKER
    }
