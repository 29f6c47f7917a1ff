"""Counties and the province on a small hand-built market whose answers are known.

Three counties of one province; all amounts in rials; Tehran days.

Zahedan — A (handicrafts, approved): card 2,500,000 (2 cloths, 30 Aban 23:50, ten minutes
before the month's edge); in Azar card 300,000 (1 Azar 00:10), cash delivered 1,250,000,
card 600,000 and an offline sale of 1,500,000 (3 units); not counted: a cash order only
placed, a card order cancelled after payment, one refunded. D (handicrafts) only applied.
E (food, approved) lists dates and sells nothing.
Zabol — B (handicrafts, approved): card 450,000 in Azar. F (handicrafts) rejected. G (food)
approved on 4 Azar, no listing.
Chabahar — C (handicrafts, approved): an offline sale of 2,000,000 in Aban. H (food,
approved): card 700,000 on 30 Azar 23:50 and cash 700,000 delivered on 1 Dey 00:10.

Views in Azar: cloth 100, napkin 50 (Zahedan 150), bowl 20 (Zabol), pickles 25 (Chabahar);
outside it: cloth 10 on 30 Aban, pickles 5 on 1 Dey. Stock now: cloth 5, napkin 4, dates 20,
bowl 3, mat 4, pickles 6. Quotas 1405: Zahedan 4 businesses and 50,000,000; Zabol 2 and 0;
Chabahar none (Zahedan's 1404 quota of 10 must not be used).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.catalog.models import Product, SellerStatus
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.orders import services as orders
from app.orders.models import OrderStatus
from app.payments import state as payment_state
from app.payments.models import Provider
from app.program import (
    calendar,
    criteria,
    exports,
    funnel,
    monthly,
    offline,
    quotas,
    reports,
    views,
)
from app.program.calendar import Period
from app.program.models import Quota
from app.program.offline import OfflineLineInput
from app.program.sales_models import SalesPeriod
from app.reference.models import County, Province, Sector
from tests import factories
from tests.test_order_flow import place
from tests.test_sales_reports import deliver_cash, pay_card, utc

AZAR = Period.month(1405, 9)
ABAN = Period.month(1405, 8)
AZAR_ARGS = "period=month&y=1405&m=9"
ABAN_ARGS = "period=month&y=1405&m=8"
TODAY = date(2026, 12, 20)  # 29 Azar 1405
EARLY = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def county(slug: str, fa: str, en: str) -> County:
    province = db.session.scalar(sa.select(Province))
    if province is None:
        province = Province(
            slug="sb", name_fa="سیستان و بلوچستان", name_en="Sistan and Baluchestan"
        )
        db.session.add(province)
        db.session.flush()
    row = County(province_id=province.id, slug=slug, name_fa=fa, name_en=en)
    db.session.add(row)
    db.session.commit()
    return row


def seller(place_, sector, name, status=SellerStatus.APPROVED, created=EARLY, approved=None):  # type: ignore[no-untyped-def]
    row = factories.seller(status=status, county_row=place_, sector_row=sector, name=name)
    row.created_at = created
    row.approved_at = (approved or datetime(2026, 5, 10, tzinfo=UTC)) if row.is_approved else None
    db.session.commit()
    return row


def product(owner, title, price, category, stock=10):  # type: ignore[no-untyped-def]
    row = factories.product(owner, title=title, price_amount=price, stock=stock,
                            category_row=category)  # fmt: skip
    row.created_at = row.published_at = datetime(2026, 5, 2, tzinfo=UTC)
    db.session.commit()
    return row


def freeze_today(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Today is the data set's ``TODAY`` for the period parser and the reports."""
    for module in (calendar, funnel, monthly):
        monkeypatch.setattr(module, "tehran_today", lambda: TODAY)


