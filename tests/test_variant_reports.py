"""Variants in the reports: the programme's summaries keep counting a product's sales once per
line whatever variant each line sold; the seller's sales by variant and the order-line CSV
files (the seller's and staff's) name the variant and SKU as sold."""

from __future__ import annotations

import csv
import io

import pytest

from app.accounts.models import Role
from app.catalog import variants
from app.catalog.variants import OptionData, VariantData, VariantsData
from app.core.extensions import db
from app.orders import cart as carts
from app.payments import state as payment_state
from app.payments.models import Provider
from app.program import lines, monthly
from app.program.calendar import Period, jalali_month_of, parse_period, tehran_today
from app.program.sales_models import SalesOrder
from tests import factories
from tests.test_order_flow import place


@pytest.fixture
def sold(app):  # type: ignore[no-untyped-def]
    """One paid card order of a shirt: one line of size S and one of size M (the lines as the
    checkout writes them for a product with options)."""
    owner = factories.user(Role.SELLER, email="seller@example.com")
    seller = factories.seller(owner=owner)
    shirt = factories.product(seller, title="پیراهن", stock=5, with_image=False)
    variants.save(
        shirt,
        VariantsData(
            options=[OptionData("سایز", ["S", "M"])],
            variants=[
                VariantData(["S"], 500_000, 3, sku="SH-S"),
                VariantData(["M"], 500_000, 3, sku="SH-M"),
            ],
        ),
    )
    small, medium = variants.variants_of(shirt.id)
    customer = factories.user(email="buyer@example.com")
    carts.add(customer, None, shirt.id, 1, small.id)
    carts.add(customer, None, shirt.id, 1, medium.id)
    payment = place(customer, provider=Provider.STRIPE)  # the cart's two lines, by variant
    order = payment.orders[0]
    assert sorted(line.sku or "" for line in order.lines) == ["SH-M", "SH-S"]
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    return {"seller": seller, "owner": owner, "shirt": shirt, "order": order}


def this_month() -> Period:
    return Period.month(*jalali_month_of(tehran_today()))


def test_two_variants_count_as_the_products_sales_once_per_line(sold) -> None:  # type: ignore[no-untyped-def]
    today = tehran_today()
    (best,) = monthly.top_products(sold["seller"].id, today, today)
    assert best["product_id"] == sold["shirt"].id
    assert (best["units"], best["amount"]) == (2, 1_000_000)
    row = db.session.get(SalesOrder, sold["order"].id)
    assert row is not None and (row.units, row.amount) == (2, 1_000_000)
    numbers = monthly.seller_numbers(sold["seller"].id)
    assert numbers.totals.orders == 1 and numbers.totals.units == 2


def test_sales_by_variant(sold) -> None:  # type: ignore[no-untyped-def]
    rows = lines.variant_sales(sold["seller"].id, this_month())
    assert [(r.variant_label, r.sku, r.units, r.amount) for r in rows] == [
        ("سایز: M", "SH-M", 1, 500_000),
        ("سایز: S", "SH-S", 1, 500_000),
    ]
    assert (
        lines.variant_sales(sold["seller"].id, parse_period({"period": "year", "y": "1390"})) == []
    )


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_sellers_pages_and_files_name_the_variant(app, sold) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    factories.login(client, sold["owner"].email)
    page = client.get("/seller/sales/variants")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "سایز: S" in html and "SH-M" in html
    rows = _csv(client.get("/seller/sales/variants.csv"))
    assert {(r["variant"], r["sku"], r["units"]) for r in rows} == {
        ("سایز: S", "SH-S", "1"),
        ("سایز: M", "SH-M", "1"),
    }
    rows = _csv(client.get("/seller/orders.csv"))
    assert {(r["variant"], r["sku"], r["quantity"]) for r in rows} == {
        ("سایز: S", "SH-S", "1"),
        ("سایز: M", "SH-M", "1"),
    }
    assert {r["line_total_toman"] for r in rows} == {"50000"}
    assert client.get("/seller/orders.csv?period=nonsense").status_code == 400
    assert client.get("/seller/sales/variants?period=month&y=abc").status_code == 400


def test_staff_order_lines_file_names_the_variant(app, sold) -> None:  # type: ignore[no-untyped-def]
    staff = factories.user(Role.STAFF, email="staff@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    rows = _csv(client.get("/admin/sales/lines.csv"))
    assert {(r["product"], r["variant"], r["sku"]) for r in rows} == {
        ("پیراهن", "سایز: S", "SH-S"),
        ("پیراهن", "سایز: M", "SH-M"),
    }
    assert client.get("/admin/sales/lines.csv?period=custom&start=x").status_code == 400
