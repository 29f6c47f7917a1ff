"""Counties and the province: the linkage funnel against quotas, sales volume and the criteria,
per county, for a period; one county's sellers, months and categories.

Every sales figure comes from the summary rows that ``app.program.summaries`` keeps exact in
each order's own transaction (never from the order lines): the monthly rows (``sales_period``,
keys ``M140409``) for the whole Jalali months of a span and the daily rows (``sales_daily``) for
the days of a month it covers only in part. Sales volume counts what the sales report counts:
card orders once paid, cash orders once delivered, neither once cancelled or refunded, and every
offline sale, on its local (Tehran) day.

Definitions (the pages state each one):

- registered applicants: sellers of the county who applied (in any status) before the end of
  the period;
- approved: approved now, and approved before the end of the period;
- with a listing: approved, with a product published now (and first published before the end);
- with a first sale: approved, with at least one sale (online or offline) up to the period end;
- with repeat sales: approved, with at least two sales (orders or offline sale records) up to
  the period end;
- the quota of a period is that of the programme year (a Jalali year, from 1 Farvardin) holding
  the period's last day; progress against it is the number of sellers with a first sale.

The criteria (market connection, competitiveness, absorption) are in ``app.program.criteria``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
from app.catalog.scope import PROVINCE, Scope
from app.core.dbtypes import UTCDateTime
from app.core.errors import NotFound
from app.core.extensions import db
from app.program import criteria
from app.program.calendar import (
    Period,
    as_date,
    jalali_month_end,
    jalali_month_of,
    jalali_month_start,
    month_key,
    programme_year_of,
    tehran_today,
)
from app.program.criteria import CountyRow
from app.program.models import ProductViewDay, Quota
from app.program.monthly import Series, add_views_and_orders, monthly, names_of, whole
from app.program.sales_models import CARD, CASH, OFFLINE, SalesDaily, SalesDailyProduct, SalesPeriod
from app.reference.models import County, Province, Sector

STAGES = ("registered", "approved", "listed", "first_sale", "repeat_sales")
SORT_KEYS = (
    "name", "registered", "approved", "listed", "first_sale", "repeat_sales", "target_sellers",
    "quota_progress", "sales_amount", "share", "market_connection", "orders_per_100_views",
    "price_ratio", "absorption", "views", "units", "flagged",
)  # fmt: skip
# The columns of one funnel row, in the order county_report reads them.
_FUNNEL = ("registered", "approved", "listed", "first_sale", "repeat_sales", "card_amount",
           "cash_amount", "offline_amount", "orders", "units", "sellers_with_sale",
           "year_sales_amount")  # fmt: skip


# ---- sums of the summary rows over any span of days -----------------------------------------


def _split(start: date | None, end: date) -> tuple[Any | None, list[tuple[date, date]]]:
    """A span of days as (a condition on the monthly rows' keys for its whole Jalali months,
    the spans of days in months it covers only in part). ``start`` None: from the beginning."""
    ey, em = jalali_month_of(end)
    last_whole = (ey, em) if end == jalali_month_end(ey, em) else (ey, em - 1)
    upper = month_key(last_whole[0], last_whole[1] + 1)  # the first month after, exclusive
    tail = [] if last_whole == (ey, em) else [(jalali_month_start(ey, em), end)]
    if start is None:
        # Monthly keys are "M" and six digits, so they sort as the months do.
        return sa.and_(SalesPeriod.period_key > "M", SalesPeriod.period_key < upper), tail
    sy, sm = jalali_month_of(start)
    first_whole = (sy, sm) if start == jalali_month_start(sy, sm) else (sy, sm + 1)
    first_key = month_key(*first_whole)
    if first_key >= upper:  # no whole month inside
        return None, [(start, end)]
    head = [] if first_whole == (sy, sm) else [(start, jalali_month_end(sy, sm))]
    cond = sa.and_(SalesPeriod.period_key >= first_key, SalesPeriod.period_key < upper)
    return cond, head + tail


def _daily_part(lo: date, hi: date) -> sa.Select:
    """The daily rows from ``lo`` to ``hi`` shaped as the monthly rows' columns."""
    zero = sa.literal(0, sa.BigInteger)

    def channel(name: str) -> Any:
        return sa.case((SalesDaily.channel == name, SalesDaily.amount), else_=zero)

    return sa.select(
        SalesDaily.seller_id.label("seller_id"),
        channel(CARD).label("card_amount"),
        channel(CASH).label("cash_amount"),
        channel(OFFLINE).label("offline_amount"),
        SalesDaily.units.label("units"),
        SalesDaily.orders.label("orders"),
        SalesDaily.day.label("first_day"),
    ).where(SalesDaily.day >= lo, SalesDaily.day <= hi)