@pytest.fixture
def market(app, monkeypatch):  # type: ignore[no-untyped-def]
    freeze_today(monkeypatch)
    zahedan = county("zahedan", "زاهدان", "Zahedan")
    zabol = county("zabol", "زابل", "Zabol")
    chabahar = county("chabahar", "چابهار", "Chabahar")
    crafts = Sector(slug="handicrafts", name_fa="صنایع دستی", name_en="Handicrafts")
    food = Sector(slug="food", name_fa="غذایی", name_en="Food")
    db.session.add_all([crafts, food])
    db.session.commit()
    cat_cloth, cat_pottery, cat_food = (factories.category() for _ in range(3))

    a = seller(zahedan, crafts, "کارگاه سوزن‌دوزی")
    d = seller(zahedan, crafts, "در انتظار", SellerStatus.APPLIED, datetime(2026, 6, 1, tzinfo=UTC))
    e = seller(zahedan, food, "خرمای بم")
    b = seller(zabol, crafts, "سفال کلپورگان")
    f = seller(zabol, crafts, "رد شده", SellerStatus.REJECTED, datetime(2026, 6, 1, tzinfo=UTC))
    g = seller(zabol, food, "تازه‌کار", approved=datetime(2026, 11, 25, tzinfo=UTC))
    c = seller(chabahar, crafts, "حصیربافی")
    h = seller(chabahar, food, "ترشی چابهار")

    cloth = product(a, "رومیزی", 1_250_000, cat_cloth)
    napkin = product(a, "دستمال", 300_000, cat_cloth)
    dates_ = product(e, "خرما", 500_000, cat_food, stock=20)
    bowl = product(b, "کاسه", 450_000, cat_pottery, stock=5)
    mat = product(c, "حصیر", 2_000_000, cat_cloth, stock=4)
    pickles = product(h, "ترشی", 700_000, cat_food, stock=6)

    mina = factories.user(email="mina@example.com", name="مینا")
    reza = factories.user(email="reza@example.com", name="رضا")
    pay_card(monkeypatch, mina, [(cloth, 2)], utc(2026, 11, 21, 20, 20))  # 30 Aban 23:50
    pay_card(monkeypatch, reza, [(napkin, 1)], utc(2026, 11, 21, 20, 40))  # 1 Azar 00:10
    deliver_cash(monkeypatch, mina, a, [(cloth, 1)], utc(2026, 11, 26, 8, 30))  # 5 Azar
    pay_card(monkeypatch, mina, [(napkin, 2)], utc(2026, 12, 1, 9, 0))  # 10 Azar
    place(reza, (cloth, 1), provider=Provider.CASH)  # placed only
    cancelled = pay_card(monkeypatch, reza, [(napkin, 1)], utc(2026, 12, 3, 9, 0))
    orders.seller_move(cancelled.orders[0], a, a.user, OrderStatus.CANCELLED, reason="تمام شد")
    refunded = pay_card(monkeypatch, mina, [(cloth, 1)], utc(2026, 12, 6, 9, 0))
    payment_state.mark_payment_refunded(refunded)
    db.session.commit()
    pay_card(monkeypatch, reza, [(bowl, 1)], utc(2026, 12, 11, 9, 0))  # 20 Azar
    pay_card(monkeypatch, mina, [(pickles, 1)], utc(2026, 12, 21, 20, 20))  # 30 Azar 23:50
    deliver_cash(monkeypatch, reza, h, [(pickles, 1)], utc(2026, 12, 21, 20, 40))  # 1 Dey 00:10
    staff = factories.user(role=factories.Role.STAFF, email="staff@example.com")
    offline.record_offline_sale(
        a, staff.id, sold_on=date(2026, 12, 16), place="نمایشگاه زاهدان",  # 25 Azar
        lines=[OfflineLineInput(cloth.id, "", 1, 1_100_000), OfflineLineInput(None, "کیف", 2, 400_000)],
        today=TODAY,
    )  # fmt: skip
    offline.record_offline_sale(
        c, staff.id, sold_on=date(2026, 11, 6), place="بازارچه چابهار",  # 15 Aban
        lines=[OfflineLineInput(mat.id, "", 1, 2_000_000)], today=TODAY,
    )  # fmt: skip

    counter = views.counter()
    for item, day, n in [
        (cloth, date(2026, 11, 22), 40), (cloth, date(2026, 12, 21), 60),
        (cloth, date(2026, 11, 21), 10), (napkin, date(2026, 12, 1), 50),
        (bowl, date(2026, 12, 5), 20), (pickles, date(2026, 12, 21), 25),
        (pickles, date(2026, 12, 22), 5),
    ]:  # fmt: skip
        for visitor in range(n):  # n different visitors that day
            counter.add(item.id, day, f"visitor-{visitor}")
    assert views.flush() == 210
    db.session.rollback()  # the batch was written on another connection: read afresh

    for item, stock in [(cloth, 5), (napkin, 4), (dates_, 20), (bowl, 3), (mat, 4), (pickles, 6)]:
        db.session.execute(sa.update(Product).where(Product.id == item.id).values(stock=stock))
    db.session.add_all([
        Quota(county_id=zahedan.id, programme_year=1405, target_sellers=4,
              target_sales_amount=50_000_000),
        Quota(county_id=zabol.id, programme_year=1405, target_sellers=2, target_sales_amount=0),
        Quota(county_id=zahedan.id, programme_year=1404, target_sellers=10,
              target_sales_amount=1),
    ])  # fmt: skip
    db.session.commit()
    return {"zahedan": zahedan, "zabol": zabol, "chabahar": chabahar, "crafts": crafts,
            "food": food, "a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h,
            "cloth": cloth, "napkin": napkin, "staff": staff}  # fmt: skip


FIELDS = ("registered", "approved", "listed", "first_sale", "repeat_sales", "target_sellers",
          "target_sales_amount", "year_sales_amount", "card_amount", "cash_amount",
          "offline_amount", "orders", "online_orders", "units", "sellers_with_sale", "views",
          "stock", "flagged")  # fmt: skip

AZAR_WANT = {
    "zahedan": dict(zip(FIELDS, (3, 2, 2, 1, 1, 4, 50_000_000, 6_150_000, 900_000, 1_250_000,
                                 1_500_000, 4, 3, 7, 1, 150, 29, False), strict=True)),
    "zabol": dict(zip(FIELDS, (3, 2, 1, 1, 0, 2, 0, 450_000, 450_000, 0, 0, 1, 1, 1, 1, 20, 3,
                               False), strict=True)),
    "chabahar": dict(zip(FIELDS, (2, 2, 2, 2, 0, None, None, 2_700_000, 700_000, 0, 0, 1, 1, 1,
                                  1, 25, 10, False), strict=True)),
}  # fmt: skip
AZAR_RATIOS = {
    # sales, share, market connection, orders per 100 views, price ratio, absorption, of quota
    "zahedan": (3_650_000, 3_650_000 / 4_800_000, 0.5, 2.0, (0.62 + 500 / 600) / 2, 7 / 36, 0.25),
    "zabol": (450_000, 450_000 / 4_800_000, 0.5, 5.0, 1.0, 1 / 4, 0.5),
    "chabahar": (700_000, 700_000 / 4_800_000, 0.5, 4.0, (1.6 + 700 / 600) / 2, 1 / 11, None),
}  # fmt: skip


def figures(row: criteria.CountyRow) -> dict:
    return {name: getattr(row, name) for name in FIELDS}


