"""Pictures of the catalogue: the one way an uploaded, imported or drawn picture becomes stored
files (listing photos and shop logos alike), and a listing's photos (add, order, describe,
delete).

A seller's upload is accepted in two steps. :func:`accept_photo` (in the request) makes only the
cheap checks (bytes, format and pixel count from the header), stores the upload's own bytes
under ``originals/<sha256>.<ext>`` and records the listing's last photo as ``processing``; the
caller then hands :func:`make_variants` to the job worker, which decodes the picture, writes its
variants, marks the photo ``ready`` (or ``failed``, with the reason) and removes the original.
Only ready photos are public. :func:`owed_photos` lists the photos whose task was lost, for the
worker's sweep.

The synchronous path, :func:`store_picture`, is kept for logos, the CSV import, the demo data and
:func:`add_photo`: it ends a transaction that has only read (:func:`app.core.db.end_read`, so no
database lock is held while the picture is decoded and encoded), validates and processes it
through :mod:`app.media` with the configured limits, and writes its variants to the media
storage. :func:`store_pictures` stores the few photos of a problem report or a conversation
message the same way, all or nothing. Files are content addressed, so shared: a file is deleted
only when no photo row, logo or declared key column (:func:`refers_to_files`) refers to it any
more.
"""

from __future__ import annotations

import io
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import InstrumentedAttribute

from app.catalog.models import (
    PhotoStatus,
    Product,
    ProductImage,
    ProductStatus,
    Seller,
    StagedPhoto,
)
from app.catalog.rules import MAX_IMAGES, fail, locked_photos, locked_product
from app.core.db import end_read, transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.media.images import (
    DEFAULT_WIDTHS,
    ImageRejected,
    Original,
    StoredImage,
    original_content_type,
    process_image,
    read_limited,
    store_original,
)
from app.media.storage import Storage, WriteLog, put_file
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


def store_pictures(
    uploads: Sequence[Upload], *, widths: Sequence[int], field: str = "photos"
) -> tuple[list[StoredImage], list[str]]:
    """Several pictures through :func:`store_picture`, all or nothing: the stored pictures, in
    order, and the keys of the files this call added (those the caller removes again with
    :func:`discard_written` when the work they were stored for fails).

    For pictures that go with a message or a report, decoded before any transaction begins. A
    refused picture raises ``ValidationFailed({field: [code]})``; then, as on any other failure,
    the files this call added are removed again (never a file that was already stored).
    """
    store = storage()
    written = WriteLog(store)
    pictures: list[StoredImage] = []
    try:
        for upload in uploads:
            pictures.append(store_picture(upload, written, widths=widths))
    except ImageRejected as exc:
        discard_written(written.written, store)
        raise ValidationFailed({field: [exc.code]}) from exc
    except BaseException:
        discard_written(written.written, store)
        raise
    return pictures, written.written


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
    """Every file the photo row refers to: its variants (or its one key) and a kept original."""
    keys = [v[2] for v in image.variants or []] or (
        [image.storage_key] if image.storage_key else []
    )
    if image.original_key:
        keys.append(image.original_key)
    return keys


_KEY_COLUMNS: list[InstrumentedAttribute[str]] = []


def refers_to_files(*columns: InstrumentedAttribute[str]) -> None:
    """Declare columns of other packages' tables that hold storage keys (the photos of a problem
    report or of a message): :func:`unused_keys` then keeps the files they name."""
    _KEY_COLUMNS.extend(c for c in columns if c not in _KEY_COLUMNS)


