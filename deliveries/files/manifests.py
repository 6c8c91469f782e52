"""Checksum manifests: checksum.txt (`<hash>  <name>` lines) and MHL files.

A manifest pins the name and bytes of every file of a delivery; processing verifies
each file against it.
"""

import io
import re
from typing import Any, BinaryIO
from xml.parsers import expat

from django.template.defaultfilters import filesizeformat
from django.utils import formats
from django.utils.translation import gettext as _

from . import naming

MANIFEST_NAMES = {"checksum.txt"}
HASH_LENGTHS = {16: "xxh64", 32: "md5"}
_LINE = re.compile(r"^([0-9A-Fa-f]+)\s+\*?(.+?)\s*$")
_HEX = re.compile(r"[0-9a-f]+")

# What one manifest may hold, refused before any of it is parsed. A delivery holds up
# to 250,000 files (an image sequence); its MHL 1.1, with each frame's size and dates,
# is about 300 bytes a frame: 75 MB. The caps leave room for long paths and a few
# duplicate lines, and keep a hostile manifest from holding a web process for long.
MAX_BYTES = 256 * 1024 * 1024
MAX_ENTRIES = 260_000
# An MHL entry is a <hash> and fewer than 10 elements inside it; a manifest padded with
# millions of other elements is not one a tool wrote.
MAX_ELEMENTS = 16 * MAX_ENTRIES
MAX_DEPTH = 32
# A checksum.txt line, or the text of an MHL field: a hash and a path.
MAX_LINE = 8192
READ_SIZE = 64 * 1024

Entry = tuple[str, str, str]


class ManifestError(ValueError):
    pass


def is_manifest_name(name: str) -> bool:
    return name.lower() in MANIFEST_NAMES or naming.extension_of(name) == "mhl"


def check_size(size: int) -> None:
    """Refuse a manifest too large to read, before a byte of it is parsed or stored."""
    if size > MAX_BYTES:
        raise ManifestError(
            _(
                "A checksum manifest may be at most %(limit)s (enough for %(count)s "
                "files); this one is %(size)s. Deliver a manifest that lists only this "
                "request's files."
            )
            % {
                "limit": filesizeformat(MAX_BYTES),
                "count": formats.number_format(MAX_ENTRIES, force_grouping=True),
                "size": filesizeformat(size),
            }
        )


def read_entries(name: str, content: Any) -> list[Entry]:
    """The entries of the manifest `content` (a django File, staged or stored), after
    checking its size: call it before taking any lock, since a large manifest takes
    seconds. `content` is left at its start, ready to be stored."""
    check_size(content.size)
    content.seek(0)
    try:
        return parse(name, content)
    finally:
        content.seek(0)