def ratios(row: criteria.CountyRow) -> tuple:
    return (row.sales_amount, row.share, row.market_connection, row.orders_per_100_views,
            row.price_ratio, row.absorption, row.quota_progress)  # fmt: skip


def by_slug(report: funnel.CountyReport) -> dict[str, criteria.CountyRow]:
    return {r.slug: r for r in report.rows}


# --- the service ---------------------------------------------------------------------------------


def test_the_county_figures_of_azar(app, market):
    report = funnel.county_report(AZAR, locale="en")
    assert report.programme_year == 1405 and report.stock_is_today
    rows = by_slug(report)
    assert [r.name for r in report.rows] == ["Chabahar", "Zabol", "Zahedan"]
    for slug, want in AZAR_WANT.items():
        assert figures(rows[slug]) == want, slug
        got, want = ratios(rows[slug]), AZAR_RATIOS[slug]
        assert [g is None for g in got] == [w is None for w in want], slug
        assert [g for g in got if g is not None] == pytest.approx(
            [w for w in want if w is not None], rel=1e-9
        ), slug
    p = report.province
    assert (p.registered, p.approved, p.listed, p.first_sale, p.repeat_sales) == (8, 6, 5, 4, 1)
    assert (p.sales_amount, p.card_amount, p.cash_amount, p.offline_amount) == (
        4_800_000, 2_050_000, 1_250_000, 1_500_000
    )  # fmt: skip
    assert (p.target_sellers, p.target_sales_amount) == (6, 50_000_000)
    assert (p.online_orders, p.views, p.units, p.stock) == (5, 195, 9, 42)
    assert p.market_connection == pytest.approx(0.5)
    assert p.orders_per_100_views == pytest.approx(500 / 195)
    assert p.absorption == pytest.approx(9 / 51)
    assert p.price_ratio == pytest.approx(1.0) and p.share == 1.0
    assert p.quota_progress == pytest.approx(4 / 6)
    assert rows["zahedan"].sales_progress == pytest.approx(6_150_000 / 50_000_000)
    assert rows["zabol"].sales_progress is None  # a target of 0 is no target


def test_aban_ends_before_the_month_edge_and_flags_zabol(app, market):
    report = funnel.county_report(ABAN, locale="en")
    rows = by_slug(report)
    assert not report.stock_is_today  # Aban is over: the stock shown is today's
    z, b, c = rows["zahedan"], rows["zabol"], rows["chabahar"]
    # 30 Aban 23:50 in Tehran is Aban's; G was approved in Azar; nobody has two sales yet.
    assert (z.registered, z.approved, z.first_sale, z.repeat_sales) == (3, 2, 1, 0)
    assert (b.registered, b.approved, b.listed, b.first_sale) == (3, 1, 1, 0)
    assert (c.approved, c.first_sale) == (2, 1)
    assert (z.sales_amount, z.card_amount, z.units, z.online_orders, z.views) == (
        2_500_000, 2_500_000, 2, 1, 10
    )  # fmt: skip
    assert (c.sales_amount, c.offline_amount, c.online_orders) == (2_000_000, 2_000_000, 0)
    assert report.province.sales_amount == 4_500_000
    assert report.province.market_connection == pytest.approx(2 / 5)
    assert [r.slug for r in report.rows if r.flagged] == ["zabol"]  # 0 < half of 40 %
    assert b.market_connection == 0


def test_a_custom_period_across_the_month_edges(app, market):
    edge = Period.custom(date(2026, 12, 21), date(2026, 12, 22))  # 30 Azar and 1 Dey
    rows = by_slug(funnel.county_report(edge))
    c = rows["chabahar"]
    assert (c.card_amount, c.cash_amount, c.orders, c.online_orders, c.views) == (
        700_000, 700_000, 2, 2, 30
    )  # fmt: skip
    assert c.repeat_sales == 1  # H's second sale is on 1 Dey, inside this period
    rows = by_slug(funnel.county_report(Period.custom(date(2026, 11, 21), date(2026, 11, 22))))
    assert rows["zahedan"].sales_amount == 2_500_000 + 300_000
    # The same dates as whole months give what the monthly rows give.
    for period in (AZAR, ABAN, Period.season(1405, 3)):
        whole = by_slug(funnel.county_report(period))
        days = by_slug(funnel.county_report(Period.custom(period.start, period.end)))
        assert {k: figures(v) for k, v in whole.items()} == {k: figures(v) for k, v in days.items()}


def test_a_sector_filter(app, market):
    report = funnel.county_report(AZAR, market["crafts"].id)
    rows = by_slug(report)
    z, b, c = rows["zahedan"], rows["zabol"], rows["chabahar"]
    assert (z.registered, z.approved, z.listed, z.first_sale, z.repeat_sales) == (2, 1, 1, 1, 1)
    assert (b.registered, b.approved, b.sales_amount) == (2, 1, 450_000)
    assert (c.approved, c.first_sale, c.sales_amount, c.stock) == (1, 1, 0, 4)
    assert report.province.sales_amount == 4_100_000
    assert report.province.market_connection == pytest.approx(2 / 3)
    assert [r.slug for r in report.rows if r.flagged] == ["chabahar"]
    # Prices against the whole market: cloth's median is still 1,250,000.
    assert z.price_ratio == pytest.approx(0.62) and c.price_ratio == pytest.approx(1.6)
    assert report.province.price_ratio == pytest.approx(1.0)


