"""Streaming MD5 and xxHash64, and verification against a checksum manifest."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO, Protocol

import xxhash

if TYPE_CHECKING:

    class _Hasher(Protocol):
        """What hashlib's and xxhash's hashers have in common here."""

        def update(self, data: memoryview, /) -> None: ...
        def hexdigest(self) -> str: ...


# Large enough that the per-call cost of Python disappears next to the hashing, small
# enough that a 400 GB camera file never sits in memory.
CHUNK_SIZE = 4 * 1024 * 1024

ALGORITHM_NAMES = {"md5": "MD5", "xxh64": "xxHash64"}


def digests(
    handle: BinaryIO, *, md5: bool = True, xxh64: bool = True, tick: Callable[[], None] | None
) -> dict[str, str]:
    """Read `handle` once, in chunks, and return the requested hex digests."""
    hashers: dict[str, _Hasher] = {}
    if md5:
        hashers["md5"] = hashlib.md5(usedforsecurity=False)
    if xxh64:
        hashers["xxh64"] = xxhash.xxh64()
    if not hashers:
        return {}
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    updates = [h.update for h in hashers.values()]
    readinto = getattr(handle, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(view)
            if not count:
                break
            chunk = view[:count]
        else:
            data = handle.read(CHUNK_SIZE)
            if not data:
                break
            chunk = memoryview(data)
        for update in updates:
            update(chunk)
        if tick is not None:
            tick()
    return {name: h.hexdigest() for name, h in hashers.items()}
