"""The bytes of an upload in progress, on disk, never whole in memory.

Each upload has a folder under the staging root holding `data` (the bytes received so
far) and `lock`. A PATCH holds an exclusive flock on `lock` while it writes, so two
connections sending to one upload can never interleave bytes; the second is told to
try again (423) instead of waiting on a socket that may be dead. flock, unlike
fcntl's record locks, also excludes a second thread of the same process.

MD5 and xxHash64 are computed as bytes arrive. Hash objects can't be saved to disk
or shared between processes, so the running state of each upload is cached in this
process. A PATCH's second thread hashes the staged bytes from where its process's
state stopped, reading them back from disk as this PATCH writes them: bytes another
process took (several gunicorn workers, a restart) are caught up on while this
PATCH's arrive, not before. Whatever is still unhashed when the last byte is in is
hashed then (complete()): a file is delivered with both checksums whichever worker
took each PATCH.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
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
# per-call cost disappears next to the I/O, small enough to keep memory flat. gunicorn
# receives at most 1 MiB a call and joins larger reads by copying: 4 MiB reads grew a
# worker's memory more (bench/tus_peer.py, 512 MiB: +57 MB against +41 MB).
READ_SIZE = 1024 * 1024
# A body this small is read at once and hashed in the reading thread (a frame of an
# image sequence in its creation, a small PATCH).
SMALL_BODY = 1024 * 1024
REHASH_SIZE = 4 * 1024 * 1024
CACHED_STATES = 512


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
    """MD5 and xxHash64 of the first `position` bytes received."""

    def __init__(self, md5: Any = None, xxh64: Any = None, position: int = 0) -> None:
        self.md5 = md5 or hashlib.md5(usedforsecurity=False)
        self.xxh64 = xxh64 or xxhash.xxh64()
        self.position = position

    def update(self, data: bytes | memoryview) -> None:
        self.md5.update(data)
        self.xxh64.update(data)
        self.position += len(data)

    def copy(self) -> Digests:
        return Digests(self.md5.copy(), self.xxh64.copy(), self.position)

    def hexdigests(self) -> dict[str, str]:
        return {"md5": self.md5.hexdigest(), "xxh64": self.xxh64.hexdigest()}


# How often a long PATCH records that its upload is still alive.
KEEPALIVE_SECONDS = 60.0

_states: OrderedDict[str, Digests] = OrderedDict()
_states_lock = threading.Lock()


def digests_at(upload_id: Any, offset: int) -> Digests:
    """This process's hashes of this upload's first bytes, at most `offset` of them
    (a fresh state if it has none). Call with the upload's lock held."""
    with _states_lock:
        cached = _states.pop(str(upload_id), None)
    if cached is None or cached.position > offset:
        return Digests()  # a restart, a first PATCH here, or bytes dropped since
    return cached


def catch_up(upload_id: Any, digests: Digests, offset: int) -> None:
    """Hash the staged bytes from `digests.position` to `offset`, from disk."""
    if digests.position >= offset:
        return
    buffer = bytearray(REHASH_SIZE)
    view = memoryview(buffer)
    with open(data_path(upload_id), "rb") as handle:
        handle.seek(digests.position)
        while digests.position < offset:
            count = handle.readinto(view[: min(REHASH_SIZE, offset - digests.position)])
            if not count:
                raise UploadGone  # fewer bytes on disk than recorded
            digests.update(view[:count])


def complete(upload_id: Any, digests: Digests, length: int) -> Digests:
    """The hashes of all `length` staged bytes: every delivered file has both."""
    catch_up(upload_id, digests, length)
    return digests


def remember(upload_id: Any, offset: int, digests: Digests) -> None:
    """Keep `digests` for this upload's next PATCH in this process; they hash its first
    bytes, up to `offset` (the bytes recorded) or fewer."""
    if digests.position > offset:
        return  # they hashed bytes that were dropped: never trust them later
    with _states_lock:
        _states[str(upload_id)] = digests
        _states.move_to_end(str(upload_id))
        while len(_states) > CACHED_STATES:
            _states.popitem(last=False)


def forget(upload_id: Any) -> None:
    with _states_lock:
        _states.pop(str(upload_id), None)


