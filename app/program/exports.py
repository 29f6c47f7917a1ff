"""The rows of the programme's CSV files: sales per seller, the ministry's file, offline sales,
counties, the funnel, monthly series, one county's sellers, months and categories.

Each function gives ``(header, rows)``; ``app.web.http.csv_response`` writes them (UTF-8 with a
byte order mark, formula-like text neutralised). Amounts are in toman, as every staff page shows
them (:func:`toman`: an integer, or one decimal for a part of a toman); the ministry's file keeps its
rial columns beside toman ones. Days ISO Gregorian with a Jalali twin (``1405-09-01``), ratios four
decimals. Headers are column keys; ``app.web.csv_files`` gives them in the page's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from app.core.inputs import normalise_code
from app.program.calendar import Period, jalali_iso, jalali_month_end, jalali_month_start
from app.program.criteria import CountyRow
from app.program.funnel import STAGES, CountyDetail, CountyReport
from app.program.monthly import Series
from app.program.reports import SellerSales
from app.program.sales_models import OfflineSale

Table = tuple[list[str], list[list[object]]]

PERIOD_HEADER = ["period_start", "period_end", "period_start_jalali", "period_end_jalali"]
COUNTY_HEADER = [
    "county_id", "county_slug", "county", "registered_applicants", "approved_sellers",
    "sellers_with_listing", "sellers_with_first_sale", "sellers_with_repeat_sales",
    "programme_year", "target_sellers", "quota_progress", "target_sales_amount_toman",
    "programme_year_sales_toman", "sales_progress", "card_amount_toman", "cash_amount_toman",
    "offline_amount_toman", "sales_amount_toman", "share_of_province", "sales", "paid_online_orders",
    "units", "approved_sellers_with_sale", "market_connection", "product_views",
    "orders_per_100_views", "price_ratio", "stock_units", "absorption", "falls_behind",
    *PERIOD_HEADER,
]  # fmt: skip


def toman(amount: int | None) -> int | str | None:
    """Rials in toman: exact, an integer when it is whole, else with its one decimal."""
    if amount is None:
        return None
    whole, tenth = divmod(abs(amount), 10)
    sign = "-" if amount < 0 else ""
    return (whole if amount >= 0 else -whole) if not tenth else f"{sign}{whole}.{tenth}"


def ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def period_cells(period: Period) -> list[object]:
    return [period.start.isoformat(), period.end.isoformat(), jalali_iso(period.start),
            jalali_iso(period.end)]  # fmt: skip


# ---- sales per seller -------------------------------------------------------------------------


def seller_sales_table(rows: Iterable[SellerSales]) -> Table:
    """The staff report, every matching seller."""
    header = [
        "seller_id", "seller", "county", "sector", "registration_code", "card_amount_toman",
        "cash_amount_toman", "offline_amount_toman", "total_amount_toman", "orders", "units", "buyers",
        "repeat_buyers", "first_sale", "first_sale_jalali", "last_sale", "last_sale_jalali",
    ]  # fmt: skip
    return header, [
        [r.seller_id, r.seller, r.county, r.sector, r.registration_code, toman(r.card_amount),
         toman(r.cash_amount), toman(r.offline_amount), toman(r.total_amount), r.orders, r.units,
         r.buyers,
         r.repeat_buyers, _iso(r.first_sale), jalali_iso(r.first_sale), _iso(r.last_sale),
         jalali_iso(r.last_sale)]
        for r in rows
    ]  # fmt: skip


def ministry_table(period: Period, rows: Iterable[SellerSales]) -> Table:
    """One row per approved seller keyed by programme registration code. The ministry's format
    has its amounts in rials: those columns stay, and the same amounts in toman follow them."""
    header = [
        "registration_code", "business_name", "county", "sector", *PERIOD_HEADER,
        "card_amount_rial", "cash_amount_rial", "offline_amount_rial", "total_amount_rial",
        "orders", "units", "buyers", "repeat_buyers", "card_amount_toman", "cash_amount_toman",
        "offline_amount_toman", "total_amount_toman",
    ]  # fmt: skip
    # Codes saved before they were normalised on input are written in the same one form.
    return header, [
        [normalise_code(r.registration_code) or None, r.seller, r.county, r.sector,
         *period_cells(period), r.card_amount, r.cash_amount, r.offline_amount, r.total_amount,
         r.orders, r.units, r.buyers, r.repeat_buyers, toman(r.card_amount),
         toman(r.cash_amount), toman(r.offline_amount), toman(r.total_amount)]
        for r in sorted(rows, key=lambda r: normalise_code(r.registration_code))
    ]  # fmt: skip


def offline_sales_table(sales: Iterable[OfflineSale]) -> Table:
    """The offline sales list, every row."""
    header = [
        "sale_id", "sold_on", "sold_on_jalali", "seller_id", "seller", "registration_code",
        "place", "products", "units", "amount_toman", "took_stock", "recorded_by", "note", "created_at",
    ]  # fmt: skip
    return header, [
        [s.id, s.sold_on.isoformat(), jalali_iso(s.sold_on), s.seller_id, s.seller.display_name,
         s.seller.registration_code, s.place,
         "; ".join(f"{line.title} × {line.quantity}" for line in s.lines), s.units, toman(s.amount),
         int(s.took_stock), s.recorded_by.name if s.recorded_by else None, s.note,
         s.created_at.isoformat()]
        for s in sales
    ]  # fmt: skip


# ---- counties -------------------------------------------------------------------------------


def _county_cells(r: CountyRow, year: int, period: Period) -> list[object]:
    return [
        r.county_id, r.slug, r.name, r.registered, r.approved, r.listed, r.first_sale,
        r.repeat_sales, year, r.target_sellers, ratio(r.quota_progress),
        toman(r.target_sales_amount), toman(r.year_sales_amount), ratio(r.sales_progress),
        toman(r.card_amount), toman(r.cash_amount), toman(r.offline_amount),
        toman(r.sales_amount), ratio(r.share), r.orders, r.online_orders, r.units,
        r.sellers_with_sale, ratio(r.market_connection), r.views,
        ratio(r.orders_per_100_views), ratio(r.price_ratio), r.stock, ratio(r.absorption),
        int(r.flagged) if r.county_id is not None else "", *period_cells(period),
    ]  # fmt: skip


def counties_table(report: CountyReport, sort: str) -> Table:
    """The county table in the page's order, then the province."""
    rows = [
        _county_cells(r, report.programme_year, report.period) for r in report.sorted_rows(sort)
    ]
    rows.append(_county_cells(report.province, report.programme_year, report.period))
    return COUNTY_HEADER, rows