def _seller_sums(start: date | None, end: date, name: str) -> sa.Subquery:
    """Per seller: card, cash and offline amounts, units, sales (orders and offline records)
    and the first sale day, from ``start`` (None: the beginning) to ``end`` inclusive."""
    cond, partial = _split(start, end)
    parts: list[sa.Select] = []
    if cond is not None:
        parts.append(
            sa.select(
                SalesPeriod.seller_id.label("seller_id"),
                SalesPeriod.card_amount.label("card_amount"),
                SalesPeriod.cash_amount.label("cash_amount"),
                SalesPeriod.offline_amount.label("offline_amount"),
                SalesPeriod.units.label("units"),
                SalesPeriod.orders.label("orders"),
                SalesPeriod.first_day.label("first_day"),
            ).where(cond)
        )
    parts.extend(_daily_part(lo, hi) for lo, hi in partial)
    rows = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery(f"{name}_rows")
    return (
        sa.select(
            rows.c.seller_id,
            sa.func.sum(rows.c.card_amount).label("card_amount"),
            sa.func.sum(rows.c.cash_amount).label("cash_amount"),
            sa.func.sum(rows.c.offline_amount).label("offline_amount"),
            sa.func.sum(rows.c.card_amount + rows.c.cash_amount + rows.c.offline_amount).label(
                "amount"
            ),
            sa.func.sum(rows.c.units).label("units"),
            sa.func.sum(rows.c.orders).label("orders"),
            sa.func.min(rows.c.first_day).label("first_day"),
        )
        .group_by(rows.c.seller_id)
        .subquery(name)
    )


def _approved_by(hi: Any) -> Any:
    """SQL: the seller is approved now and was approved before ``hi`` (a UTC moment)."""
    approved_at = sa.func.coalesce(Seller.approved_at, Seller.created_at, type_=UTCDateTime())
    return sa.and_(Seller.status == SellerStatus.APPROVED, approved_at < hi)


def _listed_by(hi: Any) -> sa.Subquery:
    published_at = sa.func.coalesce(Product.published_at, Product.created_at, type_=UTCDateTime())
    return (
        sa.select(Product.seller_id)
        .where(Product.status == ProductStatus.PUBLISHED, published_at < hi)
        .group_by(Product.seller_id)
        .subquery("listed")
    )


def _count(cond: Any) -> Any:
    return sa.func.sum(sa.case((cond, 1), else_=0))


def _sector_cond(sector_id: int | None) -> list[Any]:
    return [Seller.sector_id == sector_id] if sector_id else []


# ---- the county table -----------------------------------------------------------------------


@dataclass
class CountyReport:
    period: Period
    sector_id: int | None
    programme_year: int
    rows: list[CountyRow]
    province: CountyRow
    stock_is_today: bool  # the period ends today or later: the stock is that of its end

    def sorted_rows(self, sort: str) -> list[CountyRow]:
        """The rows by any of ``SORT_KEYS`` (``-`` first: descending); blanks always last."""
        key = sort.lstrip("-")
        if key not in SORT_KEYS:
            key, sort = "name", "name"
        descending = sort.startswith("-")
        present = [r for r in self.rows if getattr(r, key) is not None]
        blank = [r for r in self.rows if getattr(r, key) is None]
        present.sort(key=lambda r: r.name)
        present.sort(key=lambda r: getattr(r, key), reverse=descending)
        return present + sorted(blank, key=lambda r: r.name)


