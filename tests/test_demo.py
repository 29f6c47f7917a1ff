"""The demo market (``flask seed-demo``): it loads on an empty database, the same every time,
adds nothing when loaded again, and comes with a sales history the staff reports show."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from app.catalog import variants
from app.catalog.models import Product, Seller, SellerStatus
from app.core.extensions import db
from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.orders.models import Order, OrderLine, OrderStatus
from app.program import calendar, rebuild
from app.program.models import ProductViewDay, Quota
from app.program.sales_models import OfflineSale, SalesOrder
from tests import factories
from tests.conftest import _empty_all_tables

SMALL = {"sellers": 8, "products_per_seller": 3, "sales_months": 3}


def _row_counts() -> dict[str, int]:
    """Rows of every table."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def _snapshot() -> dict[str, list[tuple]]:
    """What the demo made, without its times (they follow the moment it is loaded)."""
    queries = {
        "sellers": sa.select(Seller.slug, Seller.display_name, Seller.phone, Seller.status),
        "products": sa.select(
            Product.title, Product.price_amount, Product.stock, Product.status, Product.featured
        ),
        "quotas": sa.select(Quota.county_id, Quota.programme_year, Quota.target_sellers),
        "orders": sa.select(
            Order.seller_id, Order.customer_id, Order.status, Order.total_amount, Order.carrier
        ),
        "lines": sa.select(OrderLine.order_id, OrderLine.product_id, OrderLine.quantity),
        "offline": sa.select(OfflineSale.seller_id, OfflineSale.sold_on, OfflineSale.amount),
        "views": sa.select(ProductViewDay.product_id, ProductViewDay.day, ProductViewDay.views),
    }
    return {
        name: sorted(tuple(row) for row in db.session.execute(query))
        for name, query in queries.items()
    }


def test_demo_loads_on_an_empty_database_and_a_second_load_adds_nothing(app) -> None:  # type: ignore[no-untyped-def]
    created = seed_demo(None, **SMALL)
    counts = _row_counts()
    assert created["sellers"] == counts["seller"] == 8
    assert created["products"] == counts["product"] == 8 * 3
    assert created["orders"] == counts["shop_order"] > 10
    assert created["offline_sales"] == counts["offline_sale"] > 0
    assert created["view_rows"] == counts["product_view_day"] > 0
    assert created["reviews"] == counts["review"] > 0
    assert counts["quota"] == 2 * counts["county"] > 0
    statuses = list(db.session.scalars(sa.select(Seller.status)))
    assert statuses.count(SellerStatus.APPLIED) == 3
    assert statuses.count(SellerStatus.SUSPENDED) == 1

    again = seed_demo(None, **SMALL)
    assert set(again.values()) == {0}
    assert _row_counts() == counts


def test_demo_sells_sizes_and_colours_as_variants_of_one_product(app) -> None:  # type: ignore[no-untyped-def]
    seed_demo(None, **SMALL)
    titles = list(db.session.scalars(sa.select(Product.title)))
    assert not any("سایز" in t or "رنگ فیروزه‌ای" in t for t in titles)  # no fake variants
    with_options = list(db.session.scalars(sa.select(Product).where(Product.has_variants)))
    assert with_options
    labels = []
    for product in with_options:
        options = variants.options_of(product.id)
        offered = variants.variants_of(product.id)
        assert product.stock == sum(v.stock for v in offered)
        assert product.price_amount == min(v.price_amount for v in offered)
        labels += [(variants.label(v, options), v.stock) for v in offered]
    assert any(label == "سایز: M، رنگ: آبی" and stock > 0 for label, stock in labels)
    assert any(stock == 0 for _label, stock in labels)  # a sold-out variant


def test_demo_is_the_same_market_every_time(app) -> None:  # type: ignore[no-untyped-def]
    small = {"sellers": 6, "products_per_seller": 3, "sales_months": 2}
    seed_demo(None, **small)
    first = _snapshot()
    assert all(first.values()), {name: len(rows) for name, rows in first.items()}
    db.session.remove()
    _empty_all_tables()
    seed_demo(None, **small)
    assert _snapshot() == first


def _monthly_by_county(client) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    client.set_cookie("locale", "en")  # the header as column keys
    response = client.get("/admin/counties/monthly.csv?period=month&by=county")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_demo_sales_history_reaches_the_reports(app, client) -> None:  # type: ignore[no-untyped-def]
    created = seed_demo(None, **SMALL)
    assert created["orders"] > 10 and created["offline_sales"] > 0 and created["view_rows"] > 0

    statuses = set(db.session.scalars(sa.select(Order.status)))
    assert {OrderStatus.COMPLETED, OrderStatus.CANCELLED} <= statuses
    assert len(statuses) >= 3
    # The history lies in the past months, and the summary rows are exactly a rebuild's.
    today = calendar.tehran_today()
    this_month = calendar.jalali_month_start(*calendar.jalali_month_of(today))
    days = list(db.session.scalars(sa.select(SalesOrder.day)))
    assert days and min(days) < this_month and max(days) <= today
    assert rebuild.verify() == []

    factories.login(client, "staff@bazarche.example", DEMO_PASSWORD)
    # The monthly series: sales in several months and several counties.
    selling = [row for row in _monthly_by_county(client) if float(row["sales_amount_toman"]) > 0]
    assert len({(row["jalali_year"], row["jalali_month"]) for row in selling}) >= 2
    assert len({row["county_id"] for row in selling}) >= 3

    # Last month: a whole month of the history, a row per county linking to its page.
    year, month = calendar.jalali_month_of(this_month - timedelta(days=1))
    response = client.get(f"/admin/counties?period=month&y={year}&m={month}")
    assert response.status_code == 200
    assert "/admin/counties/" in response.get_data(as_text=True)


def test_seed_demo_command_with_if_empty_loads_an_empty_market_only(runner) -> None:  # type: ignore[no-untyped-def]
    args = ["seed-demo", "--no-images", "--sellers", "5", "--products-per-seller", "2"]
    result = runner.invoke(args=[*args, "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "5 sellers and 10 products added" in result.output
    counts = _row_counts()
    assert counts["shop_order"] > 0  # one approved seller, with eight months of sales

    again = runner.invoke(args=[*args, "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "already has products" in again.output
    assert _row_counts() == counts

    # Without --if-empty it looks for what is missing, and finds nothing.
    third = runner.invoke(args=args)
    assert third.exit_code == 0, third.output
    assert "0 sellers and 0 products added" in third.output
    assert _row_counts() == counts
