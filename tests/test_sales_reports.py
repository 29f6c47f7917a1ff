"""Sales volume per seller on a small hand-built market whose answers are known.

Seller A (Azar 1405, Tehran days): card 300,000 (reza, 1 Azar 00:10) and 600,000 (mina, 10 Azar),
cash completed 1,250,000 (mina, 5 Azar), offline 1,500,000 (25 Azar, 3 units); not counted: a
cash order only placed, a card order cancelled after payment, a card order refunded. In Aban 1405:
card 2,500,000 (mina, 30 Aban 23:50 — ten minutes before the month's edge, which in UTC is the
same evening as the 1 Azar order). Seller B: card 450,000 in Azar. Seller C: approved, no sales.
Seller D: only applied, never listed. All amounts in rials.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.catalog.models import SellerStatus
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders import completion
from app.orders import services as orders
from app.orders.errors import OutOfStock
from app.orders.models import Order, OrderStatus
from app.payments import state as payment_state
from app.payments.models import Provider
from app.program import calendar, exports, offline, plain, rebuild, reports
from app.program.calendar import Period
from app.program.offline import OfflineLineInput
from app.program.reports import Filters
from app.program.sales_models import OfflineSale, SalesDaily, SalesOrder
from tests import factories
from tests.test_order_flow import place

AZAR = Period.month(1405, 9)
ABAN = Period.month(1405, 8)
AUTUMN = Period.season(1405, 3)


def utc(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# 30 Aban 1405 23:50 Tehran (UTC+3:30) and 1 Azar 1405 00:10 Tehran.
ABAN_30_2350 = utc(2026, 11, 21, 20, 20)
AZAR_1_0010 = utc(2026, 11, 21, 20, 40)


def at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(orders, "utcnow", lambda: moment)


def pay_card(monkeypatch, customer, items, moment):  # type: ignore[no-untyped-def]
    payment = place(customer, *items, provider=Provider.STRIPE)
    at(monkeypatch, moment)
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    return payment


def deliver_cash(monkeypatch, customer, seller, items, moment):  # type: ignore[no-untyped-def]
    payment = place(customer, *items, provider=Provider.CASH)
    order = payment.orders[0]
    owner = seller.user
    orders.seller_move(order, seller, owner, OrderStatus.CONFIRMED)
    orders.seller_move(
        order, seller, owner, OrderStatus.SHIPPED, carrier="پست", tracking_code="123"
    )
    orders.seller_move(order, seller, owner, OrderStatus.DELIVERED)
    # A cash order counts as sold when it completes (here: the customer confirms receipt).
    at(monkeypatch, moment)
    completion.complete_by_customer(order, customer)
    return payment


@pytest.fixture
def market(app, monkeypatch):  # type: ignore[no-untyped-def]
    cat_cloth = factories.category()
    cat_small = factories.category()
    a = factories.seller(name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    c = factories.seller(name="حصیربافی")
    d = factories.seller(status=SellerStatus.APPLIED, name="در انتظار")
    a.training_completed_on = date(2025, 5, 1)  # 11 Ordibehesht 1404
    c.training_completed_on = date(2026, 5, 1)  # 11 Ordibehesht 1405
    db.session.commit()
    mina = factories.user(email="mina@example.com", name="مینا")
    reza = factories.user(email="reza@example.com", name="رضا")
    cloth = factories.product(a, title="رومیزی", price_amount=1_250_000, stock=10,
                              category_row=cat_cloth)  # fmt: skip
    napkin = factories.product(a, title="دستمال", price_amount=300_000, stock=10,
                               category_row=cat_small)  # fmt: skip
    bowl = factories.product(b, title="کاسه", price_amount=450_000, stock=5)

    pay_card(monkeypatch, mina, [(cloth, 2)], ABAN_30_2350)
    pay_card(monkeypatch, reza, [(napkin, 1)], AZAR_1_0010)
    deliver_cash(monkeypatch, mina, a, [(cloth, 1)], utc(2026, 11, 26, 8, 30))  # 5 Azar
    pay_card(monkeypatch, mina, [(napkin, 2)], utc(2026, 12, 1, 9, 0))  # 10 Azar
    place(reza, (cloth, 1), provider=Provider.CASH)  # placed only: not counted
    cancelled = pay_card(monkeypatch, reza, [(napkin, 1)], utc(2026, 12, 3, 9, 0))
    orders.seller_move(cancelled.orders[0], a, a.user, OrderStatus.CANCELLED, reason="تمام شد")
    refunded = pay_card(monkeypatch, mina, [(cloth, 1)], utc(2026, 12, 6, 9, 0))
    payment_state.mark_payment_refunded(refunded)
    db.session.commit()
    pay_card(monkeypatch, reza, [(bowl, 1)], utc(2026, 12, 11, 9, 0))  # 20 Azar
    staff = factories.user(role=factories.Role.STAFF, email="staff@example.com")
    offline.record_offline_sale(
        a,
        staff.id,
        sold_on=date(2026, 12, 16),  # 25 Azar 1405
        place="نمایشگاه زاهدان",
        lines=[
            OfflineLineInput(cloth.id, "", 1, 1_100_000),
            OfflineLineInput(None, "کیف", 2, 400_000),
        ],
        today=date(2026, 12, 20),
    )
    return {"a": a, "b": b, "c": c, "d": d, "mina": mina, "reza": reza, "cloth": cloth,
            "napkin": napkin, "staff": staff, "cat_cloth": cat_cloth}  # fmt: skip


A_AZAR = {
    "card_amount": 900_000, "cash_amount": 1_250_000, "offline_amount": 1_500_000,
    "total_amount": 3_650_000, "orders": 4, "units": 7, "buyers": 2, "repeat_buyers": 1,
    "first_sale": date(2026, 11, 22), "last_sale": date(2026, 12, 16),
}  # fmt: skip
A_ABAN = {
    "card_amount": 2_500_000, "cash_amount": 0, "offline_amount": 0, "total_amount": 2_500_000,
    "orders": 1, "units": 2, "buyers": 1, "repeat_buyers": 0,
    "first_sale": date(2026, 11, 21), "last_sale": date(2026, 11, 21),
}  # fmt: skip
B_AZAR = {
    "card_amount": 450_000, "cash_amount": 0, "offline_amount": 0, "total_amount": 450_000,
    "orders": 1, "units": 1, "buyers": 1, "repeat_buyers": 0,
    "first_sale": date(2026, 12, 11), "last_sale": date(2026, 12, 11),
}  # fmt: skip
NOTHING = {
    "card_amount": 0, "cash_amount": 0, "offline_amount": 0, "total_amount": 0, "orders": 0,
    "units": 0, "buyers": 0, "repeat_buyers": 0, "first_sale": None, "last_sale": None,
}  # fmt: skip
A_AUTUMN = {
    "card_amount": 3_400_000, "cash_amount": 1_250_000, "offline_amount": 1_500_000,
    "total_amount": 6_150_000, "orders": 5, "units": 9, "buyers": 2, "repeat_buyers": 1,
    "first_sale": date(2026, 11, 21), "last_sale": date(2026, 12, 16),
}  # fmt: skip


def figures(row) -> dict:  # type: ignore[no-untyped-def]
    return {key: getattr(row, key) for key in NOTHING}


def by_seller(period: Period, **kw) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    page = reports.seller_sales(period, page=None, **kw)
    return {row.seller_id: figures(row) for row in page.items}


# --- the service ---------------------------------------------------------------------------------


def test_the_month_edge_is_the_tehran_day(app, market):
    assert AZAR.start == date(2026, 11, 22) and AZAR.end == date(2026, 12, 21)
    assert AZAR.bounds_utc() == (AZAR_1_0010.replace(minute=30), utc(2026, 12, 21, 20, 30))
    got = by_seller(ABAN)
    assert got[market["a"].id] == A_ABAN


@pytest.mark.parametrize(
    ("period", "a", "b"),
    [(AZAR, A_AZAR, B_AZAR), (ABAN, A_ABAN, NOTHING), (AUTUMN, A_AUTUMN, B_AZAR)],
)
def test_service_figures_are_the_known_answers(app, market, period, a, b):
    got = by_seller(period)
    assert set(got) == {market["a"].id, market["b"].id, market["c"].id}  # approved only
    assert got[market["a"].id] == a
    assert got[market["b"].id] == b
    assert got[market["c"].id] == NOTHING


@pytest.mark.parametrize("period", [AZAR, ABAN, AUTUMN, Period.jalali_year(1405)])
def test_summary_rows_equal_a_plain_group_by(app, market, period):
    truth = plain.plain_seller_sales(period)
    for seller_id, row in by_seller(period).items():
        assert truth.get(seller_id, NOTHING) == row
    assert rebuild.verify() == []


def test_rebuild_gives_the_same_rows(app, market, runner):
    before = db.session.execute(
        sa.select(SalesDaily.__table__).order_by("seller_id", "day", "channel")
    ).all()
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    after = db.session.execute(
        sa.select(SalesDaily.__table__).order_by("seller_id", "day", "channel")
    ).all()
    assert before == after
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 0 and "match" in result.output


def test_verify_finds_a_tampered_row(app, market, runner):
    db.session.execute(sa.update(SalesDaily).values(amount=SalesDaily.amount + 1))
    db.session.commit()
    result = runner.invoke(args=["reports", "verify"])
    assert result.exit_code == 1 and "sales_daily" in result.output


def test_sorting_filters_and_paging(app, market):
    page = reports.seller_sales(AZAR, sort="-total_amount", per_page=2, page=1)
    assert [r.seller_id for r in page.items] == [market["a"].id, market["b"].id]
    assert page.total == 3 and page.pages == 2
    page = reports.seller_sales(AZAR, sort="total_amount", per_page=2, page=2)
    assert [r.seller_id for r in page.items] == [market["a"].id]
    only_a = Filters(county_id=market["a"].county_id)
    assert [r.seller_id for r in reports.seller_sales(AZAR, only_a).items] == [market["a"].id]
    cohort = reports.seller_sales(AZAR, Filters(cohort=1405)).items
    assert [r.seller_id for r in cohort] == [market["c"].id]
    by_category = reports.seller_sales(AZAR, Filters(category_id=market["cat_cloth"].id))
    row = next(r for r in by_category.items if r.seller_id == market["a"].id)
    # cash cloth 1,250,000 + offline cloth 1,100,000; napkins are another category.
    assert (row.card_amount, row.cash_amount, row.offline_amount, row.units) == (
        0, 1_250_000, 1_100_000, 2
    )  # fmt: skip
    assert row.orders is None and row.buyers is None
    for key in reports.SORT_COLUMNS:
        for sort in (key, "-" + key):
            assert len(reports.seller_sales(AZAR, sort=sort).items) == 3


def test_seller_detail_has_a_monthly_series_and_top_products(app, market):
    detail = reports.seller_detail(market["a"], AUTUMN)
    assert figures(detail.row) == A_AUTUMN
    series = detail.series
    months = dict(zip(series.months, series.row(market["a"].id), strict=True))
    assert list(months) == [(1405, 7), (1405, 8), (1405, 9)]
    assert months[(1405, 8)].amount == months[(1405, 8)].card_amount == 2_500_000
    assert months[(1405, 9)].amount == 3_650_000
    assert (months[(1405, 9)].card_amount, months[(1405, 9)].cash_amount) == (900_000, 1_250_000)
    assert months[(1405, 9)].offline_amount == 1_500_000
    assert (months[(1405, 9)].orders, months[(1405, 9)].units) == (4, 7)
    top = detail.top_products
    assert top[0]["title"] == "رومیزی" and top[0]["amount"] == 2_500_000 + 1_250_000 + 1_100_000


def test_a_late_payment_after_expiry_counts_once(app, market, monkeypatch):
    payment = place(market["mina"], (market["napkin"], 1), provider=Provider.STRIPE)
    payment_state.expire_payment(payment)
    db.session.commit()
    at(monkeypatch, utc(2026, 12, 12, 9, 0))
    assert payment_state.mark_payment_paid(payment) == "paid"
    db.session.commit()
    a = by_seller(AZAR)[market["a"].id]
    assert a["card_amount"] == 900_000 + 300_000 and a["orders"] == 5
    assert rebuild.verify() == []
    payment_state.mark_payment_refunded(payment)
    db.session.commit()
    assert by_seller(AZAR)[market["a"].id] == A_AZAR
    assert rebuild.verify() == []


def test_summary_changes_roll_back_with_the_order(app, market, monkeypatch):
    payment = place(market["reza"], (market["napkin"], 1), provider=Provider.STRIPE)
    at(monkeypatch, utc(2026, 12, 12, 9, 0))
    payment_state.mark_payment_paid(payment)
    db.session.rollback()
    assert db.session.get(Order, payment.orders[0].id).status == OrderStatus.AWAITING_PAYMENT
    assert by_seller(AZAR)[market["a"].id] == A_AZAR
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SalesOrder)) == 5


# --- offline sales -------------------------------------------------------------------------------


def test_offline_sale_takes_stock_only_when_asked_and_never_below_zero(app, market):
    cloth = market["cloth"]
    db.session.refresh(cloth)
    stock = cloth.stock
    with pytest.raises(OutOfStock):
        offline.record_offline_sale(
            market["a"], None, sold_on=date(2026, 12, 16), place="بازارچه",
            lines=[OfflineLineInput(cloth.id, "", stock + 1, 10)], take_stock=True,
            today=date(2026, 12, 20),
        )  # fmt: skip
    db.session.refresh(cloth)
    assert cloth.stock == stock
    assert by_seller(AZAR)[market["a"].id] == A_AZAR
    sale = offline.record_offline_sale(
        market["a"], None, sold_on=date(2026, 12, 16), place="بازارچه",
        lines=[OfflineLineInput(cloth.id, "", 2, 2_000_000)], take_stock=True,
        today=date(2026, 12, 20),
    )  # fmt: skip
    db.session.refresh(cloth)
    assert cloth.stock == stock - 2
    assert by_seller(AZAR)[market["a"].id]["offline_amount"] == 3_500_000
    offline.delete_offline_sale(sale, market["staff"].id)
    db.session.refresh(cloth)
    assert cloth.stock == stock
    assert by_seller(AZAR)[market["a"].id] == A_AZAR
    assert rebuild.verify() == []
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"offline_sale.create", "offline_sale.delete"} <= actions


# --- pages and files -----------------------------------------------------------------------------


def staff_client(app, market, locale="en"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("locale", locale)
    factories.login(client, market["staff"].email)
    return client


AZAR_ARGS = "period=month&y=1405&m=9"


def test_the_sales_page_shows_the_known_figures(app, market):
    client = staff_client(app, market)
    html = client.get(f"/admin/sales?{AZAR_ARGS}").get_data(as_text=True)
    assert "365,000 toman" in html  # A's total: 3,650,000 rials
    assert "90,000 toman" in html and "125,000 toman" in html and "150,000 toman" in html
    assert "45,000 toman" in html  # B
    assert "در انتظار" not in html  # not approved
    assert 'class="table-wrap"' in html
    fa = staff_client(app, market, "fa").get(f"/admin/sales?{AZAR_ARGS}").get_data(as_text=True)
    assert "۳۶۵٬۰۰۰ تومان" in fa and "آذر ۱۴۰۵" in fa


def test_the_sales_page_sorts_filters_and_pages(app, market):
    client = staff_client(app, market)
    response = client.get(f"/admin/sales?{AZAR_ARGS}&sort=-units&county={market['b'].county_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "45,000 toman" in html and "365,000 toman" not in html
    assert (
        client.get("/admin/sales?period=custom&start=1405-09-01&end=1405-09-30").status_code == 200
    )
    assert client.get("/admin/sales?period=season&y=1405&s=3&page=9").status_code == 200
    assert client.get("/admin/sales?period=year&y=1405&sort=nonsense").status_code == 200


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_csv_has_a_bom_and_the_known_figures(app, market):
    client = staff_client(app, market)
    rows = read_csv(client.get(f"/admin/sales.csv?{AZAR_ARGS}"))
    header = rows[0]
    a_row = dict(zip(header, next(r for r in rows if "کارگاه سوزن‌دوزی" in r), strict=True))
    # In toman, as the page shows them.
    assert a_row["total_amount_toman"] == "365000" and a_row["card_amount_toman"] == "90000"
    assert a_row["cash_amount_toman"] == "125000" and a_row["offline_amount_toman"] == "150000"
    assert (a_row["orders"], a_row["units"], a_row["buyers"], a_row["repeat_buyers"]) == (
        "4", "7", "2", "1"
    )  # fmt: skip
    assert a_row["first_sale"] == "2026-11-22" and a_row["first_sale_jalali"] == "1405-09-01"
    assert len(rows) == 4


def test_the_csv_in_persian_has_persian_headers_and_a_jalali_file_name(app, market):
    client = staff_client(app, market, locale="fa")
    response = client.get(f"/admin/sales.csv?{AZAR_ARGS}")
    assert 'filename="sales_1405-09-01_1405-09-30.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert "فروش کل (تومان)" in rows[0] and "total_amount_toman" not in rows[0]
    a_row = dict(zip(rows[0], next(r for r in rows if "کارگاه سوزن‌دوزی" in r), strict=True))
    assert a_row["فروش کل (تومان)"] == "365000"
    # The ministry's file keeps its fixed column keys; its name is in Jalali days too.
    response = client.get(f"/admin/sales/ministry.csv?{AZAR_ARGS}")
    assert "ministry_sales_1405-09-01_1405-09-30.csv" in response.headers["Content-Disposition"]
    assert read_csv(response)[0][0] == "registration_code"
    # In English, the keys and Gregorian days, as before.
    response = staff_client(app, market).get(f"/admin/sales.csv?{AZAR_ARGS}")
    assert "sales_2026-11-22_2026-12-21.csv" in response.headers["Content-Disposition"]
    assert "total_amount_toman" in read_csv(response)[0]


def test_toman_cells_are_exact():
    assert [exports.toman(v) for v in (0, 3_650_000, 125, -125, -3_650_000, None)] == [
        0, 365_000, "12.5", "-12.5", -365_000, None
    ]  # fmt: skip


def test_the_ministry_csv_is_keyed_by_registration_code(app, market):
    client = staff_client(app, market)
    rows = read_csv(client.get(f"/admin/sales/ministry.csv?{AZAR_ARGS}"))
    assert rows[0][0] == "registration_code"
    keyed = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    a = keyed[market["a"].registration_code]
    assert a["total_amount_rial"] == "3650000" and a["period_start_jalali"] == "1405-09-01"
    # The ministry's rial columns stay; the same amounts in toman follow them.
    assert a["total_amount_toman"] == "365000" and a["card_amount_toman"] == "90000"


def test_the_drill_down_page_has_a_chart_and_its_numbers(app, market):
    client = staff_client(app, market)
    html = client.get(f"/admin/sales/{market['a'].id}?period=season&y=1405&s=3").get_data(
        as_text=True
    )
    assert "<svg" in html and 'role="img"' in html
    assert "365,000 toman" in html and "250,000 toman" in html
    assert "رومیزی" in html
    assert client.get(f"/admin/sales/{market['d'].id}").status_code == 404


def test_staff_record_and_delete_an_offline_sale(app, market):
    client = staff_client(app, market)
    response = client.post(
        "/admin/offline-sales/new",
        data={
            "seller_id": str(market["b"].id), "sold_on": "1405-09-02", "place": "نمایشگاه",
            "line-0-product_id": "", "line-0-title": "بشقاب", "line-0-quantity": "۲",
            "line-0-amount": "۳۰٬۰۰۰", "note": "",
        },
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    sale = db.session.scalar(sa.select(OfflineSale).where(OfflineSale.seller_id == market["b"].id))
    assert sale is not None and sale.amount == 300_000 and sale.sold_on == date(2026, 11, 23)
    assert by_seller(AZAR)[market["b"].id]["offline_amount"] == 300_000
    listing = client.get("/admin/offline-sales").get_data(as_text=True)
    assert "نمایشگاه" in listing
    client.post(f"/admin/offline-sales/{sale.id}/delete")
    assert by_seller(AZAR)[market["b"].id] == B_AZAR


def test_a_seller_records_their_own_offline_sale(app, market):
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, market["b"].user.email)
    assert client.get("/seller/offline-sales").status_code == 200
    response = client.post(
        "/seller/offline-sales",
        data={
            "sold_on": "2026-11-23", "place": "بازارچه", "line-0-title": "بشقاب",
            "line-0-quantity": "1", "line-0-amount": "20000",
        },
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert by_seller(AZAR)[market["b"].id]["offline_amount"] == 200_000
    # Another seller's product is refused.
    response = client.post(
        "/seller/offline-sales",
        data={
            "sold_on": "2026-11-23", "place": "بازارچه", "line-0-product_id": str(
                market["cloth"].id), "line-0-quantity": "1", "line-0-amount": "1",
        },
    )  # fmt: skip
    assert response.status_code == 400
    assert by_seller(AZAR)[market["b"].id]["offline_amount"] == 200_000


def test_the_period_labels(app):
    assert AZAR.label("fa") == "آذر ۱۴۰۵"
    assert AZAR.label("en") == "22 Nov 2026 – 21 Dec 2026"
    assert AUTUMN.label("fa") == "پاییز ۱۴۰۵"
    assert calendar.parse_period(
        {"period": "custom", "start": "۱۴۰۵/۰۹/۰۱", "end": "1405-09-30"}
    ) == (Period.custom(date(2026, 11, 22), date(2026, 12, 21)))
    assert calendar.parse_period({}, today=date(2026, 11, 26)) == AZAR
    assert calendar.parse_period({"period": "programme", "y": "1405"}).start == date(2026, 3, 21)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"period": "month", "y": "9" * 5000, "m": "1" * 5000}, "year"),
        ({"period": "season", "y": "²³", "s": "٤"}, "year"),
        ({"period": "year", "y": "-1405"}, "year"),
        ({"period": "month", "y": "1405", "m": "13"}, "month"),
        ({"period": "season", "y": "1405", "s": "0"}, "season"),
        ({"period": "custom", "start": "9" * 5000, "end": "1405/13/40"}, "dates"),
        ({"period": "nonsense", "y": "1405.5", "m": "\x00"}, "kind"),
    ],
)
def test_odd_period_arguments_are_refused_with_what_is_wrong(app, args, code):
    with pytest.raises(ValidationFailed) as caught:
        calendar.parse_period(args, today=date(2026, 11, 26))
    assert caught.value.errors == {"period": [code]}


@pytest.mark.parametrize(
    ("today", "args", "expected"),
    [
        (date(2026, 11, 26), {}, AZAR),  # 5 Azar 1405
        (date(2026, 11, 22), {"period": "month"}, AZAR),  # 1 Azar
        (date(2026, 11, 21), {"period": "month"}, ABAN),  # 30 Aban, the day before
        (date(2026, 11, 26), {"period": "month", "y": "1404"}, Period.month(1404, 9)),
        (date(2026, 11, 26), {"period": "month", "m": "8"}, ABAN),
        (date(2026, 11, 26), {"period": "season"}, AUTUMN),
        (date(2026, 12, 21), {"period": "season"}, AUTUMN),  # 30 Azar, autumn's last day
        (date(2026, 12, 22), {"period": "season"}, Period.season(1405, 4)),  # 1 Dey: winter
        (date(2026, 3, 20), {"period": "year"}, Period.jalali_year(1404)),  # 29 Esfand 1404
        (date(2026, 3, 21), {"period": "programme"}, Period.jalali_year(1405, "programme")),
    ],
)
def test_what_a_period_leaves_out_is_exactly_todays(app, today, args, expected):
    """The year, month and season left out are those of today's Jalali date, exactly."""
    assert calendar.parse_period(args, today=today) == expected


