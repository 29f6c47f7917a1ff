"""Order lines as sold: the sales of each variant of a seller's products, and the order-line
CSV tables of the seller and of staff.

A line copies its product's title and, for a product with options, the variant's label and SKU
as they were at the checkout (``OrderLine.variant_label``, ``OrderLine.sku``), so these tables
never change when a listing does. Sales count as the programme's summaries count them
(:data:`app.program.summaries.COUNTED`: an order paid and not cancelled nor refunded, on the
Tehran day of ``paid_at``); the summaries themselves stay per product and seller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from app.core.extensions import db
from app.orders.models import Order, OrderLine
from app.program.calendar import Period, jalali_iso, tehran_day
from app.program.exports import Table, toman
from app.program.summaries import COUNTED

MAX_LINES = 50_000
"""Lines one CSV file holds at most (the newest)."""


@dataclass(frozen=True)
class VariantSales:
    """Units and amount (rials) sold of one variant of a product (``variant_label`` ``None``:
    the product sold without options)."""

    product_id: int | None
    title: str
    variant_label: str | None
    sku: str | None
    units: int
    amount: int


def _counted(stmt: sa.Select, period: Period) -> sa.Select:
    start, end = period.bounds_utc()
    return stmt.where(
        Order.status.in_(COUNTED),
        Order.paid_at.is_not(None),
        Order.paid_at >= start,
        Order.paid_at < end,
    )


def variant_sales(seller_id: int, period: Period) -> list[VariantSales]:
    """What the seller sold in ``period`` per product and variant, from the order lines:
    the products by amount (largest first), each product's variants by amount."""
    label = sa.func.coalesce(OrderLine.variant_label, "")
    sku = sa.func.coalesce(OrderLine.sku, "")
    stmt = (
        sa.select(
            OrderLine.product_id,
            sa.func.max(OrderLine.product_title),
            label,
            sku,
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.line_total_amount),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.seller_id == seller_id)
        .group_by(OrderLine.product_id, label, sku)
    )
    rows = [
        VariantSales(pid, title, lab or None, code or None, int(units or 0), int(amount or 0))
        for pid, title, lab, code, units, amount in db.session.execute(_counted(stmt, period))
    ]
    totals: dict[int | None, int] = {}
    for row in rows:
        totals[row.product_id] = totals.get(row.product_id, 0) + row.amount
    return sorted(
        rows,
        key=lambda r: (
            -totals[r.product_id],
            r.product_id or 0,
            -r.amount,
            r.variant_label or "",
            r.sku or "",
        ),
    )


def variant_sales_table(rows: Iterable[VariantSales], period: Period) -> Table:
    """The per-variant sales as a CSV table (amounts in toman)."""
    header = [
        "product_id", "product", "variant", "sku", "units", "sales_amount_toman",
        "period_start", "period_end",
    ]  # fmt: skip
    return header, [
        [r.product_id, r.title, r.variant_label, r.sku, r.units, toman(r.amount),
         period.start.isoformat(), period.end.isoformat()]
        for r in rows
    ]  # fmt: skip


LINE_HEADER = [
    "order_id", "placed_on", "placed_on_jalali", "paid_on", "status", "seller_id", "seller",
    "product_id", "product", "variant", "sku", "quantity", "unit_price_toman",
    "line_total_toman",
]  # fmt: skip


def order_lines_table(period: Period, seller_id: int | None = None) -> Table:
    """Every line of the orders placed in ``period`` (of one seller, or all), newest first,
    with the variant's label and SKU as sold; amounts in toman. At most :data:`MAX_LINES`."""
    start, end = period.bounds_utc()
    stmt = (
        sa.select(OrderLine, Order.created_at, Order.paid_at, Order.status, Order.seller_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.created_at >= start, Order.created_at < end)
        .order_by(Order.created_at.desc(), Order.id.desc(), OrderLine.id)
        .limit(MAX_LINES)
    )
    if seller_id is not None:
        stmt = stmt.where(Order.seller_id == seller_id)
    rows: list[list[object]] = []
    for line, created, paid, status, seller in db.session.execute(stmt).tuples():
        placed = tehran_day(created)
        rows.append(
            [line.order_id, placed.isoformat(), jalali_iso(placed),
             tehran_day(paid).isoformat() if paid else None, status.value, seller,
             line.seller_name, line.product_id, line.product_title, line.variant_label,
             line.sku, line.quantity, toman(line.unit_price_amount),
             toman(line.line_total_amount)]
        )  # fmt: skip
    return list(LINE_HEADER), rows
