"""What the product page tells a buyer of its seller: sales so far, the usual time from payment
to shipping and the usual time to answer a message.

Each figure is read with a few indexed statements and kept in the worker's memory for
:data:`KEEP_SECONDS` (a cache of what the database holds), so however many of the seller's
product pages are rendered, the figures are read at most once per seller and worker in that
time. They may lag that much; the product page's own cache lags no more (it is keyed by the
same span of time: :func:`figures_period`).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.conversations.models import Conversation, ConversationMessage
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders.models import Order
from app.program.sales_models import SalesPeriod

KEEP_SECONDS = 600
SAMPLE = 30  # the last shipments and conversations a median is taken over
MIN_SAMPLE = 3  # fewer say nothing: the figure is not shown
_MAX_KEPT = 4096


@dataclass(frozen=True, slots=True)
class SellerFigures:
    sales: int  # sales as the programme counts them (see :func:`sales_count`)
    ship_hours: float | None  # median hours from payment (cash: placing) to shipping
    reply_hours: float | None  # median hours from a customer's first message to the answer

    @property
    def ship_days(self) -> int | None:
        """The usual shipping time in whole days, at least 1 (None: too few shipments)."""
        return None if self.ship_hours is None else max(1, -int(-self.ship_hours // 24))

    @property
    def reply_within(self) -> str | None:
        """``hours`` (within a few hours), ``day`` (within a day), ``days`` (longer), or None."""
        if self.reply_hours is None:
            return None
        if self.reply_hours <= 6:
            return "hours"
        return "day" if self.reply_hours <= 24 else "days"


def sales_count(seller_id: int) -> int:
    """The seller's sales so far, from the summary rows (one per Jalali year; never a count of
    orders): paid online orders not cancelled or refunded, and sales at fairs."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SalesPeriod.orders), 0)).where(
            SalesPeriod.seller_id == seller_id, SalesPeriod.period_key.like("Y%")
        )
    )
    return int(total or 0)


def _hours(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds() / 3600)


def ship_hours(seller_id: int) -> float | None:
    """The median time from payment (or placing, for an order paid in cash on delivery) to
    shipping over the seller's last shipments (the index of the seller's shipments)."""
    rows = db.session.execute(
        sa.select(Order.shipped_at, Order.paid_at, Order.created_at)
        .where(Order.seller_id == seller_id, Order.shipped_at.is_not(None))
        .order_by(Order.shipped_at.desc())
        .limit(SAMPLE)
    ).all()
    spans = []
    for shipped, paid, placed in rows:
        start = paid if paid is not None and paid <= shipped else placed
        spans.append(_hours(shipped, start))
    return statistics.median(spans) if len(spans) >= MIN_SAMPLE else None


def reply_hours(seller_id: int, seller_user_id: int) -> float | None:
    """The median time from a customer's first message to the seller's first answer after it,
    over the seller's last conversations; a question still unanswered counts as the time it has
    waited so far."""
    message = ConversationMessage
    asked = (
        sa.select(sa.func.min(message.created_at))
        .where(
            message.conversation_id == Conversation.id,
            message.sender_id == Conversation.customer_id,
        )
        .scalar_subquery()
    )
    answered = (
        sa.select(sa.func.min(message.created_at))
        .where(message.conversation_id == Conversation.id, message.sender_id == seller_user_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(asked, answered)
        .where(Conversation.seller_id == seller_id)
        .order_by(Conversation.updated_at.desc())
        .limit(SAMPLE)
    ).all()
    now = utcnow()
    spans = []
    for question, answer in rows:
        if question is None:
            continue
        spans.append(_hours(answer if answer is not None and answer >= question else now, question))
    return statistics.median(spans) if len(spans) >= MIN_SAMPLE else None


_kept: dict[int, tuple[float, SellerFigures]] = {}
_lock = threading.Lock()


def seller_figures(seller_id: int, seller_user_id: int) -> SellerFigures:
    """The seller's figures, read at most once per :data:`KEEP_SECONDS` in this worker."""
    now = time.monotonic()
    kept = _kept.get(seller_id)
    if kept is not None and now - kept[0] < KEEP_SECONDS:
        return kept[1]
    figures = SellerFigures(
        sales_count(seller_id), ship_hours(seller_id), reply_hours(seller_id, seller_user_id)
    )
    with _lock:
        if len(_kept) >= _MAX_KEPT:
            _kept.clear()
        _kept[seller_id] = (now, figures)
    return figures


def forget() -> None:
    """Drop the kept figures (tests; a worker never needs to)."""
    with _lock:
        _kept.clear()


def figures_period(salt: int = 0) -> int:
    """The number of the :data:`KEEP_SECONDS` span we are in, shifted by ``salt`` (a product's
    id) so the pages that key by it do not all turn stale at the same moment."""
    return int((time.time() + (salt * 37) % KEEP_SECONDS) // KEEP_SECONDS)
