"""The seller's listings as a file the import reads back (:data:`FIELDS`): one row per listing,
and for a listing with options one row per variant offered, the listing's columns repeated and
the row's price, stock, SKU and sale price the variant's. Prices are in the typed unit (toman);
the images column stays empty (the web import takes no photos)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from app.catalog import variants
from app.catalog.importer.parsing import FIELDS, PERSIAN_HEADERS, VARIANT_FIELDS
from app.catalog.models import Product, ProductStatus
from app.core.extensions import db
from app.core.inputs import TOMAN_RIALS, money_unit


def typed_amount(amount: int | None) -> str:
    """An amount as a seller types it: whole toman for rials, the major unit otherwise."""
    if amount is None:
        return ""
    unit = money_unit(str(current_app.config["MARKET_CURRENCY"]))
    if unit == TOMAN_RIALS:
        return str(amount // unit)
    major, minor = divmod(amount, unit)
    return f"{major}.{minor:02d}"


def export_rows(seller_id: int, *, persian: bool = False) -> tuple[list[str], list[list[object]]]:
    """The header and rows of the seller's listings, oldest first."""
    header = [PERSIAN_HEADERS[f] for f in FIELDS] if persian else list(FIELDS)
    rows: list[list[object]] = []
    products = db.session.scalars(
        sa.select(Product)
        .where(Product.seller_id == seller_id)
        .options(selectinload(Product.category))
        .order_by(Product.id)
    )
    for product in products:
        status = "published" if product.status == ProductStatus.PUBLISHED else "draft"
        listing: list[object] = [
            product.title,
            product.description,
            product.category.slug if product.category else "",
            typed_amount(product.price_amount),
            product.stock,
            status,
            "",
        ]
        offered = variants.variants_of(product.id) if product.has_variants else []
        if not offered:
            rows.append([*listing, *([""] * len(VARIANT_FIELDS))])
            continue
        options = variants.options_of(product.id)
        for variant in offered:
            cells: list[object] = []
            for k in range(3):
                named = k < len(options) and k < len(variant.values)
                cells += [options[k].name, variant.values[k]] if named else ["", ""]
            listing[3], listing[4] = typed_amount(variant.price_amount), variant.stock
            sale = typed_amount(variant.sale_price_amount)
            rows.append([*listing, *cells, variant.sku or "", sale])
    return header, rows
