from __future__ import annotations

from flask import abort, url_for

from app.api import bp
from app.catalog import queries


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    item = queries.public_product(product_id)
    if item is None:
        abort(404)
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "price": item.price_amount,
        "currency": "IRR",
        "in_stock": item.in_stock,
        "seller": {"slug": item.seller.slug, "name": item.seller.display_name},
        "county": item.seller.county.slug,
        "url": url_for("shop.product", product_id=item.id, _external=True),
    }