def unused_keys(keys: list[str]) -> list[str]:
    """Of ``keys``, those no photo row, shop logo or declared key column (:func:`refers_to_files`)
    refers to (content-addressed files may be shared): files the caller may delete after its
    commit."""
    if not keys:
        return []
    # The database narrows the rows to those whose keys or variants' text name one of the
    # keys' content hashes (a scan in SQL, not every row decoded here); the exact test below.
    variants_text = sa.cast(ProductImage.variants, sa.Text)
    named = [
        variants_text.contains(_key_stem(key), autoescape=True)
        for key in dict.fromkeys(keys)
        if _key_stem(key)
    ]
    still = set()
    for variants, storage_key, original_key in db.session.execute(
        sa.select(ProductImage.variants, ProductImage.storage_key, ProductImage.original_key).where(
            sa.or_(ProductImage.storage_key.in_(keys), ProductImage.original_key.in_(keys), *named)
        )
    ):
        still.add(storage_key)
        still.update(v[2] for v in variants or [])
        if original_key:
            still.add(original_key)
    still.update(db.session.scalars(sa.select(Seller.logo_key).where(Seller.logo_key.in_(keys))))
    for column in _KEY_COLUMNS:
        still.update(db.session.scalars(sa.select(column).where(column.in_(keys))))
    return [k for k in keys if k not in still]


def _key_stem(key: str) -> str:
    """The file name of ``key`` without its extension (a content key's hash)."""
    return key.rsplit("/", 1)[-1].split(".", 1)[0]


def delete_files(keys: Iterable[str], store: Storage | None = None) -> None:
    """After commit: remove these files (a failure only leaves a file behind, and is logged)."""
    store = store if store is not None else storage()
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # a stray file is harmless; the change it follows is committed
            log.warning("could not delete media file %s", key)


def discard_written(keys: list[str], store: Storage | None = None) -> None:
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


# ---- an upload whose variants the job worker makes ------------------------------------------

#: Runs of :func:`make_variants` a photo may start before it is given up as failed.
MAX_ATTEMPTS = 5
#: A photo still owed work this long after its upload has lost its task (see :func:`owed_photos`).
STUCK_AFTER = timedelta(minutes=5)
#: The failure of a photo whose variants could not be made for a reason other than the picture.
NOT_PROCESSED = "not_processed"

# What one run of :func:`make_variants` did.
READY, FAILED, GONE, NOTHING = "ready", "failed", "gone", "nothing"


def accept_photo(
    product: Product, upload: Upload, store: Storage | None = None, *, alt: str = ""
) -> int:
    """Add an uploaded picture as the listing's last photo, ``processing``, without decoding it;
    returns the photo's id (read before the commit: nothing is loaded again afterwards, so no
    transaction is left open for the caller).

    Guarantees: a full listing is refused (``ValidationFailed`` ``too_many_photos``; photos
    still processing or failed count) before anything is stored; a picture over the byte or
    pixel limit, empty, or not a JPEG, PNG or WebP by its header raises ``ImageRejected`` and
    writes nothing; otherwise the upload's bytes are stored under their content-addressed
    original key and the row records it. An upload the web server spooled to a file is never
    read whole into memory: its size is taken by seeking, its header alone is parsed, and its
    bytes are hashed as they are copied to the storage. No database lock is held while the
    bytes are hashed and written. If the row cannot be added afterwards (the listing filled up or was deleted
    meanwhile, or the save failed), the original this call wrote is removed again, unless a
    photo row uses it by then; a listing deleted meanwhile raises ``NotFound``. The caller
    hands the id to :func:`make_variants` (through the job queue) after this returns.
    """
    product_id = product.id
    stream = _seekable_upload(upload)
    if _photo_count(product_id) >= MAX_IMAGES:
        raise fail("photo", "too_many_photos")
    end_read()  # hashing and writing megabytes takes a moment: hold no database lock meanwhile
    store = store if store is not None else storage()
    written = WriteLog(store)
    original = store_original(
        stream,
        written,
        max_bytes=current_app.config["MAX_IMAGE_BYTES"],
        max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
    )
    try:
        image_id = _record_upload(product_id, original, alt)
    except BaseException:
        if written.written:  # best effort: the error that refused the photo is the one to tell
            try:
                _remove_original(original.key, None, store)
            except Exception:
                log.warning("could not remove the original %s of a refused upload", original.key)
        raise
    # Originals are shared by identical uploads: another photo's run may have removed this one
    # after it was found present above and before the row named it. Write it again if so (the
    # photo is recorded by now: a storage failing here leaves it to the worker, which marks it
    # failed if its original is missing).
    try:
        if not store.exists(original.key):
            stream.seek(0)
            put_file(store, original.key, stream, original.content_type)
    except Exception:
        log.warning("photo %s: could not check its original %s", image_id, original.key)
    return image_id


