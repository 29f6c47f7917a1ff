"""Counties and the province: the linkage funnel against quotas, sales volume and the three
criteria of the programme, per county, for a period; monthly series; quotas; a seller's own
numbers.

Every sales figure comes from the summary rows that ``app.program.sales`` keeps exact in each
order's own transaction (never from the order lines): the monthly rows (``sales_period``, keys
``M140409``) for the whole Jalali months of a span and the daily rows (``sales_daily``) for the
days of a month it covers only in part. Sales volume counts what ``sales`` counts: card orders
once paid, cash orders once delivered, neither once cancelled or refunded, and every offline
sale, on its local (Tehran) day.

Definitions (the pages state each one):

- registered applicants: sellers of the county who applied (in any status) before the end of
  the period;
- approved: approved now, and approved before the end of the period;
- with a listing: approved, with a product published now (and first published before the end);
- with a first sale: approved, with at least one sale (online or offline) up to the period end;
- with repeat sales: approved, with at least two sales (orders or offline sale records) up to
  the period end;
- market connection: approved sellers with a sale in the period ÷ approved sellers;
- competitiveness: paid online orders per 100 product-page views in the period (paid as above),
  and the median over the county's categories of (the county's median listed price in the
  category ÷ the whole market's median price there);
- absorption: units sold in the period ÷ (units sold + units in stock in the county's published
  listings; the stock is today's, since no history of stock is kept);
- a county falls behind when its market connection is below half the province's;
- the quota of a period is that of the programme year (a Jalali year, from 1 Farvardin) holding
  the period's last day; progress against it is the number of sellers with a first sale.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Category, Product, ProductStatus, Seller, SellerStatus
from app.core.csvcells import csv_text
from app.core.dbtypes import UTCDateTime
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.formatting import JALALI_MONTHS_EN, JALALI_MONTHS_FA
from app.core.inputs import optional_int
from app.program.models import ProductViewDay, Quota
from app.program.sales import (
    MAX_CUSTOM_DAYS,
    PERIOD_KINDS,
    Period,
    _as_date,
    jalali_month_of,
    jalali_month_start,
    month_label,
    parse_day,
    series_months,
    tehran_today,
)
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

FLAG_SHARE = 0.5  # a county below this share of the province's market connection falls behind

# ---- the period of a request, strictly -------------------------------------------------------


def period_from_args(args: Mapping[str, Any], today: date | None = None) -> Period:
    """The period a query string asks for; what it leaves out is this Jalali month's.

    Unlike ``sales.parse_period`` nothing wrong is replaced silently: a report that shows
    another period than the one asked for misleads. Raises ValidationFailed with the code of
    the first problem (``kind``, ``year``, ``month``, ``season``, ``dates``, ``too_long``).
    """
    today = today or tehran_today()
    this_year, this_month = jalali_month_of(today)

    def number(name: str, default: int, low: int, high: int, code: str) -> int:
        try:
            value = optional_int(args.get(name), max_digits=6)
        except ValueError:
            value = low - 1
        if value is None:
            return default
        if not low <= value <= high:
            raise ValidationFailed({"period": [code]})
        return value

    kind = str(args.get("period") or "month")
    if kind not in PERIOD_KINDS:
        raise ValidationFailed({"period": ["kind"]})
    if kind == "custom":
        start, end = parse_day(args.get("start")), parse_day(args.get("end"))
        if start is None or end is None:
            raise ValidationFailed({"period": ["dates"]})
        if end < start:
            start, end = end, start
        if (end - start).days > MAX_CUSTOM_DAYS:
            raise ValidationFailed({"period": ["too_long"]})
        return Period.custom(start, end)
    year = number("y", this_year, 1300, 1500, "year")
    if kind == "month":
        return Period.month(year, number("m", this_month, 1, 12, "month"))
    if kind == "season":
        return Period.season(year, number("s", (this_month - 1) // 3 + 1, 1, 4, "season"))
    return Period.jalali_year(year, kind)


def programme_year_of(period: Period) -> int:
    """The programme year (Jalali year, from 1 Farvardin) holding the period's last day."""
    return jalali_month_of(period.end)[0]


