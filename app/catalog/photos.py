"""Pictures of the catalogue: the one way an uploaded, imported or drawn picture becomes stored
files (listing photos and shop logos alike), and a listing's photos (add, order, describe,
delete).

Every picture goes through :func:`store_picture`: it ends a transaction that has only read
(:func:`app.core.db.end_read`, so no database lock is held while the picture is decoded and
encoded), validates and processes it through :mod:`app.media` with the configured limits, and
writes its variants to the media storage. :func:`add_photo` (the seller's upload) then records it
as the listing's last photo; the CSV import records the rows it creates through
:func:`photo_row`. Files are content addressed, so shared: a file is deleted only when no photo
row or logo refers to it any more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import IO

import sqlalchemy as sa
from flask import current_app

from app.catalog.models import Product, ProductImage, ProductStatus, Seller
from app.catalog.rules import MAX_IMAGES, fail, locked_photos
from app.core.db import end_read, transaction
from app.core.extensions import db
from app.media.images import DEFAULT_WIDTHS, StoredImage, process_image, read_limited
from app.media.storage import Storage, WriteLog
from app.media.store import storage

log = logging.getLogger(__name__)

LOGO_WIDTHS = (256,)

Upload = bytes | IO[bytes]
"""A picture as bytes, or a stream read up to ``MAX_IMAGE_BYTES`` (an upload's)."""


# ---- one picture into stored files ----------------------------------------------------------


def read_upload(upload: Upload) -> bytes:
    """The bytes of ``upload``; a stream is read up to ``MAX_IMAGE_BYTES`` and a longer one is
    refused (``ImageRejected`` ``too_large_bytes``) without being read whole."""
    if isinstance(upload, bytes):
        return upload
    return read_limited(upload, current_app.config["MAX_IMAGE_BYTES"])


def store_picture(
    upload: Upload, store: Storage | None = None, *, widths: Sequence[int] = DEFAULT_WIDTHS
) -> StoredImage:
    """Validate ``upload`` and write its variants (``widths``) to ``store`` (default: the media
    storage), holding no database lock meanwhile.

    A picture that is not acceptable within ``MAX_IMAGE_BYTES`` and ``MAX_IMAGE_PIXELS`` raises
    ``ImageRejected`` and writes nothing. Nothing is recorded in the database.
    """
    end_read()  # decoding takes a while: hold no database lock meanwhile
    data = read_upload(upload)
    return process_image(
        data,
        store if store is not None else storage(),
        max_bytes=current_app.config["MAX_IMAGE_BYTES"],
        max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
        widths=widths,
    )


def store_logo(upload: Upload, store: Storage | None = None) -> str:
    """A shop logo through :func:`store_picture` (one narrow variant); returns its storage key."""
    return store_picture(upload, store, widths=LOGO_WIDTHS).largest.key


def variant_list(stored: StoredImage) -> list[list]:
    """The variants as a photo row keeps them: ``[[width, height, key], ...]``, narrowest first."""
    return [[v.width, v.height, v.key] for v in stored.variants]


def photo_row(stored: StoredImage, position: int, alt: str) -> ProductImage:
    """The photo row of a stored picture at ``position`` of its listing."""
    return ProductImage(
        position=position,
        storage_key=stored.largest.key,
        variants=variant_list(stored),
        width=stored.width,
        height=stored.height,
        alt_text=alt[:200],
    )


# ---- files no row uses ----------------------------------------------------------------------


def image_keys(image: ProductImage) -> list[str]:
    return [v[2] for v in image.variants] or [image.storage_key]


def unused_keys(keys: list[str]) -> list[str]:
    """Of ``keys``, those no photo row or shop logo refers to (content-addressed files may be
    shared): files the caller may delete after its commit."""
    if not keys:
        return []
    still = set()
    for variants, storage_key in db.session.execute(
        sa.select(ProductImage.variants, ProductImage.storage_key)
    ):
        still.add(storage_key)
        still.update(v[2] for v in variants or [])
    still.update(db.session.scalars(sa.select(Seller.logo_key).where(Seller.logo_key.in_(keys))))
    return [k for k in keys if k not in still]


def delete_files(keys: Iterable[str], store: Storage | None = None) -> None:
    """After commit: remove these files (a failure only leaves a file behind, and is logged)."""
    store = store if store is not None else storage()
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # a stray file is harmless; the change it follows is committed
            log.warning("could not delete media file %s", key)


def discard_written(keys: list[str], store: Storage) -> None:
    """Remove files a failed piece of work wrote, unless a row uses them by now (best effort)."""
    if not keys:
        return
    try:
        with transaction(write=False):
            unused = unused_keys(keys)
    except Exception:  # the database is what failed: better a stray file than a lost one
        return
    delete_files(unused, store)


# ---- a listing's photos ---------------------------------------------------------------------


def _photo_count(product_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(ProductImage.id)).where(ProductImage.product_id == product_id)
        )
        or 0
    )