def _funnel(period: Period, year: int, sector_id: int | None) -> dict[int, tuple]:
    """County -> the ``_FUNNEL`` figures of its sellers (of the sector, if given)."""
    _start, hi = period.bounds_utc()
    sums = _seller_sums(period.start, period.end, "in_period")
    ytd = _seller_sums(jalali_month_start(year, 1), period.end, "year_to_date")
    to_date = _seller_sums(None, period.end, "to_date")
    listed = _listed_by(hi)
    approved = _approved_by(hi)
    stmt = (
        sa.select(
            Seller.county_id,
            _count(Seller.created_at < hi),
            _count(approved),
            _count(sa.and_(approved, listed.c.seller_id.is_not(None))),
            _count(sa.and_(approved, to_date.c.orders >= 1)),
            _count(sa.and_(approved, to_date.c.orders >= 2)),
            sa.func.sum(sums.c.card_amount),
            sa.func.sum(sums.c.cash_amount),
            sa.func.sum(sums.c.offline_amount),
            sa.func.sum(sums.c.orders),
            sa.func.sum(sums.c.units),
            _count(sa.and_(approved, sums.c.orders > 0)),
            sa.func.sum(ytd.c.amount),
        )
        .outerjoin(sums, sums.c.seller_id == Seller.id)
        .outerjoin(ytd, ytd.c.seller_id == Seller.id)
        .outerjoin(to_date, to_date.c.seller_id == Seller.id)
        .outerjoin(listed, listed.c.seller_id == Seller.id)
        .where(*_sector_cond(sector_id))
        .group_by(Seller.county_id)
    )
    return {r[0]: tuple(whole(v) for v in r[1:]) for r in db.session.execute(stmt).tuples()}


def county_report(
    period: Period,
    sector_id: int | None = None,
    locale: str = "fa",
    today: date | None = None,
) -> CountyReport:
    """Every county's funnel, quota, sales and criteria in ``period``, and the province's.

    Seven GROUP BY queries whatever the number of counties: funnel and sales, paid online
    orders, views, stock, listed prices, quotas, counties.
    """
    today = today or tehran_today()
    year = programme_year_of(period)
    sector_cond = _sector_cond(sector_id)
    funnel = _funnel(period, year, sector_id)
    online = criteria.online_orders(period.start, period.end, sector_cond)
    seen = criteria.views(period.start, period.end, sector_cond)
    stock = criteria.stock(sector_cond)
    ratios, province_ratio = criteria.price_ratios(sector_id)
    quotas = {
        q.county_id: q
        for q in db.session.scalars(sa.select(Quota).where(Quota.programme_year == year))
    }
    rows = []
    for county_id, slug, name in db.session.execute(
        sa.select(County.id, County.slug, names_of(County, locale)).order_by(
            names_of(County, locale), County.id
        )
    ).tuples():
        row = CountyRow(county_id, slug, name)
        for column, value in zip(_FUNNEL, funnel.get(county_id, ()), strict=False):
            setattr(row, column, value)
        quota = quotas.get(county_id)
        if quota is not None:
            row.target_sellers = quota.target_sellers
            row.target_sales_amount = quota.target_sales_amount
        row.online_orders = online.get(county_id, 0)
        row.views = seen.get(county_id, 0)
        row.stock = stock.get(county_id, 0)
        row.price_ratio = ratios.get(county_id)
        rows.append(row)
    province = criteria.province_row(rows, list(quotas.values()), province_ratio)
    criteria.mark_shares_and_flags(rows, province)
    return CountyReport(period, sector_id, year, rows, province, period.end >= today)


# ---- one county -----------------------------------------------------------------------------


@dataclass
class SellerStage:
    """Where one seller of a county stands in the funnel at the end of a period."""

    seller_id: int
    name: str
    registration_code: str | None
    status: str
    sector: str
    approved: bool
    listed: bool
    sales_to_date: int
    first_sale: date | None
    amount: int
    orders: int
    views: int

    @property
    def stage(self) -> str:
        if not self.approved:
            return "registered"
        if self.sales_to_date >= 2:
            return "repeat_sales"
        if self.sales_to_date >= 1:
            return "first_sale"
        return "listed" if self.listed else "approved"


@dataclass
class CountyDetail:
    county: County
    row: CountyRow
    province: CountyRow
    sellers: list[SellerStage]
    series: Series
    categories: list[dict[str, Any]]
    programme_year: int