def test_sorting_keeps_blanks_last(app, market):
    report = funnel.county_report(AZAR, locale="en")
    assert [r.slug for r in report.sorted_rows("-sales_amount")] == ["zahedan", "chabahar", "zabol"]
    assert [r.slug for r in report.sorted_rows("sales_amount")] == ["zabol", "chabahar", "zahedan"]
    assert [r.slug for r in report.sorted_rows("-quota_progress")][-1] == "chabahar"
    assert [r.slug for r in report.sorted_rows("quota_progress")][-1] == "chabahar"
    for key in funnel.SORT_KEYS:
        assert len(report.sorted_rows(key)) == len(report.sorted_rows("-" + key)) == 3
    assert [r.slug for r in report.sorted_rows("nonsense")] == ["chabahar", "zabol", "zahedan"]


def test_monthly_series_by_county_and_sector(app, market):
    by_county = monthly.monthly(AZAR, "county", locale="en")
    assert by_county.months[0] == (1404, 10) and by_county.months[-1] == (1405, 9)
    z, b, c = (market[k].id for k in ("zahedan", "zabol", "chabahar"))
    assert by_county.cell(z, 1405, 8).amount == 2_500_000
    assert by_county.cell(z, 1405, 9).amount == 3_650_000
    assert (by_county.cell(z, 1405, 9).orders, by_county.cell(z, 1405, 9).units) == (4, 7)
    assert by_county.cell(b, 1405, 9).amount == 450_000
    assert by_county.cell(c, 1405, 8).amount == 2_000_000
    assert by_county.cell(c, 1405, 9).amount == 700_000  # 1 Dey's sale is not Azar's
    assert by_county.total(z) == 6_150_000 and by_county.peak == 3_650_000
    # The same figures as the sales report's county roll-up.
    rollup = reports.county_monthly(Period.season(1405, 3))
    for (county_id, y, m), cell in rollup.items():
        assert by_county.cell(county_id, y, m).amount == cell["amount"]
        assert by_county.cell(county_id, y, m).units == cell["units"]
    by_sector = monthly.monthly(AZAR, "sector", locale="en")
    crafts, food = market["crafts"].id, market["food"].id
    assert by_sector.cell(crafts, 1405, 8).amount == 4_500_000
    assert by_sector.cell(crafts, 1405, 9).amount == 4_100_000
    assert by_sector.cell(food, 1405, 9).amount == 700_000
    only_food = monthly.monthly(AZAR, "county", market["food"].id)
    assert only_food.total(c) == 700_000 and only_food.total(z) == 0


def test_one_county_in_detail(app, market):
    detail = funnel.county_detail(market["zahedan"].id, AZAR, locale="en")
    assert figures(detail.row) == AZAR_WANT["zahedan"]
    stages = {s.name: (s.stage, s.sales_to_date, s.first_sale, s.amount, s.orders, s.views)
              for s in detail.sellers}  # fmt: skip
    assert stages == {
        "کارگاه سوزن‌دوزی": ("repeat_sales", 5, date(2026, 11, 21), 3_650_000, 4, 150),
        "خرمای بم": ("listed", 0, None, 0, 0, 0),
        "در انتظار": ("registered", 0, None, 0, 0, 0),
    }
    assert detail.sellers[0].name == "کارگاه سوزن‌دوزی"  # the biggest sales first
    z = market["zahedan"].id
    azar = detail.series.cell(z, 1405, 9)
    assert (azar.amount, azar.views, azar.online_orders) == (3_650_000, 150, 3)
    assert azar.orders_per_100_views == pytest.approx(2.0)
    assert detail.series.cell(z, 1405, 8).views == 10
    assert [(c["units"], c["amount"]) for c in detail.categories] == [
        (5, 3_250_000), (2, 400_000)
    ]  # fmt: skip
    assert detail.categories[1]["name"] is None  # the bag sold at the fair has no category
    with pytest.raises(NotFound):
        funnel.county_detail(999_999, AZAR)


def test_a_sellers_own_numbers(app, market):
    numbers = monthly.seller_numbers(market["a"].id, today=TODAY)
    months = {(m.amount, m.orders, m.units, m.views, m.online_orders) for m in numbers.months}
    assert (2_500_000, 1, 2, 10, 1) in months and (3_650_000, 4, 7, 150, 3) in months
    assert len(numbers.months) == 12
    t = numbers.totals
    assert (t.amount, t.orders, t.units, t.views, t.online_orders) == (
        6_150_000, 5, 9, 160, 4
    )  # fmt: skip
    assert t.orders_per_100_views == pytest.approx(2.5)
    assert [(p["title"], p["units"], p["amount"], p["views"]) for p in numbers.best] == [
        ("رومیزی", 4, 4_850_000, 110), ("دستمال", 3, 900_000, 50), ("کیف", 2, 400_000, 0),
    ]  # fmt: skip


def test_the_period_of_a_request_is_checked(app):
    assert calendar.parse_period({"period": "month", "y": "۱۴۰۵", "m": "9"}) == AZAR
    assert calendar.parse_period({}, today=TODAY) == AZAR
    assert calendar.parse_period(
        {"period": "custom", "start": "1405/09/30", "end": "1405-10-01", "y": "x"}
    ) == Period.custom(date(2026, 12, 21), date(2026, 12, 22))
    for args, code in [
        ({"period": "week"}, "kind"), ({"period": "year", "y": "99999"}, "year"),
        ({"period": "month", "y": "1405", "m": "13"}, "month"),
        ({"period": "season", "y": "1405", "s": "x"}, "season"),
        ({"period": "custom", "start": "1405/09/30"}, "dates"),
        ({"period": "custom", "start": "1400/01/01", "end": "1405/01/01"}, "too_long"),
    ]:  # fmt: skip
        with pytest.raises(ValidationFailed) as caught:
            calendar.parse_period(args)
        assert caught.value.errors == {"period": [code]}, args
    assert calendar.programme_year_of(Period.custom(date(2026, 3, 1), date(2026, 3, 21))) == 1405


