"""Streaming MD5 and xxHash64, and verification against a checksum manifest."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, TypeVar

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
T = TypeVar("T")


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


class _Stopped(Exception):
    """The work beside the hashing failed: the hashing stops at its next chunk."""


# How often the caller's `tick` (the lease's heartbeat) runs while it waits.
WAIT_SECONDS = 5.0


def digests_alongside(
    open_bytes: Callable[[], Any],  # a context manager giving a binary handle
    work: Callable[[], T],
    *,
    md5: bool,
    xxh64: bool,
    tick: Callable[[], None] | None,
) -> tuple[dict[str, str], T]:
    """(digests, work()): the file's bytes hashed in a second thread while `work` (its
    inspection) runs in this one. hashlib, xxhash and FFmpeg release the GIL, so on
    two cores the hashing costs no time of its own. `tick` runs in this thread only."""
    if not (md5 or xxh64):
        return {}, work()
    stopping = threading.Event()
    outcome: dict[str, Any] = {}

    def stop_check() -> None:
        if stopping.is_set():
            raise _Stopped

    def hash_all() -> None:
        try:
            with open_bytes() as handle:
                outcome["digests"] = digests(handle, md5=md5, xxh64=xxh64, tick=stop_check)
        except _Stopped:
            pass
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    hasher = threading.Thread(target=hash_all, name="checksums", daemon=True)
    hasher.start()
    try:
        value = work()
        while hasher.is_alive():
            hasher.join(WAIT_SECONDS)
            if tick is not None:
                tick()
    except BaseException:
        stopping.set()
        hasher.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["digests"], value
