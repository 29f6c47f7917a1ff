"""Where media files live.

:class:`Storage` is the interface the rest of the project codes against; :class:`LocalStorage`
keeps files under a directory (the embedded default, ``instance/media``), :class:`MemoryStorage`
keeps them in a dict (tests, previews), :class:`app.media.s3.S3Storage` keeps them in an
S3-compatible bucket (implements the same five methods and returns ``None`` from
:meth:`Storage.path_for`). A backend that cannot reach its service raises
:class:`StorageUnavailable`.

Keys are relative, slash-separated names such as ``ab/cd/<sha256>.webp``. Only ASCII letters,
digits, ``_`` and ``-`` are allowed in each segment, plus one ``.ext`` on the last segment, so a
key can never climb out of the storage root or name a hidden file (see :func:`validate_key`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final, Protocol, runtime_checkable

__all__ = [
    "InvalidKey",
    "StorageUnavailable",
    "LocalStorage",
    "MemoryStorage",
    "Storage",
    "WriteLog",
    "put_file",
    "put_hashed",
    "validate_key",
]

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
_KEY_RE: Final = re.compile(rf"(?:{_SEGMENT}/){{0,15}}{_SEGMENT}(?:\.[A-Za-z0-9]{{1,10}})?")
_MAX_KEY_LENGTH: Final = 512
#: Bytes copied (and hashed) at a time when a stream is stored.
COPY_CHUNK: Final = 1024 * 1024


class InvalidKey(ValueError):
    """A storage key that is not a plain relative name (traversal, absolute path, odd bytes)."""


class StorageUnavailable(RuntimeError):
    """The storage could not be reached or refused the request (network, credentials, bucket).

    Backends raise it instead of their client library's errors, so callers can tell "try again
    later" from a missing key (``KeyError``) or a bad one (:class:`InvalidKey`).
    """


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a well-formed storage key, else raise :class:`InvalidKey`.

    Accepted: ``seg/seg/name.ext`` where each segment starts with an ASCII letter or digit and
    continues with letters, digits, ``_`` or ``-``. Refused among others: ``..``, ``.``, empty
    segments, leading ``/``, backslashes, NUL, non-ASCII letters and names over 512 characters.
    """
    if not isinstance(key, str) or len(key) > _MAX_KEY_LENGTH or _KEY_RE.fullmatch(key) is None:
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


