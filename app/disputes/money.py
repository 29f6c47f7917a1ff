"""Money going back to a customer for a problem: a refund of part or all of one order through
the payment provider that took it (:func:`app.payments.online.refund_order`)."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.db import transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.payments import online
from app.payments.models import PaymentEvent


class RefundNotMade(Exception):
    """The provider refused the refund or could not be reached; nothing was recorded."""


def refund_online(order_id: int, amount: int, *, key: str) -> str:
    """Give ``amount`` of ``order_id`` back through its payment's provider; the provider's
    refund reference. ``key`` makes a repeated call find the refund made before instead of
    making another. Raises RefundNotMade."""
    try:
        online.refund_order(order_id, amount, reason="problem reported by the customer", key=key)
    except online.ProviderFailure as exc:
        raise RefundNotMade(str(exc)) from exc
    except (NotAllowed, ValidationFailed) as exc:
        raise RefundNotMade(f"not refundable online: {exc}") from exc
    with transaction(write=False):
        payload = db.session.scalar(
            sa.select(PaymentEvent.payload).where(PaymentEvent.event_id == key[:255])
        )
    return str((payload or {}).get("refund") or "")