def funnel_table(report: CountyReport) -> Table:
    """The funnel in long form: one row per county (and the province) and stage."""
    header = ["county_id", "county", "stage", "sellers", "programme_year", "target_sellers",
              "share_of_target"]  # fmt: skip
    rows: list[list[object]] = []
    for r in [*report.rows, report.province]:
        for stage in STAGES:
            n = getattr(r, stage)
            share = n / r.target_sellers if r.target_sellers else None
            rows.append([r.county_id, r.name, stage, n, report.programme_year, r.target_sellers,
                         ratio(share)])  # fmt: skip
    return header, rows


def _series_rows(series: Series) -> list[list[object]]:
    rows: list[list[object]] = []
    for group_id, name in series.groups:
        for (y, m), cell in zip(series.months, series.row(group_id), strict=True):
            start, end = jalali_month_start(y, m), jalali_month_end(y, m)
            rows.append([group_id, name, y, m, start.isoformat(), end.isoformat(), cell.orders,
                         cell.units, toman(cell.amount)])  # fmt: skip
    return rows


def monthly_table(series: Series, by: str) -> Table:
    """Sales per month and county (``by="county"``) or sector."""
    header = [f"{by}_id", by, "jalali_year", "jalali_month", "month_start", "month_end",
              "sales", "units", "sales_amount_toman"]  # fmt: skip
    return header, _series_rows(series)


def county_sellers_table(detail: CountyDetail, period: Period) -> Table:
    """One county's sellers and their place in the funnel."""
    header = ["seller_id", "seller", "registration_code", "status", "sector", "stage",
              "sales_to_date", "first_sale", "first_sale_jalali", "sales_amount_toman", "sales",
              "product_views", *PERIOD_HEADER]  # fmt: skip
    return header, [
        [s.seller_id, s.name, s.registration_code, s.status, s.sector, s.stage, s.sales_to_date,
         _iso(s.first_sale), jalali_iso(s.first_sale), toman(s.amount), s.orders, s.views,
         *period_cells(period)]
        for s in detail.sellers
    ]  # fmt: skip


def county_months_table(detail: CountyDetail) -> Table:
    """One county's months with views and paid online orders."""
    header = ["jalali_year", "jalali_month", "month_start", "month_end", "sales", "units",
              "sales_amount_toman", "product_views", "paid_online_orders",
              "orders_per_100_views"]  # fmt: skip
    series = detail.series
    return header, [
        [*row[2:], cell.views, cell.online_orders, ratio(cell.orders_per_100_views)]
        for row, cell in zip(_series_rows(series), series.row(detail.county.id), strict=True)
    ]


def county_categories_table(detail: CountyDetail, period: Period) -> Table:
    """One county's best categories."""
    header = ["category_id", "category", "units", "sales_amount_toman", *PERIOD_HEADER]
    return header, [
        [c["category_id"], c["name"], c["units"], toman(c["amount"]), *period_cells(period)]
        for c in detail.categories
    ]