@runtime_checkable
class Storage(Protocol):
    """A flat namespace of immutable blobs addressed by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing any previous content atomically."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; ``KeyError`` if there are none."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds data."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def path_for(self, key: str) -> str | None:
        """A local file path to serve ``key`` from (``send_file``), or ``None`` if remote."""
        ...


class LocalStorage:
    """Files under ``root``; the key is the relative path.

    Writes go to a temporary file in the target directory which is flushed, fsynced (unless
    ``fsync=False``) and renamed over the final name with :func:`os.replace`, so readers see the
    old file or the new one, never a partial one. Temporary names start with a dot and so can
    never collide with a valid key. ``content_type`` is not recorded: the extension in the key
    tells the web server what it serves.
    """

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True, file_mode: int = 0o644):
        self.root = Path(root)
        self.fsync = fsync
        self.file_mode = file_mode

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        # Belt and braces: a symlinked directory inside the root must not lead outside it.
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise InvalidKey(f"storage key leaves the storage root: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            os.chmod(tmp, self.file_mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def put_file(self, key: str, stream: IO[bytes], content_type: str) -> None:
        """As :meth:`put`, copying ``stream`` from where it stands in chunks (never whole in
        memory)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomically(stream, path.parent, lambda _fh: path)

    def put_hashed(
        self, stream: IO[bytes], key_for: Callable[[str], str], content_type: str
    ) -> tuple[str, bool]:
        """See :func:`put_hashed`: here in one pass, the file hashed as it is written to a
        temporary name in the root, then renamed to its key unless that key holds data."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        named: list[str] = []

        def place(_fh: IO[bytes]) -> Path | None:
            key = key_for(digest.hexdigest())
            named.append(key)
            path = self._path(key)
            if path.is_file():
                return None  # the same bytes are there already
            path.parent.mkdir(parents=True, exist_ok=True)
            return path

        written = self._write_atomically(stream, self.root, place, digest)
        return named[0], written

    def _write_atomically(
        self,
        stream: IO[bytes],
        folder: Path,
        place: Callable[[IO[bytes]], Path | None],
        digest: hashlib._Hash | None = None,
    ) -> bool:
        """Copy ``stream`` to a temporary file in ``folder`` (hashing it into ``digest``),
        flush and fsync it, then rename it to ``place``'s path, or drop it when that is None.
        True when the file was placed."""
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                if digest is None:
                    shutil.copyfileobj(stream, fh, COPY_CHUNK)
                else:
                    while chunk := stream.read(COPY_CHUNK):
                        digest.update(chunk)
                        fh.write(chunk)
                fh.flush()
                target = place(fh)
                if target is not None and self.fsync:
                    os.fsync(fh.fileno())
            if target is None:
                os.unlink(tmp)
                return False
            os.chmod(tmp, self.file_mode)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            self._path(key).unlink()

    def path_for(self, key: str) -> str | None:
        return str(self._path(key))


class MemoryStorage:
    """Blobs in a dict, for tests and throw-away previews. Thread-safe; never a local path."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._blobs)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._blobs)

    def content_type(self, key: str) -> str:
        with self._lock:
            return self._blobs[validate_key(key)][1]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        with self._lock:
            self._blobs[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            return self._blobs[key][0]

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._blobs

    def delete(self, key: str) -> None:
        validate_key(key)
        with self._lock:
            self._blobs.pop(key, None)

    def path_for(self, key: str) -> str | None:
        validate_key(key)
        return None


class WriteLog:
    """A storage that passes everything to ``inner`` and remembers the keys it wrote.

    Content-addressed pipelines skip keys that already exist, so ``written`` is exactly what one
    piece of work added: what it may remove again if that work fails (after checking no record
    refers to it meanwhile), and never a file someone else had written.
    """

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.written: list[str] = []

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.inner.put(key, data, content_type)
        self.written.append(key)

    def put_file(self, key: str, stream: IO[bytes], content_type: str) -> None:
        put_file(self.inner, key, stream, content_type)
        self.written.append(key)

    def put_hashed(
        self, stream: IO[bytes], key_for: Callable[[str], str], content_type: str
    ) -> tuple[str, bool]:
        key, written = put_hashed(self.inner, stream, key_for, content_type)
        if written:
            self.written.append(key)
        return key, written

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def path_for(self, key: str) -> str | None:
        return self.inner.path_for(key)


# ---- streams --------------------------------------------------------------------------------
# Optional methods a backend may have for a stream (an upload spooled to disk by the web
# server): ``put_file(key, stream, content_type)`` and ``put_hashed(stream, key_for,
# content_type)``. The functions below use them when present and otherwise fall back on the five
# methods every storage has.


def put_file(storage: Storage, key: str, stream: IO[bytes], content_type: str) -> None:
    """Store the rest of ``stream`` under ``key`` (as :meth:`Storage.put`), in chunks where the
    backend can (``put_file``), else read whole."""
    method = getattr(storage, "put_file", None)
    if method is not None:
        method(key, stream, content_type)
    else:
        storage.put(key, stream.read(), content_type)


def put_hashed(
    storage: Storage, stream: IO[bytes], key_for: Callable[[str], str], content_type: str
) -> tuple[str, bool]:
    """Store the rest of ``stream`` under ``key_for(<hex SHA-256 of those bytes>)``, unless that
    key holds data already (the same bytes, for a content-addressed key). Returns the key and
    whether this call wrote it.

    A backend with ``put_hashed`` hashes as it writes, in one pass (:class:`LocalStorage`);
    otherwise the stream is hashed in chunks, then rewound and stored with :func:`put_file`
    (so it must be seekable). Nothing is held whole in memory by either.
    """
    method = getattr(storage, "put_hashed", None)
    if method is not None:
        key, written = method(stream, key_for, content_type)
        return str(key), bool(written)
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(COPY_CHUNK):
        digest.update(chunk)
    key = key_for(digest.hexdigest())
    if storage.exists(key):
        return key, False
    stream.seek(start)
    put_file(storage, key, stream, content_type)
    return key, True
