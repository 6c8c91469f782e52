"""Checksum manifests: checksum.txt (`<hash>  <name>` lines) and MHL files.

A manifest pins the name and bytes of every file of a delivery; processing verifies
each file against it.
"""

import re
import xml.etree.ElementTree as ET

from django.utils.translation import gettext as _

from . import naming

MANIFEST_NAMES = {"checksum.txt"}
HASH_LENGTHS = {16: "xxh64", 32: "md5"}
_LINE = re.compile(r"^([0-9A-Fa-f]+)\s+\*?(.+?)\s*$")


class ManifestError(ValueError):
    pass


def is_manifest_name(name: str) -> bool:
    return name.lower() in MANIFEST_NAMES or naming.extension_of(name) == "mhl"


def parse(name: str, data: bytes) -> list[tuple[str, str, str]]:
    """(file name, algorithm, lower-case hex hash) for each entry of the manifest."""
    if naming.extension_of(name) == "mhl":
        return _parse_mhl(data)
    return _parse_checksum_txt(data)


def _parse_checksum_txt(data: bytes) -> list[tuple[str, str, str]]:
    entries = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError(_("checksum.txt must be UTF-8 text.")) from None
    for number, line in enumerate(text.splitlines(), start=1):
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
        entries.append((file_name.rsplit("/", 1)[-1], HASH_LENGTHS[len(digest)], digest.lower()))
    return _refuse_conflicts(entries)


def _parse_mhl(data: bytes) -> list[tuple[str, str, str]]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as error:
        raise ManifestError(
            _("The MHL file is not well-formed XML: %(error)s.") % {"error": error}
        ) from None
    entries = []
    for element in root.iter():
        if _local(element.tag) != "hash":
            continue
        file_name = ""
        found: tuple[str, str] | None = None
        for child in element:
            tag = _local(child.tag)
            text = (child.text or "").strip()
            if tag in ("file", "path"):
                file_name = text.rsplit("/", 1)[-1]
            elif tag == "md5":
                found = ("md5", text.lower())
            elif tag in ("xxhash64", "xxhash64be", "xxh64"):
                found = ("xxh64", text.lower())
        if file_name and found:
            entries.append((file_name, *found))
    return _refuse_conflicts(entries)


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
