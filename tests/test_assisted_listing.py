"""Listing on a seller's behalf: the seller's consent by a texted code read out to staff, the
staff's form and stock edits with the "listed with help" marker and an audit row for every
change (staff as actor, the seller as target), refusals without consent or after revocation,
the seller's take-over, and the scope (another county's seller: 404)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import assisted
from app.catalog import scope as scopes
from app.catalog.models import ListingConsent, Product, ProductStatus
from app.core.extensions import db
from app.core.inputs import ascii_digits
from app.notifications.sms_gateway import written_sms
from tests import factories
from tests.test_access import client_as


def texts(app) -> list:  # type: ignore[no-untyped-def]
    return written_sms(app.config["SMS_DIR"])


def last_code(app) -> str:  # type: ignore[no-untyped-def]
    return re.search(r"\d{6}", ascii_digits(texts(app)[0].text)).group(0)


def audit_rows(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


@pytest.fixture
def world(app):  # type: ignore[no-untyped-def]
    staff = factories.user(Role.STAFF, email="helper@example.com", name="مریم کارشناس")
    owner = factories.with_mobile(factories.user(Role.SELLER, email="shop@example.com"))
    county = factories.county("zahedan")
    seller = factories.seller(owner=owner, county_row=county, name="کارگاه بلوچ")
    product = factories.product(seller, title="سبد حصیری", stock=5)
    category = factories.category()
    return {
        "staff": staff,
        "owner": owner,
        "seller": seller,
        "product": product,
        "category": category,
        "county": county,
    }


def consent(app, client, seller) -> None:  # type: ignore[no-untyped-def]
    asked = client.post(f"/admin/sellers/{seller.id}/assist/ask")
    assert asked.status_code == 302
    done = client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": last_code(app)})
    assert done.status_code == 302, done.get_data(as_text=True)


def listing(category, **fields: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {
        "title": "رومیزی سوزن‌دوزی",
        "description": "دوخت دست",
        "category_id": str(category.id),
        "price_toman": "۱۲۵٬۰۰۰",
        "stock": "۳",
        "status": "draft",
    }
    data.update(fields)
    return data


def test_consent_is_asked_by_a_texted_code_and_recorded_with_an_audit_row(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, staff = world["seller"], world["staff"]
    client = client_as(app, staff)
    page = client.get(f"/admin/sellers/{seller.id}/assist")
    assert page.status_code == 200
    assert "09121234567" in ascii_digits(page.get_data(as_text=True))
    assert client.post(f"/admin/sellers/{seller.id}/assist/ask").status_code == 302
    sent = texts(app)
    assert len(sent) == 1 and sent[0].to == "09121234567"
    assert "مریم کارشناس" in sent[0].text and "کارگاه بلوچ" in sent[0].text
    # A wrong code is refused with a clear message; nothing is recorded.
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": wrong})
    assert refused.status_code == 400
    assert "error" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ListingConsent.id))) == 0
    assert client.get(f"/admin/sellers/{seller.id}/assist/listings/new").status_code == 403
    # The right code (Persian digits too) records the consent, audited.
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    done = client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": persian})
    assert done.status_code == 302
    row = db.session.scalar(sa.select(ListingConsent))
    assert row.seller_id == seller.id and row.staff_id == staff.id
    assert row.method == "sms_code" and row.mobile == "09121234567" and row.revoked_at is None
    [event] = audit_rows("listing_consent.grant")
    assert event.actor_id == staff.id and event.target_type == "seller"
    assert event.target_id == seller.id
    # The code is used up.
    again = client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": code})
    assert again.status_code == 400


def test_wrong_tries_are_limited(app, world) -> None:  # type: ignore[no-untyped-def]
    seller = world["seller"]
    client = client_as(app, world["staff"])
    client.post(f"/admin/sellers/{seller.id}/assist/ask")
    code = last_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": wrong})
    late = client.post(f"/admin/sellers/{seller.id}/assist/confirm", data={"code": code})
    assert late.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(ListingConsent.id))) == 0


def test_a_seller_without_a_mobile_number_cannot_be_asked(app, world) -> None:  # type: ignore[no-untyped-def]
    other = factories.seller(name="بی‌شماره")
    client = client_as(app, world["staff"])
    assert client.post(f"/admin/sellers/{other.id}/assist/ask").status_code == 302
    assert texts(app) == []
    # The shop's phone counts when it is a mobile number.
    other.phone = "۰۹۱۵ ۱۱۱ ۲۲۳۳"
    db.session.commit()
    client.post(f"/admin/sellers/{other.id}/assist/ask")
    assert texts(app)[0].to == "09151112233"


def test_without_consent_every_assist_change_is_refused(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, product, category = world["seller"], world["product"], world["category"]
    client = client_as(app, world["staff"])
    base = f"/admin/sellers/{seller.id}/assist"
    assert client.get(f"{base}/listings/new").status_code == 403
    assert client.post(f"{base}/listings/new", data=listing(category)).status_code == 403
    assert client.get(f"{base}/listings/{product.id}/edit").status_code == 403
    edit = client.post(f"{base}/listings/{product.id}/edit", data=listing(category, title="x"))
    assert edit.status_code == 403
    quick = client.post(f"{base}/listings/{product.id}/quick", data={"stock": "9"})
    assert quick.status_code == 403
    assert client.post(f"{base}/photos/staged").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1
    assert db.session.get(Product, product.id).stock == 5
    assert db.session.get(Product, product.id).assisted_by_id is None
    # The services refuse too, whatever the route does.
    with pytest.raises(assisted.NoConsent):
        from app.catalog import listings

        listings.quick_update(product, price_amount=None, stock=7, helper_id=world["staff"].id)
    assert db.session.get(Product, product.id).stock == 5


def test_staff_create_edit_and_stock_changes_are_marked_and_audited(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, staff, product, category = (
        world["seller"],
        world["staff"],
        world["product"],
        world["category"],
    )
    client = client_as(app, staff)
    consent(app, client, seller)
    base = f"/admin/sellers/{seller.id}/assist"
    assert client.get(f"{base}/listings/new").status_code == 200
    made = client.post(f"{base}/listings/new", data=listing(category))
    assert made.status_code == 302, made.get_data(as_text=True)
    new_id = int(re.search(r"/listings/(\d+)/edit", made.headers["Location"])[1])
    new = db.session.get(Product, new_id)
    assert new.seller_id == seller.id and new.assisted_by_id == staff.id
    assert new.price_amount == 1_250_000 and new.stock == 3
    [created] = audit_rows("listing.create")
    assert created.actor_id == staff.id and created.target_type == "seller"
    assert created.target_id == seller.id
    assert created.data["assisted"] is True and created.data["product_id"] == new_id
    # Edit the seller's own listing.
    assert client.get(f"{base}/listings/{product.id}/edit").status_code == 200
    edited = client.post(
        f"{base}/listings/{product.id}/edit",
        data=listing(
            category,
            title="سبد حصیری بزرگ",
            seen_price_amount=str(product.price_amount),
            seen_stock="5",
        ),
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)
    db.session.expire_all()
    changed = db.session.get(Product, product.id)
    assert changed.title == "سبد حصیری بزرگ" and changed.assisted_by_id == staff.id
    [update] = audit_rows("listing.update")
    assert update.actor_id == staff.id and update.target_id == seller.id
    assert update.data["assisted"] is True and update.data["product_id"] == product.id
    # Stock from the list.
    quick = client.post(
        f"{base}/listings/{product.id}/quick", data={"stock": "۹", "seen_stock": "3"}
    )
    assert quick.status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 9
    [stock] = audit_rows("listing.quick_update")
    assert stock.actor_id == staff.id and stock.target_id == seller.id
    assert stock.data["stock"] == [3, 9] and stock.data["assisted"] is True
    # Staff see the marker.
    client.set_cookie("locale", "en")
    assert "Listed with help" in client.get(f"/admin/listings/{product.id}").get_data(as_text=True)
    assert "Listed with help" in client.get(base).get_data(as_text=True)


def test_the_seller_sees_the_marker_takes_over_and_revokes(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, staff, owner, product = (
        world["seller"],
        world["staff"],
        world["owner"],
        world["product"],
    )
    client = client_as(app, staff)
    consent(app, client, seller)
    base = f"/admin/sellers/{seller.id}/assist"
    client.post(f"{base}/listings/{product.id}/quick", data={"stock": "8"})
    me = client_as(app, owner)
    me.set_cookie("locale", "en")
    table = me.get("/seller/listings").get_data(as_text=True)
    assert "Listed with help" in table
    form = me.get(f"/seller/listings/{product.id}/edit").get_data(as_text=True)
    assert "Listed with help" in form and "Take it over" in form
    dashboard = me.get("/seller/").get_data(as_text=True)
    assert "مریم کارشناس" in dashboard and "Withdraw consent" in dashboard
    # Take over: the marker goes, audited with the seller as actor.
    assert me.post(f"/seller/listings/{product.id}/take-over").status_code == 302
    db.session.expire_all()
    assert db.session.get(Product, product.id).assisted_by_id is None
    [taken] = audit_rows("listing.take_over")
    assert taken.actor_id == owner.id and taken.target_id == product.id
    assert "Listed with help" not in me.get("/seller/listings").get_data(as_text=True)
    # Revoke: audited, and every assist route refuses again.
    assert me.post("/seller/consent/revoke").status_code == 302
    [revoked] = audit_rows("listing_consent.revoke")
    assert revoked.actor_id == owner.id and revoked.target_id == seller.id
    assert db.session.scalar(sa.select(ListingConsent)).revoked_at is not None
    refused = client.post(f"{base}/listings/{product.id}/quick", data={"stock": "1"})
    assert refused.status_code == 403
    assert client.get(f"{base}/listings/new").status_code == 403
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 8


def test_a_consent_ends_after_180_days(app, world) -> None:  # type: ignore[no-untyped-def]
    seller = world["seller"]
    client = client_as(app, world["staff"])
    consent(app, client, seller)
    row = db.session.scalar(sa.select(ListingConsent))
    row.granted_at = row.granted_at - timedelta(days=assisted.CONSENT_DAYS + 1)
    db.session.commit()
    assert client.get(f"/admin/sellers/{seller.id}/assist/listings/new").status_code == 403


def test_scoped_staff_assist_their_own_sellers_only(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, product = world["seller"], world["product"]
    officer = factories.user(Role.STAFF, email="officer@example.com")
    factories.county("chabahar")
    scopes.set_scope(officer, county_slug="chabahar")
    client = client_as(app, officer)
    base = f"/admin/sellers/{seller.id}/assist"
    for method, url in (
        ("GET", base),
        ("POST", f"{base}/ask"),
        ("POST", f"{base}/confirm"),
        ("GET", f"{base}/listings/new"),
        ("GET", f"{base}/listings/{product.id}/edit"),
        ("POST", f"{base}/listings/{product.id}/quick"),
        ("POST", f"{base}/photos/staged"),
    ):
        assert client.open(url, method=method).status_code == 404, url
    assert texts(app) == []
    own = factories.user(Role.STAFF, email="own@example.com")
    scopes.set_scope(own, county_slug="zahedan")
    assert client_as(app, own).get(base).status_code == 200


def test_hostile_input_gives_no_500(app, world) -> None:  # type: ignore[no-untyped-def]
    seller, product, category = world["seller"], world["product"], world["category"]
    client = client_as(app, world["staff"])
    base = f"/admin/sellers/{seller.id}/assist"
    for code in ("<script>", "1" * 5000, "", "۱۲۳"):
        assert client.post(f"{base}/confirm", data={"code": code}).status_code == 400
    assert client.get("/admin/sellers/99999999999999999999/assist").status_code == 404
    consent(app, client, seller)
    for data in (
        {"stock": "abc"},
        {"stock": "-1"},
        {"stock": "9" * 40},
        {"price_toman": "<b>", "stock": ""},
    ):
        assert client.post(f"{base}/listings/{product.id}/quick", data=data).status_code == 302
    assert client.get(f"{base}/listings/999999/edit").status_code == 404
    bad = client.post(
        f"{base}/listings/new",
        data=listing(category, title="", category_id="99999999999999999999", stock="x"),
    )
    assert bad.status_code == 400
    other = factories.product(factories.seller(name="دیگری"), title="مال دیگری")
    assert client.get(f"{base}/listings/{other.id}/edit").status_code == 404
    db.session.expire_all()
    assert db.session.get(Product, product.id).stock == 5
    assert db.session.get(Product, other.id).status == ProductStatus.PUBLISHED
