"""Stripe events applied to our payments, each exactly once, in whatever order they arrive.

The event id is inserted (unique per provider) first, in the same transaction as the state change
it causes: a duplicate or a concurrent re-delivery fails on the constraint and changes nothing.
The payment row is locked before it is read, so two different events of one payment take turns.
Notices and refunds happen after the commit, only for the delivery that acted.

A refund owed by a late payment whose stock was sold meanwhile is recorded in the same log
(``refund-due:<payment id>``) before it is attempted, so ``flask payments reconcile`` can finish
it if the call to Stripe fails; ``refund-issued:<payment id>`` records that it was made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import sqlalchemy as sa

from app.core.db import MAX_DATABASE_ID, transaction
from app.core.extensions import db
from app.orders import services as orders
from app.orders.models import Order, OrderStatus
from app.payments import eventlog, state
from app.payments import stripe_provider as provider
from app.payments.models import Payment, PaymentEvent, PaymentStatus, Provider
from app.payments.signals import order_event

log = logging.getLogger(__name__)

SESSION_COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
SESSION_EXPIRED = "checkout.session.expired"
CHARGE_REFUNDED = "charge.refunded"
HANDLED = frozenset(
    {SESSION_COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, SESSION_EXPIRED, CHARGE_REFUNDED}
)

REFUND_DUE = "refund_due"
REFUND_ISSUED = "refund_issued"

# What customers and sellers are told: kinds of :data:`app.payments.signals.order_event`.
NOTICE_PAID = "paid"
NOTICE_FAILED = "cancelled"  # the order's reason says the card payment failed
NOTICE_EXPIRED = "expired"
NOTICE_SOLD_OUT_REFUND = "late_payment_refunded"  # paid after the stock was sold: refunding
NOTICE_REFUNDED = "refunded"

# Only these fields of a provider object are kept in the event log (no customer details).
_SUMMARY_KEYS = (
    "id",
    "object",
    "status",
    "payment_status",
    "amount_total",
    "amount",
    "amount_refunded",
    "refunded",
    "currency",
    "payment_intent",
    "client_reference_id",
)


@dataclass
class Outcome:
    result: str
    notices: list[tuple[str, list[int]]] = field(default_factory=list)
    refund_payment_id: int | None = None


def handle_event(event: dict[str, Any]) -> str:
    """Apply one verified Stripe event; returns what happened (for the log and the reply).

    "duplicate" means the event was seen before and nothing was done again.
    """
    event_id = event.get("id")
    kind = event.get("type")
    obj = _mapping(_mapping(event.get("data")).get("object"))
    if not _plain_id(event_id) or kind not in HANDLED or not obj:
        return "ignored"
    payment_id = _payment_for_charge(obj) if kind == CHARGE_REFUNDED else _payment_for_session(obj)
    outcome = _apply(event_id, kind, obj, payment_id)
    log.info("stripe event %s %s payment=%s: %s", event_id, kind, payment_id, outcome.result)
    _after_commit(outcome)
    return outcome.result


def apply_session_state(session: dict[str, Any]) -> str:
    """Act on a session fetched from Stripe as its webhook would have (lost deliveries).

    The synthetic event id names the session and its state, so running this twice acts once.
    """
    status, paid = session.get("status"), session.get("payment_status")
    if status == "complete" and paid in ("paid", "no_payment_required"):
        kind, tag = SESSION_COMPLETED, "paid"
    elif status == "expired":
        kind, tag = SESSION_EXPIRED, "expired"
    else:
        return "waiting"
    return handle_event(
        {"id": f"reconcile:{session.get('id')}:{tag}", "type": kind, "data": {"object": session}}
    )


# ---- finding the payment ---------------------------------------------------------------------


def _intent_id(value: Any) -> str | None:
    if isinstance(value, dict):  # an expanded PaymentIntent
        value = value.get("id")
    return value if _plain_id(value) else None


def _reference(value: Any) -> int | None:
    """Our payment id written into the session, if it is one (a database id in range)."""
    text = str(value or "")
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        return None
    number = int(text)
    return number if 0 < number <= MAX_DATABASE_ID else None


def _mapping(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a signed event may still be odd)."""
    return value if isinstance(value, dict) else {}


def _plain_id(value: object) -> TypeGuard[str]:
    """A Stripe id: a short text of printable characters (no NUL, which PostgreSQL refuses)."""
    return isinstance(value, str) and 0 < len(value) <= 255 and value.isprintable()


