"""Market campaigns across shops: staff make and end them (audited, a confirmation before
ending), sellers join and leave; a joined shop's covered listings cost the lowest of list,
sale and campaign prices, shown struck through with the campaign's badge, sorted and filtered
by that price; orders keep the campaign, and when the market pays, the commission and the
seller's ledger count the pre-campaign price while the sales figures count what was paid."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from types import SimpleNamespace

import jdatetime
import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import campaigns, indexing, pricing, queries
from app.catalog.models import Campaign, CampaignShop, Product, SellerStatus
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders import cart as carts
from app.orders import completion
from app.orders import lookups as order_lookups
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments.models import Provider
from app.payouts import ledger
from app.payouts.models import EntryKind, LedgerEntry
from app.program.sales_models import SalesDailyProduct
from app.shipping.rates import market_today
from tests import factories
from tests.helpers import ADDRESS as FORM
from tests.helpers import assert_ledger_holds
from tests.test_coupons import make_coupon
from tests.test_order_flow import place

# ---- the one pricing rule ---------------------------------------------------------------------


def offer(percent: int, cap: int | None = None, payer: str = "market") -> pricing.Offer:
    return pricing.Offer(1, "جشنواره", "Festival", percent, cap, payer)


def test_the_price_now_is_the_lowest_of_list_sale_and_campaign_never_both():
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    running = (now - timedelta(days=1), now + timedelta(days=1))
    # A campaign alone: 20 % off 1,000,005 rounds the discount down (200,001).
    q = pricing.quote(1_000_005, None, None, None, [offer(20)], now)
    assert (q.amount, q.source, q.discount) == (800_004, "campaign", 200_001)
    # A deeper sale wins; the campaign does not stack on it.
    q = pricing.quote(1_000_000, 700_000, *running, [offer(20)], now)
    assert (q.amount, q.source, q.campaign) == (700_000, "sale", None)
    # A deeper campaign wins over a shallow sale (off the list price, not the sale price).
    q = pricing.quote(1_000_000, 950_000, *running, [offer(20)], now)
    assert (q.amount, q.source) == (800_000, "campaign")
    # A tie goes to the seller's own sale.
    assert pricing.quote(1_000_000, 800_000, *running, [offer(20)], now).source == "sale"
    # The cap per unit, and the best of two campaigns.
    assert pricing.quote(1_000_000, None, None, None, [offer(50, cap=100_000)], now).amount == (
        900_000
    )
    two = [offer(50, cap=100_000), offer(15)]
    assert pricing.quote(1_000_000, None, None, None, two, now).amount == 850_000
    # A sale that ended leaves the campaign; plain values serve a variant's own prices too.
    ended = (now - timedelta(days=3), now - timedelta(days=1))
    assert pricing.quote(400_000, 100_000, *ended, [offer(10)], now).amount == 360_000
    assert pricing.price_now(400_000, None, None, None, now, offers=[offer(10)]) == 360_000


# ---- fixtures ---------------------------------------------------------------------------------


def new_campaign(percent=20, payer="market", cap=None, categories=(), first=None, last=None):  # type: ignore[no-untyped-def]
    today = market_today()
    staff = factories.user(Role.STAFF, email=f"staff{percent}{payer}@example.com")
    return campaigns.create_campaign(
        staff.id,
        campaigns.CampaignData(
            name_fa="جشنوارهٔ یلدا",
            name_en="Yalda festival",
            percent=percent,
            cap_amount=cap,
            first_day=first or today,
            last_day=last or today + timedelta(days=3),
            payer=payer,
            category_ids=list(categories),
        ),
    )


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    app.config.update(COMMISSION_RATE_BP=1000)  # 10 %
    owner = factories.user(Role.SELLER, name="Golbibi")
    a = factories.seller(status=SellerStatus.APPROVED, owner=owner, name="کارگاه سوزن‌دوزی")
    b = factories.seller(name="سفال کلپورگان")
    textiles = factories.category("textiles")
    cushions = factories.category("cushions", parent=textiles)
    pottery = factories.category("pottery")
    return {
        "a": a,
        "b": b,
        "owner": owner,
        "textiles": textiles,
        "cloth": factories.product(a, price_amount=1_000_000, stock=50, category_row=textiles),
        "pillow": factories.product(a, price_amount=500_000, stock=50, category_row=cushions),
        "jug": factories.product(a, price_amount=300_000, stock=50, category_row=pottery),
        "bowl": factories.product(b, price_amount=900_000, stock=50, category_row=pottery),
        "mina": factories.user(email="mina@example.com", name="مینا"),
    }


def fresh(product: Product) -> Product:
    db.session.expire_all()
    return db.session.get_one(Product, product.id)


# ---- joining, prices and pages ----------------------------------------------------------------


def test_only_joined_shops_in_covered_categories_get_the_campaign_price(app, shop):
    campaign = new_campaign(20, categories=[shop["textiles"].id])
    # Opt-in: nothing changes until the seller joins.
    assert fresh(shop["cloth"]).effective_price == 1_000_000
    before = factories.pages_changed_count()
    assert campaigns.set_joined(shop["a"], campaign.id, True)
    assert not campaigns.set_joined(shop["a"], campaign.id, True)  # twice: once
    assert factories.pages_changed_count() > before  # the shop's cached pages go stale
    assert fresh(shop["cloth"]).effective_price == 800_000
    assert fresh(shop["pillow"]).effective_price == 400_000  # a sub-category is covered
    assert fresh(shop["jug"]).effective_price == 300_000  # another category is not
    assert fresh(shop["bowl"]).effective_price == 900_000  # another shop did not join
    cloth = fresh(shop["cloth"])
    assert cloth.campaign is not None and cloth.campaign.name_en == "Yalda festival"
    assert cloth.search_dirty  # the index's price is the price now

    client = app.test_client()
    client.set_cookie("locale", "en")
    page = client.get(f"/p/{cloth.id}").get_data(as_text=True)
    assert "Yalda festival" in page and "<del>" in page
    listing = client.get(f"/c/{shop['textiles'].slug}").get_data(as_text=True)
    assert "badge-campaign" in listing and "Yalda festival" in listing

    assert campaigns.set_joined(shop["a"], campaign.id, False)
    assert fresh(shop["cloth"]).effective_price == 1_000_000
    assert "Yalda festival" not in client.get(f"/p/{cloth.id}").get_data(as_text=True)


def test_the_seller_page_joins_and_leaves(app, shop):
    campaign = new_campaign(15)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, shop["owner"].email)
    page = client.get("/seller/campaigns").get_data(as_text=True)
    assert "Yalda festival" in page
    assert client.post(f"/seller/campaigns/{campaign.id}", data={"want": "1"}).status_code == 302
    assert db.session.get(CampaignShop, (campaign.id, shop["a"].id)) is not None
    for bad in ({"want": "yes"}, {}):
        assert client.post(f"/seller/campaigns/{campaign.id}", data=bad).status_code == 400
    assert client.post("/seller/campaigns/99999", data={"want": "1"}).status_code == 404
    assert client.post(f"/seller/campaigns/{campaign.id}", data={"want": "0"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CampaignShop, (campaign.id, shop["a"].id)) is None
    audit = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"campaign.create", "campaign.join", "campaign.leave"} <= audit


def test_staff_create_and_end_campaigns_with_a_confirmation(app, shop):
    staff = factories.user(Role.STAFF, email="boss@example.com")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, staff.email)
    today = market_today()

    def jalali(day):  # type: ignore[no-untyped-def]
        j = jdatetime.date.fromgregorian(date=day)
        return f"{j.year}/{j.month:02d}/{j.day:02d}"

    form = {
        "name_fa": "جشنوارهٔ نوروز",
        "name_en": "Nowruz",
        "percent": "۲۵",
        "cap_toman": "۲۰٬۰۰۰",
        "starts_on": jalali(today),
        "ends_on": jalali(today + timedelta(days=2)),
        "payer": "market",
        "categories": [str(shop["textiles"].id)],
    }
    response = client.post("/admin/campaigns", data=form)
    assert response.status_code == 302, unescape(response.get_data(as_text=True))
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.name_en == "Nowruz"))
    assert (campaign.percent, campaign.cap_amount, campaign.payer) == (25, 200_000, "market")
    assert campaigns.last_day(campaign) == today + timedelta(days=2)
    assert "Nowruz" in client.get("/admin/campaigns").get_data(as_text=True)

    # Hostile or wrong input: a 400 with the field's message, never a 500, nothing made.
    for bad in (
        {"percent": "91"},
        {"percent": "0"},
        {"percent": "abc"},
        {"cap_toman": "-5"},
        {"payer": "nobody"},
        {"categories": ["999999"]},
        {"categories": ["x"]},
        {"name_fa": ""},
        {"name_en": "x" * 500},
        {"starts_on": "1404/13/40"},
        {"ends_on": jalali(today - timedelta(days=10)), "starts_on": jalali(today)},
        {
            "starts_on": jalali(today - timedelta(days=9)),
            "ends_on": jalali(today - timedelta(days=8)),
        },
    ):
        response = client.post("/admin/campaigns", data={**form, **bad})
        assert response.status_code == 400, bad
    assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 1

    campaigns.set_joined(shop["a"], campaign.id, True)
    assert fresh(shop["cloth"]).effective_price == 1_000_000 - 200_000  # 25 % capped at 200,000
    # Ending asks first; without the box ticked nothing ends.
    assert "Tick" not in client.get(f"/admin/campaigns/{campaign.id}/end").get_data(as_text=True)
    assert client.post(f"/admin/campaigns/{campaign.id}/end", data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get_one(Campaign, campaign.id).ended_at is None
    before = factories.pages_changed_count()
    response = client.post(
        f"/admin/campaigns/{campaign.id}/end", data={"confirm": "y", "reason": "budget"}
    )
    assert response.status_code == 302
    assert factories.pages_changed_count() > before
    assert fresh(shop["cloth"]).effective_price == 1_000_000
    ended = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "campaign.end"))
    assert ended is not None and ended.reason == "budget"
    assert client.get("/admin/campaigns/99999/end").status_code == 404
    # A campaign over can no longer be joined.
    with pytest.raises(ValidationFailed) as refused:
        campaigns.set_joined(shop["a"], campaign.id, True)
    assert refused.value.errors == {"campaign": ["campaign_over"]}


# ---- orders, commission, ledger ---------------------------------------------------------------


def complete(shop, payment) -> Order:  # type: ignore[no-untyped-def]
    order = payment.orders[0]
    a = shop["a"]
    orders.seller_move(order, a, a.user, OrderStatus.CONFIRMED)
    orders.seller_move(order, a, a.user, OrderStatus.SHIPPED, carrier="پست", tracking_code="1")
    completion.complete_by_customer(order, shop["mina"])
    db.session.expire_all()
    return db.session.get_one(Order, order.id)


def entries(order_id: int) -> dict[EntryKind, int]:
    out: dict[EntryKind, int] = {}
    for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.order_id == order_id)):
        out[e.kind] = out.get(e.kind, 0) + e.amount
    return out


def test_a_campaign_the_market_pays_leaves_commission_and_payout_whole(app, shop):
    campaign = new_campaign(20, payer="market")
    campaigns.set_joined(shop["a"], campaign.id, True)
    payment = place(shop["mina"], (shop["cloth"], 2), (shop["pillow"], 1))
    order = payment.orders[0]
    lines = {line.product_id: line for line in order.lines}
    cloth, pillow = lines[shop["cloth"].id], lines[shop["pillow"].id]
    # 2 × 800,000 and 1 × 400,000 paid; 400,000 + 100,000 off, all of it the market's.
    assert (cloth.unit_price_amount, cloth.line_total_amount) == (800_000, 1_600_000)
    assert (cloth.list_price_amount, cloth.discount_amount) == (1_000_000, 400_000)
    assert (cloth.discount_source, cloth.discount_payer) == ("campaign", "market")
    assert (cloth.market_discount_amount, cloth.campaign_id) == (400_000, campaign.id)
    assert pillow.market_discount_amount == 100_000
    assert (order.subtotal_amount, order.discount_amount) == (2_000_000, 500_000)
    assert order.market_discount_amount == 500_000

    order = complete(shop, payment)
    # Commission: 10 % of the pre-campaign 2,500,000, not of the 2,000,000 paid.
    assert order.commission_amount == 250_000
    total = order.total_amount  # 2,000,000 + shipping, what the customer paid (cash)
    assert entries(order.id) == {
        EntryKind.SALE: total,
        EntryKind.COMMISSION: -250_000,
        EntryKind.CASH_COLLECTED: -total,
        EntryKind.CAMPAIGN_CREDIT: 500_000,
    }
    # The seller holds the cash (total) and is owed the campaign credit less the commission:
    # as if sold at 2,500,000 with 10 % commission.
    assert ledger.balance(shop["a"].id) == 500_000 - 250_000
    assert_ledger_holds()
    assert order_lookups.campaign_costs() == {campaign.id: 500_000}

    # The programme's sales figures count what the customer paid.
    counted = db.session.scalar(sa.select(sa.func.sum(SalesDailyProduct.amount)))
    assert counted == 2_000_000

    # A full refund gives the credit back with the commission.
    with transaction():
        ledger.record_refund(db.session.get_one(Order, order.id), total, ref="r1")
    got = entries(order.id)
    assert got[EntryKind.CAMPAIGN_REVERSAL] == -500_000
    assert got[EntryKind.COMMISSION_REVERSAL] == 250_000
    assert_ledger_holds()


def test_a_campaign_the_sellers_pay_and_a_coupon_on_top(app, shop):
    campaign = new_campaign(10, payer="seller")
    campaigns.set_joined(shop["a"], campaign.id, True)
    make_coupon(shop["a"], code="EXTRA", value=50)
    carts.add(shop["mina"], None, shop["cloth"].id, 1)
    address = Address(**{k: v for k, v in FORM.items() if k != "payment_method"})
    payment = payment_checkout.place_checkout(
        shop["mina"], address, Provider.CASH, "test-token-campaign-coupon-1",
        currency="IRR", expiry_minutes=60, max_open_cash_orders=100, coupon="extra",
    ).payment  # fmt: skip
    order = payment.orders[0]
    (line,) = order.lines
    # 1,000,000 − 10 % = 900,000; the coupon's 50 % of that is 450,000: 450,000 paid.
    assert line.line_total_amount == 450_000
    assert line.discount_amount == 550_000 and line.market_discount_amount == 0
    assert (line.discount_source, line.discount_payer) == ("campaign+coupon", "seller")
    order = complete(shop, payment)
    assert order.commission_amount == 45_000  # on what the customer paid
    assert EntryKind.CAMPAIGN_CREDIT not in entries(order.id)
    assert_ledger_holds()


# ---- sorting, filtering, the index and the API ------------------------------------------------


def test_sort_filter_index_and_api_read_the_price_now(app, shop):
    campaign = new_campaign(50, payer="market")
    campaigns.set_joined(shop["a"], campaign.id, True)
    # Prices now: cloth 500,000, pillow 250,000, jug 150,000 (shop a); bowl 900,000.
    page = queries.products_in_category(shop["textiles"], 1, 20, "price_desc")
    assert [p.id for p in page.items] == [shop["cloth"].id, shop["pillow"].id]
    narrowed = queries.products_in_category(
        shop["textiles"], 1, 20, "price_asc", queries.ListFilters(max_price=300_000)
    )
    assert [p.id for p in narrowed.items] == [shop["pillow"].id]
    # A running sale (the bowl at 100,000) takes part in the same SQL rule.
    bowl = fresh(shop["bowl"])
    bowl.sale_price_amount = 100_000
    bowl.sale_starts_at, bowl.sale_ends_at = pricing.sale_period(
        market_today(), market_today() + timedelta(days=1)
    )
    db.session.commit()
    pottery = queries.products_in_category(bowl.category, 1, 20, "price_asc")
    assert [p.id for p in pottery.items] == [bowl.id, shop["jug"].id]
    assert [p.effective_price for p in pottery.items] == [100_000, 150_000]
    # The database search (the index's fallback) sorts and filters by it too.
    found = queries.search_products("", 1, 20, "price_asc")
    assert [p.id for p in found.items] == [
        shop["bowl"].id, shop["jug"].id, shop["pillow"].id, shop["cloth"].id,
    ]  # fmt: skip
    low = SimpleNamespace(min_price=200_000, max_price=600_000)
    found = queries.search_products("", 1, 20, "price_desc", low)
    assert [p.id for p in found.items] == [shop["cloth"].id, shop["pillow"].id]

    doc = indexing.doc_for(fresh(shop["cloth"]), indexing._category_paths())
    assert doc.price_amount == 500_000

    client = app.test_client()
    indexing.sync_dirty()  # the index holds the price now: sorted by it
    listed = client.get("/api/v1/products?sort=price_asc").get_json()
    assert [(p["id"], p["price"]) for p in listed["items"]] == [
        (shop["bowl"].id, 100_000), (shop["jug"].id, 150_000),
        (shop["pillow"].id, 250_000), (shop["cloth"].id, 500_000),
    ]  # fmt: skip
    capped = client.get("/api/v1/products?max_price=200000").get_json()
    assert {p["id"] for p in capped["items"]} == {shop["bowl"].id, shop["jug"].id}
    body = client.get(f"/api/v1/products/{shop['cloth'].id}").get_json()
    assert (body["price"], body["list_price"], body["discount"]) == (500_000, 1_000_000, 500_000)
    assert body["discount_source"] == "campaign"
    assert body["campaign"] == {"name_fa": "جشنوارهٔ یلدا", "name_en": "Yalda festival"}
    sale = client.get(f"/api/v1/products/{shop['bowl'].id}").get_json()
    assert (sale["price"], sale["list_price"], sale["discount_source"]) == (
        100_000, 900_000, "sale",
    )  # fmt: skip
    assert sale["campaign"] is None


def test_the_hourly_job_marks_listings_whose_price_changed_at_a_day_boundary(app, shop):
    today = market_today()
    campaign = new_campaign(20, first=today + timedelta(days=1), last=today + timedelta(days=2))
    campaigns.set_joined(shop["a"], campaign.id, True)
    db.session.execute(sa.update(Product).values(search_dirty=False))
    db.session.commit()
    start = pricing.day_start(today + timedelta(days=1))
    assert campaigns.mark_price_boundaries(start - timedelta(hours=1)) == 0
    assert campaigns.mark_price_boundaries(start + timedelta(minutes=2)) == 3  # a's listings
    assert fresh(shop["cloth"]).search_dirty and not fresh(shop["bowl"]).search_dirty


# ---- coupon preview at checkout ---------------------------------------------------------------


def test_the_checkout_previews_a_coupon_without_placing_or_spending(app, shop):
    coupon = make_coupon(shop["a"], code="NOWRUZ10", value=10, min_order_amount=0)
    make_coupon(shop["a"], code="BIG", value=10, min_order_amount=50_000_000)
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, shop["mina"].email)
    client.post("/cart/add", data={"product_id": shop["cloth"].id, "quantity": 1})
    client.post("/cart/add", data={"product_id": shop["bowl"].id, "quantity": 1})
    page = client.get("/checkout").get_data(as_text=True)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)

    def preview(code: str) -> str:
        response = client.post(
            "/checkout",
            data={"coupon": code, "preview_coupon": "1", "checkout_token": token},
        )
        assert response.status_code == 200
        return unescape(response.get_data(as_text=True))

    shown = preview("nowruz۱۰")  # any case, Persian digits
    assert "coupon-preview" in shown and "کارگاه سوزن‌دوزی" in shown
    assert "10,000 toman" in shown or "10,000" in shown  # 10 % of 1,000,000 rials
    assert 'value="nowruz۱۰"' in shown  # kept for placing
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 0
    db.session.expire_all()
    assert coupon.uses == 0
    assert "No shop in your cart has this coupon code." in preview("NOPE")
    assert "under the coupon's minimum order" in preview("BIG")
    assert "Type a coupon code" in preview("")
    hostile = client.post(
        "/checkout",
        data={"coupon": "<script>" + "x" * 500, "preview_coupon": "1", "checkout_token": token},
    )
    assert hostile.status_code == 200 and "<script>x" not in hostile.get_data(as_text=True)