# --- pages and files -----------------------------------------------------------------------------


def staff_client(app, market, locale="en"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("locale", locale)
    factories.login(client, market["staff"].email)
    return client


def test_the_county_page_puts_its_figures_first_and_its_scroll_areas_in_reach(app, market):
    client = staff_client(app, market)
    html = client.get(f"/admin/counties?{AZAR_ARGS}").get_data(as_text=True)
    # The figures, then the definitions folded under them.
    table = html.index('<table class="numbers">')
    definitions = html.index('<details class="definitions">')
    assert table < definitions
    assert "How the figures are counted</h2></summary>" in html
    # Every sideways-scrolling table can take the keyboard's focus and is named.
    wraps = re.findall(r'<div class="table-wrap"([^>]*)>', html)
    assert wraps and all('tabindex="0"' in w and 'role="region"' in w for w in wraps)
    assert all("aria-label" in w for w in wraps)  # aria-label or aria-labelledby
    detail = client.get(f"/admin/counties/{market['zahedan'].id}?{AZAR_ARGS}").get_data(
        as_text=True
    )
    wraps = re.findall(r'<div class="table-wrap"([^>]*)>', detail)
    assert wraps and all('tabindex="0"' in w and 'role="region"' in w for w in wraps)


def test_the_county_page_shows_the_known_figures(app, market):
    client = staff_client(app, market)
    response = client.get(f"/admin/counties?{AZAR_ARGS}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "365,000 toman" in html and "45,000 toman" in html and "70,000 toman" in html
    assert "480,000 toman" in html  # the province
    assert "Sistan and Baluchestan" in html
    assert "76%" in html and "50%" in html and "2.0" in html and "0.73" in html
    assert "19%" in html and "25%" in html  # Zahedan's absorption, its quota progress
    assert (
        "Approved sellers with at least one sale in the period divided by approved sellers." in html
    )
    assert (
        "per 100 views of the product pages" in html
        and "Units sold in the period divided by" in html
    )
    assert 'role="img"' in html and "<title" in html and "aria-labelledby" in html
    assert 'class="row-error"' not in html  # no county falls behind in Azar
    assert "stock used is today" not in html
    fa = staff_client(app, market, "fa").get(f"/admin/counties?{AZAR_ARGS}").get_data(as_text=True)
    assert "۳۶۵٬۰۰۰ تومان" in fa and "۵۰٪" in fa and "زاهدان" in fa and "آذر ۱۴۰۵" in fa
    assert "۰٫۷۳" in fa and "۲٫۰" in fa


def test_the_county_page_flags_sorts_and_filters(app, market):
    client = staff_client(app, market)
    html = client.get(f"/admin/counties?{ABAN_ARGS}").get_data(as_text=True)
    assert 'class="row-error"' in html and "1 county falls behind" in html
    assert "stock used is today" in html
    html = client.get(f"/admin/counties?{AZAR_ARGS}&sort=-sales_amount").get_data(as_text=True)
    body = html[html.index("<tbody>") :]
    assert body.index("Zahedan") < body.index("Chabahar") < body.index("Zabol")
    assert 'aria-sort="descending"' in html
    html = client.get(f"/admin/counties?{AZAR_ARGS}&sector={market['crafts'].id}").get_data(
        as_text=True
    )
    assert "410,000 toman" in html and "Falls behind</strong>" in html


def month_bar_x(html: str, label: str) -> str:
    """The x of the column of the month ``label`` in the monthly chart of a county page."""
    chart = html[
        html.index('id="monthly-chart-title"') : html.index(
            "</svg>", html.index('id="monthly-chart-title"')
        )
    ]
    group = chart[chart.index(f"<title>{label}:") :]
    rect = group[group.index("<rect") :]
    return rect[rect.index('x="') + 3 : rect.index('"', rect.index('x="') + 3)]


def test_the_charts_run_from_the_right_in_persian(app, market):
    url = f"/admin/counties/{market['zahedan'].id}?{AZAR_ARGS}"
    fa = staff_client(app, market, "fa").get(url).get_data(as_text=True)
    en = staff_client(app, market).get(url).get_data(as_text=True)
    # Twelve columns of 60 units: Dey 1404 first, Azar 1405 last, in reading order.
    assert month_bar_x(fa, "آذر ۱۴۰۵") == "9.0" and month_bar_x(fa, "دی ۱۴۰۴") == "669.0"
    assert month_bar_x(en, "Azar 1405 (Nov 2026)") == "669.0"
    assert month_bar_x(en, "Dey 1404 (Dec 2025)") == "9.0"
    assert 'direction="ltr"' in fa  # x and text-anchor mean the same in both directions
    # The funnel's bars grow from the right in Persian, from the left in English.
    assert 'class="bar funnel-registered" x="210"' in en
    assert (
        'class="bar funnel-registered" x="' in fa
        and 'x="210"' not in fa.split("funnel-chart-title")[1].split("</svg>")[0]
    )


def bad(response, text: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.status_code
    assert text in response.get_data(as_text=True)


def test_bad_input_is_a_clear_400(app, market):
    client = staff_client(app, market)
    bad(client.get("/admin/counties?period=week"), "Choose a month, a season")
    bad(client.get("/admin/counties?period=year&y=99999999999999999999"), "Jalali year from 1300")
    bad(client.get("/admin/counties?period=month&y=1405&m=0"), "from 1 to 12")
    bad(client.get("/admin/counties?period=custom&start=&end="), "enter both days")
    bad(client.get("/admin/counties.csv?period=custom&start=1390/01/01&end=1405/01/01"),
        "at most three years")  # fmt: skip
    bad(client.get(f"/admin/counties?{AZAR_ARGS}&sector=999999"), "no such sector")
    bad(client.get(f"/admin/counties?{AZAR_ARGS}&sector=abc"), "no such sector")
    bad(client.get(f"/admin/counties/monthly.csv?{AZAR_ARGS}&by=day"), "by county or by sector")
    assert client.get(f"/admin/counties/999999?{AZAR_ARGS}").status_code == 404
    assert client.get(f"/admin/counties/99999999999?{AZAR_ARGS}").status_code == 404
    assert client.get(f"/admin/counties?{AZAR_ARGS}&sort=nonsense").status_code == 200


def test_the_county_page_with_no_counties(app):
    staff = factories.user(role=factories.Role.STAFF, email="staff@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    html = client.get(f"/admin/counties?{AZAR_ARGS}").get_data(as_text=True)
    assert "There are no counties yet." in html


def test_the_county_drill_down_page(app, market):
    client = staff_client(app, market)
    response = client.get(f"/admin/counties/{market['zahedan'].id}?{AZAR_ARGS}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "کارگاه سوزن‌دوزی" in html and "خرمای بم" in html and "در انتظار" in html
    assert "With repeat sales" in html and "No category" in html
    assert "325,000 toman" in html  # the cloth category
    assert "365,000 toman" in html and "480,000 toman" in html
    assert 'role="img"' in html and "Quota 4" in html


def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()) and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_county_csv(app, market):
    client = staff_client(app, market)
    rows = read_csv(client.get(f"/admin/counties.csv?{AZAR_ARGS}"))
    assert rows[0] == exports.COUNTY_HEADER and len(rows) == 5
    table = {r[1] or "province": dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    z = table["zahedan"]
    assert (z["registered_applicants"], z["approved_sellers"], z["sellers_with_listing"],
            z["sellers_with_first_sale"], z["sellers_with_repeat_sales"]) == ("3", "2", "2", "1",
                                                                            "1")  # fmt: skip
    assert (z["programme_year"], z["target_sellers"], z["quota_progress"]) == (
        "1405",
        "4",
        "0.2500",
    )
    assert (z["sales_amount_toman"], z["card_amount_toman"], z["cash_amount_toman"],
            z["offline_amount_toman"]) == ("365000", "90000", "125000", "150000")  # fmt: skip
    assert (z["share_of_province"], z["market_connection"], z["orders_per_100_views"],
            z["price_ratio"], z["absorption"]) == ("0.7604", "0.5000", "2.0000", "0.7267",
                                                   "0.1944")  # fmt: skip
    assert (z["product_views"], z["stock_units"], z["paid_online_orders"], z["falls_behind"]) == (
        "150", "29", "3", "0"
    )  # fmt: skip
    assert z["period_start_jalali"] == "1405-09-01" and z["period_end"] == "2026-12-21"
    assert table["chabahar"]["target_sellers"] == "" and table["chabahar"]["quota_progress"] == ""
    p = table["province"]
    assert p["county"] == "Sistan and Baluchestan" and p["sales_amount_toman"] == "480000"
    assert p["orders_per_100_views"] == "2.5641" and p["falls_behind"] == ""
    aban = read_csv(client.get(f"/admin/counties.csv?{ABAN_ARGS}"))
    flagged = [r[1] for r in aban[1:] if r[aban[0].index("falls_behind")] == "1"]
    assert flagged == ["zabol"]


def test_the_series_and_funnel_csvs(app, market):
    client = staff_client(app, market)
    rows = read_csv(client.get(f"/admin/counties/monthly.csv?{AZAR_ARGS}&by=county"))
    assert rows[0] == ["county_id", "county", "jalali_year", "jalali_month", "month_start",
                       "month_end", "sales", "units", "sales_amount_toman"]  # fmt: skip
    assert len(rows) == 1 + 3 * 12
    z = str(market["zahedan"].id)
    assert [z, "Zahedan", "1405", "9", "2026-11-22", "2026-12-21", "4", "7", "365000"] in rows
    rows = read_csv(client.get(f"/admin/counties/monthly.csv?{AZAR_ARGS}&by=sector"))
    assert rows[0][:2] == ["sector_id", "sector"]
    assert [str(market["crafts"].id), "Handicrafts", "1405", "8", "2026-10-23", "2026-11-21",
            "2", "3", "450000"] in rows  # fmt: skip
    rows = read_csv(client.get(f"/admin/counties/funnel.csv?{AZAR_ARGS}"))
    assert [z, "Zahedan", "first_sale", "1", "1405", "4", "0.2500"] in rows
    assert len(rows) == 1 + 4 * 5
    c = market["zahedan"].id
    sellers_csv = read_csv(client.get(f"/admin/counties/{c}/sellers.csv?{AZAR_ARGS}"))
    a_row = dict(zip(sellers_csv[0], sellers_csv[1], strict=True))
    assert (a_row["seller"], a_row["stage"], a_row["sales_to_date"], a_row["first_sale_jalali"],
            a_row["sales_amount_toman"], a_row["product_views"]) == (
        "کارگاه سوزن‌دوزی", "repeat_sales", "5", "1405-08-30", "365000", "150"
    )  # fmt: skip
    months = read_csv(client.get(f"/admin/counties/{c}/monthly.csv?{AZAR_ARGS}"))
    assert ["1405", "9", "2026-11-22", "2026-12-21", "4", "7", "365000", "150", "3",
            "2.0000"] in months  # fmt: skip
    cats = read_csv(client.get(f"/admin/counties/{c}/categories.csv?{AZAR_ARGS}"))
    assert [r[2:4] for r in cats[1:]] == [["5", "325000"], ["2", "40000"]]


# --- quotas --------------------------------------------------------------------------------------


def quota_of(county_id: int, year: int) -> tuple[int, int] | None:
    db.session.expire_all()
    q = db.session.scalar(
        sa.select(Quota).where(Quota.county_id == county_id, Quota.programme_year == year)
    )
    return None if q is None else (q.target_sellers, q.target_sales_amount)


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_staff_set_a_quota_with_the_form(app, market):
    client = staff_client(app, market)
    chabahar = market["chabahar"].id
    page = client.get("/admin/quotas").get_data(as_text=True)
    assert "Zahedan" in page and "5,000,000 toman" in page
    data = {"county_id": str(chabahar), "programme_year": "۱۴۰۵", "target_sellers": "۳",
            "target_sales": "۲٬۰۰۰٬۰۰۰"}  # fmt: skip
    response = client.post("/admin/quotas", data=data, follow_redirects=True)
    assert response.status_code == 200 and "was saved" in response.get_data(as_text=True)
    assert quota_of(chabahar, 1405) == (3, 20_000_000)
    assert audit_actions() == ["offline_sale.create", "offline_sale.create", "quota.create"]
    client.post("/admin/quotas", data=dict(data, target_sellers="5", target_sales=""))
    assert quota_of(chabahar, 1405) == (5, 20_000_000)  # an empty sales target keeps it
    response = client.post("/admin/quotas", data=dict(data, target_sellers="5", target_sales=""),
                           follow_redirects=True)  # fmt: skip
    assert "Nothing changed" in response.get_data(as_text=True)
    assert audit_actions()[-2:] == ["quota.create", "quota.update"]
    event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.data["before"] == {"target_sellers": 3, "target_sales_amount": 20_000_000}
    assert event.actor_id == market["staff"].id
    # The report now counts Chabahar against its quota.
    rows = by_slug(funnel.county_report(AZAR))
    assert rows["chabahar"].target_sellers == 5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"county_id": "0"}, "This field is required."),
        ({"county_id": "999999"}, "There is no county"),
        ({"county_id": "x"}, "Invalid Choice"),
        ({"programme_year": "abc"}, "Jalali year in which the programme year starts"),
        ({"programme_year": "99999999999999999999999"}, "from 1390 to 1500"),
        ({"target_sellers": "-3"}, "whole number of businesses"),
        ({"target_sellers": "99999999999999999999"}, "whole number of businesses"),
        ({"target_sellers": ""}, "This field is required."),
        ({"target_sales": "1.5"}, "whole amount"),
        ({"target_sales": "999999999999999999"}, "whole amount"),
    ],
)
def test_a_bad_quota_form_changes_nothing(app, market, data, message):
    client = staff_client(app, market)
    base = {"county_id": str(market["zabol"].id), "programme_year": "1405",
            "target_sellers": "9", "target_sales": "100"}  # fmt: skip
    response = client.post("/admin/quotas", data=dict(base, **data))
    bad(response, message)
    assert quota_of(market["zabol"].id, 1405) == (2, 0)
    assert "quota.update" not in audit_actions() and "quota.create" not in audit_actions()


def upload(client, body: bytes, name: str = "quotas.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/quotas/upload",
        data={"file": (io.BytesIO(body), name)},
        content_type="multipart/form-data",
    )


def test_a_quota_file_is_previewed_then_saved(app, market):
    client = staff_client(app, market)
    text = (
        "\ufeffcounty,programme_year,target_sellers,target_sales_amount_rial\r\n"
        "زاهدان,۱۴۰۵,۴,۵۰٬۰۰۰٬۰۰۰\r\n"  # no change
        "Zabol,1405,7,\r\n"  # changes the sellers, keeps the sales target
        "Konarak,1406,2,9000000\r\n"  # no such county here
    )
    response = upload(client, text.encode("utf-8"))
    bad(response, "There is no county with this number, slug or name.")
    assert quota_of(market["zabol"].id, 1405) == (2, 0)
    text = text.replace("Konarak,", "چابهار,")
    response = upload(client, text.encode("utf-8"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "All 3 rows are valid." in html
    assert "No change" in html and "Changes" in html and "New" in html
    assert quota_of(market["zabol"].id, 1405) == (2, 0)  # nothing saved by the preview
    response = client.post(
        "/admin/quotas/upload/confirm", data={"csv_text": text}, follow_redirects=True
    )
    assert "2 quotas changed." in response.get_data(as_text=True)
    assert quota_of(market["zahedan"].id, 1405) == (4, 50_000_000)
    assert quota_of(market["zabol"].id, 1405) == (7, 0)
    assert quota_of(market["chabahar"].id, 1406) == (2, 9_000_000)
    assert audit_actions()[-2:] == ["quota.update", "quota.create"]
    assert {e.data["source"] for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("quota.%")))} == {"csv"}  # fmt: skip


def test_the_exported_quota_file_uploads_back(app, market):
    client = staff_client(app, market)
    rows = read_csv(client.get("/admin/quotas.csv"))
    assert rows[0] == list(quotas.QUOTA_COLUMNS)
    z = str(market["zahedan"].id)
    assert [z, "zahedan", "زاهدان", "Zahedan", "1405", "4", "50000000"] in rows
    body = client.get("/admin/quotas.csv").get_data()
    html = upload(client, body).get_data(as_text=True)
    assert "All 3 rows are valid." in html and html.count("No change") == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("county,programme_year,target_sellers\nزاهدان,1405,3\n".encode("cp1256"), "not UTF-8"),
        (b"", "The file is empty."),
        (b"county,target_sellers\nZabol,3\n", "The header must name the county"),
        (b'county,programme_year,target_sellers\n"Zabol,1405,3\n', "malformed"),
        (b"county,programme_year,target_sellers\nZabol,1405,3\nZabol,1405,4\n", "appear more"),
        (
            b"county_id,county_slug,programme_year,target_sellers\n1,zabol,1405,3\n",
            "name different counties",
        ),  # fmt: skip
        (
            b"county,programme_year,target_sellers\nZabol,1405,99999999999999999999999\n",
            "whole number of businesses",
        ),  # fmt: skip
        (
            b"county,programme_year,target_sellers,target_sales_amount_rial\n"
            b"Zabol,1405,3,-5\nZahedan,1405,1,1\n",
            "whole amount",
        ),  # fmt: skip
        (b"county,programme_year,target_sellers\nZabol,14o5,3\n", "from 1390 to 1500"),
    ],
)
def test_a_bad_quota_file_changes_nothing(app, market, body, message):
    client = staff_client(app, market)
    before = db.session.execute(sa.select(Quota.__table__).order_by(Quota.id)).all()
    bad(upload(client, body), message)
    bad(client.post("/admin/quotas/upload/confirm", data={"csv_text": body.decode("latin-1")}),
        "")  # fmt: skip
    db.session.expire_all()
    assert db.session.execute(sa.select(Quota.__table__).order_by(Quota.id)).all() == before


