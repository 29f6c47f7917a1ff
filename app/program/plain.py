"""The sales report's figures straight from the order lines and offline sale lines, by plain
GROUP BY, without the summary rows: what the tests and ``bench/reports.py`` compare the summary
rows with (and time them against)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Seller
from app.core.extensions import db
from app.orders.models import Order, OrderLine
from app.payments.models import Payment
from app.program.calendar import Period, as_day, jalali_month_of, tehran_day
from app.program.rebuild import day_of, offline_units
from app.program.sales_models import OfflineSale
from app.program.summaries import COUNTED, channel_of

_ZERO = {"card_amount": 0, "cash_amount": 0, "offline_amount": 0, "total_amount": 0,
         "orders": 0, "units": 0, "buyers": 0, "repeat_buyers": 0, "first_sale": None,
         "last_sale": None}  # fmt: skip


class _Sellers(dict[int, dict[str, Any]]):
    """Seller id -> the report's figures, added up as the rows come."""

    def add(self, seller_id: int, channel: str, orders: int, units: int, amount: int) -> None:
        r = self.setdefault(seller_id, dict(_ZERO))
        r[f"{channel}_amount"] += int(amount)
        r["total_amount"] += int(amount)
        r["orders"] += int(orders)
        r["units"] += int(units)

    def seen(self, seller_id: int, first: date, last: date) -> None:
        r = self[seller_id]
        r["first_sale"] = min(filter(None, (r["first_sale"], first)))
        r["last_sale"] = max(filter(None, (r["last_sale"], last)))


def _online(out: _Sellers, period: Period) -> None:
    lo, hi = period.bounds_utc()
    in_period = (Order.status.in_(COUNTED), Order.paid_at >= lo, Order.paid_at < hi)
    for seller_id, provider, orders, units, amount, first, last in db.session.execute(
        sa.select(
            Order.seller_id,
            Payment.provider,
            sa.func.count(sa.distinct(Order.id)),
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.line_total_amount),
            sa.func.min(Order.paid_at),
            sa.func.max(Order.paid_at),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Payment, Payment.id == Order.payment_id)
        .where(*in_period)
        .group_by(Order.seller_id, Payment.provider)
    ).tuples():
        out.add(seller_id, channel_of(provider), orders, units, amount)
        if first is not None and last is not None:  # a group has orders, so it has both
            out.seen(seller_id, tehran_day(first), tehran_day(last))
    per_buyer = (
        sa.select(Order.seller_id, sa.func.count().label("n"))
        .where(*in_period)
        .group_by(Order.seller_id, Order.customer_id)
        .subquery()
    )
    for seller_id, buyers, repeat in db.session.execute(
        sa.select(
            per_buyer.c.seller_id,
            sa.func.count(),
            sa.func.sum(sa.case((per_buyer.c.n > 1, 1), else_=0)),
        ).group_by(per_buyer.c.seller_id)
    ).tuples():
        r = out.setdefault(seller_id, dict(_ZERO))
        r["buyers"], r["repeat_buyers"] = int(buyers), int(repeat)


def plain_seller_sales(period: Period) -> dict[int, dict[str, Any]]:
    """Per seller with sales in ``period``: the report's figures by a plain GROUP BY over the
    order lines (and offline sale lines), without the summary rows."""
    out = _Sellers()
    _online(out, period)
    units = offline_units()
    for seller_id, sales, units_sum, amount, first, last in db.session.execute(
        sa.select(
            OfflineSale.seller_id,
            sa.func.count(),
            sa.func.sum(units.c.units),
            sa.func.sum(OfflineSale.amount),
            sa.func.min(OfflineSale.sold_on),
            sa.func.max(OfflineSale.sold_on),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .where(OfflineSale.sold_on >= period.start, OfflineSale.sold_on <= period.end)
        .group_by(OfflineSale.seller_id)
    ).tuples():
        out.add(seller_id, "offline", sales, units_sum, amount)
        out.seen(seller_id, as_day(first), as_day(last))
    return dict(out)


def plain_county_monthly(period: Period) -> dict[tuple[int, int, int], dict[str, int]]:
    """``reports.county_monthly`` by a plain GROUP BY over the order lines and offline sales."""
    lo, hi = period.bounds_utc()
    day = day_of(Order.paid_at, db.session())
    out: dict[tuple[int, int, int], dict[str, int]] = {}
    month_of: dict[Any, tuple[int, int]] = {}

    def add(county_id: int, d: Any, orders: int, units: int, amount: int) -> None:
        if d not in month_of:
            month_of[d] = jalali_month_of(as_day(d))
        row = out.setdefault((county_id, *month_of[d]), {"orders": 0, "units": 0, "amount": 0})
        row["orders"] += int(orders)
        row["units"] += int(units)
        row["amount"] += int(amount)

    for r in db.session.execute(
        sa.select(
            Seller.county_id,
            day,
            sa.func.count(sa.distinct(Order.id)),
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.line_total_amount),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Seller, Seller.id == Order.seller_id)
        .where(Order.status.in_(COUNTED), Order.paid_at >= lo, Order.paid_at < hi)
        .group_by(Seller.county_id, day)
    ).tuples():
        add(*r)
    units = offline_units()
    for r in db.session.execute(
        sa.select(
            Seller.county_id,
            OfflineSale.sold_on,
            sa.func.count(),
            sa.func.sum(units.c.units),
            sa.func.sum(OfflineSale.amount),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .join(Seller, Seller.id == OfflineSale.seller_id)
        .where(OfflineSale.sold_on >= period.start, OfflineSale.sold_on <= period.end)
        .group_by(Seller.county_id, OfflineSale.sold_on)
    ).tuples():
        add(*r)
    return out
