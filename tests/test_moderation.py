"""Listing moderation: staff hide a listing with a reason, the seller is told, fixes and resubmits
it, staff release it; the queue, its filters, its CSV, and the seller queue's CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import indexing
from app.catalog.models import Product, ProductImage, ProductStatus, SellerStatus
from app.core.extensions import db
from app.notifications.outbox import SentMail, sent_mail
from app.search import SearchQuery
from app.web.messages import ERROR_TEXT
from tests import factories
from tests.helpers import flashes

REASON = "عکس با کالای فروخته‌شده یکی نیست."
BOM = "\ufeff"


# --- helpers -------------------------------------------------------------------------------------


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.get_data(as_text=True))


def message(code: str) -> str:
    with force_locale("en"):
        return str(ERROR_TEXT[code])


def fresh(product_id: int) -> Product:
    db.session.expire_all()
    product = db.session.get(Product, product_id)
    assert product is not None
    return product


def events(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return list(db.session.scalars(stmt))


def mail_to(app, email: str) -> list[SentMail]:  # type: ignore[no-untyped-def]
    return [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == email]


def found(text: str) -> list[int]:
    return indexing.backend().search(SearchQuery(text=text, per_page=100)).ids


def csv_rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    body = response.get_data()
    assert body.startswith(BOM.encode("utf-8")), body[:20]
    return list(csv.DictReader(io.StringIO(body.decode("utf-8")[1:])))


def hide(client, product: Product, reason: str = REASON, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(f"/admin/listings/{product.id}/hide", data={"reason": reason, **extra})


def seen_stamp(client, product_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/admin/listings/{product_id}").get_data(as_text=True)
    match = re.search(r'name="seen" value="([^"]+)"', page)
    assert match, "the release form carries the listing's stamp"
    return unescape(match.group(1))


def release(client, product: Product, note: str = "", seen: str | None = None):  # type: ignore[no-untyped-def]
    data = {"note": note}
    if seen is not None:
        data["seen"] = seen
    return client.post(f"/admin/listings/{product.id}/release", data=data)


def resubmit(client, product: Product):  # type: ignore[no-untyped-def]
    """The seller saves the (fixed) listing as a draft: the resubmission."""
    return client.post(
        f"/seller/listings/{product.id}/edit",
        data={
            "title": product.title,
            "description": "عکس تازه از همین رومیزی.",
            "category_id": product.category_id,
            "price_toman": str(product.price_amount // 10),
            "stock": str(product.stock),
            "status": "draft",
        },
    )


def queue_ids(client, **args: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get("/admin/listings", query_string=args)
    assert response.status_code == 200
    return [
        int(n) for n in re.findall(r'<td><a href="/admin/listings/(\d+)">', response.get_data(True))
    ]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def staff(app):  # type: ignore[no-untyped-def]
    user = factories.user(Role.STAFF, name="Mahsa")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, user.email)
    return user, client


@pytest.fixture
def shop(app):  # type: ignore[no-untyped-def]
    """An approved seller who reads English, logged in on their own client."""
    owner = factories.user(Role.SELLER, name="Golbibi", email="golbibi@example.com")
    owner.locale = "en"
    db.session.commit()
    seller = factories.seller(owner=owner, name="سوزن‌دوزی گل‌بی‌بی")
    client = app.test_client()
    client.set_cookie("locale", "en")
    factories.login(client, owner.email)
    return seller, client


@pytest.fixture
def listing(shop):  # type: ignore[no-untyped-def]
    seller, _ = shop
    product = factories.product(seller, title="رومیزی سوزن‌دوزی بلوچ")
    product.published_at = product.created_at
    db.session.commit()
    return product


# --- hide ----------------------------------------------------------------------------------------


def test_hiding_takes_the_listing_off_the_shop_and_tells_the_seller(app, staff, shop, listing):
    reviewer, client = staff
    seller, seller_client = shop
    indexing.reindex()
    assert found("رومیزی") == [listing.id]
    assert app.test_client().get(f"/p/{listing.id}").status_code == 200  # now in the page cache

    response = hide(client, listing, expected="published")

    assert response.status_code == 302
    product = fresh(listing.id)
    assert product.status == ProductStatus.HIDDEN_BY_STAFF
    assert product.hidden_reason == REASON
    assert product.search_dirty  # the index owes the removal, recorded in the same transaction
    assert app.test_client().get(f"/p/{listing.id}").status_code == 404
    assert app.test_client().get(f"/api/v1/products/{listing.id}").status_code == 404
    indexing.sync_dirty()
    assert found("رومیزی") == []

    [row] = events("listing.hide")
    assert (row.actor_id, row.target_type, row.target_id) == (reviewer.id, "product", listing.id)
    assert row.reason == REASON
    assert row.data["from"] == "published" and row.data["restore"] == "published"

    [mail] = mail_to(app, seller.user.email)
    assert mail.language == "en"
    assert "was hidden by programme staff" in mail.subject and listing.title in mail.subject
    assert REASON in mail.text and REASON in mail.html
    assert f"/seller/listings/{listing.id}/edit" in mail.text

    edit_page = html_of(seller_client.get(f"/seller/listings/{listing.id}/edit"))
    assert REASON in edit_page and "Programme staff hid this listing." in edit_page
    table = html_of(seller_client.get("/seller/listings"))
    assert REASON in table and "Fix and resubmit" in table


def test_a_persian_seller_gets_the_mail_in_persian(app, staff, shop, listing):
    _, client = staff
    seller, _ = shop
    seller.user.locale = "fa"
    db.session.commit()

    hide(client, listing)

    [mail] = mail_to(app, seller.user.email)
    assert mail.language == "fa"
    assert REASON in mail.text


def test_the_queue_form_hides_and_comes_back_to_the_queue(staff, listing):
    _, client = staff
    back = "/admin/listings?tab=published"
    response = hide(client, listing, expected="published", next=back)
    assert response.status_code == 302
    assert response.headers["Location"] == back
    # an address off the site is not followed
    other = factories.product(listing.seller, title="دومی")
    response = hide(client, other, next="https://evil.example/")
    assert response.headers["Location"].endswith(f"/admin/listings/{other.id}")


@pytest.mark.parametrize("reason", ["", "   \n ", "x" * 2001])
def test_hiding_needs_a_reason_of_sensible_length(app, staff, shop, listing, reason):
    _, client = staff
    seller, _ = shop

    response = hide(client, listing, reason)

    assert response.status_code == 400
    text = html_of(response)
    assert message("too_long" if reason.strip() else "reason_required") in text
    assert fresh(listing.id).status == ProductStatus.PUBLISHED
    assert fresh(listing.id).hidden_reason is None
    assert events() == []
    assert mail_to(app, seller.user.email) == []


def test_hiding_a_hidden_listing_changes_nothing(app, staff, shop, listing):
    _, client = staff
    seller, _ = shop
    hide(client, listing)
    before = len(mail_to(app, seller.user.email))

    response = hide(client, listing, "another reason")

    assert response.status_code == 302
    assert "This listing is already hidden." in flashes(client.get(response.headers["Location"]))
    assert fresh(listing.id).hidden_reason == REASON
    assert len(events("listing.hide")) == 1
    assert len(mail_to(app, seller.user.email)) == before


def test_a_stale_hide_form_changes_nothing(staff, listing):
    _, client = staff
    # the staff member saw a draft; the seller has published it since
    response = hide(client, listing, expected="draft")

    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert any("changed since you opened the page" in m for m in flashes(page))
    assert fresh(listing.id).status == ProductStatus.PUBLISHED
    assert events() == []


def test_missing_and_absurd_listings_are_not_found(staff):
    _, client = staff
    for path in ("/admin/listings/999999", "/admin/listings/99999999999999999999"):
        assert client.get(path).status_code == 404
        assert client.post(path + "/hide", data={"reason": REASON}).status_code == 404
        assert client.post(path + "/release", data={}).status_code == 404
    assert client.get("/admin/listings/1/hide").status_code == 405
    assert events() == []


# --- resubmit and release ------------------------------------------------------------------------


def test_a_fixed_listing_waits_for_review_and_release_puts_it_back_on_sale(
    app, staff, shop, listing
):
    reviewer, client = staff
    seller, seller_client = shop
    hide(client, listing)

    assert resubmit(seller_client, listing).status_code == 302
    told = html_of(seller_client.get(f"/seller/listings/{listing.id}/edit"))
    assert "sent back to programme staff" in told

    product = fresh(listing.id)
    assert product.status == ProductStatus.DRAFT
    assert product.hidden_reason == REASON  # kept: this is the resubmission
    [step] = events("listing.resubmit")
    assert step.actor_id == seller.user_id and step.target_id == listing.id
    assert queue_ids(client) == [listing.id]  # the "to review" tab is the default
    assert queue_ids(client, tab="review") == [listing.id]
    assert app.test_client().get(f"/api/v1/products/{listing.id}").status_code == 404
    waiting = html_of(seller_client.get(f"/seller/listings/{listing.id}/edit"))
    assert "You resubmitted this listing." in waiting and REASON in waiting
    assert "Resubmitted, waiting for review" in html_of(seller_client.get("/seller/listings"))
    detail = html_of(client.get(f"/admin/listings/{listing.id}"))
    assert "publishes the listing again" in detail
    assert "Listing hidden" in detail and "Listing resubmitted by the seller" in detail

    response = release(client, listing, "ممنون از اصلاح.", seen=seen_stamp(client, listing.id))

    assert response.status_code == 302
    product = fresh(listing.id)
    assert product.status == ProductStatus.PUBLISHED
    assert product.hidden_reason is None
    assert app.test_client().get(f"/api/v1/products/{listing.id}").status_code == 200
    assert queue_ids(client) == []
    [row] = events("listing.release")
    assert row.actor_id == reviewer.id and row.reason == "ممنون از اصلاح."
    assert row.data["to"] == "published" and row.data["hidden_reason"] == REASON
    last = mail_to(app, seller.user.email)[0]  # newest first
    assert "is back in the shop" in last.subject
    assert "ممنون از اصلاح." in last.text
    indexing.sync_dirty()
    assert found("رومیزی") == [listing.id]


def test_a_draft_hidden_by_staff_is_released_as_a_draft(app, staff, shop):
    _, client = staff
    seller, seller_client = shop
    draft = factories.product(seller, title="کوزه سفالی", status=ProductStatus.DRAFT)
    hide(client, draft, expected="draft")
    resubmit(seller_client, draft)

    response = release(client, draft)

    assert response.status_code == 302
    product = fresh(draft.id)
    assert product.status == ProductStatus.DRAFT and product.hidden_reason is None
    assert "was released" in mail_to(app, seller.user.email)[0].subject
    # now the seller may publish it again themselves
    seller_client.post(f"/seller/listings/{draft.id}/status", data={"status": "published"})
    assert fresh(draft.id).status == ProductStatus.PUBLISHED


def test_a_release_leaves_a_draft_when_the_listing_cannot_be_published(staff, shop, listing):
    _, client = staff
    _, seller_client = shop
    hide(client, listing)
    db.session.execute(sa.delete(ProductImage).where(ProductImage.product_id == listing.id))
    db.session.commit()
    resubmit(seller_client, listing)
    assert "stays a draft" in html_of(client.get(f"/admin/listings/{listing.id}"))

    release(client, listing)

    product = fresh(listing.id)
    assert product.status == ProductStatus.DRAFT and product.hidden_reason is None


def test_hiding_a_resubmission_again_keeps_where_it_goes_back_to(app, staff, shop, listing):
    _, client = staff
    seller, seller_client = shop
    hide(client, listing)
    resubmit(seller_client, listing)

    hide(client, listing, "هنوز عکس درست نیست.", expected="resubmitted")

    product = fresh(listing.id)
    assert product.status == ProductStatus.HIDDEN_BY_STAFF
    assert product.hidden_reason == "هنوز عکس درست نیست."
    assert events("listing.hide")[-1].data["restore"] == "published"
    assert "هنوز عکس درست نیست." in mail_to(app, seller.user.email)[0].text
    resubmit(seller_client, listing)
    release(client, listing)
    assert fresh(listing.id).status == ProductStatus.PUBLISHED


def test_only_a_resubmission_can_be_released(app, staff, shop, listing):
    _, client = staff
    seller, _ = shop
    for state in ("published", "hidden"):
        if state == "hidden":
            hide(client, listing)
        before = (fresh(listing.id).status, fresh(listing.id).hidden_reason, len(events()))
        mails = len(mail_to(app, seller.user.email))

        response = release(client, listing)

        assert response.status_code == 302
        page = client.get(response.headers["Location"])
        assert "Only a listing the seller has resubmitted can be released." in flashes(page)
        after = fresh(listing.id)
        assert (after.status, after.hidden_reason, len(events())) == before
        assert len(mail_to(app, seller.user.email)) == mails


def test_a_release_form_older_than_the_sellers_last_edit_changes_nothing(staff, shop, listing):
    _, client = staff
    _, seller_client = shop
    hide(client, listing)
    resubmit(seller_client, listing)
    stamp = seen_stamp(client, listing.id)
    # the seller changes the listing again while staff look at it
    seller_client.post(
        f"/seller/listings/{listing.id}/edit",
        data={
            "title": "رومیزی با عکس دیگر",
            "description": "",
            "category_id": listing.category_id,
            "price_toman": "125000",
            "stock": "5",
            "status": "draft",
        },
    )

    for seen in (stamp, "not a date"):
        response = release(client, listing, seen=seen)
        page = client.get(response.headers["Location"])
        assert any("changed the listing since you opened" in m for m in flashes(page))
        assert fresh(listing.id).hidden_reason == REASON
    assert events("listing.release") == []


def test_an_overlong_release_note_is_refused(staff, shop, listing):
    _, client = staff
    _, seller_client = shop
    hide(client, listing)
    resubmit(seller_client, listing)

    response = release(client, listing, "x" * 2001)

    assert response.status_code == 400
    assert message("too_long") in html_of(response)
    assert fresh(listing.id).hidden_reason == REASON


def test_the_seller_cannot_publish_around_the_review(staff, shop, listing):
    _, client = staff
    _, seller_client = shop
    hide(client, listing)
    resubmit(seller_client, listing)
    table = html_of(seller_client.get("/seller/listings"))
    assert f'action="/seller/listings/{listing.id}/status"' not in table  # no publish button

    seller_client.post(f"/seller/listings/{listing.id}/status", data={"status": "published"})

    assert fresh(listing.id).status == ProductStatus.DRAFT


def test_moderation_needs_a_csrf_token(csrf_app):
    staff = factories.user(Role.STAFF)
    product = factories.product()
    client = csrf_app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = factories.login_id(staff)
        sess["_fresh"] = True

    assert (
        client.post(f"/admin/listings/{product.id}/hide", data={"reason": REASON}).status_code
        == 400
    )
    assert fresh(product.id).status == ProductStatus.PUBLISHED

    page = client.get(f"/admin/listings/{product.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        f"/admin/listings/{product.id}/hide", data={"reason": REASON, "csrf_token": token}
    )
    assert response.status_code == 302
    assert fresh(product.id).status == ProductStatus.HIDDEN_BY_STAFF


def test_moderation_is_for_staff_only(app, listing):
    urls = [
        ("get", "/admin/listings"),
        ("get", "/admin/listings.csv"),
        ("get", f"/admin/listings/{listing.id}"),
        ("post", f"/admin/listings/{listing.id}/hide"),
        ("post", f"/admin/listings/{listing.id}/release"),
        ("get", "/admin/sellers.csv"),
        ("get", "/admin/offline-sales.csv"),
    ]
    for role in (Role.CUSTOMER, Role.SELLER):
        user = factories.user(role)
        client = app.test_client()
        factories.login(client, user.email)
        for method, url in urls:
            assert getattr(client, method)(url, data={"reason": REASON}).status_code == 403, url
    anonymous = app.test_client()
    for method, url in urls:
        assert getattr(anonymous, method)(url).status_code in (302, 401), url
    assert fresh(listing.id).status == ProductStatus.PUBLISHED
    assert events() == []


# --- the queue -----------------------------------------------------------------------------------


@pytest.fixture
def market(app, shop):  # type: ignore[no-untyped-def]
    seller, _ = shop
    zahedan, chabahar = factories.county(), factories.county()
    crafts, food = factories.sector(), factories.sector()
    textiles = factories.category()
    rugs = factories.category(parent=textiles)
    dates = factories.category()
    weaver = factories.seller(county_row=zahedan, sector_row=crafts, name="بافندگان زاهدان")
    grower = factories.seller(county_row=chabahar, sector_row=food, name="نخلستان چابهار")
    rug = factories.product(weaver, title="گلیم دستباف", category_row=rugs)
    rug.published_at = rug.created_at
    dates_box = factories.product(grower, title="خرمای مضافتی", category_row=dates)
    dates_box.published_at = dates_box.created_at
    hidden = factories.product(
        grower, title="ترشی انبه", status=ProductStatus.HIDDEN_BY_STAFF, category_row=dates
    )
    hidden.hidden_reason = "برچسب ندارد"
    draft = factories.product(weaver, title="گلیم نیمه‌کاره", status=ProductStatus.DRAFT)
    db.session.commit()
    return {
        "zahedan": zahedan, "chabahar": chabahar, "crafts": crafts, "food": food,
        "textiles": textiles, "dates": dates, "rug": rug, "dates_box": dates_box,
        "hidden": hidden, "draft": draft, "weaver": weaver,
    }  # fmt: skip


def test_the_queue_tabs(staff, market):
    _, client = staff
    m = market
    assert queue_ids(client) == []
    assert "No listings are waiting for review." in html_of(client.get("/admin/listings"))
    assert sorted(queue_ids(client, tab="published")) == sorted([m["rug"].id, m["dates_box"].id])
    assert queue_ids(client, tab="hidden") == [m["hidden"].id]
    assert len(queue_ids(client, tab="all")) == 4
    assert queue_ids(client, tab="bogus") == []  # an unknown tab is the review tab
    page = html_of(client.get("/admin/listings", query_string={"tab": "hidden"}))
    assert "برچسب ندارد" in page and "نخلستان چابهار" in page


def test_the_queue_searches_and_filters(staff, market):
    _, client = staff
    m = market
    assert sorted(queue_ids(client, tab="all", q="گلیم")) == sorted([m["rug"].id, m["draft"].id])
    assert sorted(queue_ids(client, tab="all", q="چابهار")) == sorted(
        [m["dates_box"].id, m["hidden"].id]
    )
    assert sorted(queue_ids(client, tab="all", county=str(m["zahedan"].id))) == sorted(
        [m["rug"].id, m["draft"].id]
    )
    assert queue_ids(client, tab="published", sector=str(m["food"].id)) == [m["dates_box"].id]
    # a category takes its sub-categories along
    assert queue_ids(client, tab="all", category=str(m["textiles"].id)) == [m["rug"].id]
    empty = client.get("/admin/listings", query_string={"tab": "all", "q": "100%_"})
    assert "No listings match this filter." in html_of(empty)
    for bad in (
        {"county": "abc"},
        {"category": "99999999999999"},
        {"page": "-3"},
        {"sector": "۰"},
        {"county": "9" * 5000},
    ):
        assert client.get("/admin/listings", query_string={"tab": "all", **bad}).status_code == 200


def test_the_queue_is_paginated(app, staff, shop):
    _, client = staff
    seller, _ = shop
    per_page = app.config["PAGE_SIZE"]
    for n in range(per_page + 2):
        factories.product(seller, title=f"محصول {n}", with_image=False)
    first = queue_ids(client, tab="all")
    second = queue_ids(client, tab="all", page="2")
    assert len(first) == per_page and len(second) == 2
    assert not set(first) & set(second)


def test_the_dashboard_counts_listings_waiting_for_review(staff, shop, listing):
    _, client = staff
    _, seller_client = shop
    hide(client, listing)
    resubmit(seller_client, listing)

    page = client.get("/admin/").get_data(as_text=True)

    assert 'href="/admin/listings?tab=review"' in page
    assert re.search(r"Listings waiting for review</a></dt><dd>1</dd>", page)


# --- exports -------------------------------------------------------------------------------------


def test_the_listings_csv_follows_the_filters(staff, market):
    _, client = staff
    m = market
    rows = csv_rows(client.get("/admin/listings.csv", query_string={"tab": "all"}))
    assert len(rows) == 4
    by_id = {int(r["product_id"]): r for r in rows}
    assert by_id[m["hidden"].id]["title"] == "ترشی انبه"
    assert by_id[m["hidden"].id]["hidden_reason"] == "برچسب ندارد"
    assert by_id[m["hidden"].id]["moderation"] == "hidden"
    assert by_id[m["rug"].id]["seller"] == "بافندگان زاهدان"

    response = client.get(
        "/admin/listings.csv", query_string={"tab": "all", "county": str(m["chabahar"].id)}
    )
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert sorted(int(r["product_id"]) for r in csv_rows(response)) == sorted(
        [m["dates_box"].id, m["hidden"].id]
    )
    assert csv_rows(client.get("/admin/listings.csv")) == []  # nothing waits for review
    assert 'href="/admin/listings.csv?tab=published"' in client.get(
        "/admin/listings?tab=published"
    ).get_data(as_text=True)


def test_the_sellers_csv_follows_the_queue_filters(staff, market):
    _, client = staff
    m = market
    applicant = factories.seller(
        status=SellerStatus.APPLIED, county_row=m["zahedan"], name="سفال کلپورگان"
    )

    rows = csv_rows(client.get("/admin/sellers.csv"))  # the queue: applications
    assert [r["business_name"] for r in rows] == ["سفال کلپورگان"]
    assert rows[0]["registration_code"] == applicant.registration_code
    assert rows[0]["status"] == "applied" and rows[0]["applied_at"]
    assert rows[0]["approved_at"] == ""

    everyone = csv_rows(client.get("/admin/sellers.csv", query_string={"status": "all"}))
    assert len(everyone) == 4
    in_zahedan = csv_rows(
        client.get(
            "/admin/sellers.csv", query_string={"status": "all", "county": str(m["zahedan"].id)}
        )
    )
    assert sorted(r["business_name"] for r in in_zahedan) == ["بافندگان زاهدان", "سفال کلپورگان"]
    searched = csv_rows(
        client.get("/admin/sellers.csv", query_string={"status": "all", "q": "نخل"})
    )
    assert [r["business_name"] for r in searched] == ["نخلستان چابهار"]
    page = client.get("/admin/sellers", query_string={"county": str(m["zahedan"].id)})
    assert page.status_code == 200
    assert "/admin/sellers.csv?" in page.get_data(as_text=True)
    assert (
        client.get("/admin/sellers", query_string={"county": "x", "sector": "-1"}).status_code
        == 200
    )


def test_the_offline_sales_csv(staff, market):
    _, client = staff
    response = client.post(
        "/admin/offline-sales/new",
        data={
            "seller_id": str(market["weaver"].id), "sold_on": date.today().isoformat(),
            "place": "نمایشگاه زاهدان", "line-0-product_id": "", "line-0-title": "گلیم",
            "line-0-quantity": "2", "line-0-amount": "30000", "note": "",
        },
    )  # fmt: skip
    assert response.status_code == 302

    rows = csv_rows(client.get("/admin/offline-sales.csv"))

    assert len(rows) == 1
    assert rows[0]["place"] == "نمایشگاه زاهدان" and rows[0]["products"] == "گلیم × 2"
    assert rows[0]["amount_toman"] == "30000" and rows[0]["seller"] == "بافندگان زاهدان"
    other = csv_rows(client.get("/admin/offline-sales.csv", query_string={"seller_id": "999"}))
    assert other == []
    huge = client.get("/admin/offline-sales.csv", query_string={"seller_id": "9" * 30})
    assert huge.status_code == 200
    assert "/admin/offline-sales.csv" in client.get("/admin/offline-sales").get_data(as_text=True)
