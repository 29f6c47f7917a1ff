"""An upload stored from its stream (the file the web server spooled it to): checked from its
size and header, stored under the SHA-256 of its bytes, hashed as it is copied and never read
whole into memory; refused uploads write nothing."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from app.media.images import ImageRejected, store_original
from app.media.storage import COPY_CHUNK, LocalStorage, MemoryStorage, WriteLog, put_hashed

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000


class Watched(io.BytesIO):
    """A stream that records every read: its size asked and the bytes it gave."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []
        self.given = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(-1 if size is None else size)
        chunk = super().read(size)
        self.given += len(chunk)
        return chunk


class Broken(io.BytesIO):
    """A stream whose reads fail after ``good`` bytes (a client gone, a disk error)."""

    def __init__(self, data: bytes, good: int) -> None:
        super().__init__(data)
        self.good = good

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() >= self.good:
            raise OSError("the upload could not be read")
        return super().read(size)


def noisy_jpeg(size: tuple[int, int]) -> bytes:
    """Random pixels: a JPEG of a few megabytes that does not compress."""
    buf = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def files_under(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def store(stream, storage, **limits):  # type: ignore[no-untyped-def]
    return store_original(
        stream,
        storage,
        max_bytes=limits.get("max_bytes", MAX_BYTES),
        max_pixels=limits.get("max_pixels", MAX_PIXELS),
    )


@pytest.fixture(scope="module")
def picture() -> bytes:
    data = noisy_jpeg((1800, 1350))
    assert len(data) > 2 * COPY_CHUNK  # several chunks
    return data


@pytest.fixture(params=["local", "memory"])
def storage(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The local folder (hashes as it writes, in one pass) and a storage with only the five
    common methods (hashes, then copies)."""
    return (
        LocalStorage(tmp_path / "media", fsync=False)
        if request.param == "local"
        else (MemoryStorage())
    )


def test_a_streamed_upload_is_stored_under_the_hash_of_its_bytes(storage, picture: bytes):
    stream = Watched(picture)

    original = store(stream, storage)

    digest = hashlib.sha256(picture).hexdigest()
    assert original.key == f"originals/{digest}.jpg"
    assert (original.width, original.height) == (1800, 1350)
    assert storage.get(original.key) == picture
    if isinstance(storage, LocalStorage):
        # Never read whole (every read asks for a chunk at most), the bytes read once (the
        # header's reads come on top) and no temporary file left.
        assert all(0 <= size <= COPY_CHUNK for size in stream.asked)
        assert stream.given < len(picture) + 256 * 1024
        assert files_under(storage.root) == [original.key]


def test_bytes_and_a_stream_of_them_are_stored_alike(tmp_path: Path, picture: bytes):
    from_bytes = LocalStorage(tmp_path / "a", fsync=False)
    from_stream = LocalStorage(tmp_path / "b", fsync=False)

    assert store(picture, from_bytes) == store(io.BytesIO(picture), from_stream)
    assert files_under(from_bytes.root) == files_under(from_stream.root)


def test_a_streamed_upload_over_the_limit_is_refused_unread_and_nothing_is_stored(
    storage, picture: bytes
):
    stream = Watched(picture)

    with pytest.raises(ImageRejected) as refused:
        store(stream, storage, max_bytes=len(picture) - 1)

    assert refused.value.code == "too_large_bytes"
    assert stream.given == 0  # its size is found by seeking
    assert not stream.closed
    assert list(_keys(storage)) == []


def test_an_empty_stream_is_refused(storage):
    with pytest.raises(ImageRejected) as refused:
        store(io.BytesIO(b""), storage)
    assert refused.value.code == "empty"
    assert list(_keys(storage)) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<!doctype html><html><body>not a picture</body></html>", "unsupported_format"),
        (None, "too_many_pixels"),
    ],
)
def test_a_stream_refused_by_its_header_writes_nothing_and_stays_open(storage, body, code):
    if body is None:
        buf = io.BytesIO()
        Image.new("L", (3000, 3000)).save(buf, "PNG")
        body = buf.getvalue()
    stream = Watched(body)

    with pytest.raises(ImageRejected) as refused:
        store(stream, storage, max_pixels=1_000_000)

    assert refused.value.code == code
    assert list(_keys(storage)) == []
    assert not stream.closed  # the caller's stream: Pillow does not close it


def test_the_same_stream_twice_is_written_once(tmp_path: Path, picture: bytes):
    storage = LocalStorage(tmp_path / "media", fsync=False)
    first, second = WriteLog(storage), WriteLog(storage)

    key = store(io.BytesIO(picture), first).key
    assert store(io.BytesIO(picture), second).key == key

    assert first.written == [key]
    assert second.written == []  # found there: not written again
    assert files_under(storage.root) == [key]


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_a_stream_that_fails_halfway_leaves_no_file(tmp_path: Path, picture: bytes, kind: str):
    storage = LocalStorage(tmp_path / "media") if kind == "local" else MemoryStorage()

    with pytest.raises(OSError):
        put_hashed(
            storage, Broken(picture, COPY_CHUNK), lambda d: f"originals/{d}.jpg", "image/jpeg"
        )

    assert list(_keys(storage)) == []


def _keys(storage) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(storage, LocalStorage):
        return files_under(storage.root)  # temporary files included
    return list(storage.keys())
