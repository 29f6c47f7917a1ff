"""The fair-price hint on the listing form: what other sellers ask for the same category, in the
seller's county and in the whole market (:mod:`app.program.price_hints`), and where the price
being typed falls. The form shows it for the listing's category when it opens; a small script
asks this view again as the seller changes the category or types a price."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from app.sellers import bp
from app.sellers.routes import current_seller
from app.web.listing_form import price_hint_page


@bp.get("/price-hint")
def price_hint() -> ResponseReturnValue:
    return price_hint_page(current_seller().county_id)
