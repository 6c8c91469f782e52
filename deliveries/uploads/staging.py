"""The bytes of an upload in progress, on disk, never whole in memory.

Each upload has a folder under the staging root holding `data` (the bytes received so
far) and `lock`. A PATCH holds an exclusive flock on `lock` while it writes, so two
connections sending to one upload can never interleave bytes; the second is told to
try again (423) instead of waiting on a socket that may be dead. flock, unlike
fcntl's record locks, also excludes a second thread of the same process.

MD5 and xxHash64 are computed as bytes arrive. Hash objects can't be saved to disk,
so the running state of each upload is cached in this process; a resume served by
another process (or after a restart) hashes the bytes already staged once, from disk,
and carries on from there.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import queue
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import xxhash
from django.conf import settings
from django.core.files import File

# What one read from the client's connection may hold: large enough that Python's
# per-call cost disappears next to the I/O, small enough to keep memory flat.
READ_SIZE = 4 * 1024 * 1024
REHASH_SIZE = 4 * 1024 * 1024
CACHED_STATES = 512
HASH_QUEUE = 4


class UploadLocked(Exception):
    """Another connection is writing to this upload right now."""


class UploadGone(Exception):
    """The upload's staging folder is gone (terminated, expired or delivered)."""


def staging_root() -> Path:
    # Inside the media root by default: the finished file then moves into storage with
    # a rename on the same file system instead of a second full copy.
    configured = getattr(settings, "UPLOAD_STAGING_ROOT", None)
    return Path(configured) if configured else Path(settings.MEDIA_ROOT) / ".uploads"


def folder(upload_id: Any) -> Path:
    return staging_root() / str(upload_id)


def data_path(upload_id: Any) -> Path:
    return folder(upload_id) / "data"


def create(upload_id: Any) -> None:
    path = folder(upload_id)
    path.mkdir(parents=True, exist_ok=False)
    data_path(upload_id).touch()


def staged_size(upload_id: Any) -> int:
    try:
        return data_path(upload_id).stat().st_size
    except FileNotFoundError:
        raise UploadGone from None


def remove(upload_id: Any) -> None:
    forget(upload_id)
    shutil.rmtree(folder(upload_id), ignore_errors=True)


_held = threading.local()


