"""The demo market (``flask seed-demo``) comes with a sales history the staff pages can show."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.extensions import db
from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.orders.models import Order, OrderStatus
from app.program import sales
from app.program.models import ProductViewDay
from app.program.sales_models import OfflineSale, SalesOrder
from tests import factories


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count(Order.id))),
        db.session.scalar(sa.select(sa.func.count(OfflineSale.id))),
        db.session.scalar(sa.select(sa.func.count()).select_from(ProductViewDay)),
    )


def test_small_demo_has_a_consistent_sales_history(app, client) -> None:  # type: ignore[no-untyped-def]
    created = seed_demo(None, sellers=8, products_per_seller=3, sales_months=3)
    assert created["orders"] > 10 and created["offline_sales"] > 0 and created["view_rows"] > 0

    statuses = set(db.session.scalars(sa.select(Order.status)))
    assert {OrderStatus.DELIVERED, OrderStatus.CANCELLED} <= statuses
    assert len(statuses) >= 3
    # The history lies in the past months, and the summary rows are exactly a rebuild's.
    today = sales.tehran_today()
    days = list(db.session.scalars(sa.select(SalesOrder.day)))
    assert days and min(days) < today.replace(day=1) and max(days) <= today
    assert sales.verify() == []

    factories.login(client, "staff@bazarche.example", DEMO_PASSWORD)
    # Last month: a whole month of the history.
    year, month = sales.jalali_month_of(
        sales.jalali_month_start(*sales.jalali_month_of(today)) - timedelta(days=1)
    )
    response = client.get(f"/admin/counties?period=month&y={year}&m={month}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/admin/counties/" in html  # a row per county, linking to its page

    before = _counts()
    again = seed_demo(None, sellers=8, products_per_seller=3, sales_months=3)
    assert again["orders"] == 0 and _counts() == before