def test_the_sales_page_without_a_period_shows_exactly_this_months_figures(
    app, market, monkeypatch
):
    client = staff_client(app, market)
    a_code = market["a"].registration_code

    def a_row() -> tuple[str, list[str]]:
        response = client.get("/admin/sales/ministry.csv")
        rows = read_csv(response)
        row = dict(zip(rows[0], next(r for r in rows if r[0] == a_code), strict=True))
        figures = [row[k] for k in ("period_start_jalali", "period_end_jalali", "card_amount_rial",
                                    "cash_amount_rial", "offline_amount_rial",
                                    "total_amount_rial")]  # fmt: skip
        return response.headers["Content-Disposition"], figures

    monkeypatch.setattr(calendar, "tehran_today", lambda: date(2026, 11, 26))  # 5 Azar 1405
    disposition, figures = a_row()
    assert "ministry_sales_2026-11-22_2026-12-21.csv" in disposition
    assert figures == ["1405-09-01", "1405-09-30", "900000", "1250000", "1500000", "3650000"]
    monkeypatch.setattr(calendar, "tehran_today", lambda: date(2026, 11, 21))  # 30 Aban 1405
    disposition, figures = a_row()
    assert "ministry_sales_2026-10-23_2026-11-21.csv" in disposition
    assert figures == ["1405-08-01", "1405-08-30", "2500000", "0", "0", "2500000"]


