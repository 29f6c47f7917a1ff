"""Payment operations the web layer and the commands call. Card payments go through Stripe
(``stripe_provider``); what Stripe reports is applied by ``events``, once per event.

Card payments are on when ``STRIPE_SECRET_KEY`` is set and the market currency is one Stripe
settles; otherwise only cash on delivery is offered, and ``init_app`` says so at start-up.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app

from app.catalog.models import Seller
from app.core.db import transaction
from app.core.errors import DomainError, NotAllowed
from app.core.extensions import db
from app.core.links import site_url_for
from app.core.timeutil import as_utc, utcnow
from app.orders.models import Order, OrderLine
from app.payments import events, state
from app.payments import stripe_provider as provider
from app.payments.models import Payment, PaymentStatus, Provider

log = logging.getLogger(__name__)

# Currencies Stripe settles (all with two decimals, like our amounts in them); IRR is not one.
STRIPE_CURRENCIES = frozenset(
    {"EUR", "USD", "GBP", "AED", "TRY", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK"}
)
# Stripe keeps a Checkout Session open for at least 30 minutes; an unpaid reservation as long.
MIN_CHECKOUT_MINUTES = 30
_MAX_SESSION = timedelta(hours=24)


class PaymentUnavailable(DomainError):
    """A card payment cannot be started now. ``code``: disabled | not_pending | expired |
    not_open | amount_mismatch | provider."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InvalidWebhook(DomainError):
    """A webhook delivery that is not provably from Stripe; nothing was done."""


def card_payments_enabled() -> bool:
    """True when a Stripe key is set and the market currency is one Stripe accepts."""
    cfg = current_app.config
    return (
        bool(cfg.get("STRIPE_SECRET_KEY")) and cfg["MARKET_CURRENCY"].upper() in STRIPE_CURRENCIES
    )


def checkout_expiry_minutes() -> int:
    """How long an unpaid card checkout holds its stock (``CHECKOUT_EXPIRY_MINUTES``, ≥ 30)."""
    return max(MIN_CHECKOUT_MINUTES, int(current_app.config["CHECKOUT_EXPIRY_MINUTES"]))


def init_app(app: Flask) -> None:
    """Say at start-up whether card payments are on, and why not when they are off."""
    if app.extensions.get("bazarche_payments_checked"):
        return
    app.extensions["bazarche_payments_checked"] = True
    cfg = app.config
    currency = str(cfg.get("MARKET_CURRENCY") or "").upper()
    if not cfg.get("STRIPE_SECRET_KEY"):
        app.logger.info(
            "Card payments are off: STRIPE_SECRET_KEY is not set (cash on delivery only)."
        )
        return
    if currency not in STRIPE_CURRENCIES:
        app.logger.warning(
            "Card payments are OFF although STRIPE_SECRET_KEY is set: the market currency %s is "
            "not one Stripe accepts (%s). Only cash on delivery is offered.",
            currency or "(none)",
            ", ".join(sorted(STRIPE_CURRENCIES)),
        )
        return
    if not cfg.get("STRIPE_WEBHOOK_SECRET"):
        app.logger.warning(
            "Card payments are on but STRIPE_WEBHOOK_SECRET is not set: every webhook will be "
            "refused, and payments are confirmed only by `flask payments reconcile`."
        )
    if int(cfg.get("CHECKOUT_EXPIRY_MINUTES") or 0) < MIN_CHECKOUT_MINUTES:
        app.logger.warning(
            "CHECKOUT_EXPIRY_MINUTES=%s is below Stripe's minimum; %s minutes are used.",
            cfg.get("CHECKOUT_EXPIRY_MINUTES"),
            MIN_CHECKOUT_MINUTES,
        )


# ---- starting a card payment ------------------------------------------------------------------


def _session_expiry(expires_at: datetime, now: datetime) -> int:
    """The session's ``expires_at``: ours, moved into the window Stripe accepts if need be
    (whole minutes, so a retry within the minute sends the same parameters)."""
    earliest = now + timedelta(minutes=MIN_CHECKOUT_MINUTES, seconds=60)
    latest = now + _MAX_SESSION - timedelta(seconds=60)
    value = expires_at
    if value < earliest:
        value = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    elif value > latest:
        value = latest.replace(second=0, microsecond=0)
    return int(value.timestamp())


