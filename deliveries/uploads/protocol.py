"""The wire format of tus 1.0.0: its headers, answers and the values clients send.
https://tus.io/protocols/resumable-upload"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.utils.translation import gettext as _

from .errors import TusError
from .models import Upload

TUS_VERSION = "1.0.0"


EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum,concatenation"


CHECKSUMS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256}


OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


# Not in HTTP's registry: the tus checksum extension's "Checksum Mismatch".
CHECKSUM_MISMATCH = 460


def tus(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def answer(status: int, message: str = "", **headers: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return tus(response)


def expires(upload: Upload) -> str:
    return http_date(upload.expires_at.timestamp())


def method(request: HttpRequest) -> str:
    # Some proxies pass only GET and POST: tus clients can send the method in a header.
    override = request.headers.get("X-HTTP-Method-Override", "").upper()
    if request.method == "POST" and override in ("PATCH", "DELETE", "HEAD"):
        return override
    return request.method or ""


def check_version(request: HttpRequest) -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise TusError(
            412,
            _("This server speaks tus %(version)s.") % {"version": TUS_VERSION},
            Tus_Version=TUS_VERSION,
        )


def parse_metadata(header: str) -> dict[str, str]:
    metadata = {}
    for pair in header.split(","):
        key, _sep, value = pair.strip().partition(" ")
        if not key:
            continue
        try:
            metadata[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, _("Upload-Metadata is not valid base64 text.")) from None
    return metadata


def parse_checksum(request: HttpRequest) -> tuple[Any, bytes] | None:
    header = request.headers.get("Upload-Checksum", "")
    if not header:
        return None
    algorithm, _sep, encoded = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUMS:
        raise TusError(
            400,
            _("Unsupported checksum algorithm; use one of: %(names)s.")
            % {"names": ", ".join(CHECKSUMS)},
        )
    try:
        expected = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise TusError(400, _("Upload-Checksum is not valid base64.")) from None
    return CHECKSUMS[algorithm.lower()](), expected


def content_length(request: HttpRequest) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise TusError(400, _("Content-Length is not a number.")) from None
    if length < 0:
        raise TusError(400, _("Content-Length is not a number."))
    return length


def locked_message() -> str:
    return _("Another connection is sending bytes to this upload; try again in a moment.")
