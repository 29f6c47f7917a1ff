from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow


class Province(db.Model):
    __tablename__ = "province"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    counties: Mapped[list[County]] = relationship(
        back_populates="province", order_by="County.name_fa"
    )

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class County(db.Model):
    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(sa.ForeignKey("province.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    province: Mapped[Province] = relationship(back_populates="counties")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class Sector(db.Model):
    """A programme sector: handicrafts, tourism, industry, services, food, agriculture."""

    __tablename__ = "sector"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name_fa: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


class Quota(db.Model):
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


class ProductViewDay(db.Model):
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


class ProductViewVisitor(db.Model):
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


class AuditEvent(db.Model):
    """One staff (or system) action: who did what to which thing, when and why."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40))
    target_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor = relationship("User")