class _Follower(threading.Thread):
    """Hashes an upload's staged bytes from `digests.position`, reading them back from
    disk (the page cache: they were just written) as far as the writer says it has
    written, until stopped. It holds no bytes of its own beyond one read, so memory
    stays flat however far behind it starts or however fast bytes arrive."""

    def __init__(self, upload_id: Any, digests: Digests, written: int) -> None:
        super().__init__(name=f"tus-hash-{upload_id}", daemon=True)
        self.path = data_path(upload_id)
        self.digests = digests
        self.written = written
        self.stopped = False
        self.changed = threading.Condition()

    def wrote(self, written: int) -> None:
        with self.changed:
            self.written = written
            self.changed.notify()

    def stop(self) -> None:
        """Stop at the end of the current read; the hashes then stand wherever it got."""
        with self.changed:
            self.stopped = True
            self.changed.notify()
        self.join()

    def run(self) -> None:
        view = memoryview(bytearray(READ_SIZE))
        digests = self.digests
        try:
            with open(self.path, "rb", buffering=0) as handle:
                handle.seek(digests.position)
                while True:
                    with self.changed:
                        while digests.position >= self.written and not self.stopped:
                            self.changed.wait()
                        if self.stopped:
                            return
                        written = self.written
                    while digests.position < written and not self.stopped:
                        count = handle.readinto(view[: min(READ_SIZE, written - digests.position)])
                        if not count:
                            return  # truncated under us: complete() finds out
                        digests.update(view[:count])
        except OSError:
            return  # the staging folder went (terminated): nothing to deliver


# Bytes --------------------------------------------------------------------------


def append(
    upload_id: Any,
    stream: Any,
    *,
    offset: int,
    length: int,
    digests: Digests | None,
    chunk_hash: Any = None,
    keepalive: Callable[[], None] | None = None,
    look_at: int | None = None,
    look: Callable[[int], int | None] | None = None,
    whole: bool = False,
) -> int:
    """Copy up to `length` bytes from `stream` to the staged data at `offset`.

    Returns how many arrived: fewer than `length` when the client went away. Bytes
    past `offset` left by an earlier connection that was cut are dropped first: only
    the recorded offset is trusted. Call with the upload's lock held.

    `digests` (None: hash nothing, a part of a concatenated upload) move forward over
    the staged bytes, from wherever they stood, as far as this PATCH gets them: in a
    second thread that reads back what this one wrote (_Follower; hashlib and the file
    and socket calls release the GIL), stopped when the bytes end. They may then stand
    short of `offset + received`; remember() keeps them so, complete() finishes them.
    `chunk_hash` (the client's Upload-Checksum) hashes exactly these bytes, here.

    Once `look_at` bytes are staged and written out, `look(staged)` reads them (the
    early verdict, early.py) and returns the size of its next look, or None. Reads stop
    at that size, so a header is looked at as soon as it arrived, not a READ_SIZE later.
    `whole`: these bytes are the whole file, in one request.
    """
    looks_inside = look is not None and look_at is not None and offset < look_at < offset + length
    if length <= SMALL_BODY and (whole or not looks_inside):
        # One read (a sequence's frame): a thread to overlap with would cost more than
        # the hashing it overlaps. A look due inside these bytes is taken after them
        # only when they are the whole file: its answer waits for all of them anyway.
        hashers: list[Callable[[Any], None]] = []
        if digests is not None and digests.position == offset:
            hashers.append(digests.update)  # else behind: complete() hashes these later
        if chunk_hash is not None:
            hashers.append(chunk_hash.update)
        return _append_small(upload_id, stream, offset, length, hashers, look_at, look)
    follower = _Follower(upload_id, digests, offset) if digests is not None else None
    if follower is not None:
        follower.start()
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
                handle.flush()
                if chunk_hash is not None:
                    chunk_hash.update(chunk)
                received += len(chunk)
                del chunk  # freed before the next read allocates its own: one MiB held, not two
                if follower is not None:
                    follower.wrote(offset + received)
                if look is not None and look_at is not None and offset + received >= look_at:
                    look_at = look(offset + received)
                if keepalive is not None and time.monotonic() >= next_keepalive:
                    # A single PATCH can last hours: show the upload is alive meanwhile.
                    keepalive()
                    next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
    finally:
        if follower is not None:
            follower.stop()
    return received


