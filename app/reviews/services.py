"""Reviews: who may write one, editing, the seller's answer, reports, and staff hiding.

The rules, all here:

- A customer reviews a product they bought on an order line of theirs whose order completed,
  once per order line: 1 to 5 stars, up to :data:`BODY_MAX` characters and up to
  :data:`MAX_PHOTOS` photos (through the shared picture pipeline, decoded and stored before any
  transaction begins; a review then refused removes the files it added).
- The customer may edit their stars and words for ``REVIEW_EDIT_DAYS`` after writing.
- The seller answers each review once.
- Anyone signed in may report a review (once each, at most :data:`REPORTS_PER_HOUR` reports an
  hour); staff hide a reported review with a reason, or keep it, and may show a hidden one again
  (audited). A hidden review is not shown and does not count in the ratings.
- Every change that moves a rating updates the product's and the seller's summary rows
  (:mod:`app.catalog.ratings`) and makes their cached pages stale, in the review's own
  transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.audit import log as audit
from app.catalog import changes, ratings
from app.catalog import photos as photo_files
from app.catalog.models import Product, Seller
from app.core.db import transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, paginate
from app.core.timeutil import as_utc, utcnow
from app.orders.models import Order, OrderLine, OrderStatus
from app.reviews.models import Review, ReviewPhoto, ReviewReport

log = logging.getLogger(__name__)

BODY_MAX = 2000
ANSWER_MAX = 2000
REASON_MAX = 500
MAX_PHOTOS = 3
PHOTO_WIDTHS = (320, 1280)
REPORTS_PER_HOUR = 10


# ---- reading -----------------------------------------------------------------------------------


def review_of_line(line_id: int) -> Review | None:
    return db.session.scalar(
        sa.select(Review)
        .where(Review.order_line_id == line_id)
        .options(selectinload(Review.photos))
    )


def reviews_of_lines(line_ids: Sequence[int]) -> dict[int, Review]:
    """The reviews of ``line_ids`` by line (for the order page's links)."""
    if not line_ids:
        return {}
    rows = db.session.scalars(sa.select(Review).where(Review.order_line_id.in_(list(line_ids))))
    return {r.order_line_id: r for r in rows}


def load(review_id: int) -> Review | None:
    return db.session.scalar(
        sa.select(Review)
        .where(Review.id == review_id)
        .options(selectinload(Review.photos), joinedload(Review.customer))
    )


def reviewable_line(line_id: int, customer: User) -> OrderLine:
    """The customer's order line that may be reviewed (completed, still naming a product).
    Raises NotAllowed otherwise (not theirs, not completed, product gone)."""
    line = db.session.scalar(
        sa.select(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.id == line_id, Order.customer_id == customer.id)
        .options(joinedload(OrderLine.order))
    )
    if line is None:
        raise NotAllowed("not the customer's order line")
    if line.order.status != OrderStatus.COMPLETED or line.product_id is None:
        raise NotAllowed("order line not completed")
    return line


def edit_deadline(review: Review) -> datetime:
    """Until when the customer may edit ``review``."""
    days = int(current_app.config["REVIEW_EDIT_DAYS"])
    return as_utc(review.created_at) + timedelta(days=days)


def may_edit(review: Review, now: datetime | None = None) -> bool:
    return (now or utcnow()) < edit_deadline(review)


def _public(stmt: sa.Select) -> sa.Select:
    return stmt.where(Review.hidden_at.is_(None))


def product_reviews(product_id: int, page: int, per_page: int = 10) -> Page:
    """The product's visible reviews, newest first, with photos and writers."""
    stmt = _public(sa.select(Review).where(Review.product_id == product_id)).options(
        selectinload(Review.photos), joinedload(Review.customer)
    )
    return paginate(stmt, Review.id, (Review.created_at.desc(), Review.id.desc()), page, per_page)


def latest_reviews(product_id: int, limit: int = 5) -> list[Review]:
    return list(
        db.session.scalars(
            _public(sa.select(Review).where(Review.product_id == product_id))
            .options(selectinload(Review.photos), joinedload(Review.customer))
            .order_by(Review.created_at.desc(), Review.id.desc())
            .limit(limit)
        )
    )


def seller_reviews(seller_id: int, page: int, per_page: int = 20) -> Page:
    """Every review of the seller's products (hidden ones too, marked), newest first."""
    stmt = (
        sa.select(Review)
        .where(Review.seller_id == seller_id)
        .options(selectinload(Review.photos), joinedload(Review.product))
    )
    return paginate(stmt, Review.id, (Review.created_at.desc(), Review.id.desc()), page, per_page)


def reported_reviews(page: int, hidden: bool = False, per_page: int = 20) -> Page:
    """Staff's list: reviews waiting after a report, oldest report first; or the hidden ones."""
    stmt = sa.select(Review).options(
        selectinload(Review.reports), selectinload(Review.photos), joinedload(Review.product)
    )
    if hidden:
        stmt = stmt.where(Review.hidden_at.is_not(None))
        order: tuple = (Review.hidden_at.desc(), Review.id.desc())
    else:
        stmt = stmt.where(Review.reported_at.is_not(None))
        order = (Review.reported_at, Review.id)
    return paginate(stmt, Review.id, order, page, per_page)


# ---- writing -----------------------------------------------------------------------------------


def _clean_stars(stars: object) -> int:
    try:
        value = int(str(stars))
    except (TypeError, ValueError):
        value = 0
    if value not in ratings.STARS:
        raise ValidationFailed({"stars": ["review_stars_required"]})
    return value


def _clean_body(body: str) -> str:
    text = "\n".join(line.rstrip() for line in (body or "").strip().splitlines()).strip()
    if len(text) > BODY_MAX:
        raise ValidationFailed({"body": ["too_long"]})
    return text


def _pages_changed(product_id: int, seller_id: int) -> None:
    """The product's page, its shop's and the lists its card (with its stars) is on."""
    category_id = db.session.scalar(sa.select(Product.category_id).where(Product.id == product_id))
    changes.mark_products_changed(
        db.session(), [product_id], [seller_id], [category_id] if category_id else []
    )


def write(
    line_id: int,
    customer: User,
    stars: object,
    body: str,
    uploads: Sequence[photo_files.Upload] = (),
) -> Review:
    """The customer's review of an order line. Raises NotAllowed (not theirs, not completed,
    already reviewed) or ValidationFailed; then nothing is stored, photos included."""
    value = _clean_stars(stars)
    text = _clean_body(body)
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed({"photos": ["too_many_review_photos"]})
    reviewable_line(line_id, customer)  # refuse early, before decoding anything
    if review_of_line(line_id) is not None:
        raise NotAllowed("already reviewed")
    pictures, written = photo_files.store_pictures(uploads, widths=PHOTO_WIDTHS)
    try:
        with transaction():
            line = db.session.get(OrderLine, line_id, with_for_update=True, populate_existing=True)
            if line is None:
                raise NotAllowed("no such order line")
            line = reviewable_line(line_id, customer)
            if review_of_line(line.id) is not None:
                raise NotAllowed("already reviewed")
            seller_id = line.order.seller_id
            assert line.product_id is not None  # reviewable_line
            review = Review(
                order_line_id=line.id,
                product_id=line.product_id,
                seller_id=seller_id,
                customer_id=customer.id,
                stars=value,
                body=text,
                photos=[
                    ReviewPhoto(position=i, small_key=p.smallest.key, large_key=p.largest.key)
                    for i, p in enumerate(pictures)
                ],
            )
            db.session.add(review)
            db.session.flush()
            ratings.apply_change(line.product_id, seller_id, None, value)
            _pages_changed(line.product_id, seller_id)
    except BaseException:
        photo_files.discard_written(written)
        raise
    log.info("review %s of product %s written", review.id, review.product_id)
    return review


def _locked(review_id: int) -> Review:
    review = db.session.get(Review, review_id, with_for_update=True, populate_existing=True)
    if review is None:
        raise NotAllowed("no such review")
    return review


def edit(review_id: int, customer: User, stars: object, body: str) -> None:
    """The customer changes their review's stars and words within the edit window."""
    value = _clean_stars(stars)
    text = _clean_body(body)
    with transaction():
        review = _locked(review_id)
        if review.customer_id != customer.id:
            raise NotAllowed("not the customer's review")
        if not may_edit(review):
            raise ValidationFailed({"body": ["review_edit_closed"]})
        old = review.stars
        review.stars = value
        review.body = text
        review.edited_at = utcnow()
        if not review.hidden and old != value:
            ratings.apply_change(review.product_id, review.seller_id, old, value)
        _pages_changed(review.product_id, review.seller_id)


def answer(review_id: int, seller: Seller, user: User, text: str) -> None:
    """The seller's one answer to a review of their product."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"answer": ["required"]})
    if len(text) > ANSWER_MAX:
        raise ValidationFailed({"answer": ["too_long"]})
    with transaction():
        review = _locked(review_id)
        if review.seller_id != seller.id:
            raise NotAllowed("not the seller's review")
        if review.seller_answer is not None:
            raise ValidationFailed({"answer": ["review_already_answered"]})
        review.seller_answer = text
        review.answered_at = utcnow()
        audit.record(user.id, "review.answered", "review", review.id)
        _pages_changed(review.product_id, review.seller_id)


def report(review_id: int, user: User, reason: str) -> bool:
    """Someone signed in reports a review; False when they had reported it already."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": ["required"]})
    if len(text) > REASON_MAX:
        raise ValidationFailed({"reason": ["too_long"]})
    with transaction():
        since = utcnow() - timedelta(hours=1)
        recent = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ReviewReport)
            .where(ReviewReport.user_id == user.id, ReviewReport.created_at >= since)
        )
        if int(recent or 0) >= REPORTS_PER_HOUR:
            raise ValidationFailed({"reason": ["review_reports_too_many"]})
        review = _locked(review_id)
        if review.hidden:
            return False
        already = db.session.scalar(
            sa.select(ReviewReport.id).where(
                ReviewReport.review_id == review.id, ReviewReport.user_id == user.id
            )
        )
        if already is not None:
            return False
        db.session.add(ReviewReport(review_id=review.id, user_id=user.id, reason=text))
        if review.reported_at is None:
            review.reported_at = utcnow()
    return True