BAD_PERIODS = [
    ("period=week", "Choose a month, a season"),
    ("period=year&y=99999999999999999999", "Jalali year from 1300"),
    ("period=season&y=\u00b2&s=\u0664", "Jalali year from 1300"),
    ("period=month&y=1405&m=0", "from 1 to 12"),
    ("period=season&y=1405&s=5", "from 1 to 4"),
    ("period=custom&start=&end=", "enter both days"),
    ("period=custom&start=1405/13/40&end=1405/09/01", "enter both days"),
    ("period=custom&start=1390/01/01&end=1405/01/01", "at most three years"),
]


@pytest.mark.parametrize(("query", "message"), BAD_PERIODS)
def test_a_bad_period_is_the_same_clear_400_on_the_sales_and_county_pages(
    app, market, query, message
):
    """The sales pages once showed this month instead of a period they could not read, while
    the county pages answered 400: now every report page and file refuses it the same way."""
    client = staff_client(app, market)
    for page in ("/admin/sales", "/admin/sales.csv", "/admin/sales/ministry.csv",
                 f"/admin/sales/{market['a'].id}", "/admin/counties", "/admin/counties.csv"):  # fmt: skip
        response = client.get(f"{page}?{query}")
        assert response.status_code == 400, (page, query, response.status_code)
        assert message in response.get_data(as_text=True), (page, query)


