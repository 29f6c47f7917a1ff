"""Early warning: the sellers and orders that need the programme's help before a business gives up.

The founding report's warning is that businesses which never reach a market are abandoned. Five
lists, each for the whole province or one county, name who needs a call or a hand now:

- sellers approved :data:`IDLE_AFTER` days ago or more with no published listing;
- published listings :data:`UNSOLD_AFTER` days old or more that never sold (no row in the sales
  summary, which counts what the programme counts as a sale: card orders paid, cash orders
  delivered, off-line sales);
- published listings sold out;
- orders waiting for their seller (to confirm or to ship) for :data:`LATE_AFTER` days or more;
- problems a customer reported that their seller has not answered for :data:`LATE_AFTER` days.

Each list holds its :data:`LIMIT` oldest items (the ones waiting longest come first) and the count
of all of them. Read by the staff page ``/admin/warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.catalog.scope import PROVINCE, Scope
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.disputes.models import OrderProblem, ProblemStatus
from app.orders.models import Order, OrderStatus, OrderStatusChange
from app.program.sales_models import SalesDailyProduct

IDLE_AFTER = timedelta(days=14)
UNSOLD_AFTER = timedelta(days=60)
LATE_AFTER = timedelta(days=2)
LIMIT = 100

# Orders waiting for their seller: to accept a cash order, or to ship a paid or accepted one.
WAITING_FOR_SELLER = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.CONFIRMED)


@dataclass
class Item:
    """One line of a list: what it is about, since when, and who to call."""

    kind: str  # seller | listing | order | problem
    id: int
    title: str
    seller_id: int
    seller_name: str
    phone: str | None
    since: datetime
    status: str | None = None


@dataclass
class WarningList:
    key: str
    items: list[Item] = field(default_factory=list)
    total: int = 0


@dataclass
class Warnings:
    county_id: int | None
    lists: list[WarningList]

    @property
    def total(self) -> int:
        return sum(one.total for one in self.lists)


def _in_county(county_id: int | None, scope: Scope) -> list[Any]:
    county = [Seller.county_id == county_id] if county_id is not None else []
    return [*county, *scope.sellers()]


def _fill(key: str, stmt: sa.Select, make: Any) -> WarningList:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(stmt.limit(LIMIT)).all()
    return WarningList(key, [make(row) for row in rows], total)


def _idle_sellers(county_id: int | None, now: datetime, scope: Scope) -> WarningList:
    listed = sa.exists().where(
        Product.seller_id == Seller.id, Product.status == ProductStatus.PUBLISHED
    )
    stmt = (
        sa.select(Seller.id, Seller.display_name, Seller.phone, Seller.approved_at)
        .where(
            Seller.status == SellerStatus.APPROVED,
            Seller.approved_at <= now - IDLE_AFTER,
            ~listed,
            *_in_county(county_id, scope),
        )
        .order_by(Seller.approved_at, Seller.id)
    )
    return _fill(
        "idle_sellers",
        stmt,
        lambda r: Item(
            "seller", r.id, r.display_name, r.id, r.display_name, r.phone, r.approved_at
        ),
    )


def _listings(
    key: str, county_id: int | None, scope: Scope, conditions: list[Any], since: Any
) -> WarningList:
    stmt = (
        sa.select(
            Product.id,
            Product.title,
            Seller.id.label("seller_id"),
            Seller.display_name,
            Seller.phone,
            since.label("since"),
        )
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
            *conditions,
            *_in_county(county_id, scope),
        )
        .order_by(since, Product.id)
    )
    return _fill(
        key,
        stmt,
        lambda r: Item("listing", r.id, r.title, r.seller_id, r.display_name, r.phone, r.since),
    )


def _unsold_listings(county_id: int | None, now: datetime, scope: Scope) -> WarningList:
    sold = sa.exists().where(
        SalesDailyProduct.seller_id == Product.seller_id,
        SalesDailyProduct.product_key == Product.id,
    )
    published = sa.func.coalesce(Product.published_at, Product.created_at)
    return _listings(
        "unsold_listings", county_id, scope, [published <= now - UNSOLD_AFTER, ~sold], published
    )


def _sold_out(county_id: int | None, scope: Scope) -> WarningList:
    return _listings("sold_out", county_id, scope, [Product.stock <= 0], Product.updated_at)


def _late_orders(county_id: int | None, now: datetime, scope: Scope) -> WarningList:
    # Since when the order waits: the moment it reached its present status.
    since = (
        sa.select(sa.func.max(OrderStatusChange.created_at))
        .where(
            OrderStatusChange.order_id == Order.id,
            OrderStatusChange.to_status == Order.status,
        )
        .correlate(Order)
        .scalar_subquery()
    )
    waiting_since = sa.func.coalesce(since, Order.created_at)
    stmt = (
        sa.select(
            Order.id,
            Order.status,
            Seller.id.label("seller_id"),
            Seller.display_name,
            Seller.phone,
            waiting_since.label("since"),
        )
        .join(Seller, Seller.id == Order.seller_id)
        .where(
            Order.status.in_(WAITING_FOR_SELLER),
            waiting_since <= now - LATE_AFTER,
            *_in_county(county_id, scope),
        )
        .order_by(waiting_since, Order.id)
    )
    return _fill(
        "late_orders",
        stmt,
        lambda r: Item(
            "order",
            r.id,
            "",
            r.seller_id,
            r.display_name,
            r.phone,
            r.since,
            OrderStatus(r.status).value,
        ),
    )


def _unanswered_problems(county_id: int | None, now: datetime, scope: Scope) -> WarningList:
    stmt = (
        sa.select(
            OrderProblem.id,
            OrderProblem.order_id,
            Seller.id.label("seller_id"),
            Seller.display_name,
            Seller.phone,
            OrderProblem.created_at,
        )
        .join(Seller, Seller.id == OrderProblem.seller_id)
        .where(
            OrderProblem.status == ProblemStatus.OPEN,
            OrderProblem.seller_replied_at.is_(None),
            OrderProblem.created_at <= now - LATE_AFTER,
            *_in_county(county_id, scope),
        )
        .order_by(OrderProblem.created_at, OrderProblem.id)
    )
    return _fill(
        "unanswered_problems",
        stmt,
        lambda r: Item(
            "problem",
            r.id,
            str(r.order_id),
            r.seller_id,
            r.display_name,
            r.phone,
            r.created_at,
        ),
    )


def early_warnings(
    county_id: int | None = None, now: datetime | None = None, scope: Scope = PROVINCE
) -> Warnings:
    """The five lists for one county (``None``: the whole province) at ``now``, of ``scope``'s
    sellers only."""
    moment = now or utcnow()
    return Warnings(
        county_id,
        [
            _idle_sellers(county_id, moment, scope),
            _unsold_listings(county_id, moment, scope),
            _sold_out(county_id, scope),
            _late_orders(county_id, moment, scope),
            _unanswered_problems(county_id, moment, scope),
        ],
    )
