"""Sales volume per seller: the staff report (every approved seller in a period, filtered,
sorted and paged), one seller's drill-down and the county-by-month roll-up.

Everything here reads only the summary rows that ``app.program.summaries`` keeps exact: the
period rows (``sales_period``) for a whole Jalali month, season or year, the daily rows for any
other span. ``app.program.plain`` computes the same figures straight from the orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jdatetime
import sqlalchemy as sa

from app.catalog.models import Category, Seller, SellerStatus
from app.catalog.queries import category_and_descendant_ids
from app.catalog.scope import PROVINCE, Scope
from app.core.errors import NotAllowed
from app.core.extensions import db
from app.core.inputs import lenient_int
from app.core.pagination import Page
from app.program.calendar import (
    Period,
    as_date,
    as_day,
    jalali_month_of,
    jalali_month_start,
    month_key,
    series_months,
)
from app.program.monthly import MonthCell, Series, top_products
from app.program.sales_models import (
    CARD,
    CASH,
    OFFLINE,
    SalesDaily,
    SalesDailyProduct,
    SalesOrder,
    SalesPeriod,
)
from app.reference.models import County, Sector

SORT_COLUMNS = (
    "seller", "county", "sector", "registration_code", "card_amount", "cash_amount",
    "offline_amount", "total_amount", "orders", "units", "buyers", "repeat_buyers",
    "first_sale", "last_sale",
)  # fmt: skip
DEFAULT_SORT = "-total_amount"
TOTALS = ("card_amount", "cash_amount", "offline_amount", "total_amount", "units")


def _small_int(value: object) -> int | None:
    """A small non-negative integer from a query value (any digits), else None: never an error for
    ``²``, a thousand digits or text."""
    number = lenient_int(str(value or "")[:20], None, max_digits=9)
    return number if number is not None and number >= 0 else None


@dataclass
class Filters:
    county_id: int | None = None
    sector_id: int | None = None
    category_id: int | None = None
    cohort: int | None = None  # Jalali year in which training was completed
    seller_id: int | None = None
    # Whose sellers the staff member may see (a county officer: their county's).
    scope: Scope = PROVINCE

    @classmethod
    def from_args(cls, args: Mapping[str, Any], scope: Scope = PROVINCE) -> Filters:
        """The filters of a query string; a value that is no id is no filter."""
        return cls(
            county_id=_small_int(args.get("county")),
            sector_id=_small_int(args.get("sector")),
            category_id=_small_int(args.get("category")),
            cohort=_small_int(args.get("cohort")),
            scope=scope,
        )

    def query_args(self) -> dict[str, str]:
        out = {}
        for key, value in (
            ("county", self.county_id),
            ("sector", self.sector_id),
            ("category", self.category_id),
            ("cohort", self.cohort),
        ):
            if value:
                out[key] = str(value)
        return out

    def conditions(self) -> list[Any]:
        """SQL conditions on Seller: approved, and matching every filter set."""
        conditions: list[Any] = [Seller.status == SellerStatus.APPROVED, *self.scope.sellers()]
        if self.county_id:
            conditions.append(Seller.county_id == self.county_id)
        if self.sector_id:
            conditions.append(Seller.sector_id == self.sector_id)
        if self.seller_id:
            conditions.append(Seller.id == self.seller_id)
        if self.cohort:
            conditions.append(Seller.training_completed_on >= jalali_month_start(self.cohort, 1))
            conditions.append(Seller.training_completed_on < jalali_month_start(self.cohort + 1, 1))
        return conditions


def sort_arg(value: str | None) -> str:
    """A sort the report knows (``-`` first: descending), else the default."""
    sort = value or DEFAULT_SORT
    return sort if sort.lstrip("-") in SORT_COLUMNS else DEFAULT_SORT


@dataclass
class SellerSales:
    seller_id: int
    seller: str
    slug: str
    county: str
    sector: str
    registration_code: str | None
    card_amount: int
    cash_amount: int
    offline_amount: int
    total_amount: int
    orders: int | None
    units: int
    buyers: int | None
    repeat_buyers: int | None
    first_sale: date | None
    last_sale: date | None


@dataclass(frozen=True)
class SalesPage(Page):
    """A page of the per-seller report, with the totals of every matching seller."""

    totals: dict[str, int] = field(default_factory=dict)


def category_subtree(category_id: int) -> list[int]:
    """The category and its descendants (a missing category matches nothing)."""
    category = db.session.get(Category, category_id)
    return sorted(category_and_descendant_ids(category)) if category else [category_id]


def _period_figures(period: Period) -> sa.Subquery:
    """Per seller, from the one summary row of a month, season or year."""
    return (
        sa.select(
            SalesPeriod.seller_id,
            SalesPeriod.card_amount,
            SalesPeriod.cash_amount,
            SalesPeriod.offline_amount,
            (SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount).label(
                "total_amount"
            ),
            SalesPeriod.units,
            SalesPeriod.orders,
            SalesPeriod.first_day.label("first_sale"),
            SalesPeriod.last_day.label("last_sale"),
            SalesPeriod.buyers,
            SalesPeriod.repeat_buyers,
        )
        .where(SalesPeriod.period_key == period.key)
        .subquery("figures")
    )


def _daily_figures(period: Period, category_ids: list[int] | None) -> sa.Subquery:
    """Per seller, summed from the daily rows (of the categories' products, if given)."""
    source: Any = SalesDailyProduct if category_ids is not None else SalesDaily

    def channel_sum(channel: str) -> Any:
        return sa.func.sum(sa.case((source.channel == channel, source.amount), else_=0))

    cols = [
        source.seller_id.label("seller_id"),
        channel_sum(CARD).label("card_amount"),
        channel_sum(CASH).label("cash_amount"),
        channel_sum(OFFLINE).label("offline_amount"),
        sa.func.sum(source.amount).label("total_amount"),
        sa.func.sum(source.units).label("units"),
        sa.func.min(source.day).label("first_sale"),
        sa.func.max(source.day).label("last_sale"),
    ]
    if category_ids is None:
        cols.append(sa.func.sum(SalesDaily.orders).label("orders"))
    stmt = sa.select(*cols).where(source.day >= period.start, source.day <= period.end)
    if category_ids is not None:
        stmt = stmt.where(SalesDailyProduct.category_id.in_(category_ids))
    return stmt.group_by(source.seller_id).subquery("figures")


def _buyers(period: Period) -> sa.Subquery:
    per_buyer = (
        sa.select(SalesOrder.seller_id, sa.func.count().label("n"))
        .where(SalesOrder.day >= period.start, SalesOrder.day <= period.end)
        .group_by(SalesOrder.seller_id, SalesOrder.customer_id)
        .subquery()
    )
    return (
        sa.select(
            per_buyer.c.seller_id,
            sa.func.count().label("buyers"),
            sa.func.sum(sa.case((per_buyer.c.n > 1, 1), else_=0)).label("repeat_buyers"),
        )
        .group_by(per_buyer.c.seller_id)
        .subquery("buyers")
    )


def _columns(figures: sa.Subquery, buyers: sa.Subquery | None, locale: str) -> dict[str, Any]:
    """The report's columns by sort key, in the order rows are read."""
    zero = sa.literal(0, sa.BigInteger)

    def counted(source: sa.Subquery | None, name: str) -> Any:
        """Orders and buyers are not kept per category: NULL under a category filter."""
        if buyers is None or source is None:
            return sa.null()
        return sa.func.coalesce(source.c[name], zero)

    return {
        "seller": Seller.display_name,
        "county": County.name_en if locale == "en" else County.name_fa,
        "sector": Sector.name_en if locale == "en" else Sector.name_fa,
        "registration_code": Seller.registration_code,
        "card_amount": sa.func.coalesce(figures.c.card_amount, zero),
        "cash_amount": sa.func.coalesce(figures.c.cash_amount, zero),
        "offline_amount": sa.func.coalesce(figures.c.offline_amount, zero),
        "total_amount": sa.func.coalesce(figures.c.total_amount, zero),
        "orders": counted(figures, "orders"),
        "units": sa.func.coalesce(figures.c.units, zero),
        "buyers": counted(buyers, "buyers"),
        "repeat_buyers": counted(buyers, "repeat_buyers"),
        "first_sale": figures.c.first_sale,
        "last_sale": figures.c.last_sale,
    }


def _order_by(columns: dict[str, Any], sort: str) -> Any:
    key = sort.lstrip("-")
    if key not in columns:
        key, sort = "total_amount", DEFAULT_SORT
    order = columns[key].desc() if sort.startswith("-") else columns[key].asc()
    return order.nulls_last() if key in ("first_sale", "last_sale") else order


def _optional(value: Any) -> int | None:
    return None if value is None else int(value)


def _rows(stmt: sa.Select) -> list[SellerSales]:
    # Positional unpacking: attribute access on 2,500 result rows is measurably slow.
    return [
        SellerSales(
            seller_id=seller_id, slug=slug, seller=name, county=county, sector=sector,
            registration_code=code, card_amount=int(card), cash_amount=int(cash),
            offline_amount=int(offline), total_amount=int(amount), orders=_optional(orders),
            units=int(units), buyers=_optional(buyers_n), repeat_buyers=_optional(repeat),
            first_sale=as_date(first), last_sale=as_date(last),
        )
        for (seller_id, slug, name, county, sector, code, card, cash, offline, amount, orders,
             units, buyers_n, repeat, first, last) in db.session.execute(stmt).tuples()
    ]  # fmt: skip


def _totals(figures: sa.Subquery, conditions: list[Any]) -> dict[str, int]:
    row = db.session.execute(
        sa.select(*[sa.func.coalesce(sa.func.sum(figures.c[name]), 0) for name in TOTALS])
        .select_from(Seller)
        .join(figures, figures.c.seller_id == Seller.id)
        .where(*conditions)
    ).one()
    return dict(zip(TOTALS, (int(v) for v in row), strict=True))


def seller_sales(
    period: Period,
    filters: Filters | None = None,
    sort: str = DEFAULT_SORT,
    page: int | None = 1,
    per_page: int = 50,
    locale: str = "fa",
) -> SalesPage:
    """Sales of every approved seller in ``period`` (sellers without sales too), filtered,
    sorted by any column (``-`` first for descending) and paged (``page=None``: every row).

    Reads only the summary rows. ``orders`` counts online orders and offline sale records;
    buyers are online customers (an offline sale has no known buyer); a repeat buyer bought
    twice or more in the period. With a category filter the amounts and units are those of the
    category's products, and orders and buyers (not kept per category) are None.
    """
    filters = filters or Filters()
    category_ids = category_subtree(filters.category_id) if filters.category_id else None
    buyers: sa.Subquery | None
    if category_ids is None and period.key is not None:
        # A month, season or year: one summary row per seller holds it all.
        figures = buyers = _period_figures(period)
    else:
        figures = _daily_figures(period, category_ids)
        buyers = _buyers(period) if category_ids is None else None
    columns = _columns(figures, buyers, locale)
    conditions = filters.conditions()
    stmt = (
        sa.select(Seller.id, Seller.slug, *[c.label(k) for k, c in columns.items()])
        .join(County, County.id == Seller.county_id)
        .join(Sector, Sector.id == Seller.sector_id)
        .outerjoin(figures, figures.c.seller_id == Seller.id)
        .where(*conditions)
        .order_by(_order_by(columns, sort), Seller.id)
    )
    if buyers is not None and buyers is not figures:
        stmt = stmt.outerjoin(buyers, buyers.c.seller_id == Seller.id)
    total = db.session.scalar(sa.select(sa.func.count(Seller.id)).where(*conditions)) or 0
    if page is not None:
        page = min(max(page, 1), max(1, -(-total // per_page)))
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    return SalesPage(
        items=_rows(stmt),
        page=page or 1,
        per_page=per_page if page is not None else max(total, 1),
        total=total,
        totals=_totals(figures, conditions),
    )


# ---- one seller ---------------------------------------------------------------------------------


@dataclass
class SellerDetail:
    row: SellerSales
    series: Series  # one group, the seller: Jalali months with amounts by channel
    top_products: list[dict[str, Any]]


def _months_of(seller_id: int, months: list[tuple[int, int]]) -> Series:
    """The seller's figures in each of ``months`` (by channel too), from the daily rows."""
    first = jalali_month_start(*months[0])
    last = jalali_month_start(months[-1][0], months[-1][1] + 1)
    series = Series(months, [(seller_id, "")], {(seller_id, *m): MonthCell() for m in months})
    for day, channel, orders, units, amount in db.session.execute(
        sa.select(
            SalesDaily.day,
            SalesDaily.channel,
            SalesDaily.orders,
            SalesDaily.units,
            SalesDaily.amount,
        ).where(SalesDaily.seller_id == seller_id, SalesDaily.day >= first, SalesDaily.day < last)
    ).tuples():
        cell = series.cells.get((seller_id, *jalali_month_of(as_day(day))))
        if cell is None:
            continue
        name = f"{channel}_amount"
        setattr(cell, name, getattr(cell, name) + int(amount))
        cell.amount += int(amount)
        cell.orders += int(orders)
        cell.units += int(units)
    return series


def seller_detail(seller: Seller, period: Period, locale: str = "fa") -> SellerDetail:
    """One seller's figures in the period, a monthly series (Jalali months) and top products."""
    page = seller_sales(period, Filters(seller_id=seller.id), page=None, locale=locale)
    if not page.items:
        raise NotAllowed("seller not approved")
    series = _months_of(seller.id, series_months(period))
    return SellerDetail(page.items[0], series, top_products(seller.id, period.start, period.end))


def approved_seller(seller_id: int, scope: Scope = PROVINCE) -> Seller | None:
    """The seller ``seller_id`` if approved (the report shows only those) and within
    ``scope``."""
    seller = db.session.get(Seller, seller_id)
    if seller is None or seller.status != SellerStatus.APPROVED or not scope.holds(seller):
        return None
    return seller


def filter_choices(locale: str) -> dict[str, list[Any]]:
    """Counties, sectors and categories as (id, name), and training years, for the filters."""
    years = sorted(
        {
            jdatetime.date.fromgregorian(date=d).year
            for d in db.session.scalars(
                sa.select(Seller.training_completed_on)
                .where(Seller.training_completed_on.is_not(None))
                .distinct()
            )
            if d is not None
        },
        reverse=True,
    )

    def named(model: Any) -> list[Any]:
        name = model.name_en if locale == "en" else model.name_fa
        return [tuple(r) for r in db.session.execute(sa.select(model.id, name).order_by(name))]

    return {
        "counties": named(County),
        "sectors": named(Sector),
        "categories": named(Category),
        "cohorts": years,
    }


# ---- the county-by-month roll-up ------------------------------------------------------------------


def county_monthly(period: Period) -> dict[tuple[int, int, int], dict[str, int]]:
    """(county_id, Jalali year, month) -> orders, units, amount; from the summary rows (the
    monthly rows when the period is made of whole Jalali months, else the daily rows)."""
    months: dict[Any, tuple[int, int]]
    amount: Any
    condition: Any
    if period.is_whole_months():
        months = {month_key(y, m): (y, m) for y, m in period.months()}
        source: Any = SalesPeriod
        when: Any = SalesPeriod.period_key
        amount = SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount
        condition = SalesPeriod.period_key.in_(months)
    else:
        months = {}  # filled as the days come
        source, when, amount = SalesDaily, SalesDaily.day, SalesDaily.amount
        condition = sa.and_(SalesDaily.day >= period.start, SalesDaily.day <= period.end)
    out: dict[tuple[int, int, int], dict[str, int]] = {}
    for county_id, value, orders, units, total in db.session.execute(
        sa.select(
            Seller.county_id,
            when,
            sa.func.sum(source.orders),
            sa.func.sum(source.units),
            sa.func.sum(amount),
        )
        .join(Seller, Seller.id == source.seller_id)
        .where(condition)
        .group_by(Seller.county_id, when)
    ).tuples():
        if value not in months:
            months[value] = jalali_month_of(as_day(value))
        cell = out.setdefault((county_id, *months[value]), {"orders": 0, "units": 0, "amount": 0})
        cell["orders"] += int(orders)
        cell["units"] += int(units)
        cell["amount"] += int(total)
    return out
