"""Figures by Jalali month: series per county, sector or seller (the charts and tables of the
county pages, the sales drill-down and the seller's dashboard), with product-page views and
paid online orders, and a seller's best products.

Sales come from the monthly summary rows (``sales_period``, keys ``M140409``); views from
``product_view_day``; paid online orders from ``sales_order``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Product, Seller
from app.core.extensions import db
from app.core.formatting import JALALI_MONTHS_EN, JALALI_MONTHS_FA
from app.program.calendar import (
    Period,
    as_day,
    jalali_month_end,
    jalali_month_of,
    jalali_month_start,
    month_key,
    month_label,
    series_months,
    tehran_today,
)
from app.program.models import ProductViewDay
from app.program.sales_models import SalesDailyProduct, SalesOrder, SalesPeriod
from app.reference.models import County, Sector


def whole(value: Any) -> int:
    """A sum read back from the database as an int (NULL: 0)."""
    return int(value or 0)


def names_of(model: Any, locale: str) -> Any:
    """The column of a reference model's name in ``locale``."""
    return model.name_en if locale == "en" else model.name_fa


@dataclass
class MonthCell:
    orders: int = 0
    units: int = 0
    amount: int = 0
    views: int = 0
    online_orders: int = 0
    # By channel, where a page shows them (the sales drill-down); ``amount`` is their sum.
    card_amount: int = 0
    cash_amount: int = 0
    offline_amount: int = 0

    @property
    def orders_per_100_views(self) -> float | None:
        return 100 * self.online_orders / self.views if self.views else None


@dataclass
class Series:
    """Sales by month for groups (counties, sectors or one seller):
    ``cells[(group id, year, month)]``."""

    months: list[tuple[int, int]]
    groups: list[tuple[int, str]]
    cells: dict[tuple[int, int, int], MonthCell] = field(default_factory=dict)

    def cell(self, group_id: int, year: int, month: int) -> MonthCell:
        return self.cells.get((group_id, year, month)) or MonthCell()

    def row(self, group_id: int) -> list[MonthCell]:
        return [self.cell(group_id, y, m) for y, m in self.months]

    def total(self, group_id: int) -> int:
        return sum(c.amount for c in self.row(group_id))

    def month_total(self, year: int, month: int) -> int:
        return sum(self.cell(g, year, month).amount for g, _name in self.groups)

    @property
    def peak(self) -> int:
        return max((c.amount for c in self.cells.values()), default=0)

    def label(self, year: int, month: int, locale: str) -> str:
        return month_label(year, month, locale)

    def short_label(self, year: int, month: int, locale: str) -> str:
        """The month's name alone (a chart's axis), three letters in English."""
        if locale == "fa":
            return JALALI_MONTHS_FA[month - 1]
        return JALALI_MONTHS_EN[month - 1][:3]

    def span(self) -> tuple[date, date]:
        """The first day of the first month and the last day of the last."""
        return jalali_month_start(*self.months[0]), jalali_month_end(*self.months[-1])


def monthly(
    period: Period,
    by: str = "county",
    sector_id: int | None = None,
    county_id: int | None = None,
    locale: str = "fa",
) -> Series:
    """Sales volume, sales and units per Jalali month and county (``by="county"``) or sector,
    from the monthly summary rows. The months are those of the period; a period within one
    month shows the twelve months ending with it."""
    months = series_months(period)
    keys = {month_key(y, m): (y, m) for y, m in months}
    model: Any = County if by == "county" else Sector
    group = Seller.county_id if by == "county" else Seller.sector_id
    conditions: list[Any] = [SalesPeriod.period_key.in_(keys)]
    if sector_id:
        conditions.append(Seller.sector_id == sector_id)
    if county_id:
        conditions.append(Seller.county_id == county_id)
    groups_stmt = sa.select(model.id, names_of(model, locale)).order_by(
        names_of(model, locale), model.id
    )
    if by == "county" and county_id:
        groups_stmt = groups_stmt.where(County.id == county_id)
    if by == "sector" and sector_id:
        groups_stmt = groups_stmt.where(Sector.id == sector_id)
    series = Series(months, [(r[0], r[1]) for r in db.session.execute(groups_stmt)])
    for group_id, key, orders, units, amount in db.session.execute(
        sa.select(
            group,
            SalesPeriod.period_key,
            sa.func.sum(SalesPeriod.orders),
            sa.func.sum(SalesPeriod.units),
            sa.func.sum(
                SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount
            ),
        )
        .join(Seller, Seller.id == SalesPeriod.seller_id)
        .where(*conditions)
        .group_by(group, SalesPeriod.period_key)
    ).tuples():
        series.cells[(group_id, *keys[key])] = MonthCell(whole(orders), whole(units), whole(amount))
    return series