# ---- sums of the summary rows over any span of days -----------------------------------------


def _month_key(year: int, month: int) -> str:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return f"M{year}{month:02d}"


def _month_end(year: int, month: int) -> date:
    return jalali_month_start(year, month + 1) - timedelta(days=1)


def _split(start: date | None, end: date) -> tuple[Any | None, list[tuple[date, date]]]:
    """A span of days as (a condition on the monthly rows' keys for its whole Jalali months,
    the spans of days in months it covers only in part). ``start`` None: from the beginning."""
    ey, em = jalali_month_of(end)
    last_whole = (ey, em) if end == _month_end(ey, em) else (ey, em - 1)
    upper = _month_key(last_whole[0], last_whole[1] + 1)  # the first month after, exclusive
    tail = [] if last_whole == (ey, em) else [(jalali_month_start(ey, em), end)]
    if start is None:
        # Monthly keys are "M" and six digits, so they sort as the months do.
        return sa.and_(SalesPeriod.period_key > "M", SalesPeriod.period_key < upper), tail
    sy, sm = jalali_month_of(start)
    first_whole = (sy, sm) if start == jalali_month_start(sy, sm) else (sy, sm + 1)
    first_key = _month_key(*first_whole)
    if first_key >= upper:  # no whole month inside
        return None, [(start, end)]
    head = [] if first_whole == (sy, sm) else [(start, _month_end(sy, sm))]
    cond = sa.and_(SalesPeriod.period_key >= first_key, SalesPeriod.period_key < upper)
    return cond, head + tail


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
    zero = sa.literal(0, sa.BigInteger)
    for lo, hi in partial:
        parts.append(
            sa.select(
                SalesDaily.seller_id.label("seller_id"),
                sa.case((SalesDaily.channel == CARD, SalesDaily.amount), else_=zero).label(
                    "card_amount"
                ),
                sa.case((SalesDaily.channel == CASH, SalesDaily.amount), else_=zero).label(
                    "cash_amount"
                ),
                sa.case((SalesDaily.channel == OFFLINE, SalesDaily.amount), else_=zero).label(
                    "offline_amount"
                ),
                SalesDaily.units.label("units"),
                SalesDaily.orders.label("orders"),
                SalesDaily.day.label("first_day"),
            ).where(SalesDaily.day >= lo, SalesDaily.day <= hi)
        )
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


def _int(value: Any) -> int:
    return int(value or 0)


# ---- the county table -----------------------------------------------------------------------


@dataclass
class CountyRow:
    """One county's figures in a period (``county_id`` None: the province)."""

    county_id: int | None
    slug: str
    name: str
    registered: int = 0
    approved: int = 0
    listed: int = 0
    first_sale: int = 0
    repeat_sales: int = 0
    target_sellers: int | None = None
    target_sales_amount: int | None = None
    year_sales_amount: int = 0  # from the start of the programme year to the period end
    card_amount: int = 0
    cash_amount: int = 0
    offline_amount: int = 0
    orders: int = 0  # online orders and offline sale records
    online_orders: int = 0  # paid online orders (card paid, cash delivered)
    units: int = 0
    sellers_with_sale: int = 0  # approved sellers with a sale in the period
    views: int = 0
    stock: int = 0
    price_ratio: float | None = None
    share: float | None = None
    flagged: bool = False

    @property
    def sales_amount(self) -> int:
        return self.card_amount + self.cash_amount + self.offline_amount

    @property
    def market_connection(self) -> float | None:
        return self.sellers_with_sale / self.approved if self.approved else None

    @property
    def orders_per_100_views(self) -> float | None:
        return 100 * self.online_orders / self.views if self.views else None

    @property
    def absorption(self) -> float | None:
        total = self.units + self.stock
        return self.units / total if total else None

    @property
    def quota_progress(self) -> float | None:
        return self.first_sale / self.target_sellers if self.target_sellers else None

    @property
    def sales_progress(self) -> float | None:
        if not self.target_sales_amount:
            return None
        return self.year_sales_amount / self.target_sales_amount


