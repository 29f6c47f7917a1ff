"""The providers' event log: every event a provider reports (or that we learn by asking it) is
stored once, keyed by provider and event id, inside the write transaction of the change it
causes. A repeated or concurrent delivery fails on the unique key, its transaction rolls back,
and nothing is done twice."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.core.extensions import db
from app.payments.models import Payment, PaymentEvent, Provider


class DuplicateEvent(Exception):
    """The event is known already: its transaction rolls back and nothing is done again."""


def record(
    provider: Provider, event_id: str, kind: str, payment_id: int | None, payload: dict[str, Any]
) -> None:
    """Insert the event inside the open write transaction; DuplicateEvent if it is known."""
    db.session.add(
        PaymentEvent(
            provider=provider,
            event_id=event_id[:255],
            type=kind[:80],
            payment_id=payment_id,
            payload=payload,
        )
    )
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise DuplicateEvent(event_id) from exc


def lock_payment(payment_id: int) -> Payment | None:
    """The payment, read fresh and locked for this transaction (SQLite: BEGIN IMMEDIATE does it)."""
    return db.session.scalar(
        sa.select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