def _payment_for_session(session: dict[str, Any]) -> int | None:
    """Our payment of a Checkout Session: by the stored session id, else by the reference.

    The reference alone is trusted only while the payment has no session id of its own (the
    session was created but storing its id failed), so another shop's ids cannot match ours.
    Read in a transaction of its own (the event's own transaction begins as a write).
    """
    with transaction(write=False):
        return _session_payment_id(session)


def _session_payment_id(session: dict[str, Any]) -> int | None:
    session_id = session.get("id")
    if _plain_id(session_id):
        found = db.session.scalar(
            sa.select(Payment.id).where(Payment.provider_reference == session_id)
        )
        if found is not None:
            return found
    ref = _reference(session.get("client_reference_id")) or _reference(
        _mapping(session.get("metadata")).get("payment_id")
    )
    if ref is None:
        return None
    row = db.session.execute(
        sa.select(Payment.id, Payment.provider, Payment.provider_reference).where(Payment.id == ref)
    ).first()
    if row is None or row.provider != Provider.STRIPE:
        return None
    if row.provider_reference not in (None, session_id):
        return None
    return row.id


def _payment_for_charge(charge: dict[str, Any]) -> int | None:
    """Our payment of a charge: through its PaymentIntent, as seen in an earlier session event,
    else by asking Stripe which session the PaymentIntent belongs to (events come in any order).
    """
    intent = _intent_id(charge.get("payment_intent"))
    if intent is None:
        return None
    with transaction(write=False):  # a read of its own: none is held open across the network
        found = db.session.scalar(
            sa.select(PaymentEvent.payment_id)
            .where(
                PaymentEvent.provider == Provider.STRIPE,
                PaymentEvent.payment_id.is_not(None),
                PaymentEvent.payload["payment_intent"].as_string() == intent,
            )
            .limit(1)
        )
    if found is not None:
        return found
    session = provider.find_session_for_intent(intent)
    return _payment_for_session(session) if session else None


# ---- applying --------------------------------------------------------------------------------


def _summary(obj: dict[str, Any]) -> dict[str, Any]:
    out = {key: obj[key] for key in _SUMMARY_KEYS if key in obj}
    if "payment_intent" in out:
        out["payment_intent"] = _intent_id(out["payment_intent"])
    return out


def _order_ids(payment: Payment) -> list[int]:
    return orders.order_ids_of_payment(payment.id)


def _apply(event_id: str, kind: str, obj: dict[str, Any], payment_id: int | None) -> Outcome:
    try:
        with transaction():
            eventlog.record(Provider.STRIPE, event_id, kind, payment_id, _summary(obj))
            payment = eventlog.lock_payment(payment_id) if payment_id is not None else None
            if payment is None:
                return Outcome("unknown_payment")
            if kind != CHARGE_REFUNDED and payment.provider_reference is None:
                payment.provider_reference = str(obj.get("id") or "") or None  # its store failed
            return _act(kind, payment, obj)
    except eventlog.DuplicateEvent:
        return Outcome("duplicate")


def _act(kind: str, payment: Payment, obj: dict[str, Any]) -> Outcome:
    """What the event does to its (locked) payment, inside the event's transaction."""
    if kind in (SESSION_COMPLETED, ASYNC_SUCCEEDED):
        if kind == SESSION_COMPLETED and obj.get("payment_status") not in (
            "paid",
            "no_payment_required",
        ):
            return Outcome("waiting")  # a delayed method: its own event follows
        return _confirm(payment, obj)
    if kind in (ASYNC_FAILED, SESSION_EXPIRED):
        reason = "failed" if kind == ASYNC_FAILED else "expired"
        if state.expire_payment(payment, reason):
            notice = NOTICE_FAILED if kind == ASYNC_FAILED else NOTICE_EXPIRED
            return Outcome(reason, [(notice, _order_ids(payment))])
        return Outcome("unchanged")
    return _refunded(payment, obj)


