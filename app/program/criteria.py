"""The programme's three criteria per county, and which counties fall behind.

- market connection: approved sellers with a sale in the period ÷ approved sellers;
- competitiveness: paid online orders per 100 product-page views in the period (card orders
  once paid, cash orders once delivered), and the median over the county's categories of (the
  county's median listed price in the category ÷ the whole market's median price there);
- absorption: units sold in the period ÷ (units sold + units in stock in the county's published
  listings; the stock is today's, since no history of stock is kept);
- a county falls behind when its market connection is below half the province's.

:class:`CountyRow` holds one county's figures (the funnel, the quota, the sales) and computes
the criteria from them; the functions here read the figures the funnel does not.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.extensions import db
from app.program.models import ProductViewDay, Quota
from app.program.sales_models import SalesOrder

FLAG_SHARE = 0.5  # a county below this share of the province's market connection falls behind


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


# The figures a province row adds up from its counties' rows.
SUMMED = ("registered", "approved", "listed", "first_sale", "repeat_sales", "year_sales_amount",
          "card_amount", "cash_amount", "offline_amount", "orders", "online_orders", "units",
          "sellers_with_sale", "views", "stock")  # fmt: skip


def price_ratios(sector_id: int | None) -> tuple[dict[int, float], float | None]:
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
        if category_id is None or price is None:
            continue
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


def _per_county(stmt: sa.Select) -> dict[int, int]:
    return {county_id: int(n or 0) for county_id, n in db.session.execute(stmt).tuples()}


def online_orders(start: date, end: date, sector_cond: list[Any]) -> dict[int, int]:
    """County -> paid online orders from ``start`` to ``end``."""
    return _per_county(
        sa.select(Seller.county_id, sa.func.count())
        .select_from(SalesOrder)
        .join(Seller, Seller.id == SalesOrder.seller_id)
        .where(SalesOrder.day >= start, SalesOrder.day <= end, *sector_cond)
        .group_by(Seller.county_id)
    )


def views(start: date, end: date, sector_cond: list[Any]) -> dict[int, int]:
    """County -> product-page views from ``start`` to ``end``."""
    return _per_county(
        sa.select(Seller.county_id, sa.func.sum(ProductViewDay.views))
        .join(Product, Product.id == ProductViewDay.product_id)
        .join(Seller, Seller.id == Product.seller_id)
        .where(ProductViewDay.day >= start, ProductViewDay.day <= end)
        .where(*sector_cond)
        .group_by(Seller.county_id)
    )


def stock(sector_cond: list[Any]) -> dict[int, int]:
    """County -> units in stock today in the published listings of approved sellers."""
    return _per_county(
        sa.select(Seller.county_id, sa.func.sum(Product.stock))
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
            *sector_cond,
        )
        .group_by(Seller.county_id)
    )


def province_row(
    rows: list[CountyRow], quotas: list[Quota], price_ratio: float | None
) -> CountyRow:
    """The province: its counties' figures added up, and the sum of their quotas (none when no
    county has one)."""
    province = CountyRow(None, "", "")
    for name in SUMMED:
        setattr(province, name, sum(getattr(r, name) for r in rows))
    if quotas:
        province.target_sellers = sum(q.target_sellers for q in quotas)
        province.target_sales_amount = sum(q.target_sales_amount for q in quotas)
    province.price_ratio = price_ratio
    province.share = 1.0 if province.sales_amount else None
    return province


def mark_shares_and_flags(rows: list[CountyRow], province: CountyRow) -> None:
    """Each county's share of the province's sales volume, and whether it falls behind (its
    market connection below ``FLAG_SHARE`` of the province's)."""
    whole = province.market_connection
    for row in rows:
        row.share = row.sales_amount / province.sales_amount if province.sales_amount else None
        mc = row.market_connection
        row.flagged = bool(whole and mc is not None and mc < FLAG_SHARE * whole)
