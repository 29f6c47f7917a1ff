"""``flask reports rebuild`` and ``verify``: the sales summary rows recomputed from the orders and
offline sales (which stay the truth), or compared with them.

The same SELECTs serve both: ``rebuild`` inserts what they give, ``verify`` compares it with what
``app.program.summaries`` kept up to date change by change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.db import transaction
from app.core.extensions import db
from app.core.formatting import TEHRAN
from app.orders.models import Order, OrderLine
from app.payments.models import Payment, Provider
from app.program.calendar import as_date, period_keys, tehran_day
from app.program.sales_models import (
    CARD,
    CASH,
    OFFLINE,
    OfflineSale,
    OfflineSaleLine,
    SalesDaily,
    SalesDailyProduct,
    SalesOrder,
    SalesPeriod,
    SalesPeriodBuyer,
)
from app.program.summaries import COUNTED, table_of

PERIOD_COLUMNS = ["seller_id", "period_key", "card_amount", "cash_amount", "offline_amount",
                  "orders", "units", "buyers", "repeat_buyers", "first_day", "last_day"]  # fmt: skip
ORDER_COLUMNS = ["order_id", "seller_id", "customer_id", "day", "channel", "units", "amount"]
DAILY_COLUMNS = ["seller_id", "day", "channel", "orders", "units", "amount"]
PRODUCT_COLUMNS = ["seller_id", "day", "channel", "product_key", "category_id", "title", "units",
                   "amount"]  # fmt: skip


def _py_tehran_day(value: str | None) -> str | None:
    if value is None:
        return None
    return tehran_day(datetime.fromisoformat(value)).isoformat()


def day_of(column: Any, session: Session) -> Any:
    """SQL for the Tehran day of a UTC timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone(TEHRAN.key, column), sa.Date)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None  # the session's connection is open
    raw.create_function("tehran_day", 1, _py_tehran_day, deterministic=True)
    return sa.func.tehran_day(column, type_=sa.Date)


def offline_units() -> sa.Subquery:
    """Units per offline sale."""
    return (
        sa.select(OfflineSaleLine.sale_id, sa.func.sum(OfflineSaleLine.quantity).label("units"))
        .group_by(OfflineSaleLine.sale_id)
        .subquery()
    )