def add_photo(
    product: Product, upload: Upload, store: Storage | None = None, *, alt: str = ""
) -> ProductImage:
    """Turn an uploaded picture into stored variants and add it as the listing's last photo.

    Guarantees: a full listing is refused (``ValidationFailed`` ``too_many_photos``) before the
    picture is decoded; a picture that is not acceptable raises ``ImageRejected`` and writes
    nothing; no database lock is held while the picture is processed; if the photo cannot be
    added after its files were written (the listing filled up or was deleted meanwhile, or the
    save failed), the files this call wrote are removed again, except any that a photo row or
    logo uses by then. A listing deleted meanwhile raises ``NotFound``.
    """
    product_id = product.id
    data = read_upload(upload)
    if _photo_count(product_id) >= MAX_IMAGES:
        raise fail("photo", "too_many_photos")
    store = store if store is not None else storage()
    written = WriteLog(store)
    stored = store_picture(data, written)
    try:
        return _record_photo(product_id, stored, alt)
    except BaseException:
        discard_written(written.written, store)
        raise


def _record_photo(product_id: int, stored: StoredImage, alt: str) -> ProductImage:
    """Under the listing's lock: refused (``too_many_photos``, nothing changed) once it has
    :data:`MAX_IMAGES`; otherwise the photo takes position ``n`` of ``0..n``."""
    with transaction():
        product = locked_photos(product_id)
        if len(product.images) >= MAX_IMAGES:
            raise fail("photo", "too_many_photos")
        _renumber(product)  # older rows with gaps: close them before taking the next place
        image = photo_row(stored, len(product.images), alt or product.title)
        product.images.append(image)
    return image


def _renumber(product: Product) -> None:
    """Positions 0..n-1 in the collection's order. Positions are unique per listing and checked
    at each UPDATE, so the rows are first parked on free places, then put in order."""
    images = list(product.images)
    if [image.position for image in images] == list(range(len(images))):
        return
    parked = 1 + max([MAX_IMAGES, *(image.position for image in images)])
    for n, image in enumerate(images):
        image.position = parked + n
    db.session.flush()
    for n, image in enumerate(images):
        image.position = n


def _photo_of(product: Product, image_id: int) -> ProductImage:
    image = next((img for img in product.images if img.id == image_id), None)
    if image is None:
        raise fail("photo", "not_found")
    return image


def move_image(product: Product, image_id: int, offset: int) -> None:
    """Move a photo earlier (-1) or later (+1); the first photo is the cover."""
    product_id = product.id
    with transaction():
        product = locked_photos(product_id)
        images = list(product.images)
        image = _photo_of(product, image_id)
        index = images.index(image)
        target = min(max(index + offset, 0), len(images) - 1)
        images.insert(target, images.pop(index))
        product.images[:] = images
        _renumber(product)


def make_cover(product: Product, image_id: int) -> None:
    move_image(product, image_id, -MAX_IMAGES)


def set_alt_text(product: Product, image_id: int, alt: str) -> None:
    product_id = product.id
    with transaction():
        image = _photo_of(locked_photos(product_id), image_id)
        image.alt_text = " ".join(alt.split())[:200]


def delete_image(product: Product, image_id: int) -> list[str]:
    """Remove a photo; a published listing keeps at least one. Returns storage keys now unused."""
    product_id = product.id
    with transaction():
        product = locked_photos(product_id)
        image = _photo_of(product, image_id)
        if product.status == ProductStatus.PUBLISHED and len(product.images) == 1:
            raise fail("photo", "last_photo_of_published")
        keys = image_keys(image)
        product.images.remove(image)
        _renumber(product)
    return unused_keys(keys)
