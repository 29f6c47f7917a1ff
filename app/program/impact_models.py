"""The beneficiary's record (one per seller), their loans, and orders flagged for self-dealing.

The national-portal registration code and the training provider stay on ``Seller``; the rest of
what the programme knows about the person behind a business is here. Bands are enums stored as
their values; their labels are in ``app.web.impact_labels``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class AgeBand(enum.StrEnum):
    UNDER_25 = "under_25"
    FROM_25 = "25_34"
    FROM_35 = "35_44"
    FROM_45 = "45_54"
    FROM_55 = "55_plus"


class Locality(enum.StrEnum):
    RURAL = "rural"
    URBAN = "urban"


class IncomeBand(enum.StrEnum):
    """The household's monthly income before the programme, in toman."""

    NONE = "none"
    UNDER_5M = "under_5m"
    FROM_5M = "5m_10m"
    FROM_10M = "10m_20m"
    OVER_20M = "over_20m"


# Each band's midpoint in rials a month (toman × 10), the yardstick of "change against the income
# band". The open top band counts as 25 million toman; "no income" has no midpoint (no ratio).
INCOME_MIDPOINTS: dict[IncomeBand, int | None] = {
    IncomeBand.NONE: None,
    IncomeBand.UNDER_5M: 25_000_000,
    IncomeBand.FROM_5M: 75_000_000,
    IncomeBand.FROM_10M: 150_000_000,
    IncomeBand.OVER_20M: 250_000_000,
}


class LoanPurpose(enum.StrEnum):
    """The sectors the founding report names for the programme's interest-free loans."""

    HANDICRAFTS = "handicrafts"
    TOURISM = "tourism"
    INDUSTRY = "industry"
    SERVICES = "services"


class Repayment(enum.StrEnum):
    CURRENT = "current"
    LATE = "late"
    REPAID = "repaid"
    DEFAULTED = "defaulted"


class FlagStatus(enum.StrEnum):
    PENDING = "pending"  # left out of the figures until staff decide
    CLEARED = "cleared"  # staff found it a real sale: it counts
    CONFIRMED = "confirmed"  # staff found it self-dealing: it stays out


# Why an order was flagged (stored comma-joined, in this order).
FLAG_REASONS = ("account", "phone", "address", "card")


class Beneficiary(Model):
    """What the programme records about a seller's owner (one row per seller, made on first
    edit or import)."""

    __tablename__ = "beneficiary"

    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    cohort: Mapped[str | None] = mapped_column(sa.String(60), index=True)
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender, name="gender"))
    age_band: Mapped[AgeBand | None] = mapped_column(enum_column(AgeBand, name="age_band"))
    locality: Mapped[Locality | None] = mapped_column(enum_column(Locality, name="locality"))
    income_band: Mapped[IncomeBand | None] = mapped_column(
        enum_column(IncomeBand, name="income_band")
    )
    other_support: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))


class Loan(Model):
    """A loan the seller's owner received (amount in rials)."""

    __tablename__ = "loan"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    granted_on: Mapped[date] = mapped_column(sa.Date)
    bank: Mapped[str] = mapped_column(sa.String(100), default="")
    purpose: Mapped[LoanPurpose] = mapped_column(enum_column(LoanPurpose, name="purpose"))
    repayment: Mapped[Repayment] = mapped_column(
        enum_column(Repayment, name="repayment"), default=Repayment.CURRENT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SalesFlag(Model):
    """An online order whose buyer shares a phone, an address or a card with its seller (see
    ``app.program.self_dealing``). Pending and confirmed flags keep the order out of the impact
    figures; a cleared one lets it count."""

    __tablename__ = "sales_flag"
    __table_args__ = (sa.Index("ix_sales_flag_status_flagged", "status", "flagged_at"),)

    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), index=True)
    reasons: Mapped[str] = mapped_column(sa.String(60))
    status: Mapped[FlagStatus] = mapped_column(
        enum_column(FlagStatus, name="flag_status"), default=FlagStatus.PENDING
    )
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(sa.Text, default="")

    order = relationship("Order")
    seller = relationship("Seller")
    decided_by = relationship("User")

    @property
    def reason_list(self) -> list[str]:
        return [r for r in self.reasons.split(",") if r]
