"""Programme figures' own tables: county quotas and product page views."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow
from app.reference.models import County


class Quota(Model):
    """How many trained businesses a county is to connect to the market in a programme year."""

    __tablename__ = "quota"
    __table_args__ = (
        sa.UniqueConstraint("county_id", "programme_year", name="county_year"),
        sa.CheckConstraint("target_sellers >= 0", name="target_sellers_non_negative"),
        sa.CheckConstraint("target_sales_amount >= 0", name="target_sales_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("county.id"))
    # Jalali year in which the programme year starts (e.g. 1403).
    programme_year: Mapped[int]
    target_sellers: Mapped[int] = mapped_column(default=0)
    target_sales_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    county: Mapped[County] = relationship()


class ProductViewDay(Model):
    """How many times a product's page was seen on one local (Tehran) day: nothing about who.

    Written in batches from each process's memory (``app.program.views``), never once per view.
    """

    __tablename__ = "product_view_day"
    __table_args__ = (
        sa.CheckConstraint("views >= 0", name="views_non_negative"),
        # The reports read a span of days for every product at once.
        sa.Index("ix_product_view_day_day", "day"),
    )

    # A deleted product takes its counts with it (the database does it: no ORM relationship).
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    views: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ProductViewVisitor(Model):
    """One visitor counted on a product's page on one local (Tehran) day, so each visitor counts
    once a day whichever worker served them. The visitor is a keyed hash that changes every day
    (nothing that names or follows a person); rows older than a few days are deleted.
    """

    __tablename__ = "product_view_visitor"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    # A deleted product takes its rows with it (the database does it: no ORM relationship).
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    visitor: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class PriceHint(Model):
    """The asking prices of one category's published listings, in one county (``county_id``) or
    in the whole market (``county_id`` 0; not a foreign key for that reason): how many, the lowest,
    the quartiles, the median and the highest list price. Summary rows rebuilt by a scheduled job
    (:mod:`app.program.price_hints`); the listing form reads them while a seller types a price."""

    __tablename__ = "price_hint"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "county_id", name="uq_price_hint_category_county"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="CASCADE"))
    county_id: Mapped[int] = mapped_column(default=0)
    listings: Mapped[int]
    low_amount: Mapped[int] = mapped_column(sa.BigInteger)
    quarter_amount: Mapped[int] = mapped_column(sa.BigInteger)
    median_amount: Mapped[int] = mapped_column(sa.BigInteger)
    three_quarters_amount: Mapped[int] = mapped_column(sa.BigInteger)
    high_amount: Mapped[int] = mapped_column(sa.BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