def _append_small(
    upload_id: Any,
    stream: Any,
    offset: int,
    length: int,
    hashers: list[Callable[[Any], None]],
    look_at: int | None,
    look: Callable[[int], int | None] | None,
) -> int:
    chunk = read_body(stream, length, hashers)
    with open(data_path(upload_id), "r+b") as handle:
        handle.truncate(offset)
        handle.seek(offset)
        handle.write(chunk)
    if look is not None and look_at is not None and offset + len(chunk) >= look_at:
        look(offset + len(chunk))
    return len(chunk)


def read_body(stream: Any, length: int, hashers: list[Callable[[Any], None]]) -> bytes:
    """A small body (at most SMALL_BODY) in one read, hashed; fewer than `length`
    bytes when the client went away."""
    try:
        chunk = stream.read(length) if length else b""
    except OSError:  # the connection broke
        chunk = b""
    for update in hashers:
        update(chunk)
    return chunk


def assemble(upload_id: Any, parts: list[tuple[Any, int]]) -> Digests:
    """Make the staged data of `upload_id` the parts' bytes, in order (tus
    concatenation); returns their hashes. Call with every part's lock held.

    The first part's data becomes the whole's by a hard link: no byte of it is copied,
    and the part keeps its bytes until it is discarded, so a final upload refused after
    this (a file of the name delivered meanwhile, say) leaves every part as it was (the
    caller trims what was appended to the first, see trim), to be named again without
    sending a byte again. A first part already linked elsewhere (a process that died
    between delivering and discarding its parts) is copied instead: its other link may
    be a delivered file. A part with fewer bytes on disk than recorded is gone
    (UploadGone), never padded. The others are appended inside the kernel
    (copy_file_range: no byte passes through Python; a reflink, where a file system has
    them, would need block-aligned parts, which clients don't send), then the whole is
    hashed in one read. Measured on 256 MiB in 4 parts: 0.5 s, against 0.8 s for
    appending through Python and hashing as it went; hashing alone takes 0.43 s of it.
    """
    (first, first_length), rest = parts[0], parts[1:]
    if not _link(first, first_length, upload_id):
        rest, first_length = parts, 0
    total = first_length
    with open(data_path(upload_id), "r+b") as target:
        target.truncate(first_length)
        target.seek(first_length)
        for part, length in rest:
            with open(data_path(part), "rb") as source:
                _copy(source, target, length)
            total += length
    digests = Digests()
    catch_up(upload_id, digests, total)
    return digests


def trim(part: Any, length: int) -> None:
    """A part whose final upload was refused after assemble linked it: the bytes
    appended to it go, unless its data is still linked elsewhere (then it is a
    delivered file's too, and assemble will copy the part instead)."""
    try:
        found = data_path(part).stat()
    except FileNotFoundError:
        return
    if found.st_nlink == 1 and found.st_size > length:
        os.truncate(data_path(part), length)


def _link(part: Any, length: int, upload_id: Any) -> bool:
    """The part's data linked as the upload's (see assemble), or False to copy it."""
    try:
        found = data_path(part).stat()
    except FileNotFoundError:
        raise UploadGone from None  # discarded by a final upload that just delivered it
    if found.st_size < length:
        raise UploadGone  # bytes recorded but lost from disk: never padded with zeros
    if found.st_nlink != 1:
        return False
    data_path(upload_id).unlink()
    try:
        os.link(data_path(part), data_path(upload_id))
    except OSError as error:
        # A file system without hard links (or at its limit of them) copies instead.
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
            raise
        data_path(upload_id).touch()
        return False
    return True


def _copy(source: BinaryIO, target: BinaryIO, length: int) -> None:
    left = length
    try:
        while left:
            copied = os.copy_file_range(source.fileno(), target.fileno(), left)
            if not copied:
                raise UploadGone  # a part had fewer bytes on disk than recorded
            left -= copied
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        # No in-kernel copy here (another file system for a part, an old kernel).
        while left:
            chunk = source.read(min(READ_SIZE, left))
            if not chunk:
                raise UploadGone from None
            target.write(chunk)
            left -= len(chunk)


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
