"""The market's online payments, whichever provider takes them: which providers the checkout
offers, starting a payment, the customer's return, catching up, expiry and refunds.

Every function here leaves the session clean and holds no transaction across a provider call.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from app.core.db import transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.payments import events, state
from app.payments.models import Payment, PaymentEvent, Provider
from app.payments.providers import PROVIDERS, ipg
from app.payments.providers.base import PaymentProvider, ProviderFailure, Returned, Start
from app.payments.services import PaymentUnavailable

log = logging.getLogger(__name__)


class SandboxWithRealMerchant(RuntimeError):
    """PAYMENT_SANDBOX is on together with a real IPG_MERCHANT_ID: the app must not start."""


def check_settings(app: Flask) -> None:
    """At start-up: refuse to run the payment sandbox with a real bank merchant id (it would
    take no money while looking like a live shop), and say which online providers are on."""
    cfg = app.config
    if cfg.get("PAYMENT_SANDBOX") and cfg.get("IPG_MERCHANT_ID"):
        raise SandboxWithRealMerchant(
            "PAYMENT_SANDBOX is on while IPG_MERCHANT_ID is set. The sandbox simulates the bank "
            "and takes no real money: turn PAYMENT_SANDBOX off in production, or unset "
            "IPG_MERCHANT_ID to try the sandbox."
        )
    if app.extensions.get("bazarche_online_checked"):
        return
    app.extensions["bazarche_online_checked"] = True
    if cfg.get("PAYMENT_SANDBOX"):
        app.logger.warning(
            "PAYMENT_SANDBOX is on: the bank gateway is simulated and no real money moves."
        )
    with app.app_context():
        names = [p.key.value for p in enabled_providers(cfg)]
    app.logger.info("Online payment providers on: %s", ", ".join(names) or "none (cash only)")


def refund_cancelled_order(order_id: int) -> bool:
    """The order-service hook for a paid order cancelled afterwards: its amount goes back
    through its payment's provider, once. True when this call recorded the refund."""
    with transaction(write=False):
        kind = db.session.scalar(
            sa.select(Payment.provider)
            .join(Order, Order.payment_id == Payment.id)
            .where(Order.id == order_id)
        )
    if kind == Provider.STRIPE:
        return events.refund_cancelled_order(order_id)
    if kind is None or kind == Provider.CASH:
        return False
    return refund_order(order_id, reason="cancelled after payment", key=f"order-refund:{order_id}")


def provider(key: Provider | str) -> PaymentProvider | None:
    """The online provider stored as ``key`` (None for cash or an unknown value)."""
    return next((p for p in PROVIDERS if p.key == key), None)


def enabled_providers(config: Mapping[str, object] | None = None) -> list[PaymentProvider]:
    """Providers switched on by the settings that settle the market currency, checkout order."""
    cfg = config if config is not None else current_app.config
    return [p for p in PROVIDERS if p.available(cfg)]


def by_form_value(value: str) -> PaymentProvider | None:
    """The enabled provider the checkout form's radio value names, if any."""
    return next((p for p in enabled_providers() if p.form_value == value), None)


def start(payment: Payment) -> Start:
    """Send the customer of ``payment`` (committed, pending, online) to pay it; the same page on
    every call. Raises PaymentUnavailable ("disabled" when its provider is off) or NotAllowed."""
    chosen = provider(payment.provider)
    if chosen is None:
        raise NotAllowed("not an online payment")
    if chosen not in enabled_providers():
        raise PaymentUnavailable("disabled")
    return chosen.start(payment)


def ipg_return(args: Mapping[str, str]) -> Returned:
    """The bank gateway sent the customer back (``Authority``, ``Status``): act on it once."""
    if ipg.PROVIDER not in enabled_providers():
        return Returned(None, "disabled")
    return ipg.PROVIDER.handle_return(args)


def reconcile_all(older_than_minutes: int = 15, now: datetime | None = None) -> dict[str, int]:
    """``flask payments reconcile``: every enabled provider catches up (lost notices and returns,
    refunds owed). Raises PaymentUnavailable("disabled") when no online provider is on."""
    chosen = enabled_providers()
    if not chosen:
        raise PaymentUnavailable("disabled")
    now = now or utcnow()
    cutoff = now - timedelta(minutes=older_than_minutes)
    counts: Counter[str] = Counter()
    for each in chosen:
        for name, n in each.reconcile(cutoff, now).items():
            counts[f"{each.key.value}:{name}"] += n
    return dict(counts)


