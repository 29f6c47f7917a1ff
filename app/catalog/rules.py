"""What the catalogue services share: the listing limits (also the CSV import's), the one way a
rule refuses a field, and the row lock every change to one listing takes."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Product
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db

MAX_IMAGES = 8
MAX_PRICE_AMOUNT = 10**13  # a trillion toman: anything above is a typo
MAX_STOCK = 1_000_000
LOW_STOCK = 3


def fail(field: str, code: str) -> ValidationFailed:
    """The error for one refused ``field``; ``code`` is what the form turns into a message."""
    return ValidationFailed({field: [code]})


def locked_product(product_id: int) -> Product:
    """The listing re-read with its row locked until commit, so two people acting on it at once
    cannot both move it (SQLite: the write transaction itself). Call it inside
    :func:`app.core.db.transaction`; a listing deleted meanwhile raises ``NotFound``."""
    product = db.session.scalar(
        sa.select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise NotFound(f"product {product_id}")
    return product


def locked_photos(product_id: int) -> Product:
    """The listing as :func:`locked_product`, its photos read afresh under the lock: every change
    to a listing's photos goes through here, so counting, choosing a position and renumbering
    never interleave."""
    product = locked_product(product_id)
    db.session.expire(product, ["images"])
    return product
