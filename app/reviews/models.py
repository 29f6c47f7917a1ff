"""A review of a product bought on a completed order line, its photos and its reports."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product, Seller
from app.catalog.photos import refers_to_files
from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow


class Review(Model):
    """One per order line: the customer's stars and words, the seller's one answer, and staff's
    hiding (a hidden review leaves the rating summaries and the public pages)."""

    __tablename__ = "review"
    __table_args__ = (
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        sa.Index("ix_review_product_created", "product_id", "created_at"),
        sa.Index("ix_review_seller_created", "seller_id", "created_at"),
        sa.Index("ix_review_reported", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_line.id", ondelete="CASCADE"), unique=True
    )
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    stars: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seller_answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A report waiting for staff (cleared when staff hide or keep the review).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)
    hidden_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    product: Mapped[Product] = relationship()
    seller: Mapped[Seller] = relationship()
    photos: Mapped[list[ReviewPhoto]] = relationship(
        cascade="all, delete-orphan", order_by="ReviewPhoto.position"
    )
    reports: Mapped[list[ReviewReport]] = relationship(
        cascade="all, delete-orphan", order_by="ReviewReport.id"
    )

    @property
    def author_name(self) -> str:
        """The name shown with the review: the first word of the customer's name only."""
        words = (self.customer.name or "").split()
        return words[0] if words else ""

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None


class ReviewPhoto(Model):
    __tablename__ = "review_photo"
    __table_args__ = (sa.UniqueConstraint("review_id", "position", name="review_photo_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    # Storage keys of the variants, smallest first (the largest is shown on click).
    small_key: Mapped[str] = mapped_column(sa.String(255))
    large_key: Mapped[str] = mapped_column(sa.String(255))


refers_to_files(ReviewPhoto.small_key, ReviewPhoto.large_key)


class ReviewReport(Model):
    """Someone signed in thinks a review breaks the rules; one per person and review."""

    __tablename__ = "review_report"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "user_id", name="review_report_once"),
        sa.Index("ix_review_report_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("review.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