def test_quota_upload_without_a_file_and_a_quota_deleted(app, market):
    client = staff_client(app, market)
    bad(client.post("/admin/quotas/upload", data={}), "Choose a CSV file.")
    bad(client.post("/admin/quotas/upload/confirm", data={}), "nothing to save")
    quota_id = db.session.scalar(sa.select(Quota.id).where(Quota.programme_year == 1404))
    response = client.post(f"/admin/quotas/{quota_id}/delete", follow_redirects=True)
    assert response.status_code == 200 and "was deleted" in response.get_data(as_text=True)
    assert quota_of(market["zahedan"].id, 1404) is None
    assert audit_actions()[-1] == "quota.delete"
    assert client.post(f"/admin/quotas/{quota_id}/delete").status_code == 404


def test_the_service_refuses_duplicates_all_or_nothing(app, market):
    z = market["zahedan"].id
    items = [quotas.QuotaInput(z, 1407, 1), quotas.QuotaInput(z, 1407, 2)]
    with pytest.raises(ValidationFailed) as caught:
        quotas.save_quotas(None, items)
    assert caught.value.errors == {"1.county_id": ["duplicate"]}
    assert quota_of(z, 1407) is None


# --- the seller's own numbers --------------------------------------------------------------------


def test_a_seller_sees_their_own_numbers(app, market, monkeypatch):
    freeze_today(monkeypatch)  # the data set's "today"
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, market["a"].user.email)
    html = client.get("/seller/").get_data(as_text=True)
    assert "My numbers in the last twelve months" in html
    assert "615,000 toman" in html and "160" in html and "2.5" in html  # totals
    assert "365,000 toman" in html and "Azar 1405" in html  # the month
    assert "485,000 toman" in html and "رومیزی" in html  # the best product
    assert 'role="img"' in html
    # Another seller's numbers are not there.
    assert "45,000 toman" not in html
    fa = app.test_client()
    fa.set_cookie("locale", "fa")
    factories.login(fa, market["a"].user.email)
    assert "۶۱۵٬۰۰۰ تومان" in fa.get("/seller/").get_data(as_text=True)