def _sellers(
    county_id: int, period: Period, sector_id: int | None, locale: str
) -> list[SellerStage]:
    """Each seller of the county (who applied before the period's end): its place in the funnel
    and its figures in the period, by sales volume."""
    _start, hi = period.bounds_utc()
    sums = _seller_sums(period.start, period.end, "in_period")
    to_date = _seller_sums(None, period.end, "to_date")
    listed = _listed_by(hi)
    seen = (
        sa.select(Product.seller_id, sa.func.sum(ProductViewDay.views).label("views"))
        .join(Product, Product.id == ProductViewDay.product_id)
        .where(ProductViewDay.day >= period.start, ProductViewDay.day <= period.end)
        .group_by(Product.seller_id)
        .subquery("seen")
    )
    stmt = (
        sa.select(
            Seller.id, Seller.display_name, Seller.registration_code, Seller.status,
            names_of(Sector, locale), sa.case((_approved_by(hi), 1), else_=0), listed.c.seller_id,
            to_date.c.orders, to_date.c.first_day, sums.c.amount, sums.c.orders, seen.c.views,
        )
        .join(Sector, Sector.id == Seller.sector_id)
        .outerjoin(sums, sums.c.seller_id == Seller.id)
        .outerjoin(to_date, to_date.c.seller_id == Seller.id)
        .outerjoin(listed, listed.c.seller_id == Seller.id)
        .outerjoin(seen, seen.c.seller_id == Seller.id)
        .where(Seller.county_id == county_id, Seller.created_at < hi, *_sector_cond(sector_id))
        .order_by(sa.func.coalesce(sums.c.amount, 0).desc(), Seller.display_name, Seller.id)
    )  # fmt: skip
    return [
        SellerStage(
            seller_id=r[0],
            name=r[1],
            registration_code=r[2],
            status=str(r[3]),
            sector=r[4],
            approved=bool(r[5]),
            listed=r[6] is not None,
            sales_to_date=whole(r[7]),
            first_sale=as_date(r[8]),
            amount=whole(r[9]),
            orders=whole(r[10]),
            views=whole(r[11]),
        )  # fmt: skip
        for r in db.session.execute(stmt).tuples()
    ]


def _categories(
    county_id: int, period: Period, sector_id: int | None, locale: str
) -> list[dict[str, Any]]:
    """The county's ten best categories in the period by sales volume."""
    category_name = names_of(Category, locale)
    return [
        {"category_id": r[0], "name": r[1], "units": whole(r[2]), "amount": whole(r[3])}
        for r in db.session.execute(
            sa.select(
                SalesDailyProduct.category_id,
                sa.func.max(category_name),
                sa.func.sum(SalesDailyProduct.units),
                sa.func.sum(SalesDailyProduct.amount),
            )
            .join(Seller, Seller.id == SalesDailyProduct.seller_id)
            .outerjoin(Category, Category.id == SalesDailyProduct.category_id)
            .where(
                Seller.county_id == county_id,
                SalesDailyProduct.day >= period.start,
                SalesDailyProduct.day <= period.end,
                *_sector_cond(sector_id),
            )
            .group_by(SalesDailyProduct.category_id)
            .order_by(sa.func.sum(SalesDailyProduct.amount).desc(), SalesDailyProduct.category_id)
            .limit(10)
        ).tuples()
    ]


def county_detail(
    county_id: int,
    period: Period,
    sector_id: int | None = None,
    locale: str = "fa",
    today: date | None = None,
    scope: Scope = PROVINCE,
) -> CountyDetail:
    """One county: its row of the county table, each seller's place in the funnel, a monthly
    series with views and paid online orders, and its best categories. Raises NotFound, also
    for a county outside ``scope`` (a county officer reads their own county only)."""
    county = db.session.get(County, county_id)
    if county is None or not scope.holds_county(county_id):
        raise NotFound("county")
    report = county_report(period, sector_id, locale, today)
    row = next(r for r in report.rows if r.county_id == county_id)
    sellers = _sellers(county_id, period, sector_id, locale)
    series = monthly(period, "county", sector_id, county_id, locale)
    add_views_and_orders(
        series, county_id, sa.and_(Seller.county_id == county_id, *_sector_cond(sector_id))
    )
    categories = _categories(county_id, period, sector_id, locale)
    return CountyDetail(
        county, row, report.province, sellers, series, categories, report.programme_year
    )


# ---- what the pages read besides the report -------------------------------------------------


def sector_exists(sector_id: int) -> bool:
    return db.session.get(Sector, sector_id) is not None


def sector_choices(locale: str) -> list[tuple[int, str]]:
    """(id, name) of every sector, by name."""
    name = names_of(Sector, locale)
    return [(r[0], r[1]) for r in db.session.execute(sa.select(Sector.id, name).order_by(name))]


def province_name(locale: str) -> str | None:
    """The name of the one province, or None when the counties are of several (or none)."""
    provinces = db.session.scalars(sa.select(Province).limit(2)).all()
    return provinces[0].name(locale) if len(provinces) == 1 else None