SORT_KEYS = (
    "name", "registered", "approved", "listed", "first_sale", "repeat_sales", "target_sellers",
    "quota_progress", "sales_amount", "share", "market_connection", "orders_per_100_views",
    "price_ratio", "absorption", "views", "units", "flagged",
)  # fmt: skip


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


def _names(model: type, locale: str) -> Any:
    return model.name_en if locale == "en" else model.name_fa


def _price_ratios(sector_id: int | None) -> tuple[dict[int, float], float | None]:
    """(county -> median over its categories of its median price ÷ the market's median price
    there, the same for every county together) over the published listings of approved
    sellers. With a sector, the counties' listings are that sector's; the market stays whole."""
    market: dict[int, list[int]] = defaultdict(list)
    own: dict[int | None, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for county_id, seller_sector, category_id, price in db.session.execute(
        sa.select(Seller.county_id, Seller.sector_id, Product.category_id, Product.price_amount)
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
            Product.category_id.is_not(None),
            Product.price_amount > 0,
        )
    ).tuples():
        market[category_id].append(price)
        if sector_id is None or seller_sector == sector_id:
            own[county_id][category_id].append(price)
            own[None][category_id].append(price)
    medians = {c: statistics.median(prices) for c, prices in market.items()}

    def ratio(by_category: dict[int, list[int]]) -> float | None:
        ratios = [statistics.median(p) / medians[c] for c, p in by_category.items()]
        return float(statistics.median(ratios)) if ratios else None

    out = {c: r for c, cats in own.items() if c is not None and (r := ratio(cats)) is not None}
    return out, ratio(own[None]) if None in own else None


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
    _start, hi = period.bounds_utc()
    year = programme_year_of(period)
    sector_cond = [Seller.sector_id == sector_id] if sector_id else []

    sums = _seller_sums(period.start, period.end, "in_period")
    ytd = _seller_sums(jalali_month_start(year, 1), period.end, "year_to_date")
    to_date = _seller_sums(None, period.end, "to_date")
    listed = _listed_by(hi)
    approved = _approved_by(hi)
    funnel = db.session.execute(
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
        .where(*sector_cond)
        .group_by(Seller.county_id)
    ).all()
    online = dict(
        db.session.execute(
            sa.select(Seller.county_id, sa.func.count())
            .select_from(SalesOrder)
            .join(Seller, Seller.id == SalesOrder.seller_id)
            .where(SalesOrder.day >= period.start, SalesOrder.day <= period.end, *sector_cond)
            .group_by(Seller.county_id)
        ).all()
    )
    seen = dict(
        db.session.execute(
            sa.select(Seller.county_id, sa.func.sum(ProductViewDay.views))
            .join(Product, Product.id == ProductViewDay.product_id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(ProductViewDay.day >= period.start, ProductViewDay.day <= period.end)
            .where(*sector_cond)
            .group_by(Seller.county_id)
        ).all()
    )
    stock = dict(
        db.session.execute(
            sa.select(Seller.county_id, sa.func.sum(Product.stock))
            .join(Seller, Seller.id == Product.seller_id)
            .where(
                Product.status == ProductStatus.PUBLISHED,
                Seller.status == SellerStatus.APPROVED,
                *sector_cond,
            )
            .group_by(Seller.county_id)
        ).all()
    )
    ratios, province_ratio = _price_ratios(sector_id)
    quotas = {
        q.county_id: q
        for q in db.session.scalars(sa.select(Quota).where(Quota.programme_year == year))
    }
    counties = db.session.execute(
        sa.select(County.id, County.slug, _names(County, locale)).order_by(
            _names(County, locale), County.id
        )
    ).all()

    by_county = {r[0]: r for r in funnel}
    rows = []
    for county_id, slug, name in counties:
        f = by_county.get(county_id)
        quota = quotas.get(county_id)
        row = CountyRow(county_id, slug, name)
        if f is not None:
            (row.registered, row.approved, row.listed, row.first_sale, row.repeat_sales,
             row.card_amount, row.cash_amount, row.offline_amount, row.orders, row.units,
             row.sellers_with_sale, row.year_sales_amount) = (_int(v) for v in f[1:])  # fmt: skip
        if quota is not None:
            row.target_sellers = quota.target_sellers
            row.target_sales_amount = quota.target_sales_amount
        row.online_orders = _int(online.get(county_id))
        row.views = _int(seen.get(county_id))
        row.stock = _int(stock.get(county_id))
        row.price_ratio = ratios.get(county_id)
        rows.append(row)

    province = CountyRow(None, "", "")
    for name in ("registered", "approved", "listed", "first_sale", "repeat_sales",
                 "year_sales_amount", "card_amount", "cash_amount", "offline_amount", "orders",
                 "online_orders", "units", "sellers_with_sale", "views", "stock"):  # fmt: skip
        setattr(province, name, sum(getattr(r, name) for r in rows))
    if quotas:
        province.target_sellers = sum(q.target_sellers for q in quotas.values())
        province.target_sales_amount = sum(q.target_sales_amount for q in quotas.values())
    province.price_ratio = province_ratio
    province.share = 1.0 if province.sales_amount else None
    whole = province.market_connection
    for row in rows:
        row.share = row.sales_amount / province.sales_amount if province.sales_amount else None
        mc = row.market_connection
        row.flagged = bool(whole and mc is not None and mc < FLAG_SHARE * whole)
    return CountyReport(period, sector_id, year, rows, province, period.end >= today)


# ---- monthly series -------------------------------------------------------------------------


@dataclass
class MonthCell:
    orders: int = 0
    units: int = 0
    amount: int = 0
    views: int = 0
    online_orders: int = 0

    @property
    def orders_per_100_views(self) -> float | None:
        return 100 * self.online_orders / self.views if self.views else None


@dataclass
class Series:
    """Sales by month for groups (counties or sectors): ``cells[(group id, year, month)]``."""

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
    keys = {_month_key(y, m): (y, m) for y, m in months}
    model = County if by == "county" else Sector
    group = Seller.county_id if by == "county" else Seller.sector_id
    conditions = [SalesPeriod.period_key.in_(keys)]
    if sector_id:
        conditions.append(Seller.sector_id == sector_id)
    if county_id:
        conditions.append(Seller.county_id == county_id)
    groups_stmt = sa.select(model.id, _names(model, locale)).order_by(
        _names(model, locale), model.id
    )
    if by == "county" and county_id:
        groups_stmt = groups_stmt.where(County.id == county_id)
    if by == "sector" and sector_id:
        groups_stmt = groups_stmt.where(Sector.id == sector_id)
    series = Series(months, [tuple(r) for r in db.session.execute(groups_stmt)])
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
        series.cells[(group_id, *keys[key])] = MonthCell(_int(orders), _int(units), _int(amount))
    return series


def _by_month(rows: Any, months: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(day, n) rows summed per Jalali month of ``months``."""
    out: dict[tuple[int, int], int] = defaultdict(int)
    wanted = set(months)
    for day, n in rows:
        month = jalali_month_of(_as_date(day))
        if month in wanted:
            out[month] += _int(n)
    return out


def _span(months: list[tuple[int, int]]) -> tuple[date, date]:
    return jalali_month_start(*months[0]), _month_end(*months[-1])


def _add_views_and_orders(series: Series, group_id: int, seller_cond: Any) -> None:
    """Views and paid online orders per month of one group (the sellers ``seller_cond`` picks)."""
    first, last = _span(series.months)
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


# ---- one county -----------------------------------------------------------------------------

STAGES = ("registered", "approved", "listed", "first_sale", "repeat_sales")


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


def county_detail(
    county_id: int,
    period: Period,
    sector_id: int | None = None,
    locale: str = "fa",
    today: date | None = None,
) -> CountyDetail:
    """One county: its row of the county table, each seller's place in the funnel, a monthly
    series with views and paid online orders, and its best categories. Raises NotFound."""
    county = db.session.get(County, county_id)
    if county is None:
        raise NotFound("county")
    report = county_report(period, sector_id, locale, today)
    row = next(r for r in report.rows if r.county_id == county_id)
    _start, hi = period.bounds_utc()
    sector_cond = [Seller.sector_id == sector_id] if sector_id else []
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
    sellers = [
        SellerStage(
            seller_id=r[0],
            name=r[1],
            registration_code=r[2],
            status=str(r[3]),
            sector=r[4],
            approved=bool(r[5]),
            listed=r[6] is not None,
            sales_to_date=_int(r[7]),
            first_sale=_as_date(r[8]),
            amount=_int(r[9]),
            orders=_int(r[10]),
            views=_int(r[11]),
        )  # fmt: skip
        for r in db.session.execute(
            sa.select(
                Seller.id,
                Seller.display_name,
                Seller.registration_code,
                Seller.status,
                _names(Sector, locale),
                sa.case((_approved_by(hi), 1), else_=0),
                listed.c.seller_id,
                to_date.c.orders,
                to_date.c.first_day,
                sums.c.amount,
                sums.c.orders,
                seen.c.views,
            )
            .join(Sector, Sector.id == Seller.sector_id)
            .outerjoin(sums, sums.c.seller_id == Seller.id)
            .outerjoin(to_date, to_date.c.seller_id == Seller.id)
            .outerjoin(listed, listed.c.seller_id == Seller.id)
            .outerjoin(seen, seen.c.seller_id == Seller.id)
            .where(Seller.county_id == county_id, Seller.created_at < hi, *sector_cond)
            .order_by(sa.func.coalesce(sums.c.amount, 0).desc(), Seller.display_name, Seller.id)
        )
    ]
    series = monthly(period, "county", sector_id, county_id, locale)
    _add_views_and_orders(series, county_id, sa.and_(Seller.county_id == county_id, *sector_cond))
    category_name = _names(Category, locale)
    categories = [
        {"category_id": r[0], "name": r[1], "units": _int(r[2]), "amount": _int(r[3])}
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
                *sector_cond,
            )
            .group_by(SalesDailyProduct.category_id)
            .order_by(sa.func.sum(SalesDailyProduct.amount).desc(), SalesDailyProduct.category_id)
            .limit(10)
        )
    ]
    return CountyDetail(
        county, row, report.province, sellers, series, categories, report.programme_year
    )


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
    period = Period.month(*jalali_month_of(today))
    months = series_months(period)
    keys = {_month_key(y, m): (y, m) for y, m in months}
    series = Series(months, [(seller_id, "")])
    for key, orders, units, amount in db.session.execute(
        sa.select(
            SalesPeriod.period_key,
            SalesPeriod.orders,
            SalesPeriod.units,
            SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount,
        ).where(SalesPeriod.seller_id == seller_id, SalesPeriod.period_key.in_(keys))
    ).tuples():
        series.cells[(seller_id, *keys[key])] = MonthCell(_int(orders), _int(units), _int(amount))
    _add_views_and_orders(series, seller_id, Seller.id == seller_id)
    cells = series.row(seller_id)
    totals = MonthCell(
        sum(c.orders for c in cells),
        sum(c.units for c in cells),
        sum(c.amount for c in cells),
        sum(c.views for c in cells),
        sum(c.online_orders for c in cells),
    )
    first, last = _span(months)
    top = db.session.execute(
        sa.select(
            SalesDailyProduct.product_key,
            sa.func.max(SalesDailyProduct.title),
            sa.func.sum(SalesDailyProduct.units),
            sa.func.sum(SalesDailyProduct.amount),
        )
        .where(
            SalesDailyProduct.seller_id == seller_id,
            SalesDailyProduct.day >= first,
            SalesDailyProduct.day <= last,
        )
        .group_by(SalesDailyProduct.product_key)
        .order_by(sa.func.sum(SalesDailyProduct.amount).desc(), SalesDailyProduct.product_key)
        .limit(best)
    ).all()
    ids = [r[0] for r in top if r[0]]
    views = (
        dict(
            db.session.execute(
                sa.select(ProductViewDay.product_id, sa.func.sum(ProductViewDay.views))
                .where(
                    ProductViewDay.product_id.in_(ids),
                    ProductViewDay.day >= first,
                    ProductViewDay.day <= last,
                )
                .group_by(ProductViewDay.product_id)
            ).all()
        )
        if ids
        else {}
    )
    products = [
        {"product_id": r[0] or None, "title": r[1], "units": _int(r[2]), "amount": _int(r[3]),
         "views": _int(views.get(r[0]))}
        for r in top
    ]  # fmt: skip
    return SellerNumbers(series, totals, products)


# ---- quotas ---------------------------------------------------------------------------------

MIN_YEAR, MAX_YEAR = 1390, 1500
MAX_TARGET_SELLERS = 1_000_000
MAX_TARGET_SALES = 10**15  # rials: far above any county's, far below the column's limit
MAX_QUOTA_FILE_BYTES = 512 * 1024
MAX_QUOTA_ROWS = 5000


@dataclass
class QuotaInput:
    county_id: int | None
    programme_year: int | None
    target_sellers: int | None
    # None: keep the current target (0 for a new quota)
    target_sales_amount: int | None = None


def number(text: object) -> int | None:
    """Digits of any script with separators (``1,250``, ``۱٬۲۵۰``); None when empty; -1 when
    not a whole number (or absurdly long)."""
    try:
        return optional_int(text)
    except ValueError:
        return -1


def quota_errors(item: QuotaInput) -> dict[str, list[str]]:
    """Field -> error codes of one quota (nothing looked up but the county)."""
    errors: dict[str, list[str]] = {}
    if item.county_id is None or item.county_id <= 0:
        errors["county_id"] = ["required"]
    elif db.session.get(County, item.county_id) is None:
        errors["county_id"] = ["county_unknown"]
    if item.programme_year is None:
        errors["programme_year"] = ["required"]
    elif not MIN_YEAR <= item.programme_year <= MAX_YEAR:
        errors["programme_year"] = ["year_range"]
    if item.target_sellers is None:
        errors["target_sellers"] = ["required"]
    elif not 0 <= item.target_sellers <= MAX_TARGET_SELLERS:
        errors["target_sellers"] = ["sellers_range"]
    if item.target_sales_amount is not None and not (
        0 <= item.target_sales_amount <= MAX_TARGET_SALES
    ):
        errors["target_sales_amount"] = ["sales_range"]
    return errors


def _save(actor_id: int | None, item: QuotaInput, source: str) -> bool:
    quota = db.session.scalar(
        sa.select(Quota).where(
            Quota.county_id == item.county_id, Quota.programme_year == item.programme_year
        )
    )
    before = (
        {"target_sellers": quota.target_sellers, "target_sales_amount": quota.target_sales_amount}
        if quota is not None
        else None
    )
    after = {
        "target_sellers": item.target_sellers,
        "target_sales_amount": item.target_sales_amount
        if item.target_sales_amount is not None
        else (quota.target_sales_amount if quota is not None else 0),
    }
    if before == after:
        return False
    if quota is None:
        quota = Quota(county_id=item.county_id, programme_year=item.programme_year)
        db.session.add(quota)
    quota.target_sellers = after["target_sellers"]
    quota.target_sales_amount = after["target_sales_amount"]
    db.session.flush()
    from app.audit import log as audit

    audit.record(
        actor_id,
        "quota.update" if before is not None else "quota.create",
        "quota",
        quota.id,
        data={"county_id": item.county_id, "programme_year": item.programme_year,
              "before": before, "after": after, "source": source},
    )  # fmt: skip
    return True


def save_quotas(actor_id: int | None, items: list[QuotaInput], source: str = "form") -> int:
    """Set the quotas of ``items`` (county and programme year each), all or none, with an audit
    event for each one that changes; returns how many changed. Raises ValidationFailed (keys
    ``"<index>.<field>"``, or the field alone for one item) and changes nothing then. Commits."""
    from app.core.db import begin_write

    errors: dict[str, list[str]] = {}
    seen: set[tuple[int | None, int | None]] = set()
    for n, item in enumerate(items):
        prefix = f"{n}." if len(items) > 1 else ""
        for name, codes in quota_errors(item).items():
            errors[prefix + name] = codes
        key = (item.county_id, item.programme_year)
        if key in seen:
            errors.setdefault(f"{prefix}county_id", []).append("duplicate")
        seen.add(key)
    if errors:
        raise ValidationFailed(errors)
    begin_write()
    try:
        changed = sum(_save(actor_id, item, source) for item in items)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return changed


def delete_quota(actor_id: int | None, quota_id: int) -> None:
    """Remove a quota (with an audit event). Raises NotFound. Commits."""
    from app.audit import log as audit
    from app.core.db import begin_write

    begin_write()
    try:
        quota = db.session.get(Quota, quota_id)
        if quota is None:
            raise NotFound("quota")
        audit.record(
            actor_id,
            "quota.delete",
            "quota",
            quota.id,
            data={"county_id": quota.county_id, "programme_year": quota.programme_year,
                  "before": {"target_sellers": quota.target_sellers,
                             "target_sales_amount": quota.target_sales_amount}},
        )  # fmt: skip
        db.session.delete(quota)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def quotas(year: int | None = None, locale: str = "fa") -> list[tuple[Quota, str]]:
    """The quotas (of one programme year, or all), newest year first, with county names."""
    stmt = (
        sa.select(Quota, _names(County, locale))
        .join(County, County.id == Quota.county_id)
        .order_by(Quota.programme_year.desc(), _names(County, locale), County.id)
    )
    if year is not None:
        stmt = stmt.where(Quota.programme_year == year)
    return [(q, name) for q, name in db.session.execute(stmt).tuples()]


# The columns of the quota file (export and upload); Persian headings are accepted too.
QUOTA_COLUMNS = ("county_id", "county_slug", "county_fa", "county_en", "programme_year",
                 "target_sellers", "target_sales_amount_rial")  # fmt: skip
_QUOTA_ALIASES = {
    "county": "county_name",
    "شهرستان": "county_name",
    "شناسه شهرستان": "county_id",
    "سال برنامه": "programme_year",
    "هدف فروشندگان": "target_sellers",
    "سهمیه": "target_sellers",
    "هدف فروش (ریال)": "target_sales_amount_rial",
    "هدف فروش": "target_sales_amount_rial",
}


class QuotaFileRejected(Exception):
    """The file as a whole cannot be read: ``code`` says why (nothing was changed)."""

    def __init__(self, code: str, line: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.line = line


@dataclass
class QuotaRow:
    line: int
    source: dict[str, str]
    item: QuotaInput
    county_name: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, code)
    change: str = ""  # "new", "changed" or "same"

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class QuotaPlan:
    rows: list[QuotaRow]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and all(r.ok for r in self.rows)

    @property
    def error_rows(self) -> list[QuotaRow]:
        return [r for r in self.rows if not r.ok]

    @property
    def items(self) -> list[QuotaInput]:
        return [r.item for r in self.rows]


def decode_quota_file(data: bytes) -> str:
    """The text of an uploaded quota file (UTF-8, with or without a BOM). Raises
    QuotaFileRejected (``too_large``, ``empty``, ``not_utf8``)."""
    if len(data) > MAX_QUOTA_FILE_BYTES:
        raise QuotaFileRejected("too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuotaFileRejected("not_utf8") from exc
    if not text.strip():
        raise QuotaFileRejected("empty")
    return text


def _header(name: str) -> str:
    clean = " ".join(str(name or "").replace("\ufeff", "").split()).strip()
    low = clean.lower()
    if low in QUOTA_COLUMNS or low == "county_name":
        return low
    return _QUOTA_ALIASES.get(clean, _QUOTA_ALIASES.get(low, low))


def plan_quotas(text: str, locale: str = "fa") -> QuotaPlan:
    """Read and check every row of a quota file without changing anything. Raises
    QuotaFileRejected for a file that cannot be read as a whole (``malformed``,
    ``no_header``, ``missing_columns``, ``too_many_rows``)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise QuotaFileRejected("malformed") from exc
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise QuotaFileRejected("no_header")
    header = [_header(h) for h in records[0]]
    has_county = {"county_id", "county_slug", "county_fa", "county_en", "county_name"} & set(header)
    if not has_county or not {"programme_year", "target_sellers"} <= set(header):
        raise QuotaFileRejected("missing_columns")
    if len(records) - 1 > MAX_QUOTA_ROWS:
        raise QuotaFileRejected("too_many_rows")
    counties = db.session.scalars(sa.select(County)).all()
    by_id = {c.id: c for c in counties}
    by_slug = {c.slug.lower(): c for c in counties}
    by_name: dict[str, County] = {}
    for c in counties:
        for name in (c.name_fa, c.name_en):
            by_name.setdefault(_plain(name), c)
    current = {
        (q.county_id, q.programme_year): (q.target_sellers, q.target_sales_amount)
        for q in db.session.scalars(sa.select(Quota))
    }
    rows: list[QuotaRow] = []
    seen: dict[tuple[int, int], int] = {}
    for n, record in enumerate(records[1:], start=2):
        source = {
            h: (csv_text(record[i].strip()) if i < len(record) else "")
            for i, h in enumerate(header)
        }
        row = QuotaRow(n, source, QuotaInput(None, None, None))
        county = _find_county(source, by_id, by_slug, by_name, row)
        year = number(source.get("programme_year"))
        sellers = number(source.get("target_sellers"))
        sales = number(source.get("target_sales_amount_rial"))
        row.item = QuotaInput(county.id if county else None, year, sellers, sales)
        if county is not None:
            row.county_name = county.name(locale)
        for name, codes in quota_errors(row.item).items():
            if name == "county_id" and row.errors:
                continue  # the county's own error is already there
            row.errors.extend((name, code) for code in codes if code != "county_unknown")
        if row.ok:
            key = (county.id, year)  # type: ignore[union-attr]
            if key in seen:
                row.errors.append(("county_id", "duplicate"))
            else:
                seen[key] = n
                have = current.get(key)
                if have is None:
                    row.change = "new"
                else:
                    want = (sellers, have[1] if sales is None else sales)
                    row.change = "same" if want == have else "changed"
        rows.append(row)
    return QuotaPlan(rows)


def _plain(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").replace("\u200c", " ")).strip().lower()


def _find_county(
    source: dict[str, str],
    by_id: dict[int, County],
    by_slug: dict[str, County],
    by_name: dict[str, County],
    row: QuotaRow,
) -> County | None:
    """The county a row names by id, slug or name; every one given must name the same."""
    found: list[County | None] = []
    raw_id = source.get("county_id", "")
    if raw_id:
        value = number(raw_id)
        found.append(by_id.get(value) if value and value > 0 else None)
    if source.get("county_slug"):
        found.append(by_slug.get(source["county_slug"].lower()))
    for key in ("county_fa", "county_en", "county_name"):
        if source.get(key):
            found.append(by_name.get(_plain(source[key])))
    if not found:
        row.errors.append(("county_id", "required"))
        return None
    if any(c is None for c in found):
        row.errors.append(("county_id", "county_unknown"))
        return None
    if len({c.id for c in found if c is not None}) > 1:
        row.errors.append(("county_id", "county_mismatch"))
        return None
    return found[0]


def quota_csv_rows() -> list[list[object]]:
    """Every quota as rows of ``QUOTA_COLUMNS`` (the file that uploads back unchanged)."""
    return [
        list(r)
        for r in db.session.execute(
            sa.select(
                Quota.county_id, County.slug, County.name_fa, County.name_en,
                Quota.programme_year, Quota.target_sellers, Quota.target_sales_amount,
            )
            .join(County, County.id == Quota.county_id)
            .order_by(Quota.programme_year.desc(), County.name_fa, County.id)
        )
    ]  # fmt: skip