def _truth_orders(session: Session) -> sa.Select:
    """The ``sales_order`` rows as the orders say they should be."""
    line_sums = (
        sa.select(
            OrderLine.order_id,
            sa.func.sum(OrderLine.quantity).label("units"),
            sa.func.sum(OrderLine.line_total_amount).label("amount"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )
    return (
        sa.select(
            Order.id.label("order_id"),
            Order.seller_id,
            Order.customer_id,
            day_of(Order.paid_at, session).label("day"),
            sa.case((Payment.provider == Provider.CASH, CASH), else_=CARD).label("channel"),
            line_sums.c.units,
            line_sums.c.amount,
        )
        .join(Payment, Payment.id == Order.payment_id)
        .join(line_sums, line_sums.c.order_id == Order.id)
        .where(Order.status.in_(COUNTED), Order.paid_at.is_not(None))
    )


def _truth_daily(orders: Any) -> sa.CompoundSelect:
    """(seller, day, channel, orders, units, amount) from a sales_order-shaped table, plus
    the offline sales."""
    online = sa.select(
        orders.c.seller_id,
        orders.c.day,
        orders.c.channel,
        sa.func.count().label("orders"),
        sa.func.sum(orders.c.units).label("units"),
        sa.func.sum(orders.c.amount).label("amount"),
    ).group_by(orders.c.seller_id, orders.c.day, orders.c.channel)
    units = offline_units()
    offline = (
        sa.select(
            OfflineSale.seller_id,
            OfflineSale.sold_on.label("day"),
            sa.literal(OFFLINE, sa.String(10)).label("channel"),
            sa.func.count().label("orders"),
            sa.func.sum(units.c.units).label("units"),
            sa.func.sum(OfflineSale.amount).label("amount"),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .group_by(OfflineSale.seller_id, OfflineSale.sold_on)
    )
    return sa.union_all(online, offline)


def _truth_products(orders: Any) -> sa.CompoundSelect:
    """The ``sales_daily_product`` rows from a sales_order-shaped table and the offline sales."""
    # One expression object for the select list and GROUP BY (PostgreSQL compares them).
    line_key = sa.func.coalesce(OrderLine.product_id, sa.literal_column("0"))
    offline_key = sa.func.coalesce(OfflineSaleLine.product_id, sa.literal_column("0"))
    online = (
        sa.select(
            orders.c.seller_id,
            orders.c.day,
            orders.c.channel,
            line_key.label("product_key"),
            sa.func.max(OrderLine.category_id).label("category_id"),
            sa.func.max(OrderLine.product_title).label("title"),
            sa.func.sum(OrderLine.quantity).label("units"),
            sa.func.sum(OrderLine.line_total_amount).label("amount"),
        )
        .join(OrderLine, OrderLine.order_id == orders.c.order_id)
        .group_by(orders.c.seller_id, orders.c.day, orders.c.channel, line_key)
    )
    offline = (
        sa.select(
            OfflineSale.seller_id,
            OfflineSale.sold_on.label("day"),
            sa.literal(OFFLINE, sa.String(10)).label("channel"),
            offline_key.label("product_key"),
            sa.func.max(OfflineSaleLine.category_id).label("category_id"),
            sa.func.max(OfflineSaleLine.title).label("title"),
            sa.func.sum(OfflineSaleLine.quantity).label("units"),
            sa.func.sum(OfflineSaleLine.amount).label("amount"),
        )
        .join(OfflineSaleLine, OfflineSaleLine.sale_id == OfflineSale.id)
        .group_by(OfflineSale.seller_id, OfflineSale.sold_on, offline_key)
    )
    return sa.union_all(online, offline)


def _calendar(session: Session, first: Any, last: Any) -> sa.Table:
    """A temporary table of (day, period_key), three rows a day from ``first`` to ``last``."""
    table = sa.Table(
        "tmp_sales_calendar",
        sa.MetaData(),
        sa.Column("day", sa.Date),
        sa.Column("period_key", sa.String(8)),
        prefixes=["TEMPORARY"],
    )
    conn = session.connection()
    conn.exec_driver_sql("DROP TABLE IF EXISTS tmp_sales_calendar")
    table.create(conn)
    day, end = as_date(first), as_date(last)
    if day is not None and end is not None:
        rows: list[dict[str, date | str]] = []
        while day <= end:
            rows.extend({"day": day, "period_key": key} for key in period_keys(day))
            day += timedelta(days=1)
        session.execute(table.insert(), rows)
    if session.get_bind().dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE tmp_sales_calendar")  # a temporary table has no statistics
    return table


def _period_buyers(orders: Any, cal: sa.Table) -> tuple[sa.Select, sa.Subquery]:
    """(the sales_period_buyer rows, buyers and repeat buyers per seller and period key)."""
    per_buyer = (
        sa.select(
            orders.c.seller_id,
            cal.c.period_key,
            orders.c.customer_id,
            sa.func.count().label("orders"),
        )
        .join(cal, cal.c.day == orders.c.day)
        .group_by(orders.c.seller_id, cal.c.period_key, orders.c.customer_id)
    )
    pb = per_buyer.subquery()
    buyers = (
        sa.select(
            pb.c.seller_id,
            pb.c.period_key,
            sa.func.count().label("buyers"),
            sa.func.sum(sa.case((pb.c.orders > 1, 1), else_=0)).label("repeat_buyers"),
        )
        .group_by(pb.c.seller_id, pb.c.period_key)
        .subquery()
    )
    return per_buyer, buyers


def _period_rows(daily: Any, orders: Any, cal: sa.Table) -> tuple[sa.Select, sa.Select]:
    """SELECTs of the sales_period and sales_period_buyer rows, from a sales_daily-shaped and a
    sales_order-shaped source."""

    def channel_sum(channel: str) -> Any:
        return sa.func.sum(sa.case((daily.c.channel == channel, daily.c.amount), else_=0))

    sums = (
        sa.select(
            daily.c.seller_id,
            cal.c.period_key,
            channel_sum(CARD).label("card_amount"),
            channel_sum(CASH).label("cash_amount"),
            channel_sum(OFFLINE).label("offline_amount"),
            sa.func.sum(daily.c.orders).label("orders"),
            sa.func.sum(daily.c.units).label("units"),
            sa.func.min(daily.c.day).label("first_day"),
            sa.func.max(daily.c.day).label("last_day"),
        )
        .join(cal, cal.c.day == daily.c.day)
        .group_by(daily.c.seller_id, cal.c.period_key)
        .subquery()
    )
    per_buyer, buyers = _period_buyers(orders, cal)
    periods = sa.select(
        sums.c.seller_id,
        sums.c.period_key,
        sums.c.card_amount,
        sums.c.cash_amount,
        sums.c.offline_amount,
        sums.c.orders,
        sums.c.units,
        sa.func.coalesce(buyers.c.buyers, 0),
        sa.func.coalesce(buyers.c.repeat_buyers, 0),
        sums.c.first_day,
        sums.c.last_day,
    ).outerjoin(
        buyers,
        sa.and_(buyers.c.seller_id == sums.c.seller_id, buyers.c.period_key == sums.c.period_key),
    )
    return periods, per_buyer


def _count(session: Session, model: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def rebuild() -> dict[str, int]:
    """``flask reports rebuild``: recompute every summary row from the orders and offline sales;
    returns how many counted orders, daily rows and product rows there are. Commits."""
    with transaction() as session:
        for model in (SalesPeriodBuyer, SalesPeriod, SalesDailyProduct, SalesDaily, SalesOrder):
            session.execute(sa.delete(model).execution_options(synchronize_session=False))
        session.execute(sa.insert(SalesOrder).from_select(ORDER_COLUMNS, _truth_orders(session)))
        orders = table_of(SalesOrder)
        session.execute(sa.insert(SalesDaily).from_select(DAILY_COLUMNS, _truth_daily(orders)))
        session.execute(
            sa.insert(SalesDailyProduct).from_select(PRODUCT_COLUMNS, _truth_products(orders))
        )
        span = session.execute(
            sa.select(sa.func.min(SalesDaily.day), sa.func.max(SalesDaily.day))
        ).one()
        cal = _calendar(session, *span)
        periods, per_buyer = _period_rows(table_of(SalesDaily), orders, cal)
        session.execute(sa.insert(SalesPeriod).from_select(PERIOD_COLUMNS, periods))
        session.execute(
            sa.insert(SalesPeriodBuyer).from_select(
                ["seller_id", "period_key", "customer_id", "orders"], per_buyer
            )
        )
        session.execute(sa.text("DROP TABLE tmp_sales_calendar"))
        return {
            "orders": _count(session, SalesOrder),
            "daily": _count(session, SalesDaily),
            "products": _count(session, SalesDailyProduct),
        }


def _checks(session: Session) -> list[tuple[str, Any, Any, int]]:
    """(table, the truth, the summary rows, how many leading columns are the key) of each
    summary table."""
    truth = _truth_orders(session).subquery()
    truth_products = _truth_products(truth).subquery()
    truth_daily = _truth_daily(truth).subquery()
    span = session.execute(
        sa.select(sa.func.min(truth_daily.c.day), sa.func.max(truth_daily.c.day))
    ).one()
    periods, per_buyer = _period_rows(truth_daily, truth, _calendar(session, *span))
    return [
        ("sales_order", sa.select(*[truth.c[n] for n in ORDER_COLUMNS]),
         sa.select(*[table_of(SalesOrder).c[n] for n in ORDER_COLUMNS]), 5),
        ("sales_daily", _truth_daily(truth),
         sa.select(*[table_of(SalesDaily).c[n] for n in DAILY_COLUMNS]), 3),
        ("sales_daily_product",
         sa.select(*[c for c in truth_products.c if c.name not in ("title", "category_id")]),
         sa.select(SalesDailyProduct.seller_id, SalesDailyProduct.day,
                   SalesDailyProduct.channel, SalesDailyProduct.product_key,
                   SalesDailyProduct.units, SalesDailyProduct.amount), 4),
        ("sales_period", periods,
         sa.select(*[table_of(SalesPeriod).c[n] for n in PERIOD_COLUMNS]), 2),
        ("sales_period_buyer", per_buyer,
         sa.select(SalesPeriodBuyer.seller_id, SalesPeriodBuyer.period_key,
                   SalesPeriodBuyer.customer_id, SalesPeriodBuyer.orders), 3),
    ]  # fmt: skip


def _plain(values: tuple) -> tuple:
    return tuple(int(v) if isinstance(v, int | float) else v for v in values)


def verify() -> list[str]:
    """``flask reports verify``: the differences between the summary rows and the truth, one
    line each (none: they agree). Changes nothing."""
    session = db.session()
    problems: list[str] = []

    def table(stmt: Any, width: int) -> dict[tuple, tuple]:
        return {tuple(r[:width]): tuple(r[width:]) for r in session.execute(stmt)}

    for name, expected_stmt, actual_stmt, width in _checks(session):
        expected = table(expected_stmt, width)
        actual = table(actual_stmt, width)
        for key in sorted(expected.keys() | actual.keys(), key=str):
            want = _plain(expected.get(key, ()))
            got = _plain(actual.get(key, ()))
            if want != got:
                problems.append(f"{name} {key}: expected {want or None}, found {got or None}")
    session.rollback()  # it only read: this ends the reading and drops the temporary calendar
    return problems