def expire_all(now: datetime | None = None, limit: int = 500) -> int:
    """``flask orders expire``: each enabled provider closes its overdue payments, then every
    online checkout still unpaid past its time gives its stock back once. How many expired."""
    now = now or utcnow()
    expired = sum(p.expire_overdue(now, limit) for p in enabled_providers())
    return expired + state.expire_unpaid(
        now, limit, on_expired=lambda order_ids: events.notify(events.NOTICE_EXPIRED, order_ids)
    )


def issue_refund(payment_id: int) -> bool:
    """Make the whole refund owed to ``payment_id`` through its provider; True when this call
    recorded it. Raises ProviderFailure (Stripe's ProviderError for Stripe) when it failed."""
    with transaction(write=False):
        kind = db.session.scalar(sa.select(Payment.provider).where(Payment.id == payment_id))
    if kind == Provider.IPG:
        return ipg.issue_refund(payment_id)
    return events.issue_refund(payment_id)


# ---- refunding one order ------------------------------------------------------------------------


def refund_order(
    order_id: int, amount: int | None = None, *, reason: str, key: str | None = None
) -> bool:
    """Give back ``amount`` (the whole order when None) of one seller's order through the
    provider of its payment: a part of the payment, refunded once per ``key`` (by default one
    refund per order and amount). A whole refund of a cancelled order marks it refunded.

    True when this call made and recorded the refund; False when it had been made before.
    Raises ValidationFailed (amount not in 1..what is left of the order), NotAllowed (a cash
    or unpaid order) or ProviderFailure (the provider refused or could not be reached: nothing
    is recorded and the same call may be repeated).
    """
    with transaction(write=False):
        order = db.session.get(Order, order_id, populate_existing=True)
        payment = db.session.get(Payment, order.payment_id) if order is not None else None
        if order is None or payment is None or order.paid_at is None:
            raise NotAllowed("not a paid order")
        chosen = provider(payment.provider)
        if chosen is None:
            raise NotAllowed("cash orders are refunded by hand")
        left = order.total_amount - _refunded(order_id)
        whole = order.total_amount
        payment_id = payment.id
    key = key or f"order-refund-{order_id}-{'all' if amount is None else amount}"
    with transaction(write=False):
        known = db.session.scalar(
            sa.select(PaymentEvent.id).where(
                PaymentEvent.provider == chosen.key, PaymentEvent.event_id == key
            )
        )
    if known is not None:
        return False
    amount = left if amount is None else amount
    if not isinstance(amount, int) or not 0 < amount <= max(left, 0):
        raise ValidationFailed({"amount": ["out_of_range"]})
    made = chosen.refund(payment_id, amount, key=key)
    try:
        with transaction():
            db.session.add(
                PaymentEvent(
                    provider=chosen.key,
                    event_id=key[:255],
                    type="order_refund",
                    payment_id=payment_id,
                    payload={
                        "order_id": order_id,
                        "amount": amount,
                        "refund": made.reference,
                        "reason": reason[:500],
                    },
                )
            )
            db.session.flush()
            fresh = db.session.get(Order, order_id, populate_existing=True)
            if fresh is not None and amount == whole and fresh.status == OrderStatus.CANCELLED:
                orders.refund_order(fresh)
    except sa.exc.IntegrityError:
        return False  # a concurrent call with the same key recorded it
    log.info("order %s: refunded %s through %s (%s)", order_id, amount, chosen.key.value, key)
    events.notify(events.NOTICE_REFUNDED, [order_id])
    return True


def _refunded(order_id: int) -> int:
    """How much of the order was given back by :func:`refund_order` so far."""
    rows = db.session.scalars(
        sa.select(PaymentEvent.payload).where(
            PaymentEvent.type == "order_refund",
            sa.or_(
                PaymentEvent.payload["order_id"].as_integer() == order_id,
                # Stripe's refund of a cancelled order (events.refund_cancelled_order)
                PaymentEvent.event_id == f"order-refund:{order_id}",
            ),
        )
    )
    return sum(int((row or {}).get("amount") or 0) for row in rows)


__all__ = [
    "ProviderFailure",
    "PaymentUnavailable",
    "enabled_providers",
    "expire_all",
    "issue_refund",
    "reconcile_all",
    "refund_order",
    "start",
]