def _confirm(payment: Payment, session: dict[str, Any]) -> Outcome:
    """The money arrived: pay the orders, unless the amount is not ours or the stock is gone."""
    if payment.status == PaymentStatus.REFUNDED:
        return Outcome("already_refunded")  # a refund reported first wins: never paid again
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.IN_REVIEW):
        return Outcome("unchanged")
    amount, currency = session.get("amount_total"), str(session.get("currency") or "")
    if amount != payment.amount or currency.upper() != payment.currency.upper():
        log.warning(
            "payment %s: Stripe reports %s %s, we expected %s %s; held for review",
            payment.id,
            amount,
            currency,
            payment.amount,
            payment.currency,
        )
        payment.status = PaymentStatus.IN_REVIEW  # the return page tells the customer
        return Outcome("in_review")
    result = state.mark_payment_paid(payment)
    if result == "paid":
        return Outcome("paid", [(NOTICE_PAID, _order_ids(payment))])
    if result == "needs_refund":
        intent = _intent_id(session.get("payment_intent"))
        key = f"refund-due:{payment.id}"
        known = db.session.scalar(
            sa.select(PaymentEvent.id).where(
                PaymentEvent.provider == Provider.STRIPE, PaymentEvent.event_id == key
            )
        )
        if known is not None:
            return Outcome("refund_due")
        db.session.add(
            PaymentEvent(
                provider=Provider.STRIPE,
                event_id=key,
                type=REFUND_DUE,
                payment_id=payment.id,
                payload={"payment_intent": intent, "reason": "sold_out"},
            )
        )
        return Outcome(
            "refund_due",
            [(NOTICE_SOLD_OUT_REFUND, _order_ids(payment))],
            refund_payment_id=payment.id,
        )
    return Outcome("unchanged")


def _refunded(payment: Payment, charge: dict[str, Any]) -> Outcome:
    if not charge.get("refunded"):
        log.warning(
            "payment %s: partial refund of %s reported; left for staff",
            payment.id,
            charge.get("amount_refunded"),
        )
        return Outcome("partial_refund")
    if state.mark_payment_refunded(payment):
        return Outcome("refunded", [(NOTICE_REFUNDED, _order_ids(payment))])
    return Outcome("unchanged")


# ---- after the commit ------------------------------------------------------------------------


def _after_commit(outcome: Outcome) -> None:
    for kind, order_ids in outcome.notices:
        notify(kind, order_ids)
    if outcome.refund_payment_id is not None:
        try:
            issue_refund(outcome.refund_payment_id)
        except provider.ProviderError:
            log.exception(
                "refund of payment %s failed; `flask payments reconcile` retries it",
                outcome.refund_payment_id,
            )


def notify(kind: str, order_ids: list[int]) -> None:
    """Tell the customer and the sellers: :data:`~app.payments.signals.order_event`, which the
    market's notifications receive when ``create_app`` has connected them."""
    if not order_event.receivers:
        log.info("notice %s for orders %s (no notifier installed)", kind, order_ids)
        return
    try:
        order_event.send(kind=kind, order_ids=order_ids)
    except Exception:  # a failed e-mail must not undo or repeat a payment
        log.exception("notice %s for orders %s could not be sent", kind, order_ids)


def issue_refund(payment_id: int) -> bool:
    """Make the refund owed to ``payment_id`` and record it; True when this call recorded it.

    Safe to repeat and to run concurrently: Stripe returns the same refund for the same key,
    and only one caller records it (and sends the notice).
    """
    with transaction(write=False):  # a read of its own: none is held open across the network
        owed = _refund_owed(payment_id)
    if owed is None:
        return False
    intent, reference = owed
    if intent is None and reference:
        intent = _intent_id(provider.retrieve_session(reference).get("payment_intent"))
    if intent is None:
        log.error("payment %s owes a refund but has no PaymentIntent", payment_id)
        return False
    try:
        refund = provider.refund(intent, payment_id=payment_id)
    except provider.ProviderError as exc:
        if exc.code != "charge_already_refunded":
            raise
        refund = {"id": None, "status": "succeeded", "note": "already refunded"}
    if refund.get("status") in ("failed", "canceled"):
        log.error("refund of payment %s was %s", payment_id, refund.get("status"))
        return False
    try:
        with transaction():
            eventlog.record(
                Provider.STRIPE,
                f"refund-issued:{payment_id}",
                REFUND_ISSUED,
                payment_id,
                {"refund": refund.get("id"), "status": refund.get("status")},
            )
            payment = eventlog.lock_payment(payment_id)
            acted = payment is not None and state.mark_payment_refunded(payment)
            order_ids = _order_ids(payment) if acted and payment is not None else []
    except eventlog.DuplicateEvent:
        return False
    if acted:
        notify(NOTICE_REFUNDED, order_ids)
    return True