@contextmanager
def locked(upload_id: Any) -> Iterator[None]:
    """Hold the upload's exclusive lock, or raise UploadLocked at once. A thread that
    holds it already (a creation that goes on to take the first bytes) keeps it."""
    held: set[str] = _held.__dict__.setdefault("ids", set())
    key = str(upload_id)
    if key in held:
        yield
        return
    try:
        fd = os.open(folder(upload_id) / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        raise UploadGone from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadLocked from None
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
    finally:
        os.close(fd)  # closing releases the lock


# Hashes --------------------------------------------------------------------------


class Digests:
    """MD5 and xxHash64 of the bytes received so far."""

    def __init__(self, md5: Any = None, xxh64: Any = None) -> None:
        self.md5 = md5 or hashlib.md5(usedforsecurity=False)
        self.xxh64 = xxh64 or xxhash.xxh64()

    def update(self, data: bytes | memoryview) -> None:
        self.md5.update(data)
        self.xxh64.update(data)

    def copy(self) -> Digests:
        return Digests(self.md5.copy(), self.xxh64.copy())

    def hexdigests(self) -> dict[str, str]:
        return {"md5": self.md5.hexdigest(), "xxh64": self.xxh64.hexdigest()}


class SkippedDigests(Digests):
    """No hashing: the file is delivered without checksums, which processing adds."""

    def __init__(self) -> None:
        pass

    def update(self, data: bytes | memoryview) -> None:
        pass

    def copy(self) -> Digests:
        return self

    def hexdigests(self) -> dict[str, str]:
        return {"md5": "", "xxh64": ""}


# How often a long PATCH records that its upload is still alive.
KEEPALIVE_SECONDS = 60.0

# Staged bytes re-hashed at most when a PATCH finds no running hash in this process.
REHASH_LIMIT = 256 * 1024 * 1024

_states: OrderedDict[str, tuple[int, Digests]] = OrderedDict()
_states_lock = threading.Lock()


def digests_at(upload_id: Any, offset: int) -> Digests:
    """The hashes of the first `offset` staged bytes. Call with the upload's lock held."""
    with _states_lock:
        cached = _states.pop(str(upload_id), None)
    if cached is not None and cached[0] == offset:
        return cached[1]
    if offset > REHASH_LIMIT:
        # Another process took the earlier bytes (several web workers): re-reading them
        # on every PATCH would cost the square of the size. Hash nothing more here;
        # processing computes both checksums once, from the stored file.
        return SkippedDigests()
    digests = Digests()
    buffer = bytearray(REHASH_SIZE)
    view = memoryview(buffer)
    remaining = offset
    with open(data_path(upload_id), "rb") as handle:
        while remaining:
            count = handle.readinto(view[: min(REHASH_SIZE, remaining)])
            if not count:
                break
            digests.update(view[:count])
            remaining -= count
    return digests


def remember(upload_id: Any, offset: int, digests: Digests) -> None:
    with _states_lock:
        _states[str(upload_id)] = (offset, digests)
        _states.move_to_end(str(upload_id))
        while len(_states) > CACHED_STATES:
            _states.popitem(last=False)


def forget(upload_id: Any) -> None:
    with _states_lock:
        _states.pop(str(upload_id), None)


# Bytes --------------------------------------------------------------------------


def append(
    upload_id: Any,
    stream: Any,
    *,
    offset: int,
    length: int,
    digests: Digests,
    chunk_hash: Any = None,
    keepalive: Callable[[], None] | None = None,
    look_at: int | None = None,
    look: Callable[[int], int | None] | None = None,
) -> int:
    """Copy up to `length` bytes from `stream` to the staged data at `offset`.

    Returns how many arrived: fewer than `length` when the client went away. Bytes
    past `offset` left by an earlier connection that was cut are dropped first: only
    the recorded offset is trusted. Call with the upload's lock held.

    Hashing runs in a second thread, overlapping the reads and writes of this one
    (hashlib and the file and socket calls release the GIL); the queue between them
    holds at most HASH_QUEUE reads, so memory stays flat however large the upload.

    Once `look_at` bytes are staged and written out, `look(staged)` reads them (the
    early verdict, early.py) and returns the size of its next look, or None. Reads stop
    at that size, so a header is looked at as soon as it arrived, not a READ_SIZE later.
    """
    hashers = [digests.update]
    if chunk_hash is not None:
        hashers.append(chunk_hash.update)
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=HASH_QUEUE)

    def hash_chunks() -> None:
        while (chunk := pending.get()) is not None:
            for update in hashers:
                update(chunk)

    hasher = threading.Thread(target=hash_chunks, name=f"tus-hash-{upload_id}", daemon=True)
    hasher.start()
    received = 0
    next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
    try:
        with open(data_path(upload_id), "r+b") as handle:
            handle.truncate(offset)
            handle.seek(offset)
            while received < length:
                wanted = min(READ_SIZE, length - received)
                if look is not None and look_at is not None and look_at > offset + received:
                    wanted = min(wanted, look_at - offset - received)
                try:
                    chunk = stream.read(wanted)
                except OSError:  # the connection broke; keep what arrived
                    break
                if not chunk:
                    break
                handle.write(chunk)
                pending.put(chunk)
                received += len(chunk)
                if look is not None and look_at is not None and offset + received >= look_at:
                    handle.flush()
                    look_at = look(offset + received)
                if keepalive is not None and time.monotonic() >= next_keepalive:
                    # A single PATCH can last hours: show the upload is alive meanwhile.
                    keepalive()
                    next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
    finally:
        pending.put(None)
        hasher.join()
    return received


def truncate(upload_id: Any, offset: int) -> None:
    os.truncate(data_path(upload_id), offset)


class StagedFile(File):
    """A finished upload, handed to storage. FileSystemStorage moves a file that has a
    temporary_file_path() into place (a rename on one file system) instead of copying
    its bytes; other storages stream it in chunks."""

    def __init__(self, upload_id: Any) -> None:
        self._path = data_path(upload_id)
        handle: BinaryIO = open(self._path, "rb")  # noqa: SIM115 (closed by the caller)
        super().__init__(handle, name=self._path.name)

    def temporary_file_path(self) -> str:
        return str(self._path)
