"""Media in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage, moto's server...).

Keys are the same content-addressed names as on disk (``ab/cd/<sha256>.webp``), optionally under
a prefix (``S3_PREFIX``), so one bucket can hold several markets or environments. Every object is
written with its Content-Type and ``Cache-Control: public, max-age=31536000, immutable``: a key
names its bytes, so a CDN or browser may keep it for a year. Writing a key twice writes the same
bytes twice, which is harmless (writes are idempotent).

Network trouble is bounded: connect and read timeouts and a fixed number of attempts (botocore's
``standard`` retry mode), after which :class:`~app.media.storage.StorageUnavailable` is raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.media.storage import StorageUnavailable, validate_key

__all__ = ["CACHE_CONTROL", "RemoteObject", "S3Storage"]

CACHE_CONTROL = "public, max-age=31536000, immutable"
_MISSING = {"404", "NoSuchKey", "NotFound"}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class RemoteObject:
    """An object being read: its headers and its body in chunks (close it if not read to end)."""

    content_type: str
    length: int | None
    etag: str | None
    body: Any

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self.body.iter_chunks(_CHUNK)
        finally:
            self.body.close()

    def close(self) -> None:
        self.body.close()


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING


class S3Storage:
    """Objects in ``bucket`` under ``prefix``; implements :class:`~app.media.storage.Storage`.

    Guarantees: keys are validated like everywhere (:func:`validate_key`); a missing object is
    ``KeyError`` from :meth:`get`/:meth:`open` and ``False`` from :meth:`exists`; deleting a
    missing key is not an error; any other failure (unreachable endpoint, timeout after the
    retries, refused credentials, missing bucket) is :class:`StorageUnavailable`.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_attempts: int = 3,
    ) -> None:
        if not bucket:
            raise ValueError("S3Storage needs a bucket name (S3_BUCKET)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"} if endpoint_url else None,
        )
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        """The bucket key of a storage key (with the prefix)."""
        return self.prefix + validate_key(key)

    def _unavailable(self, action: str, key: str, error: Exception) -> StorageUnavailable:
        return StorageUnavailable(f"media storage: could not {action} {key!r}: {error}")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self.object_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=bytes(data),
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("write", key, exc) from exc

    def put_file(self, key: str, stream: IO[bytes], content_type: str) -> None:
        """As :meth:`put`, sending the rest of the seekable ``stream`` (an upload spooled to
        disk) as it is read, never whole in memory."""
        name = self.object_key(key)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=name,
                Body=stream,
                ContentType=content_type,
                CacheControl=CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("write", key, exc) from exc

    def open(self, key: str) -> RemoteObject:
        """Start reading ``key``: its headers now, its body as it is read (for streaming)."""
        name = self.object_key(key)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(key) from None
            raise self._unavailable("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read", key, exc) from exc
        return RemoteObject(
            content_type=answer.get("ContentType") or "application/octet-stream",
            length=answer.get("ContentLength"),
            etag=(answer.get("ETag") or "").strip('"') or None,
            body=answer["Body"],
        )

    def get(self, key: str) -> bytes:
        obj = self.open(key)
        try:
            return bytes(obj.body.read())
        except BotoCoreError as exc:
            raise self._unavailable("read", key, exc) from exc
        finally:
            obj.close()

    def exists(self, key: str) -> bool:
        name = self.object_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise self._unavailable("check", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("check", key, exc) from exc
        return True

    def delete(self, key: str) -> None:
        name = self.object_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _missing(exc):
                return
            raise self._unavailable("delete", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("delete", key, exc) from exc

    def path_for(self, key: str) -> str | None:
        validate_key(key)
        return None