def hide(review_id: int, staff: User, reason: str) -> bool:
    """Staff hide a review with a reason: it leaves the pages and the ratings. Returns whether
    it was shown until now (False: already hidden, nothing changed)."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": ["required"]})
    if len(text) > REASON_MAX:
        raise ValidationFailed({"reason": ["too_long"]})
    with transaction():
        review = _locked(review_id)
        if review.hidden:
            return False
        review.hidden_at = utcnow()
        review.hidden_by = staff.id
        review.hidden_reason = text
        review.reported_at = None
        ratings.apply_change(review.product_id, review.seller_id, review.stars, None)
        _pages_changed(review.product_id, review.seller_id)
        audit.record(staff.id, "review.hidden", "review", review.id, reason=text)
    return True


def unhide(review_id: int, staff: User, reason: str) -> None:
    """Staff show a hidden review again (or keep a reported one: its report is cleared)."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": ["required"]})
    with transaction():
        review = _locked(review_id)
        if not review.hidden:
            if review.reported_at is not None:
                review.reported_at = None
                audit.record(staff.id, "review.kept", "review", review.id, reason=text)
            return
        review.hidden_at = None
        review.hidden_by = None
        review.hidden_reason = None
        ratings.apply_change(review.product_id, review.seller_id, None, review.stars)
        _pages_changed(review.product_id, review.seller_id)
        audit.record(staff.id, "review.shown", "review", review.id, reason=text)
