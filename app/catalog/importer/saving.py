"""Step 3 of the CSV import: every listing of a plan without errors created in one
transaction, photos included, or none. Photos are stored through the catalogue's photo service
(:mod:`app.catalog.photos`) before that transaction starts."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog import variants
from app.catalog.importer.rows import (
    ImageLookup,
    ImportInvalid,
    ImportPlan,
    ImportRejected,
    PlannedRow,
    RowError,
)
from app.catalog.models import Product, ProductStatus, Seller
from app.catalog.photos import discard_written, photo_row, store_picture
from app.core.db import end_read, transaction
from app.core.errors import NotAllowed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.media.images import ImageRejected, StoredImage
from app.media.storage import Storage, WriteLog
from app.media.store import storage


def save(plan: ImportPlan, seller: Seller, *, store: Storage | None = None) -> list[Product]:
    """Create every listing of ``plan`` for ``seller`` in one transaction; all or nothing.

    Raises :class:`ImportInvalid` (nothing saved) when a row has errors, including photos the
    image pipeline refuses now; :class:`ImportRejected` ``no_rows`` for an empty plan or
    ``conflict`` when the database refuses the rows (e.g. a category deleted meanwhile);
    :class:`NotAllowed` for a plan made for another seller. Photos are stored (``store``,
    default the app's media storage) before the transaction; if anything fails afterwards the
    files this call wrote are removed again. Returns the new products in file order (one per
    listing: a listing with options is made from all of its rows, its variants through
    :func:`app.catalog.variants.apply`).
    """
    if plan.seller_id != seller.id:
        raise NotAllowed("the plan was made for another seller")
    if not plan.rows:
        raise ImportRejected("no_rows")
    if not plan.ok:
        raise ImportInvalid(plan)
    store = store if store is not None else storage()
    seller_id = seller.id
    written = WriteLog(store)
    # Only reads so far (validation): end them before the photos are decoded, so no database
    # lock is held meanwhile, and the write transaction below starts afresh.
    end_read()
    try:
        images = _store_images(plan, written)
        if not plan.ok:
            raise ImportInvalid(plan)
        try:
            with transaction():
                listed = [row for row in plan.rows if row.variant_of is None]
                products = [_product(row, seller_id, images) for row in listed]
                db.session.add_all(products)
                if any(row.variants for row in listed):
                    db.session.flush()
                for row, product in zip(listed, products, strict=True):
                    if row.variants is not None:
                        variants.apply(product, row.variants)
        except sa.exc.IntegrityError as exc:
            raise ImportRejected("conflict") from exc
    except BaseException:
        discard_written(written.written, store)
        raise
    return products


def _store_images(plan: ImportPlan, store: Storage) -> dict[str, StoredImage]:
    """Run every named photo through the photo service once; refusals become row errors."""
    outcome: dict[str, StoredImage | RowError] = {}
    for row in plan.rows:
        for name in row.images:
            if name not in outcome:
                outcome[name] = _store_image(name, plan.image_lookup, store)
            result = outcome[name]
            if isinstance(result, RowError):
                row.errors.append(result)
    return {name: result for name, result in outcome.items() if isinstance(result, StoredImage)}


def _store_image(name: str, lookup: ImageLookup | None, store: Storage) -> StoredImage | RowError:
    """One photo stored, or the row error saying why not."""
    shown = name[:80]
    try:
        data = lookup(name) if lookup is not None else None
        if data is None:
            return RowError("images", "image_not_found", {"name": shown})
        return store_picture(data, store)
    except ImageRejected as exc:
        return RowError("images", "image_rejected", {"name": shown, "reason": exc.code})


def _product(row: PlannedRow, seller_id: int, images: dict[str, StoredImage]) -> Product:
    published = row.status == ProductStatus.PUBLISHED
    product = Product(
        seller_id=seller_id,
        category_id=row.category_id,
        title=row.title,
        description=row.description,
        price_amount=row.price_amount or 0,
        stock=row.stock,
        status=row.status,
        published_at=utcnow() if published else None,
    )
    for position, name in enumerate(row.images):
        product.images.append(photo_row(images[name], position, row.title))
    return product
