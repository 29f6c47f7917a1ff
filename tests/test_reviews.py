"""Reviews: only the customer of a completed order line reviews it, once; edits within the
window; the seller answers once; staff hide and show (audited); the rating summaries follow in
the same transaction (exact under concurrent reviews); photos through the picture pipeline;
the product, shop and list pages, the JSON-LD and sorting by rating."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.audit.models import AuditEvent
from app.catalog import indexing, queries, ratings, searching
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import completion
from app.orders.models import Order, OrderLine
from app.reviews import services as reviews
from app.reviews.models import Review, ReviewPhoto
from tests import factories
from tests.helpers import jpeg
from tests.test_order_flow import as_user, place
from tests.test_photos import HTML, png_bomb
from tests.test_problems import ship


def completed_line(customer, product) -> OrderLine:  # type: ignore[no-untyped-def]
    order = place(customer, (product, 1)).orders[0]
    order = ship(order)
    completion.complete_by_customer(order, customer)
    db.session.expire_all()
    return db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)).one()


@pytest.fixture
def bought(app):  # type: ignore[no-untyped-def]
    mina = factories.user(email="mina@example.com", name="مینا")
    cloth = factories.product(title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=20)
    return {"mina": mina, "product": cloth, "line": completed_line(mina, cloth)}


def summary(product_id: int, seller_id: int) -> tuple[ratings.Rating, ratings.Rating]:
    db.session.expire_all()
    return ratings.product_rating(product_id), ratings.seller_rating(seller_id)


def media_files(app) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(app.config["MEDIA_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ---- who may review ----------------------------------------------------------------------------


def test_the_customer_reviews_a_completed_line_once_and_the_summaries_follow(app, bought):
    review = reviews.write(bought["line"].id, bought["mina"], 4, "  خیلی زیبا بود  ")
    assert review.body == "خیلی زیبا بود"
    product_rating, seller_rating = summary(bought["product"].id, bought["product"].seller_id)
    assert (product_rating.count, product_rating.total, product_rating.per_star[4]) == (1, 4, 1)
    assert (seller_rating.count, seller_rating.total) == (1, 4)
    with pytest.raises(NotAllowed):
        reviews.write(bought["line"].id, bought["mina"], 5, "again")
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 1


def test_a_line_not_completed_or_not_ones_own_cannot_be_reviewed(app, bought):
    other = factories.user(email="sara@example.com", name="سارا")
    with pytest.raises(NotAllowed):
        reviews.write(bought["line"].id, other, 5, "")
    sent = ship(place(bought["mina"], (bought["product"], 1)).orders[0])
    line = db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == sent.id)).one()
    with pytest.raises(NotAllowed):
        reviews.write(line.id, bought["mina"], 5, "")
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0


@pytest.mark.parametrize("stars", [0, 6, "x", None, -1])
def test_stars_outside_one_to_five_are_refused(app, bought, stars):
    with pytest.raises(ValidationFailed):
        reviews.write(bought["line"].id, bought["mina"], stars, "")
    assert summary(bought["product"].id, bought["product"].seller_id)[0].count == 0


def test_the_database_refuses_stars_out_of_range(app, bought):
    review = reviews.write(bought["line"].id, bought["mina"], 3, "")
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Review).where(Review.id == review.id).values(stars=9))
        db.session.flush()
    db.session.rollback()


def test_the_review_page_writes_then_edits(app, bought):
    client = as_user(app, bought["mina"])
    line = bought["line"]
    address = f"/orders/{line.order_id}/lines/{line.id}/review"
    order_page = client.get(f"/orders/{line.order_id}").get_data(as_text=True)
    assert address in order_page
    assert client.get(address).status_code == 200
    response = client.post(address, data={"stars": "5", "body": "عالی"})
    assert response.status_code == 303
    response = client.post(address, data={"stars": "2", "body": "بعدا خراب شد"})
    assert response.status_code == 303
    review = db.session.scalars(sa.select(Review)).one()
    db.session.refresh(review)
    assert review.stars == 2 and review.edited_at is not None
    product_rating, _ = summary(bought["product"].id, bought["product"].seller_id)
    assert (product_rating.count, product_rating.total, product_rating.per_star[5]) == (1, 2, 0)
    # Someone else's line: not found.
    other = as_user(app, factories.user(email="sara@example.com", name="سارا"))
    assert other.get(address).status_code == 404


def test_editing_closes_after_the_window(app, bought):
    review = reviews.write(bought["line"].id, bought["mina"], 4, "")
    db.session.execute(
        sa.update(Review)
        .where(Review.id == review.id)
        .values(created_at=utcnow() - timedelta(days=app.config["REVIEW_EDIT_DAYS"] + 1))
    )
    db.session.commit()
    with pytest.raises(ValidationFailed):
        reviews.edit(review.id, bought["mina"], 1, "")
    assert summary(bought["product"].id, bought["product"].seller_id)[0].total == 4


# ---- the seller's answer, reports, staff -----------------------------------------------------


def test_the_seller_answers_once(app, bought):
    review = reviews.write(bought["line"].id, bought["mina"], 3, "معمولی")
    seller = bought["product"].seller
    client = as_user(app, seller.user)
    assert "معمولی" in client.get("/seller/reviews").get_data(as_text=True)
    response = client.post(f"/seller/reviews/{review.id}/answer", data={"answer": "ممنون"})
    assert response.status_code == 303
    with pytest.raises(ValidationFailed):
        reviews.answer(review.id, seller, seller.user, "دوباره")
    other = factories.seller(name="دیگری")
    with pytest.raises(NotAllowed):
        reviews.answer(review.id, other, other.user, "x")
    db.session.expire_all()
    assert db.session.get(Review, review.id).seller_answer == "ممنون"
    page = app.test_client().get(f"/p/{bought['product'].id}").get_data(as_text=True)
    assert "ممنون" in page and "معمولی" in page


def test_hiding_and_showing_change_the_summaries_and_are_audited(app, bought):
    review = reviews.write(bought["line"].id, bought["mina"], 5, "تبلیغ")
    reporter = factories.user(email="r@example.com", name="گزارشگر")
    assert reviews.report(review.id, reporter, "spam") is True
    assert reviews.report(review.id, reporter, "spam") is False
    staff = factories.user(role=Role.STAFF, email="staff@example.com", name="کارشناس")
    client = as_user(app, staff)
    assert "تبلیغ" in client.get("/admin/reviews").get_data(as_text=True)
    assert client.post(f"/admin/reviews/{review.id}/hide", data={"reason": ""}).status_code == 303
    assert summary(bought["product"].id, bought["product"].seller_id)[0].count == 1
    client.post(f"/admin/reviews/{review.id}/hide", data={"reason": "spam"})
    product_rating, seller_rating = summary(bought["product"].id, bought["product"].seller_id)
    assert (product_rating.count, product_rating.total, seller_rating.count) == (0, 0, 0)
    page = app.test_client().get(f"/p/{bought['product'].id}").get_data(as_text=True)
    assert "تبلیغ" not in page
    # Editing a hidden review leaves the summaries be.
    reviews.edit(review.id, bought["mina"], 1, "تبلیغ")
    assert summary(bought["product"].id, bought["product"].seller_id)[0].count == 0
    client.post(f"/admin/reviews/{review.id}/unhide", data={"reason": "mistake"})
    product_rating, _ = summary(bought["product"].id, bought["product"].seller_id)
    assert (product_rating.count, product_rating.total, product_rating.per_star[1]) == (1, 1, 1)
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target_type == "review")
    ).all()
    assert actions == ["review.hidden", "review.shown"]


def test_reports_are_limited_per_hour(app, bought, monkeypatch):
    monkeypatch.setattr(reviews, "REPORTS_PER_HOUR", 1)
    first = reviews.write(bought["line"].id, bought["mina"], 5, "")
    line = completed_line(factories.user(email="s@example.com", name="سارا"), bought["product"])
    second = reviews.write(line.id, line.order.customer, 4, "")
    reporter = factories.user(email="r@example.com", name="گزارشگر")
    assert reviews.report(first.id, reporter, "bad") is True
    with pytest.raises(ValidationFailed):
        reviews.report(second.id, reporter, "bad too")
    client = as_user(app, reporter)
    refused = client.post(f"/reviews/{second.id}/report", data={"reason": "again"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(Review, second.id).reported_at is None


# ---- photos --------------------------------------------------------------------------------------


def test_photos_go_through_the_pipeline_and_hostile_ones_are_refused(app, bought):
    client = as_user(app, bought["mina"])
    line = bought["line"]
    address = f"/orders/{line.order_id}/lines/{line.id}/review"
    refused = client.post(
        address,
        data={
            "stars": "4",
            "body": "",
            "photos": [(io.BytesIO(jpeg()), "ok.jpg"), (io.BytesIO(HTML), "page.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0
    assert media_files(app) == []
    refused = client.post(
        address,
        data={"stars": "4", "photos": [(io.BytesIO(png_bomb()), "bomb.png")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and media_files(app) == []
    four = [(io.BytesIO(jpeg(colour=(i * 40, 10, 10))), f"{i}.jpg") for i in range(4)]
    refused = client.post(
        address, data={"stars": "4", "photos": four}, content_type="multipart/form-data"
    )
    assert refused.status_code == 400 and media_files(app) == []
    done = client.post(
        address,
        data={"stars": "4", "photos": [(io.BytesIO(jpeg()), "ok.jpg")]},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    photo = db.session.scalars(sa.select(ReviewPhoto)).one()
    page = app.test_client().get(f"/p/{bought['product'].id}").get_data(as_text=True)
    assert f"/media/{photo.small_key}" in page


# ---- pages ---------------------------------------------------------------------------------------


def json_ld(page: str) -> list[dict]:
    return [
        json.loads(unescape(m))
        for m in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    ]


def test_product_shop_and_cards_show_the_rating_and_the_json_ld(app, bought):
    product = bought["product"]
    page = app.test_client().get(f"/p/{product.id}").get_data(as_text=True)
    assert "aggregateRating" not in page  # cached before any review: the review stales it
    reviews.write(bought["line"].id, bought["mina"], 4, "خوب")
    second = completed_line(factories.user(email="s@example.com", name="سارا"), product)
    reviews.write(second.id, second.order.customer, 5, "")
    client = app.test_client()
    client.set_cookie("locale", "en")
    page = client.get(f"/p/{product.id}").get_data(as_text=True)
    data = next(d for d in json_ld(page) if d.get("@type") == "Product")
    assert data["aggregateRating"]["ratingValue"] == "4.5"
    assert data["aggregateRating"]["reviewCount"] == 2
    assert {r["reviewRating"]["ratingValue"] for r in data["review"]} == {4, 5}
    assert "4.5 out of 5" in page and "2 reviews" in page
    assert "5 stars: 1 review" in page  # the distribution's accessible text
    shop = client.get(f"/s/{product.seller.slug}").get_data(as_text=True)
    assert "4.5 out of 5" in shop
    assert "Rated 4.5 out of 5 by 2 reviews" in shop  # the card
    assert client.get(f"/p/{product.id}/reviews").status_code == 200


def test_sort_by_rating_on_a_category_and_in_search(app, bought):
    product = bought["product"]
    other = factories.product(
        product.seller, title="رومیزی دوم", category_row=product.category, stock=5
    )
    third = factories.product(
        product.seller, title="رومیزی سوم", category_row=product.category, stock=5
    )
    reviews.write(bought["line"].id, bought["mina"], 3, "")
    line = completed_line(factories.user(email="s@example.com", name="سارا"), other)
    reviews.write(line.id, line.order.customer, 5, "")
    page = queries.products_in_category(product.category, 1, 24, "rating")
    assert [c.id for c in page.items] == [other.id, product.id, third.id]
    assert page.items[0].review_count == 1 and page.items[0].stars_sum == 5
    assert queries.ids_by_rating([product.id, other.id, third.id]) == [
        other.id,
        product.id,
        third.id,
    ]
    response = app.test_client().get(f"/c/{product.category.slug}?sort=rating")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.index(f"/p/{other.id}") < body.index(f"/p/{product.id}")
    found = app.test_client().get("/search?q=رومیزی&sort=rating")
    assert found.status_code == 200
    body = found.get_data(as_text=True)
    assert (
        body.index(f"/p/{other.id}") < body.index(f"/p/{product.id}") < body.index(f"/p/{third.id}")
    )
    assert "Rated" in body or "امتیاز" in body  # the search cards show the stars too
    # Through the index (not its database fallback): the best matches ordered by rating.
    indexing.reindex()
    outcome = searching.run(searching.parse_args({"q": "رومیزی", "sort": "rating"}, 2))
    assert not outcome["degraded"]
    assert [p.id for p in outcome["page"].items] == [other.id, product.id]
    assert outcome["page"].total == 3
    second_page = searching.run(
        searching.parse_args({"q": "رومیزی", "sort": "rating", "page": "2"}, 2)
    )
    assert [p.id for p in second_page["page"].items] == [third.id]


# ---- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("rated_before", [True, False], ids=["updates", "first-rows"])
def test_concurrent_reviews_keep_the_summary_exact(app, bought, rated_before):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("threads writing at once need PostgreSQL")
    product = bought["product"]
    before = 5 if rated_before else 0
    if rated_before:  # the summary rows exist: the updates race; else the first inserts do
        reviews.write(bought["line"].id, bought["mina"], 5, "")
    lines = [
        completed_line(factories.user(email=f"c{i}@example.com", name="خریدار"), product)
        for i in range(8)
    ]
    work = [(line.id, line.order.customer_id, 1 + i % 5) for i, line in enumerate(lines)]
    product_id, seller_id, order_id = product.id, product.seller_id, lines[0].order_id
    db.session.remove()
    start = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(line_id: int, customer_id: int, stars: int) -> None:
        with app.app_context():
            try:
                from app.accounts.models import User

                customer = db.session.get(User, customer_id)
                start.wait()
                reviews.write(line_id, customer, stars, "")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=item) for item in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    product_rating, seller_rating = summary(product_id, seller_id)
    count = 9 if rated_before else 8
    assert product_rating.count == count and seller_rating.count == count
    assert product_rating.total == before + sum(s for _l, _c, s in work)
    assert sum(product_rating.per_star.values()) == count
    assert db.session.scalar(sa.select(sa.func.count(Review.id))) == count
    assert db.session.get(Order, order_id) is not None


def test_ones_data_download_lists_ones_reviews_and_reports(app, bought):
    from app.auth.personal_data import export

    review = reviews.write(bought["line"].id, bought["mina"], 5, "عالی", [jpeg()])
    reviews.report(review.id, bought["mina"], "اشتباه نوشتم")
    with app.test_request_context():
        data = export(bought["mina"])
    written = data["reviews_written"]
    assert [(r["stars"], r["body"]) for r in written] == [(5, "عالی")]
    assert len(written[0]["photos"]) == 1
    assert data["reviews_reported"][0]["review_id"] == review.id


def test_a_review_change_stales_the_cached_pages_it_shows_on(app, bought):
    app.config["PAGE_CACHE_ENABLED"] = True
    product = bought["product"]
    client = app.test_client()
    client.set_cookie("locale", "en")
    pages = (f"/p/{product.id}", f"/s/{product.seller.slug}", f"/c/{product.category.slug}")
    for address in pages:
        assert "out of 5" not in client.get(address).get_data(as_text=True)
    review = reviews.write(bought["line"].id, bought["mina"], 4, "خوب")
    for address in pages:
        assert "4.0 out of 5" in client.get(address).get_data(as_text=True), address
    staff = factories.user(role=Role.STAFF, email="staff@example.com", name="کارشناس")
    reviews.hide(review.id, staff, "spam")
    for address in pages:
        assert "out of 5" not in client.get(address).get_data(as_text=True), address


def test_the_parties_are_told_of_a_review_its_answer_and_its_hiding(app, bought):
    from app.notifications.models import Notice

    def kinds(user_id: int) -> list[str]:
        db.session.rollback()
        return list(
            db.session.scalars(
                sa.select(Notice.kind).where(Notice.user_id == user_id).order_by(Notice.id)
            )
        )

    line, mina = bought["line"], bought["mina"]
    seller = bought["product"].seller
    before = kinds(mina.id)
    customer = as_user(app, mina)
    address = f"/orders/{line.order_id}/lines/{line.id}/review"
    customer.post(address, data={"stars": "4", "body": "خوب"})
    customer.post(address, data={"stars": "3", "body": "خوب"})  # an edit: no new notice
    assert kinds(seller.user.id).count("review.new") == 1
    review = db.session.scalars(sa.select(Review)).one()
    as_user(app, seller.user).post(f"/seller/reviews/{review.id}/answer", data={"answer": "ممنون"})
    staff = as_user(app, factories.user(Role.STAFF, email="staff@example.com"))
    for _ in range(2):  # the second press finds it hidden already: told once
        staff.post(f"/admin/reviews/{review.id}/hide", data={"reason": "نشانی تماس داشت"})
    assert kinds(mina.id)[len(before) :] == ["review.answered", "review.hidden"]
