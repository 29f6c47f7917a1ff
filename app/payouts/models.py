"""Ledger entries per seller and settlement batches.

Every entry is a signed integer amount in rials; a seller's balance is the sum of their entries
(positive: the market owes the seller; negative: the seller owes the market). Each entry carries
a unique ``key`` naming the event that caused it (``sale:order:12``, ``payout:batch:3:seller:5``),
so an event replayed or raced writes its entries at most once.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Seller
from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow


class EntryKind(enum.StrEnum):
    SALE = "sale"  # + the order's total, at completion
    COMMISSION = "commission"  # - the market's commission, at completion
    CASH_COLLECTED = "cash_collected"  # - a cash order's total: the seller holds that money
    REFUND = "refund"  # - money given back to the customer after completion
    COMMISSION_REVERSAL = "commission_reversal"  # + the commission share of a refund
    CASH_RETURNED = "cash_returned"  # + cash the seller gave back on a refunded cash order
    PAYOUT = "payout"  # - a bank transfer to the seller (a settlement batch marked paid)
    # + what a campaign the market pays took off a completed order (the seller is owed it)
    CAMPAIGN_CREDIT = "campaign_credit"
    CAMPAIGN_REVERSAL = "campaign_reversal"  # - the campaign credit's share of a refund


class LedgerEntry(Model):
    __tablename__ = "ledger_entry"
    __table_args__ = (sa.Index("ix_ledger_entry_seller_created", "seller_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    # The one event this entry records (unique: written once however often the event is told).
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("settlement_batch.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BatchStatus(enum.StrEnum):
    OPEN = "open"  # made, under review; may be discarded
    PAID = "paid"  # the transfers were made: payout entries written
    DISCARDED = "discarded"


class SettlementBatch(Model):
    """Payouts of one period to every seller owed money with a valid Sheba number. At most one
    batch is open at a time (``open_slot`` is 1 while open, NULL after, and unique), so a seller's
    balance is never put in two transfer files."""

    __tablename__ = "settlement_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus), default=BatchStatus.OPEN)
    open_slot: Mapped[int | None] = mapped_column(unique=True)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[SettlementLine]] = relationship(
        back_populates="batch", order_by="SettlementLine.id", cascade="all, delete-orphan"
    )


class SettlementLine(Model):
    """One seller in a batch: paid ``amount`` to ``sheba``, or skipped for ``skip_reason``."""

    __tablename__ = "settlement_line"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "seller_id", name="uq_settlement_line_batch_seller"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("settlement_batch.id", ondelete="CASCADE"))
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    sheba: Mapped[str | None] = mapped_column(sa.String(26))
    account_name: Mapped[str] = mapped_column(sa.String(120))
    # None: included in the transfer file; otherwise why not ("no_sheba", "not_positive").
    skip_reason: Mapped[str | None] = mapped_column(sa.String(40))

    batch: Mapped[SettlementBatch] = relationship(back_populates="lines")
    seller: Mapped[Seller] = relationship()