def test_odd_arguments_never_fail_the_page(app, market):
    client = staff_client(app, market)
    for query in ("period=month&y=" + "9" * 5000, "period=season&y=²&s=٤"):
        assert client.get("/admin/sales?" + query).status_code == 400
    assert client.get("/admin/sales?cohort=" + "1" * 900).status_code == 200


@pytest.mark.parametrize("period", [AZAR, ABAN, AUTUMN, Period.jalali_year(1405)])
def test_the_period_rows_agree_with_the_daily_rows(app, market, period):
    """A month, season or year is read from its own summary row; the same dates given as a
    custom period are summed from the daily rows."""
    assert by_seller(period) == by_seller(Period.custom(period.start, period.end))


def test_the_county_by_month_roll_up(app, market):
    a_county = market["a"].county_id
    whole = reports.county_monthly(AUTUMN)  # whole months: the monthly rows
    assert whole[(a_county, 1405, 9)] == {"orders": 4, "units": 7, "amount": 3_650_000}
    assert whole[(a_county, 1405, 8)] == {"orders": 1, "units": 2, "amount": 2_500_000}
    assert whole == plain.plain_county_monthly(AUTUMN)
    part = Period.custom(date(2026, 11, 21), date(2026, 11, 22))  # 30 Aban and 1 Azar
    assert (
        reports.county_monthly(part)
        == plain.plain_county_monthly(part)
        == {
            (a_county, 1405, 8): {"orders": 1, "units": 2, "amount": 2_500_000},
            (a_county, 1405, 9): {"orders": 1, "units": 1, "amount": 300_000},
        }
    )