def _seekable_upload(upload: Upload) -> IO[bytes]:
    """``upload`` as a stream that can be read again from its start, without copying it: bytes
    are wrapped, a seekable stream (an upload the web server spooled to a file) is used as it
    is. Any other stream is read up to ``MAX_IMAGE_BYTES`` (a longer one is refused,
    ``ImageRejected`` ``too_large_bytes``, without being read whole)."""
    if isinstance(upload, bytes):
        return io.BytesIO(upload)
    seekable = getattr(upload, "seekable", None)
    if seekable is not None and seekable():
        return upload
    return io.BytesIO(read_upload(upload))


def _record_upload(product_id: int, original: Original, alt: str) -> int:
    """As :func:`_record_photo`, for a photo whose variants do not exist yet."""
    with transaction():
        product = locked_photos(product_id)
        if len(product.images) >= MAX_IMAGES:
            raise fail("photo", "too_many_photos")
        _renumber(product)
        image = ProductImage(
            position=len(product.images),
            storage_key="",
            variants=[],
            width=original.width,
            height=original.height,
            alt_text=(alt or product.title)[:200],
            status=PhotoStatus.PROCESSING,
            original_key=original.key,
        )
        product.images.append(image)
        db.session.flush()
        image_id = image.id
    return image_id


def make_variants(image_id: int, store: Storage | None = None) -> str:
    """The job worker's half of an upload: decode the photo's original, write its variants and
    mark it ready, then remove the original. Returns what this run did: ``ready``, ``failed``,
    ``gone`` (the photo or its listing was deleted) or ``nothing``.

    Guarantees: it acts once however often it runs, alone or at the same time as another run
    (a photo that is no longer processing is only relieved of an original still kept, so a
    run killed before that step is finished by the next one). A picture that fails the full
    decode marks the photo ``failed`` with the rejection code; an original that is missing, or
    a photo that has started :data:`MAX_ATTEMPTS` runs already, marks it failed with
    ``not_processed``. A photo deleted meanwhile: the variant files this run wrote are removed
    again (unless a row uses them by then) and nothing else is done. No database lock is held
    while the picture is decoded. A storage that cannot be reached raises
    ``StorageUnavailable`` (the queue, or the sweep, tries again later): the photo stays
    processing, with this run counted.
    """
    store = store if store is not None else storage()
    with transaction():
        # A plain UPDATE: counting a run is no change the storefront shows.
        db.session.execute(
            sa.update(ProductImage)
            .where(ProductImage.id == image_id, ProductImage.status == PhotoStatus.PROCESSING)
            .values(attempts=ProductImage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        row = db.session.execute(
            sa.select(
                ProductImage.product_id,
                ProductImage.status,
                ProductImage.original_key,
                ProductImage.attempts,
            ).where(ProductImage.id == image_id)
        ).one_or_none()
    if row is None:
        return GONE
    product_id, status, original_key, attempts = row
    if status != PhotoStatus.PROCESSING:
        if original_key:
            _drop_original(image_id, original_key, store)
        return NOTHING
    if not original_key or attempts > MAX_ATTEMPTS:
        return _failed(product_id, image_id, NOT_PROCESSED, store)
    data = _read_original(original_key, store)
    if data is None:
        log.warning("photo %s: its original %s is missing", image_id, original_key)
        return _failed(product_id, image_id, NOT_PROCESSED, store)
    written = WriteLog(store)
    try:
        stored = process_image(
            data,
            written,
            max_bytes=current_app.config["MAX_IMAGE_BYTES"],
            max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
        )
    except ImageRejected as exc:
        log.info("photo %s refused by the full decode: %s", image_id, exc.code)
        return _failed(product_id, image_id, exc.code, store)
    try:
        done = _mark_ready(product_id, image_id, stored)
    except BaseException:
        discard_written(written.written, store)
        raise
    if not done:
        discard_written(written.written, store)
        return GONE if done is None else NOTHING
    _drop_original(image_id, original_key, store, data)
    log.info("photo %s ready (%s variants)", image_id, len(stored.variants))
    return READY


def _read_original(key: str, store: Storage) -> bytes | None:
    """The original's bytes, or None when it is missing. One more look after a moment: another
    photo's run that shared it may be putting it back (see :func:`_remove_original`)."""
    for wait in (0.0, 1.0):
        time.sleep(wait)
        try:
            return store.get(key)
        except KeyError:
            continue
    return None


def _processing_photo(product_id: int, image_id: int) -> ProductImage | None:
    """Inside a write transaction: the photo under its listing's lock (the lock every change to
    a listing's photos takes), or None when it, or its listing, is gone."""
    try:
        locked_product(product_id)
    except NotFound:
        return None
    return db.session.get(ProductImage, image_id, populate_existing=True)


def _mark_ready(product_id: int, image_id: int, stored: StoredImage) -> bool | None:
    """True: the photo is ready now. False: it was not processing any more. None: it is gone."""
    with transaction():
        image = _processing_photo(product_id, image_id)
        if image is None:
            return None
        if image.status != PhotoStatus.PROCESSING:
            return False
        image.storage_key = stored.largest.key
        image.variants = variant_list(stored)
        image.width, image.height = stored.width, stored.height
        image.status = PhotoStatus.READY
        image.failure = None
    return True


def _failed(product_id: int, image_id: int, code: str, store: Storage) -> str:
    """Mark a processing photo failed with ``code`` and remove its original."""
    with transaction():
        image = _processing_photo(product_id, image_id)
        if image is None:
            return GONE
        if image.status != PhotoStatus.PROCESSING:
            return NOTHING
        image.status = PhotoStatus.FAILED
        image.failure = code[:40]
        original_key = image.original_key
    if original_key:
        _drop_original(image_id, original_key, store)
    return FAILED


def _original_wanted(key: str, image_id: int | None) -> bool:
    """Whether a photo row other than ``image_id`` still needs the original ``key``."""
    with transaction(write=False):
        stmt = sa.select(sa.func.count(ProductImage.id)).where(ProductImage.original_key == key)
        if image_id is not None:
            stmt = stmt.where(ProductImage.id != image_id)
        return bool(db.session.scalar(stmt)) or _staged_holds(key)


def _forget_original(image_id: int, key: str) -> None:
    """Inside a write transaction: the photo no longer keeps the original ``key`` (a plain
    UPDATE: nothing the storefront shows changes)."""
    db.session.execute(
        sa.update(ProductImage)
        .where(ProductImage.id == image_id, ProductImage.original_key == key)
        .values(original_key=None)
        .execution_options(synchronize_session=False)
    )


def _left_to_others(key: str, image_id: int | None) -> bool:
    """Whether other photo rows keep the original ``key``; if so, ``image_id`` lets go of it.

    Decided with every row naming ``key`` locked (SQLite: the write transaction itself), so of
    two photos sharing an original and finishing at once, one lets go first and the other then
    finds itself the last, rather than each leaving the file to the other.
    """
    with transaction():
        holders = db.session.scalars(
            sa.select(ProductImage.id)
            .where(ProductImage.original_key == key)
            .order_by(ProductImage.id)  # one lock order for every run
            .with_for_update()
        ).all()
        staged = db.session.scalars(
            sa.select(StagedPhoto.id)
            .where(StagedPhoto.original_key == key)
            .order_by(StagedPhoto.id)
            .with_for_update()
        ).all()
        if staged or any(holder != image_id for holder in holders):
            if image_id is not None:
                _forget_original(image_id, key)
            return True
    return False


def _remove_original(
    key: str, data: bytes | None, store: Storage, image_id: int | None = None
) -> None:
    """Delete the original ``key`` unless a photo row other than ``image_id`` keeps it (then
    ``image_id`` lets go of it); the caller forgets it on its row afterwards.

    Identical uploads share one original, and an upload that found it present records its row
    without writing it: a row that appears between the check and the delete gets the file back
    (from ``data``, or the bytes read before deleting), and the upload itself writes it again
    if it was gone once its row was saved (see :func:`accept_photo`). Storage errors propagate.
    """
    if _left_to_others(key, image_id):
        return
    if data is None:
        try:
            data = store.get(key)
        except KeyError:
            data = b""  # gone already
    if data:
        store.delete(key)
        if _original_wanted(key, image_id):
            store.put(key, data, original_content_type(key))


def _drop_original(image_id: int, key: str, store: Storage, data: bytes | None = None) -> None:
    """Remove the photo's original unless another photo row still needs it, then forget it on
    the row. A storage that fails leaves both as they are, for the next run (the sweep)."""
    try:
        _remove_original(key, data, store, image_id)
    except Exception:
        log.warning("photo %s: could not delete its original %s yet", image_id, key)
        return
    with transaction():
        _forget_original(image_id, key)


def owed_photos(older_than: timedelta = STUCK_AFTER, limit: int = 500) -> list[int]:
    """Photos uploaded more than ``older_than`` ago that the job worker still owes work (their
    variants, or removing their original): their task was lost (the queue was down at upload,
    or a worker died). Oldest first."""
    return list(
        db.session.scalars(
            sa.select(ProductImage.id)
            .where(
                ProductImage.original_key.is_not(None),
                ProductImage.created_at < utcnow() - older_than,
            )
            .order_by(ProductImage.id)
            .limit(limit)
        )
    )


def settle_in_place(image_id: int) -> str | None:
    """After :func:`make_variants` ran in place (the job queue's immediate mode): None when the
    photo is ready (or gone); otherwise the photo is removed with its files, as a refused
    upload, and the reason is returned (a rejection code, or ``not_processed`` when the run
    did not finish)."""
    with transaction(write=False):
        row = db.session.execute(
            sa.select(ProductImage.product_id, ProductImage.status).where(
                ProductImage.id == image_id
            )
        ).one_or_none()
    if row is None or row[1] == PhotoStatus.READY:
        return None
    with transaction():
        product = locked_photos(row[0])
        image = next((img for img in product.images if img.id == image_id), None)
        if image is None or image.status == PhotoStatus.READY:
            return None
        code = image.failure or NOT_PROCESSED
        keys = image_keys(image)
        _remove_photo(product, image)
    delete_files(unused_keys(keys))
    return code


def _remove_photo(product: Product, image: ProductImage) -> None:
    """Inside a write transaction: delete the photo's row, then number the listing's other
    photos again. The row is deleted while it still names its listing (taking it out of
    ``product.images`` would unset ``image.product`` first), so the catalogue's change
    tracking sees which listing lost a photo: a draft's photo makes no cached page stale."""
    db.session.delete(image)
    db.session.flush()
    db.session.expire(product, ["images"])
    _renumber(product)


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
    """Remove a photo; a published listing keeps at least one that is not failed (a failed
    photo may always go). Returns storage keys now unused."""
    product_id = product.id
    with transaction():
        product = locked_photos(product_id)
        image = _photo_of(product, image_id)
        shown = [img for img in product.images if img.status != PhotoStatus.FAILED]
        if product.status == ProductStatus.PUBLISHED and shown == [image]:
            raise fail("photo", "last_photo_of_published")
        keys = image_keys(image)
        _remove_photo(product, image)
    return unused_keys(keys)


# ---- photos uploaded on the listing form before its save ------------------------------------

#: How long a photo uploaded on the listing form waits for the save that takes it; then
#: :func:`sweep_staged` removes it with its file.
STAGED_FOR = timedelta(hours=6)
#: Photos one seller may have waiting at once (a few forms' worth).
MAX_STAGED = 40
#: Longest token a form may carry (a longer one names nothing and is refused unread).
TOKEN_LENGTH = 64


@dataclass(frozen=True)
class Staged:
    """A photo waiting on the listing form: the token the form carries, and what it shows."""

    token: str
    width: int
    height: int
    filename: str


def _staged(row: StagedPhoto) -> Staged:
    return Staged(row.token, row.width, row.height, row.filename)


def _staged_holds(key: str) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(StagedPhoto.id)).where(StagedPhoto.original_key == key)
        )
    )


