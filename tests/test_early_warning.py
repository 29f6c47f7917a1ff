"""Early warning (/admin/warnings): a hand-built market with sellers and orders in each state,
and the lists it must give, for the province and for one county."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import ProductStatus, SellerStatus
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.disputes.models import OrderProblem, ProblemKind, ProblemStatus
from app.orders.models import Order, OrderStatus, OrderStatusChange
from app.program import offline, warnings
from app.program.offline import OfflineLineInput
from tests import factories
from tests.helpers import client_for
from tests.test_order_flow import place

DAY = timedelta(days=1)


def _ids(report: warnings.Warnings, key: str) -> set[int]:
    (one,) = [w for w in report.lists if w.key == key]
    assert one.total == len(one.items)
    return {item.id for item in one.items}


def _age_order(order_id: int, days: int) -> None:
    back = utcnow() - days * DAY
    db.session.execute(
        sa.update(OrderStatusChange)
        .where(OrderStatusChange.order_id == order_id)
        .values(created_at=back)
    )
    db.session.execute(sa.update(Order).where(Order.id == order_id).values(created_at=back))
    db.session.commit()


@pytest.fixture
def market(app):  # type: ignore[no-untyped-def]
    now = utcnow()
    here, there = factories.county("zahedan"), factories.county("chabahar")

    def seller(county, approved_days_ago, status=SellerStatus.APPROVED, phone="09151234567"):  # type: ignore[no-untyped-def]
        row = factories.seller(status=status, county_row=county)
        row.approved_at = now - approved_days_ago * DAY
        row.phone = phone
        db.session.commit()
        return row

    idle = seller(here, 20)
    idle_no_phone = seller(here, 15, phone=None)
    new = seller(here, 5)  # approved 5 days ago: not yet
    idle_there = seller(there, 30)
    seller(here, 40, status=SellerStatus.SUSPENDED)  # suspended: not the programme's to chase
    with_draft = seller(here, 20)
    factories.product(with_draft, status=ProductStatus.DRAFT)  # a draft is not a listing

    shop = seller(here, 100)
    unsold = factories.product(shop, title="نخل بافی")
    sold_offline = factories.product(shop, title="سبد")
    fresh_listing = factories.product(shop, title="تازه")
    sold_out = factories.product(shop, title="ناموجود", stock=0)
    for product, days in [(unsold, 70), (sold_offline, 70), (fresh_listing, 10), (sold_out, 10)]:
        product.published_at = now - days * DAY
    db.session.commit()
    staff = factories.user(role=factories.Role.STAFF, email="warn-staff@example.com")
    offline.record_offline_sale(
        shop, staff.id, sold_on=(now - 3 * DAY).date(), place="بازارچه",
        lines=[OfflineLineInput(sold_offline.id, "", 1, 500_000)],
    )  # fmt: skip

    customer = factories.user(email="buyer-warn@example.com")
    late = place(customer, (fresh_listing, 1)).orders[0]
    recent = place(customer, (fresh_listing, 1)).orders[0]
    _age_order(late.id, 3)
    _age_order(recent.id, 1)
    cancelled = place(customer, (fresh_listing, 1)).orders[0]
    db.session.execute(
        sa.update(Order).where(Order.id == cancelled.id).values(status=OrderStatus.CANCELLED)
    )
    _age_order(cancelled.id, 5)

    def problem(order, days, status=ProblemStatus.OPEN):  # type: ignore[no-untyped-def]
        row = OrderProblem(
            order_id=order.id, customer_id=customer.id, seller_id=shop.id,
            kind=ProblemKind.DAMAGED, description="شکسته رسید", status=status,
            created_at=now - days * DAY,
        )  # fmt: skip
        db.session.add(row)
        db.session.commit()
        return row

    unanswered = problem(late, 3)
    answered = problem(recent, 4, ProblemStatus.ANSWERED)
    too_new = problem(cancelled, 1)
    return {
        "here": here, "there": there, "idle": idle, "idle_no_phone": idle_no_phone, "new": new,
        "idle_there": idle_there, "with_draft": with_draft, "unsold": unsold,
        "sold_offline": sold_offline, "sold_out": sold_out, "late": late, "recent": recent,
        "unanswered": unanswered, "answered": answered, "too_new": too_new, "staff": staff,
    }  # fmt: skip


def test_the_lists_name_who_needs_help(market) -> None:  # type: ignore[no-untyped-def]
    m = market
    province = warnings.early_warnings()
    assert _ids(province, "idle_sellers") == {
        m["idle"].id,
        m["idle_no_phone"].id,
        m["idle_there"].id,
        m["with_draft"].id,
    }
    assert _ids(province, "unsold_listings") == {m["unsold"].id}
    assert _ids(province, "sold_out") == {m["sold_out"].id}
    assert _ids(province, "late_orders") == {m["late"].id}
    assert _ids(province, "unanswered_problems") == {m["unanswered"].id}
    # Those waiting longest come first.
    (idle,) = [w for w in province.lists if w.key == "idle_sellers"]
    assert idle.items[0].id == m["idle_there"].id

    here = warnings.early_warnings(m["here"].id)
    assert m["idle_there"].id not in _ids(here, "idle_sellers")
    there = warnings.early_warnings(m["there"].id)
    assert _ids(there, "idle_sellers") == {m["idle_there"].id}
    assert there.total == 1


def test_the_page_shows_the_lists_and_refuses_a_bad_county(app, market) -> None:  # type: ignore[no-untyped-def]
    staff = client_for(app, market["staff"])
    page = staff.get(f"/admin/warnings?county={market['here'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/admin/sellers/{market['idle'].id}" in html
    assert f"/admin/sellers/{market['idle_there'].id}" not in html
    assert "tel:09151234567" in html
    assert f"/admin/problems/{market['unanswered'].id}" in html
    for bad in ("999999", "abc", "-1", "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶۷۸۹"):
        assert staff.get(f"/admin/warnings?county={bad}").status_code == 400
    assert staff.get("/admin/warnings").status_code == 200


def test_each_county_officer_gets_their_county_digest(app, market) -> None:  # type: ignore[no-untyped-def]
    from app.catalog import scope as scopes
    from app.notifications.digests import send_warning_digests
    from app.notifications.outbox import sent_mail

    officer = factories.user(role=factories.Role.STAFF, email="officer-here@example.com")
    scopes.set_scope(officer, county_slug="zahedan")
    other = factories.user(role=factories.Role.STAFF, email="officer-there@example.com")
    scopes.set_scope(other, county_slug="chabahar")
    send_warning_digests()
    mails = {m.to: m for m in sent_mail(app.config["MAIL_DIR"])}
    here = warnings.early_warnings(market["here"].id)
    assert here.total > 0
    # Each officer hears of their own county's count; province staff hear nothing.
    assert "officer-here@example.com" in mails and "officer-there@example.com" in mails
    assert "warn-staff@example.com" not in mails
    from app.core.formatting import persian_digits

    assert persian_digits(here.total) in mails["officer-here@example.com"].subject
    assert f"/admin/warnings?county={market['here'].id}" in mails["officer-here@example.com"].text
