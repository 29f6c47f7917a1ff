"""Fair-price hints: what other sellers ask for the same kind of product, shown while a seller
types a price.

Summary rows (:class:`app.program.models.PriceHint`), one per category and county and one per
category for the whole market (county 0): the number of published listings of approved sellers
and the lowest, first quartile, median, third quartile and highest list price. :func:`refresh`
rebuilds them from the listings in one transaction (the scheduled job, ``flask reports
price-hints``, and the demo's seeding); the listing form reads two rows by key, never the
listings. Rows of fewer than :data:`MIN_LISTINGS` listings are not kept: a "range" of one or two
listings would show a neighbour's price, not the market's.

List prices, not sale prices: a hint is about what a thing is worth, and a sale is for days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.db import MAX_DATABASE_ID, transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.program.models import PriceHint

MIN_LISTINGS = 3
MARKET = 0  # the county_id of the whole market's rows
_LOCK = 0x5052_4943  # the advisory lock key of a rebuild ("PRIC")


@dataclass(frozen=True)
class Hint:
    listings: int
    low: int
    quarter: int
    median: int
    three_quarters: int
    high: int

    def position(self, price: int) -> str:
        """Where ``price`` falls: ``below`` the lowest, ``low`` (under the first quartile),
        ``typical`` (the middle half), ``high`` (over the third quartile), ``above`` the highest."""
        if price < self.low:
            return "below"
        if price > self.high:
            return "above"
        if price < self.quarter:
            return "low"
        if price > self.three_quarters:
            return "high"
        return "typical"


def _quantile(ordered: list[int], share: float) -> int:
    """The value at ``share`` of the ordered list, between its two neighbours (whole rials)."""
    place = share * (len(ordered) - 1)
    below = int(place)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + round((ordered[above] - ordered[below]) * (place - below))


def summarise(prices: list[int]) -> Hint:
    ordered = sorted(prices)
    return Hint(
        listings=len(ordered),
        low=ordered[0],
        quarter=_quantile(ordered, 0.25),
        median=_quantile(ordered, 0.5),
        three_quarters=_quantile(ordered, 0.75),
        high=ordered[-1],
    )


def refresh() -> int:
    """Rebuild every summary row from the published listings of approved sellers and commit;
    returns the number of rows kept."""
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    rows = db.session.execute(
        sa.select(Product.category_id, Seller.county_id, Product.price_amount)
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
            Product.category_id.is_not(None),
            Product.price_amount > 0,
        )
    )
    for category_id, county_id, price in rows:
        groups[(category_id, county_id)].append(price)
        groups[(category_id, MARKET)].append(price)
    now = utcnow()
    kept = 0
    with transaction():
        if db.session.get_bind().dialect.name == "postgresql":
            # One rebuild at a time (SQLite's write transaction already runs alone): a second
            # waits, then replaces the first's rows instead of colliding with them.
            db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        db.session.execute(sa.delete(PriceHint))
        for (category_id, county_id), prices in sorted(groups.items()):
            if len(prices) < MIN_LISTINGS:
                continue
            hint = summarise(prices)
            db.session.add(
                PriceHint(
                    category_id=category_id,
                    county_id=county_id,
                    listings=hint.listings,
                    low_amount=hint.low,
                    quarter_amount=hint.quarter,
                    median_amount=hint.median,
                    three_quarters_amount=hint.three_quarters,
                    high_amount=hint.high,
                    computed_at=now,
                )
            )
            kept += 1
    return kept


def hints(category_id: int, county_id: int) -> dict[str, Hint | None]:
    """The hint of ``category_id`` in ``county_id`` and in the whole market (``None`` where
    there are too few listings to compare)."""
    found = {
        row.county_id: Hint(
            row.listings,
            row.low_amount,
            row.quarter_amount,
            row.median_amount,
            row.three_quarters_amount,
            row.high_amount,
        )
        for row in db.session.scalars(
            sa.select(PriceHint).where(
                PriceHint.category_id == category_id,
                PriceHint.county_id.in_((county_id, MARKET)),
            )
        )
    }
    return {"county": found.get(county_id), "market": found.get(MARKET)}


def shown(category_id: object, county_id: int, price: object) -> dict[str, object]:
    """What the hint on the listing form (``sellers/_price_hint.html``) shows for a category
    (none: nothing) in a county, and where ``price`` falls (a form's values: anything but a
    whole number counts as not given)."""
    if not isinstance(category_id, int) or isinstance(category_id, bool):
        category_id = None
    elif not 1 <= category_id <= MAX_DATABASE_ID:
        category_id = None  # a typed number out of the ids' range: no such category
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        price = None
    found = hints(category_id, county_id) if category_id else {}
    return {
        "hint_category": category_id,
        "hint_county": found.get("county"),
        "hint_market": found.get("market"),
        "hint_price": price,
    }