def _clean_filename(name: str) -> str:
    """The last part of a device's file name, printable, at most 120 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable())[:120]


def stage_photo(seller: Seller, upload: Upload, filename: str = "") -> Staged:
    """Keep a photo uploaded on the listing form until the form is saved; returns its token.

    The checks are :func:`accept_photo`'s (bytes, format and pixel count from the header; a
    refusal raises ``ImageRejected`` and writes nothing), and the upload's bytes are stored
    the same way under their original key. A seller with :data:`MAX_STAGED` photos waiting is
    refused (``ValidationFailed`` ``too_many_staged``) before anything is stored. If the row
    cannot be recorded, the original this call wrote is removed again (unless a row uses it).
    """
    seller_id = seller.id
    stream = _seekable_upload(upload)
    waiting = db.session.scalar(
        sa.select(sa.func.count(StagedPhoto.id)).where(StagedPhoto.seller_id == seller_id)
    )
    if (waiting or 0) >= MAX_STAGED:
        raise fail("photos", "too_many_staged")
    end_read()  # hashing and writing megabytes takes a moment: hold no database lock meanwhile
    store = storage()
    written = WriteLog(store)
    original = store_original(
        stream,
        written,
        max_bytes=current_app.config["MAX_IMAGE_BYTES"],
        max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
    )
    row = StagedPhoto(
        token=secrets.token_urlsafe(32),
        seller_id=seller_id,
        original_key=original.key,
        width=original.width,
        height=original.height,
        filename=_clean_filename(filename),
    )
    staged = _staged(row)
    try:
        with transaction():
            db.session.add(row)
    except BaseException:
        if written.written:
            try:
                _remove_original(original.key, None, store)
            except Exception:
                log.warning("could not remove the original %s of a refused upload", original.key)
        raise
    try:  # shared with a photo whose run removed it meanwhile: write it again (accept_photo)
        if not store.exists(original.key):
            stream.seek(0)
            put_file(store, original.key, stream, original.content_type)
    except Exception:
        log.warning("staged photo: could not check its original %s", original.key)
    return staged


def _wanted_tokens(tokens: Sequence[str]) -> list[str]:
    """``tokens`` checked for shape: no repeats, no more than a listing may hold, none longer
    than :data:`TOKEN_LENGTH` (``ValidationFailed`` on ``photos`` otherwise)."""
    tokens = list(tokens)
    if len(tokens) > MAX_IMAGES:
        raise fail("photos", "too_many_photos")
    if len(set(tokens)) != len(tokens) or any(
        not t or len(t) > TOKEN_LENGTH or not t.isascii() for t in tokens
    ):
        raise fail("photos", "photo_expired")
    return tokens


def staged_photos(seller: Seller, tokens: Sequence[str]) -> list[Staged]:
    """The seller's waiting photos named by ``tokens``, in that order, repeats once; a token
    that names none (swept, taken by a save already, another seller's, made up) is left out.
    Only the first :data:`MAX_STAGED` tokens are looked at."""
    tokens = list(dict.fromkeys(t for t in tokens if t and len(t) <= TOKEN_LENGTH))[:MAX_STAGED]
    if not tokens:
        return []
    rows = {
        row.token: row
        for row in db.session.scalars(
            sa.select(StagedPhoto).where(
                StagedPhoto.seller_id == seller.id, StagedPhoto.token.in_(tokens)
            )
        )
    }
    return [_staged(rows[t]) for t in tokens if t in rows]


def take_staged(product: Product, seller_id: int, tokens: Sequence[str], cover: str = "") -> None:
    """Inside the write transaction that creates or saves ``product`` (its photos locked, or a
    new listing): the seller's waiting photos named by ``tokens`` become its last photos, in
    that order, ``processing`` (the caller hands :func:`owed_of` to the job worker after the
    commit), and their waiting rows are deleted. ``cover``, one of ``tokens``, becomes the
    first photo. Any token that names no waiting photo of this seller, or more photos than the
    listing may hold, raises ``ValidationFailed`` (on ``photos``) and the transaction changes
    nothing."""
    tokens = _wanted_tokens(tokens)
    if not tokens:
        return
    rows = {
        row.token: row
        for row in db.session.scalars(
            sa.select(StagedPhoto)
            .where(StagedPhoto.seller_id == seller_id, StagedPhoto.token.in_(tokens))
            .order_by(StagedPhoto.id)
            .with_for_update()
        )
    }
    if len(rows) != len(tokens):
        raise fail("photos", "photo_expired")
    if len(product.images) + len(tokens) > MAX_IMAGES:
        raise fail("photos", "too_many_photos")
    if product.id is not None:
        _renumber(product)
    first = None
    for token in tokens:
        row = rows[token]
        image = ProductImage(
            position=len(product.images),
            storage_key="",
            variants=[],
            width=row.width,
            height=row.height,
            alt_text=product.title[:200],
            status=PhotoStatus.PROCESSING,
            original_key=row.original_key,
        )
        product.images.append(image)
        if token == cover:
            first = image
        db.session.delete(row)
    db.session.flush()
    if first is not None and product.images[0] is not first:
        images = list(product.images)
        images.insert(0, images.pop(images.index(first)))
        product.images[:] = images
        _renumber(product)


def owed_of(product_id: int) -> list[int]:
    """The listing's photos still owed their variants (for the job worker after a save)."""
    with transaction(write=False):
        return list(
            db.session.scalars(
                sa.select(ProductImage.id)
                .where(
                    ProductImage.product_id == product_id,
                    ProductImage.status == PhotoStatus.PROCESSING,
                    ProductImage.original_key.is_not(None),
                )
                .order_by(ProductImage.position)
            )
        )


def failed_among(image_ids: Sequence[int]) -> bool:
    """Whether any of these photos failed (after their runs in place, for the seller's note)."""
    with transaction(write=False):
        return bool(
            db.session.scalar(
                sa.select(sa.func.count(ProductImage.id)).where(
                    ProductImage.id.in_(list(image_ids)),
                    ProductImage.status == PhotoStatus.FAILED,
                )
            )
        )


def discard_staged(seller: Seller, tokens: Sequence[str]) -> int:
    """Remove the seller's waiting photos named by ``tokens`` (those that name none are
    ignored) and their files unless another row uses them. Returns how many went."""
    tokens = [t for t in tokens if t and len(t) <= TOKEN_LENGTH][:MAX_STAGED]
    if not tokens:
        return 0
    with transaction():
        rows = db.session.scalars(
            sa.select(StagedPhoto)
            .where(StagedPhoto.seller_id == seller.id, StagedPhoto.token.in_(tokens))
            .with_for_update()
        ).all()
        keys = [row.original_key for row in rows]
        for row in rows:
            db.session.delete(row)
    _remove_originals(keys)
    return len(keys)


def sweep_staged(older_than: timedelta = STAGED_FOR, limit: int = 500) -> int:
    """Remove photos uploaded on a listing form more than ``older_than`` ago that no save took,
    and their files unless another row uses them. Returns how many rows went."""
    with transaction():
        rows = db.session.scalars(
            sa.select(StagedPhoto)
            .where(StagedPhoto.created_at < utcnow() - older_than)
            .order_by(StagedPhoto.id)
            .limit(limit)
            .with_for_update()
        ).all()
        keys = [row.original_key for row in rows]
        for row in rows:
            db.session.delete(row)
    _remove_originals(keys)
    return len(keys)


def _remove_originals(keys: Iterable[str]) -> None:
    """After the rows naming them were deleted: each original goes unless a row keeps it."""
    store = storage()
    for key in dict.fromkeys(keys):
        try:
            _remove_original(key, None, store)
        except Exception:  # a stray file is harmless; logged for the record
            log.warning("could not delete the original %s of a staged photo", key)


refers_to_files(StagedPhoto.original_key)
