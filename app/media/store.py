"""The media storage the app writes to and serves from, chosen by ``MEDIA_BACKEND``.

``local`` (the default): files under ``MEDIA_DIR``. ``s3``: objects in the S3-compatible bucket
``S3_BUCKET`` (``S3_ENDPOINT_URL``, ``S3_REGION``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``,
``S3_PREFIX``, ``S3_CONNECT_TIMEOUT``, ``S3_READ_TIMEOUT``, ``S3_MAX_ATTEMPTS``). One storage per
app, made on first use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app, g, url_for

from app.media.storage import LocalStorage, Storage

BACKENDS = ("local", "s3")


def make_storage(config: Any) -> Storage:
    """The storage that ``config`` (a Flask config) describes; ``ValueError`` for an unknown
    backend or an s3 backend without a bucket."""
    backend = (config.get("MEDIA_BACKEND") or "local").strip().lower()
    if backend == "local":
        return LocalStorage(config["MEDIA_DIR"])
    if backend == "s3":
        from app.media.s3 import S3Storage  # boto3 is only loaded when it is used

        return S3Storage(
            config.get("S3_BUCKET") or "",
            prefix=config.get("S3_PREFIX") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
            access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            connect_timeout=float(config.get("S3_CONNECT_TIMEOUT") or 3),
            read_timeout=float(config.get("S3_READ_TIMEOUT") or 10),
            max_attempts=int(config.get("S3_MAX_ATTEMPTS") or 3),
        )
    raise ValueError(f"MEDIA_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def storage() -> Storage:
    """The app's media storage (made from its config on first use, then shared)."""
    store = current_app.extensions.get("bazarche_media")
    if store is None:
        store = make_storage(current_app.config)
        current_app.extensions["bazarche_media"] = store
    return store


def media_url(key: str, *, external: bool = False) -> str:
    """The address a browser (or API client) fetches the stored file ``key`` from.

    With ``MEDIA_BASE_URL`` set (a CDN, or the bucket's public address): that address, a slash,
    and the key. Otherwise the app's own ``/media/<key>`` route (absolute when ``external``).
    Keys are URL-safe (``[A-Za-z0-9_./-]``, see :func:`app.media.storage.validate_key`), so one
    ``url_for`` per request serves every key of a page; any other string goes through
    ``url_for`` itself, which quotes it.
    """
    base = current_app.config.get("MEDIA_BASE_URL") or ""
    if base:
        return base.rstrip("/") + "/" + quote_key(key)
    if not _url_safe(key):
        return url_for("shop.media", key=key, _external=external)
    name = "media_prefix_external" if external else "media_prefix"
    prefix = g.get(name)
    if prefix is None:
        prefix = url_for("shop.media", key="k", _external=external)[:-1]
        setattr(g, name, prefix)
    return str(prefix) + key


def srcset(variants: list[list], prefix: str) -> str:
    """An ``<img srcset>`` value of a photo's ``variants`` (``[width, height, key]`` each), each
    key after ``prefix`` (the media address without its key, see :func:`media_url`)."""
    return ", ".join(f"{prefix}{key} {width}w" for width, _height, key in variants)


def _url_safe(key: str) -> bool:
    return bool(key) and all(c.isascii() and (c.isalnum() or c in "_./-") for c in key)


def quote_key(key: str) -> str:
    return quote(key, safe="/")
