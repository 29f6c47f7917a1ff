"""The fair-price hint on the listing form: what other sellers ask for the same category, in the
seller's county and in the whole market (:mod:`app.program.price_hints`), and where the price
being typed falls. The form shows it for the listing's category when it opens; a small script
asks this view again as the seller changes the category or types a price."""

from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from app.core.db import database_id
from app.core.inputs import optional_money
from app.program import price_hints
from app.sellers import bp
from app.sellers.routes import current_seller


@bp.get("/price-hint")
def price_hint() -> ResponseReturnValue:
    seller = current_seller()
    raw_category = (request.args.get("category") or "").strip()
    category_id = database_id(raw_category) if raw_category else None
    if raw_category and category_id is None:
        abort(400)
    try:
        price = optional_money(request.args.get("price"), current_app.config["MARKET_CURRENCY"])
    except ValueError:
        price = None  # a price still being typed: the hint without its place
    if price is not None and price <= 0:
        price = None
    return render_template(
        "sellers/_price_hint.html", **price_hints.shown(category_id, seller.county_id, price)
    )