def parse(name: str, source: bytes | BinaryIO) -> list[Entry]:
    """(file name, algorithm, lower-case hex hash) for each entry of the manifest.

    `source` is the manifest's bytes or an open binary file, read as a stream that
    keeps nothing but the entries: memory stays flat whatever the file holds.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    if naming.extension_of(name) == "mhl":
        return _parse_mhl(handle)
    return _parse_checksum_txt(handle)


class _Entries:
    """Entries as they are read: one per name, and no more than MAX_ENTRIES."""

    def __init__(self) -> None:
        self.by_name: dict[str, Entry] = {}

    def add(self, path: str, algorithm: str, digest: str) -> None:
        entry = _entry(path, algorithm, digest)
        earlier = self.by_name.setdefault(entry[0], entry)
        if earlier != entry:
            raise ManifestError(
                _(
                    "The manifest lists %(name)s twice with different hashes; "
                    "deliver a corrected manifest."
                )
                % {"name": entry[0]}
            )
        if len(self.by_name) > MAX_ENTRIES:
            raise ManifestError(
                _(
                    "The manifest lists more than %(count)s files, more than a request "
                    "holds. Deliver a manifest that lists only this request's files."
                )
                % {"count": formats.number_format(MAX_ENTRIES, force_grouping=True)}
            )

    def as_list(self) -> list[Entry]:
        return list(self.by_name.values())


def _parse_checksum_txt(handle: BinaryIO) -> list[Entry]:
    entries = _Entries()
    number = 0
    while raw := handle.readline(MAX_LINE + 1):
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise ManifestError(
                _("checksum.txt line %(number)d is longer than %(max)d characters.")
                % {"number": number, "max": MAX_LINE}
            )
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
        entries.add(file_name, HASH_LENGTHS[len(digest)], digest)
    return entries.as_list()


_MHL_FIELDS = {
    "file": "path",
    "path": "path",
    "md5": "md5",
    "xxhash64": "xxh64",
    "xxhash64be": "xxh64",
    "xxh64": "xxh64",
}


class _MhlReader:
    """expat callbacks that keep only the <hash> being read: no tree is built, so a
    manifest of millions of elements costs no more memory than one of a few."""

    def __init__(self) -> None:
        self.entries = _Entries()
        self.depth = 0
        self.elements = 0
        self.hash_depth = 0  # the depth of the <hash> being read; 0 outside one
        self.field = ""  # the <hash> child whose text is being read
        self.text: list[str] = []
        self.text_size = 0
        self.path = ""
        self.found: tuple[str, str] | None = None

    def start(self, tag: str, _attributes: Any) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > MAX_DEPTH or self.elements > MAX_ELEMENTS:
            raise ManifestError(
                _(
                    "The MHL file is not one a checksum tool writes: it nests deeper than "
                    "%(depth)d levels or holds more than %(count)s elements. Deliver the "
                    "MHL file your checksum tool wrote."
                )
                % {
                    "depth": MAX_DEPTH,
                    "count": formats.number_format(MAX_ELEMENTS, force_grouping=True),
                }
            )
        local = _local(tag)
        if local == "hash":
            self.hash_depth, self.path, self.found = self.depth, "", None
        elif self.hash_depth and self.depth == self.hash_depth + 1 and local in _MHL_FIELDS:
            self.field, self.text, self.text_size = local, [], 0

    def characters(self, data: str) -> None:
        # Past MAX_LINE the text is wrong anyway (a name or hash that long is refused):
        # keep just enough to say so.
        if self.field and self.text_size <= MAX_LINE:
            self.text.append(data)
            self.text_size += len(data)

    def end(self, tag: str) -> None:
        if self.field and self.depth == self.hash_depth + 1:
            kind = _MHL_FIELDS[self.field]
            text = "".join(self.text).strip()
            if kind == "path":
                self.path = text
            else:
                self.found = (kind, text)
            self.field, self.text = "", []
        elif self.hash_depth and self.depth == self.hash_depth:
            if self.path and self.found:
                self.entries.add(self.path, *self.found)
            self.hash_depth = 0
        self.depth -= 1


def _refuse_entities(*_args: object) -> None:
    raise ManifestError(_("The MHL file declares XML entities, which a manifest never needs."))


def _parse_mhl(handle: BinaryIO) -> list[Entry]:
    reader = _MhlReader()
    parser = expat.ParserCreate(namespace_separator="}")
    # No DTD tricks: external entities are never fetched, declared ones are refused
    # (no entity expansion, so no "billion laughs").
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.buffer_text = True
    parser.ordered_attributes = True  # a list is cheaper than a dict, and unused
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.characters
    try:
        while chunk := handle.read(READ_SIZE):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise ManifestError(
            _("The MHL file is not well-formed XML: %(error)s.") % {"error": error}
        ) from None
    return reader.entries.as_list()


def _entry(path: str, algorithm: str, digest: str) -> Entry:
    """One checked entry: a plain file name and a hexadecimal hash of the right size."""
    file_name = path.rsplit("/", 1)[-1]
    digest = digest.lower()
    expected = {"md5": 32, "xxh64": 16}[algorithm]
    if len(digest) != expected or not _HEX.fullmatch(digest):
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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()
