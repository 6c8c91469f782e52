"""Checksum manifests: checksum.txt (`<hash>  <name>` lines) and MHL files.

A manifest pins the name and bytes of every file of a delivery; processing verifies
each file against it.
"""

import io
import re
import xml.etree.ElementTree as ET
from typing import BinaryIO

from django.utils.translation import gettext as _

from . import naming

MANIFEST_NAMES = {"checksum.txt"}
HASH_LENGTHS = {16: "xxh64", 32: "md5"}
_LINE = re.compile(r"^([0-9A-Fa-f]+)\s+\*?(.+?)\s*$")


class ManifestError(ValueError):
    pass


def is_manifest_name(name: str) -> bool:
    return name.lower() in MANIFEST_NAMES or naming.extension_of(name) == "mhl"


def parse(name: str, source: bytes | BinaryIO) -> list[tuple[str, str, str]]:
    """(file name, algorithm, lower-case hex hash) for each entry of the manifest.

    `source` is the manifest's bytes or an open binary file; a file is read as a
    stream, so the MHL of a 250,000-frame sequence (about 70 MB) is never held whole.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    if naming.extension_of(name) == "mhl":
        return _parse_mhl(handle)
    return _parse_checksum_txt(handle)


def _parse_checksum_txt(handle: BinaryIO) -> list[tuple[str, str, str]]:
    entries = []
    for number, raw in enumerate(handle, start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise ManifestError(_("checksum.txt must be UTF-8 text.")) from None
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match or len(match.group(1)) not in HASH_LENGTHS:
            raise ManifestError(
                _("checksum.txt line %(number)d is not “<xxHash64 or MD5 hash>  <file name>”.")
                % {"number": number}
            )
        digest, file_name = match.groups()
        # Files are delivered flat: "./frame.dpx" and "reel1/frame.dpx" name frame.dpx.
        entries.append(_entry(file_name, HASH_LENGTHS[len(digest)], digest))
    return _refuse_conflicts(entries)


def _parse_mhl(handle: BinaryIO) -> list[tuple[str, str, str]]:
    entries = []
    try:
        for _event, element in ET.iterparse(handle, events=("end",)):
            if _local(element.tag) != "hash":
                continue
            file_name = ""
            found: tuple[str, str] | None = None
            for child in element:
                tag = _local(child.tag)
                text = (child.text or "").strip()
                if tag in ("file", "path"):
                    file_name = text
                elif tag == "md5":
                    found = ("md5", text)
                elif tag in ("xxhash64", "xxhash64be", "xxh64"):
                    found = ("xxh64", text)
            if file_name and found:
                entries.append(_entry(file_name, *found))
            element.clear()  # keep memory flat over a long manifest
    except ET.ParseError as error:
        raise ManifestError(
            _("The MHL file is not well-formed XML: %(error)s.") % {"error": error}
        ) from None
    return _refuse_conflicts(entries)


def _entry(path: str, algorithm: str, digest: str) -> tuple[str, str, str]:
    """One checked entry: a plain file name and a hexadecimal hash of the right size."""
    file_name = path.rsplit("/", 1)[-1]
    digest = digest.lower()
    expected = {"md5": 32, "xxh64": 16}[algorithm]
    if len(digest) != expected or any(c not in "0123456789abcdef" for c in digest):
        raise ManifestError(
            _("The manifest's hash for %(name)s is not a %(size)d-digit hexadecimal value.")
            % {"name": file_name[:100], "size": expected}
        )
    if not file_name or len(file_name) > naming.MAX_NAME_LENGTH:
        raise ManifestError(
            _("The manifest names a file with an empty or too long name (over %(max)d).")
            % {"max": naming.MAX_NAME_LENGTH}
        )
    return (file_name, algorithm, digest)


def _refuse_conflicts(entries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """One entry per name; the same name with two different hashes is an error."""
    seen: dict[str, tuple[str, str, str]] = {}
    for entry in entries:
        earlier = seen.setdefault(entry[0], entry)
        if earlier != entry:
            raise ManifestError(
                _(
                    "The manifest lists %(name)s twice with different hashes; "
                    "deliver a corrected manifest."
                )
                % {"name": entry[0]}
            )
    return list(seen.values())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()