def _refund_owed(payment_id: int) -> tuple[str | None, str | None] | None:
    """(PaymentIntent if the refund-due record names it, session id) of a payment that owes a
    refund not yet made; None when it owes none."""
    due = db.session.scalar(
        sa.select(PaymentEvent).where(
            PaymentEvent.provider == Provider.STRIPE,
            PaymentEvent.event_id == f"refund-due:{payment_id}",
        )
    )
    payment = db.session.get(Payment, payment_id, populate_existing=True)
    if due is None or payment is None or payment.status == PaymentStatus.REFUNDED:
        return None
    return _intent_id((due.payload or {}).get("payment_intent")), payment.provider_reference


def refunds_owed(of: Provider | None = None) -> list[int]:
    """Payments (of provider ``of``, else of any) with a refund recorded as due but not yet
    made (for reconcile and the staff page)."""
    due = sa.select(PaymentEvent.payment_id).where(PaymentEvent.type == REFUND_DUE)
    issued = sa.select(PaymentEvent.payment_id).where(
        PaymentEvent.type == REFUND_ISSUED,
        PaymentEvent.payment_id.is_not(None),
    )
    query = sa.select(Payment.id).where(
        Payment.id.in_(due),
        Payment.id.not_in(issued),
        Payment.status != PaymentStatus.REFUNDED,
    )
    if of is not None:
        query = query.where(Payment.provider == of)
    return list(db.session.scalars(query.order_by(Payment.id)))


def refund_cancelled_order(order_id: int) -> bool:
    """A seller cancelled an order its customer had already paid by card: give that order's
    amount back (one partial refund per order, idempotent) and mark the order refunded.

    Called after the cancellation committed. True when this call recorded the refund. Whatever
    fails, the session is left clean (each step is a transaction of its own).
    """
    # A reading transaction of its own, ended before the network: none is held open across it.
    with transaction(write=False):
        due = _refund_due_for_order(order_id)
    if due is None:
        return False
    payment_id, intent, reference, amount = due
    if not intent and reference:
        intent = _intent_id(provider.retrieve_session(reference).get("payment_intent"))
    if not intent:
        log.error("order %s was paid but its PaymentIntent is unknown; refund by hand", order_id)
        return False
    refund = provider.refund_amount(intent, amount, key=f"refund-order-{order_id}")
    if refund.get("status") in ("failed", "canceled"):
        log.error("refund of order %s was %s", order_id, refund.get("status"))
        return False
    try:
        with transaction():
            eventlog.record(
                Provider.STRIPE,
                f"order-refund:{order_id}",
                "order_refund",
                payment_id,
                {"refund": refund.get("id"), "amount": amount},
            )
            order = db.session.get(Order, order_id, populate_existing=True)
            if order is not None:
                orders.refund_order(order)
    except eventlog.DuplicateEvent:
        return False
    notify(NOTICE_REFUNDED, [order_id])
    return True


def intent_of(payment_id: int, reference: str | None) -> str | None:
    """The PaymentIntent of a card payment: as an earlier event named it, else from its session."""
    with transaction(write=False):
        intent = db.session.scalar(
            sa.select(PaymentEvent.payload["payment_intent"].as_string())
            .where(
                PaymentEvent.payment_id == payment_id,
                PaymentEvent.payload["payment_intent"].as_string().is_not(None),
            )
            .limit(1)
        )
    if not intent and reference:
        intent = _intent_id(provider.retrieve_session(reference).get("payment_intent"))
    return intent


def _refund_due_for_order(order_id: int) -> tuple[int, str | None, str | None, int] | None:
    """(payment id, PaymentIntent if an event named it, session id, amount) of a cancelled,
    paid card order; None when it owes nothing."""
    order = db.session.get(Order, order_id, populate_existing=True)
    if order is None or order.status != OrderStatus.CANCELLED or order.paid_at is None:
        return None
    payment = db.session.get(Payment, order.payment_id)
    if payment is None or payment.provider != Provider.STRIPE:
        return None
    intent = db.session.scalar(
        sa.select(PaymentEvent.payload["payment_intent"].as_string()).where(
            PaymentEvent.payment_id == payment.id,
            PaymentEvent.payload["payment_intent"].as_string().is_not(None),
        )
    )
    return payment.id, intent, payment.provider_reference, order.total_amount
