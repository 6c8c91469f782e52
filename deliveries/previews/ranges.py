"""Stored content answered with HTTP range requests (RFC 9110 §14), so that a
``<video>`` element can seek in a proxy without downloading it first.

Django's FileResponse answers whole files only. One range per request is served;
a request for several ranges gets the whole file, as the RFC allows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO

from django.core.files.storage import Storage
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

CHUNK = 256 * 1024
_SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _bytes(handle: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


BEYOND_THE_END = (-1, -1)


def wanted_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte for a satisfiable single range, None for the whole file,
    BEYOND_THE_END for a range that starts past the end (416)."""
    match = _SINGLE_RANGE.fullmatch(header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if match[1]:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    else:  # bytes=-500: the last 500 bytes
        first, last = max(0, size - int(match[2])), size - 1
    if first >= size or first > last:
        return BEYOND_THE_END
    return first, last


def ranged_response(
    request: HttpRequest, storage: Storage, path: str, content_type: str
) -> HttpResponseBase:
    size = storage.size(path)
    wanted = wanted_range(request.headers.get("Range", ""), size)
    response: HttpResponseBase
    if wanted == BEYOND_THE_END:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        response = FileResponse(storage.open(path, "rb"), content_type=content_type)
    else:
        first, last = wanted
        handle = storage.open(path, "rb")
        handle.seek(first)
        response = StreamingHttpResponse(
            _bytes(handle, last - first + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    return response
