"""Reads of orders for the pages that show them: a customer's own orders, a seller's orders,
the address of a customer's last order, and the staff dashboard's count. Nothing here writes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.catalog.scope import PROVINCE, Scope
from app.core.extensions import db
from app.core.pagination import Page, count_rows, page_of
from app.orders.models import Order, OrderLine, OrderStatus

_NEWEST_FIRST = (Order.created_at.desc(), Order.id.desc())


def order_count(scope: Scope = PROVINCE) -> int:
    """How many orders (of ``scope``'s sellers) the market holds, in any status."""
    stmt = sa.select(sa.func.count(Order.id))
    if not scope.is_province:
        stmt = stmt.where(Order.seller_id.in_(scope.seller_ids()))
    return db.session.scalar(stmt) or 0


def last_order(customer_id: int) -> Order | None:
    """The customer's most recent order (its address fills the next checkout), or None."""
    return db.session.scalar(
        sa.select(Order).where(Order.customer_id == customer_id).order_by(*_NEWEST_FIRST).limit(1)
    )


def last_province_of(
    customer_id: sa.ColumnExpressionArgument[int] | int,
) -> sa.ScalarSelect[str | None]:
    """The province of the customer's most recent order (:func:`last_order`'s), as a scalar
    subquery: NULL when they have none."""
    return (
        sa.select(Order.province)
        .where(Order.customer_id == customer_id)
        .order_by(*_NEWEST_FIRST)
        .limit(1)
        .scalar_subquery()
    )


def customer_order(order_id: int, customer_id: int) -> Order | None:
    """The order if it is the customer's own (else None), with lines, history and seller."""
    return db.session.scalar(
        sa.select(Order)
        .where(Order.id == order_id, Order.customer_id == customer_id)
        .options(
            selectinload(Order.lines),
            selectinload(Order.status_changes),
            joinedload(Order.seller),
        )
    )


def customer_orders(customer_id: int, page: int, per_page: int) -> Page:
    """One page of the customer's orders, newest first, with seller and lines."""
    stmt = sa.select(Order).where(Order.customer_id == customer_id)
    return page_of(
        stmt.options(joinedload(Order.seller), selectinload(Order.lines)).order_by(*_NEWEST_FIRST),
        count_rows(stmt, Order.id),
        page,
        per_page,
    )


def seller_orders(seller_id: int, status: OrderStatus | None, page: int, per_page: int) -> Page:
    """One page of the seller's orders (of one status, or all), newest first, with lines."""
    stmt = sa.select(Order).where(Order.seller_id == seller_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return page_of(
        stmt.options(selectinload(Order.lines)).order_by(*_NEWEST_FIRST),
        count_rows(stmt, Order.id),
        page,
        per_page,
    )


def recent_seller_orders(seller_id: int, limit: int) -> list[Order]:
    """The seller's ``limit`` newest orders."""
    return list(
        db.session.scalars(
            sa.select(Order)
            .where(Order.seller_id == seller_id)
            .order_by(*_NEWEST_FIRST)
            .limit(limit)
        )
    )


def invoice_order(order_id: int, scope: Scope = PROVINCE) -> Order | None:
    """Any order (of ``scope``'s sellers) with its lines and seller, for an invoice (the caller
    checks who else may see it)."""
    stmt = sa.select(Order).where(Order.id == order_id)
    if not scope.is_province:
        stmt = stmt.where(Order.seller_id.in_(scope.seller_ids()))
    return db.session.scalar(stmt.options(selectinload(Order.lines), joinedload(Order.seller)))


def campaign_costs() -> dict[int, int]:
    """What each market campaign has cost the market so far: the market's part of the discount
    (``OrderLine.market_discount_amount``) on the lines of completed orders, the seller's
    ledger credits (refunds given back later are not taken off), by campaign id."""
    rows = db.session.execute(
        sa.select(OrderLine.campaign_id, sa.func.sum(OrderLine.market_discount_amount))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.campaign_id.is_not(None), Order.completed_at.is_not(None))
        .group_by(OrderLine.campaign_id)
    ).tuples()
    return {int(campaign_id): int(total or 0) for campaign_id, total in rows if campaign_id}