def test_a_seller_downloads_their_own_numbers(app, market, monkeypatch):
    freeze_today(monkeypatch)  # the data set's "today"
    client = app.test_client()
    factories.login(client, market["a"].user.email)
    response = client.get("/seller/numbers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:5] == ["table", "jalali_month", "product_id", "product", "sales_volume"]
    months = [r for r in rows[1:] if r[0] == "month"]
    assert len(months) == 12
    assert ["month", "1405-09", "", "", "3650000", "4", "7", "150", "3", "2.00"] in months
    best = [r for r in rows[1:] if r[0] == "best_product"]
    assert [(r[3], r[4], r[6], r[7]) for r in best][0] == ("رومیزی", "4850000", "4", "110")
    assert "45000" not in body  # another seller's figures are not there
    other = app.test_client()
    factories.login(other, market["g"].user.email)
    assert "رومیزی" not in other.get("/seller/numbers.csv").data.decode("utf-8")


def test_a_new_seller_has_an_empty_dashboard(app, market):
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, market["g"].user.email)
    html = client.get("/seller/").get_data(as_text=True)
    assert "Your sales will show here by month." in html
    assert "Your best-selling products will show here." in html


def test_reports_read_summary_rows_not_order_lines(app, market):
    from tests.conftest import count_queries

    with count_queries(db.engine) as statements:
        funnel.county_report(AZAR)
        funnel.county_detail(market["zahedan"].id, AZAR)
        monthly.seller_numbers(market["a"].id, today=TODAY)
    assert not [s for s in statements if "order_line" in s or "shop_order" in s]
    assert len(statements) < 40  # a fixed number of GROUP BYs, whatever the number of sellers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SalesPeriod)) > 0
