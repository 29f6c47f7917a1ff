"""Payment models: one ``Payment`` per checkout (an online provider or cash on delivery) and the
provider events applied to payments, each stored once."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow
from app.orders.models import Order


class Provider(enum.StrEnum):
    STRIPE = "stripe"
    IPG = "ipg"  # an Iranian bank gateway (Zarinpal's v4 API), see app/payments/providers/ipg.py
    CASH = "cash"  # cash on delivery

    @property
    def online(self) -> bool:
        """Paid through a provider before the orders go ahead (everything but cash)."""
        return self is not Provider.CASH


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the provider (card) or for delivery (cash)
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    IN_REVIEW = "in_review"  # the provider reported an amount other than ours
    REFUNDED = "refunded"


class Payment(Model):
    __tablename__ = "payment"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        sa.Index("ix_payment_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING
    )
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    # One submission of the checkout form makes one payment, however often it is posted.
    checkout_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bank gateway (IPG): the gateway's reference of the verified payment and the masked card.
    gateway_ref_id: Mapped[str | None] = mapped_column(sa.String(64))
    card_pan: Mapped[str | None] = mapped_column(sa.String(32))
    # When a worker last claimed the right to ask the gateway to verify (one asks at a time).
    verify_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    orders: Mapped[list[Order]] = relationship(order_by="Order.id")


class PaymentEvent(Model):
    """A provider event, stored once: its unique id makes re-deliveries act only once."""

    __tablename__ = "payment_event"
    __table_args__ = (sa.UniqueConstraint("provider", "event_id", name="provider_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
