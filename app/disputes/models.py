"""A problem reported on an order, and its photos."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.photos import refers_to_files
from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow
from app.orders.models import Order


class ProblemKind(enum.StrEnum):
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"


class ProblemStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the seller's answer
    ANSWERED = "answered"  # the seller answered; the customer may ask the market to decide
    ESCALATED = "escalated"  # with programme staff
    REFUNDING = "refunding"  # staff decided a refund; the provider has not confirmed it yet
    REFUNDED = "refunded"  # resolved with money back (all or part)
    CLOSED = "closed"  # resolved without a refund (withdrawn by the customer or closed by staff)


# A problem in one of these holds its order: it does not complete by itself.
OPEN_STATUSES = frozenset(
    {
        ProblemStatus.OPEN,
        ProblemStatus.ANSWERED,
        ProblemStatus.ESCALATED,
        ProblemStatus.REFUNDING,
    }
)


class Resolution(enum.StrEnum):
    REFUND = "refund"  # through the order's payment provider
    CASH_REFUND = "cash_refund"  # a cash order: the seller gave the money back, recorded here
    CLOSED = "closed"  # staff found no refund due
    WITHDRAWN = "withdrawn"  # the customer withdrew the report


class OrderProblem(Model):
    """One report per order: what went wrong, the seller's answer and the market's decision."""

    __tablename__ = "order_problem"
    __table_args__ = (
        sa.CheckConstraint(
            "refund_amount IS NULL OR refund_amount > 0", name="refund_amount_positive"
        ),
        sa.Index("ix_order_problem_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), unique=True
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), index=True)
    kind: Mapped[ProblemKind] = mapped_column(enum_column(ProblemKind))
    description: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ProblemStatus] = mapped_column(
        enum_column(ProblemStatus), default=ProblemStatus.OPEN
    )
    seller_reply: Mapped[str | None] = mapped_column(sa.Text)
    seller_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[Resolution | None] = mapped_column(enum_column(Resolution))
    refund_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    refund_reference: Mapped[str | None] = mapped_column(sa.String(255))
    decision_note: Mapped[str | None] = mapped_column(sa.Text)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship()
    photos: Mapped[list[ProblemPhoto]] = relationship(
        cascade="all, delete-orphan", order_by="ProblemPhoto.position"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ProblemPhoto(Model):
    __tablename__ = "order_problem_photo"
    __table_args__ = (sa.UniqueConstraint("problem_id", "position", name="problem_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        sa.ForeignKey("order_problem.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    # Storage keys of the variants, smallest first (the largest is shown on click).
    small_key: Mapped[str] = mapped_column(sa.String(255))
    large_key: Mapped[str] = mapped_column(sa.String(255))


refers_to_files(ProblemPhoto.small_key, ProblemPhoto.large_key)