def _by_month(rows: Any, months: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(day, n) rows summed per Jalali month of ``months``."""
    out: dict[tuple[int, int], int] = defaultdict(int)
    wanted = set(months)
    for day, n in rows:
        month = jalali_month_of(as_day(day))
        if month in wanted:
            out[month] += whole(n)
    return out


def add_views_and_orders(series: Series, group_id: int, seller_cond: Any) -> None:
    """Views and paid online orders per month of one group (the sellers ``seller_cond`` picks)."""
    first, last = series.span()
    views = _by_month(
        db.session.execute(
            sa.select(ProductViewDay.day, sa.func.sum(ProductViewDay.views))
            .join(Product, Product.id == ProductViewDay.product_id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(seller_cond, ProductViewDay.day >= first, ProductViewDay.day <= last)
            .group_by(ProductViewDay.day)
        ).tuples(),
        series.months,
    )
    orders = _by_month(
        db.session.execute(
            sa.select(SalesOrder.day, sa.func.count())
            .join(Seller, Seller.id == SalesOrder.seller_id)
            .where(seller_cond, SalesOrder.day >= first, SalesOrder.day <= last)
            .group_by(SalesOrder.day)
        ).tuples(),
        series.months,
    )
    for y, m in series.months:
        cell = series.cells.setdefault((group_id, y, m), MonthCell())
        cell.views = views.get((y, m), 0)
        cell.online_orders = orders.get((y, m), 0)


def top_products(seller_id: int, start: date, end: date, limit: int = 10) -> list[dict[str, Any]]:
    """A seller's best products by sales volume from ``start`` to ``end``: product id (None for
    a line without one), title, units and amount."""
    return [
        {"product_id": key or None, "title": title, "units": whole(units), "amount": whole(amount)}
        for key, title, units, amount in db.session.execute(
            sa.select(
                SalesDailyProduct.product_key,
                sa.func.max(SalesDailyProduct.title),
                sa.func.sum(SalesDailyProduct.units),
                sa.func.sum(SalesDailyProduct.amount),
            )
            .where(
                SalesDailyProduct.seller_id == seller_id,
                SalesDailyProduct.day >= start,
                SalesDailyProduct.day <= end,
            )
            .group_by(SalesDailyProduct.product_key)
            .order_by(sa.func.sum(SalesDailyProduct.amount).desc(), SalesDailyProduct.product_key)
            .limit(limit)
        ).tuples()
    ]


def _product_views(ids: list[int], start: date, end: date) -> dict[int, int]:
    """Product id -> its page views from ``start`` to ``end``."""
    if not ids:
        return {}
    return {
        product_id: whole(views)
        for product_id, views in db.session.execute(
            sa.select(ProductViewDay.product_id, sa.func.sum(ProductViewDay.views))
            .where(
                ProductViewDay.product_id.in_(ids),
                ProductViewDay.day >= start,
                ProductViewDay.day <= end,
            )
            .group_by(ProductViewDay.product_id)
        ).tuples()
    }


# ---- a seller's own numbers -----------------------------------------------------------------


@dataclass
class SellerNumbers:
    series: Series  # one group: the seller
    totals: MonthCell
    best: list[dict[str, Any]]

    @property
    def months(self) -> list[MonthCell]:
        return self.series.row(self.series.groups[0][0])


def seller_numbers(seller_id: int, today: date | None = None, best: int = 5) -> SellerNumbers:
    """A seller's sales volume, sales, units, product-page views and paid online orders per
    100 views in each of the last twelve Jalali months (this one included), and their best
    products of those months by sales volume, with the views of each."""
    today = today or tehran_today()
    months = series_months(Period.month(*jalali_month_of(today)))
    keys = {month_key(y, m): (y, m) for y, m in months}
    series = Series(months, [(seller_id, "")])
    for key, orders, units, amount in db.session.execute(
        sa.select(
            SalesPeriod.period_key,
            SalesPeriod.orders,
            SalesPeriod.units,
            SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount,
        ).where(SalesPeriod.seller_id == seller_id, SalesPeriod.period_key.in_(keys))
    ).tuples():
        series.cells[(seller_id, *keys[key])] = MonthCell(
            whole(orders), whole(units), whole(amount)
        )
    add_views_and_orders(series, seller_id, Seller.id == seller_id)
    cells = series.row(seller_id)
    totals = MonthCell(
        sum(c.orders for c in cells),
        sum(c.units for c in cells),
        sum(c.amount for c in cells),
        sum(c.views for c in cells),
        sum(c.online_orders for c in cells),
    )
    first, last = series.span()
    products = top_products(seller_id, first, last, best)
    views = _product_views([p["product_id"] for p in products if p["product_id"]], first, last)
    for p in products:
        p["views"] = views.get(p["product_id"], 0)
    return SellerNumbers(series, totals, products)