def _items(payment_id: int) -> list[tuple[str, int, int]]:
    """(name, unit amount, quantity) of the payment's order lines: prices from the database."""
    rows = db.session.execute(
        sa.select(
            OrderLine.product_title,
            OrderLine.variant_label,
            OrderLine.unit_price_amount,
            OrderLine.quantity,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.payment_id == payment_id)
        .order_by(Order.id, OrderLine.id)
    ).all()
    items = [
        (f"{title} ({label})" if label else title, unit, qty) for title, label, unit, qty in rows
    ]
    for seller_name, shipping in db.session.execute(
        sa.select(Seller.display_name, Order.shipping_amount)
        .join(Seller, Seller.id == Order.seller_id)
        .where(Order.payment_id == payment_id, Order.shipping_amount > 0)
        .order_by(Order.id)
    ):
        # One line per order (never merged: two shops may share a name and a cost), so the
        # lines add up to the payment amount.
        items.append((f"{seller_name}: shipping", shipping, 1))
    return items


def _store_reference(payment_id: int, session_id: str) -> None:
    with transaction():
        db.session.execute(
            sa.update(Payment)
            .where(Payment.id == payment_id, Payment.provider_reference.is_(None))
            .values(provider_reference=session_id)
            .execution_options(synchronize_session=False)
        )


def return_urls(payment_id: int) -> dict[str, str]:
    """Where the provider sends the customer back (``success_url``: the return page of
    ``payment_id``; ``cancel_url``: the cart), on the site address: a request's host is the
    client's to choose and must not become the payment page's way back."""
    return {
        "success_url": site_url_for("shop.checkout_return", payment_id=payment_id),
        "cancel_url": site_url_for("shop.cart"),
    }


def start_card_payment(payment: Payment, *, success_url: str, cancel_url: str) -> str:
    """Create the provider's checkout for ``payment`` (after its commit); returns the URL to send
    the customer to.

    The session is built from the order lines' prices in the database, carries the payment id
    as its reference and expires with the reservation. Calling it again (a reload, a second
    tab, two workers) returns the same session. Raises PaymentUnavailable or NotAllowed.
    """
    if not card_payments_enabled():
        raise PaymentUnavailable("disabled")
    if payment.provider != Provider.STRIPE:
        raise NotAllowed("not a card payment")
    payment_id = payment.id
    now = utcnow()
    with transaction(write=False):  # a read of its own: none is held open across the network
        fresh = db.session.get(Payment, payment_id, populate_existing=True)
        if fresh is None or fresh.status != PaymentStatus.PENDING:
            raise PaymentUnavailable("not_pending")
        if fresh.expires_at is None or as_utc(fresh.expires_at) <= now:
            raise PaymentUnavailable("expired")
        reference = fresh.provider_reference
        currency, amount, expires_at = fresh.currency, fresh.amount, as_utc(fresh.expires_at)
        items = [] if reference else _items(payment_id)
    if not reference and sum(unit * qty for _, unit, qty in items) != amount:
        log.error("payment %s: its order lines do not add up to its amount", payment_id)
        raise PaymentUnavailable("amount_mismatch")
    try:
        if reference:
            session = provider.retrieve_session(reference)
        else:
            session = provider.create_checkout_session(
                payment_id=payment_id,
                currency=currency,
                items=items,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=_session_expiry(expires_at, now),
            )
    except provider.ProviderError as exc:
        log.warning("payment %s: Stripe checkout not available: %s", payment_id, exc)
        raise PaymentUnavailable("provider") from exc
    if not reference:
        _store_reference(payment_id, session["id"])
    if session.get("status") != "open" or not session.get("url"):
        raise PaymentUnavailable("not_open")
    return str(session["url"])


def payment_state(payment: Payment) -> str:
    """What the customer's return page shows (any online provider): "confirming" until the
    provider's word lands, then paid | in_review | failed | expired | refunded (cash: "cash")."""
    if payment.provider == Provider.CASH:
        return "cash"
    return {
        PaymentStatus.PENDING: "confirming",
        PaymentStatus.SUCCEEDED: "paid",
        PaymentStatus.IN_REVIEW: "in_review",
        PaymentStatus.FAILED: "failed",
        PaymentStatus.EXPIRED: "expired",
        PaymentStatus.REFUNDED: "refunded",
    }[payment.status]


