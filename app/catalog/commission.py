"""The market's commission per category, set by staff in basis points (1/100 of a percent).

Staff type a percentage ("7.5", "۷٫۵", "10"); it is stored as an integer number of basis points
(750, 1000) between 0 and 10000, or None for "the market default" (``COMMISSION_RATE_BP``). Each
change is audited. The commission of an order is computed at its completion
(:mod:`app.orders.completion`), so a new rate applies to orders completed from then on.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.audit import log as audit
from app.catalog.models import Category
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import ascii_digits
from app.core.pagination import Page, page_of

MAX_BP = 10_000
_PERCENT = re.compile(r"^(\d{1,3})(?:[.,\u066b](\d{1,2}))?$")


def parse_percent(text: object) -> int | None:
    """A typed percentage as basis points; None for an empty text. ValidationFailed
    (rate: rate_invalid / rate_range) for anything else than 0–100 with at most two decimals."""
    raw = ascii_digits(text).strip().rstrip("%\u066a").strip()
    if not raw:
        return None
    match = _PERCENT.match(raw)
    if match is None:
        raise ValidationFailed({"rate": ["rate_invalid"]})
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    bp = int(whole) * 100 + int(frac)
    if bp > MAX_BP:
        raise ValidationFailed({"rate": ["rate_range"]})
    return bp


def categories_page(page: int, per_page: int) -> Page:
    """The categories in their order, one page of them."""
    total = db.session.scalar(sa.select(sa.func.count(Category.id))) or 0
    stmt = sa.select(Category).order_by(Category.position, Category.id)
    return page_of(stmt, total, page, per_page)


def set_rate(category_id: int, text: object, staff_id: int) -> Category:
    """Set the category's commission from a typed percentage (empty: the market default) and
    commit, with an audit row of the old and new basis points. Raises NotFound or
    ValidationFailed; then nothing changes."""
    bp = parse_percent(text)
    with transaction():
        category = db.session.get(Category, category_id)
        if category is None:
            raise NotFound("category")
        before = category.commission_rate_bp
        if before != bp:
            category.commission_rate_bp = bp
            audit.record(
                staff_id, "category.commission_rate", "category", category.id,
                data={"before": before, "after": bp},
            )  # fmt: skip
    return category
