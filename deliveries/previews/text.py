"""A timed-text file's first cues, as text: the side panel lists them, the row shows
the first. Parsed as processing parses it (expat, streaming, no entities), and only
as far as the cues shown."""

from __future__ import annotations

from typing import Any, BinaryIO
from xml.parsers import expat

from .storage import Made

CUES_SHOWN = 5
READ_CHUNK = 64 * 1024


class _Enough(Exception):
    pass


def first_cues(handle: BinaryIO, count: int = CUES_SHOWN) -> list[dict[str, str]]:
    cues: list[dict[str, str]] = []
    open_cue: dict[str, Any] | None = None
    depth = 0
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: object) -> None:
        raise _Enough

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal open_cue, depth
        local = name.rpartition(" ")[2]
        if open_cue is not None:
            depth += 1
            if local == "br":
                open_cue["text"].append(" ")
        elif local == "p":
            open_cue = {"begin": attributes.get("begin", ""), "text": []}
            depth = 0

    def end(name: str) -> None:
        nonlocal open_cue, depth
        if open_cue is None:
            return
        if depth:
            depth -= 1
            return
        text = " ".join("".join(open_cue["text"]).split())
        cues.append({"begin": open_cue["begin"], "text": text})
        open_cue = None
        if len(cues) >= count:
            raise _Enough

    def characters(data: str) -> None:
        if open_cue is not None:
            open_cue["text"].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.EntityDeclHandler = refuse
    try:
        while chunk := handle.read(READ_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (_Enough, expat.ExpatError):
        pass
    return cues


def make(handle: BinaryIO) -> Made:
    cues = first_cues(handle)
    return Made(
        kind="text",
        caption=cues[0]["text"] if cues else "",
        info={"cues": cues},
    )
