"""A tus client for tests, as a browser is: signed in with the session cookie and the
CSRF header, speaking to the running test server (`live_server`)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import requests
import xxhash
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

MIB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def signed_in_headers(user, origin: str | None = None) -> dict[str, str]:
    """What a signed-in browser sends: its session cookie, and its CSRF cookie with the
    matching X-CSRFToken header (and its Origin, which production's CSRF check wants).
    Production cookies are Secure: over plain HTTP they are carried by hand, as here."""
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    token = get_random_string(32)
    headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}",
        "X-CSRFToken": token,
    }
    if origin:
        headers["Origin"] = origin
    return headers


def encode_metadata(fields: dict[str, str]) -> str:
    """tus Upload-Metadata: each key with its value in base64."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items()
    )


def metadata(request_id: int, name: str, **extra: str) -> str:
    return encode_metadata({"request": str(request_id), "filename": name, **extra})


def write_file(path: Path, size: int, seed: int = 1) -> Path:
    """`size` bytes that differ from chunk to chunk, written without holding them all."""
    block = hashlib.sha256(str(seed).encode()).digest() * (MIB // 32)
    with open(path, "wb") as handle:
        written = 0
        counter = 0
        while written < size:
            piece = counter.to_bytes(8, "big") + block[8:]
            piece = piece[: size - written]
            handle.write(piece)
            written += len(piece)
            counter += 1
    return path


def digests_of(path: Path) -> dict[str, str]:
    md5, xxh = hashlib.md5(), xxhash.xxh64()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * MIB):
            md5.update(chunk)
            xxh.update(chunk)
    return {"md5": md5.hexdigest(), "xxh64": xxh.hexdigest()}


def create(live_server, user, request_id: int, name: str, length: int) -> requests.Response:
    return requests.post(
        live_server.url + reverse("tus-create"),
        headers={
            **TUS,
            **signed_in_headers(user),
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(request_id, name),
        },
        timeout=10,
    )


def create_with_upload(
    live_server, user, request_id: int, name: str, length: int, data: bytes
) -> requests.Response:
    """tus creation-with-upload: the first bytes ride along with the creation."""
    return requests.post(
        live_server.url + reverse("tus-create"),
        data=data,
        headers={
            **TUS,
            **signed_in_headers(user),
            "Upload-Length": str(length),
            "Upload-Metadata": metadata(request_id, name),
            "Content-Type": "application/offset+octet-stream",
        },
        timeout=10,
    )


def head(url: str, user) -> requests.Response:
    return requests.head(url, headers={**TUS, **signed_in_headers(user)}, timeout=10)


def patch(url: str, user, data: bytes, offset: int, **headers: str) -> requests.Response:
    return requests.patch(
        url,
        data=data,
        headers={
            **TUS,
            **signed_in_headers(user),
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **headers,
        },
        timeout=10,
    )