def customer_payment_state(payment_id: int, customer_id: int) -> str | None:
    """:func:`payment_state` of the customer's own payment; None when it is not theirs (or
    does not exist)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.customer_id != customer_id:
        return None
    return payment_state(payment)


# ---- what Stripe tells us ---------------------------------------------------------------------


def receive_stripe_webhook(payload: bytes, signature: str | None) -> str:
    """Verify a delivery with the webhook secret and apply its event once.

    Raises InvalidWebhook (and changes nothing) for a missing, wrong, stale or altered signature.
    """
    try:
        event = provider.verify_webhook(
            payload, signature, current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
        )
    except provider.InvalidSignature as exc:
        log.warning("refused a Stripe webhook: %s", exc)
        raise InvalidWebhook(str(exc)) from exc
    return events.handle_event(event)


def reconcile(older_than_minutes: int = 15, now: datetime | None = None) -> dict[str, int]:
    """Stripe's part of ``flask payments reconcile``: ask Stripe about card payments still
    waiting after ``older_than_minutes`` (lost webhooks) and act as their events would have;
    then make the refunds still owed. Running it twice acts once. Returns counts by outcome.
    """
    if not card_payments_enabled():
        raise PaymentUnavailable("disabled")
    return reconcile_at((now or utcnow()) - timedelta(minutes=older_than_minutes))


def reconcile_at(cutoff: datetime) -> dict[str, int]:
    """:func:`reconcile` for card payments created before ``cutoff``."""
    rows = _waiting_card_payments(Payment.created_at < cutoff)
    counts: Counter[str] = Counter()
    for payment_id, reference in rows:
        try:
            session = provider.retrieve_session(reference)
        except provider.ProviderError as exc:
            log.warning("reconcile: payment %s: %s", payment_id, exc)
            counts["errors"] += 1
            continue
        counts[events.apply_session_state(session)] += 1
    for payment_id in events.refunds_owed(Provider.STRIPE):
        try:
            if events.issue_refund(payment_id):
                counts["refund_issued"] += 1
        except provider.ProviderError as exc:
            log.warning("reconcile: refund of payment %s: %s", payment_id, exc)
            counts["errors"] += 1
    return dict(counts)


def waiting_card_payment_ids(cutoff: datetime) -> list[int]:
    """Pending card payments with a Stripe session, created before ``cutoff``."""
    return [payment_id for payment_id, _ in _waiting_card_payments(Payment.created_at < cutoff)]


def session_of(payment_id: int) -> str | None:
    """The Stripe session id of a card payment, if it has one."""
    with transaction(write=False):
        return db.session.scalar(
            sa.select(Payment.provider_reference).where(
                Payment.id == payment_id, Payment.provider == Provider.STRIPE
            )
        )


def _waiting_card_payments(
    condition: sa.ColumnElement[bool], limit: int | None = None
) -> list[tuple[int, str]]:
    """(id, Stripe session id) of pending card payments with a session that meet ``condition``,
    oldest first; read in a transaction of its own, so none is held open across the network."""
    with transaction(write=False):
        rows = db.session.execute(
            sa.select(Payment.id, Payment.provider_reference)
            .where(
                Payment.provider == Provider.STRIPE,
                Payment.status == PaymentStatus.PENDING,
                Payment.provider_reference.is_not(None),
                condition,
            )
            .order_by(Payment.id)
            .limit(limit)
        ).all()
    return [(payment_id, str(reference)) for payment_id, reference in rows]


def expire_overdue(now: datetime | None = None, limit: int = 500) -> int:
    """Unpaid card checkouts past their time give their stock back (Stripe's sessions closed
    first, see :func:`expire_stripe_sessions`), then every other unpaid online checkout past
    its time. Returns how many expired."""
    now = now or utcnow()
    expired = expire_stripe_sessions(now, limit) if card_payments_enabled() else 0
    return expired + state.expire_unpaid(
        now, limit, on_expired=lambda order_ids: events.notify(events.NOTICE_EXPIRED, order_ids)
    )


def expire_stripe_sessions(now: datetime, limit: int = 500) -> int:
    """Card checkouts past their time: each open Stripe session is closed first, so the customer
    cannot pay after the stock went back; a session that was paid meanwhile is confirmed
    instead. Returns how many expired."""
    expired = 0
    rows = _waiting_card_payments(Payment.expires_at < now, limit=limit)
    for payment_id, reference in rows:
        try:
            session = provider.expire_session(reference)
        except provider.ProviderError:
            try:  # not open any more: see what became of it
                session = provider.retrieve_session(reference)
            except provider.ProviderError as exc:
                log.warning("expire: payment %s: %s", payment_id, exc)
                continue
        if events.apply_session_state(session) == "expired":
            expired += 1
    return expired
