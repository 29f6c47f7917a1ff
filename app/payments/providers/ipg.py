"""The Iranian bank gateway (IPG), following Zarinpal's public v4 REST flow, in rials.

The flow: ``request.json`` (our amount, the callback on ``SITE_URL``) gives an *authority*, stored
as the payment's ``provider_reference``; the customer pays on the gateway's StartPay page; the
gateway sends the browser back to the callback with ``Authority`` and ``Status=OK|NOK``; we then
ask ``verify.json`` with our own amount, and only its answer (never the callback's word) pays
the orders: 100/101 with ``ref_id`` and the masked card.

Guarantees (the same as Stripe's webhooks):

- **One verify call at a time.** A worker first *claims* the payment (a conditional UPDATE of
  ``verify_started_at``, committed); only the winner calls the gateway. Twenty duplicate callbacks
  make one call; the others show "being confirmed". A claim older than the lease (the gateway's
  timeout and a margin) may be taken again: a timed-out verify is finished by the next callback or
  by ``flask payments reconcile``.
- **Applied once.** The verify's result is applied with the payment row locked and recorded as
  ``PaymentEvent`` ``verify:<authority>`` (unique): a replayed or reconciled success acts once.
- **Our amount.** A gateway that refuses our amount (-50) or reports another one puts the payment
  IN_REVIEW; it is never paid.
- **Late success.** A success for an expired payment takes its stock again, or, when it is gone,
  records a refund as owed and makes it once (``refund-due`` / ``refund-issued``).
- **Failure.** ``Status=NOK`` is checked with the gateway too (a forged NOK cannot cancel a paid
  payment); when the gateway says unpaid, the orders are cancelled and release their stock once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import User
from app.core.db import transaction
from app.core.extensions import db
from app.core.links import site_url_for
from app.core.timeutil import as_utc, utcnow
from app.orders.models import Order
from app.payments import eventlog, events, state
from app.payments.models import Payment, PaymentStatus, Provider
from app.payments.providers import ipg_api as api
from app.payments.providers.base import ProviderFailure, Refund, Returned, Start
from app.payments.services import PaymentUnavailable

log = logging.getLogger(__name__)

# A claim to verify may be taken over after the gateway's read timeout and this margin.
LEASE_MARGIN_SECONDS = 10
_CLAIMABLE = (PaymentStatus.PENDING, PaymentStatus.EXPIRED)


def _authority(value: object) -> str | None:
    """An authority as the gateway writes them: short, printable ASCII (else None)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (0 < len(value) <= 64 and value.isascii() and value.isalnum()):
        return None
    return value


def lease() -> timedelta:
    return timedelta(seconds=api.read_timeout() + LEASE_MARGIN_SECONDS)


@dataclass
class _Outcome:
    result: str
    notices: list[tuple[str, list[int]]] = field(default_factory=list)
    refund_due: int | None = None


class BankGateway:
    key = Provider.IPG
    form_value = "ipg"
    label = _l("Iranian bank card (Shetab) through the bank's payment gateway, pay online now")

    def currencies(self) -> frozenset[str]:
        return frozenset({"IRR"})

    def enabled(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("IPG_MERCHANT_ID") or config.get("PAYMENT_SANDBOX"))

    def available(self, config: Mapping[str, Any]) -> bool:
        currency = str(config.get("MARKET_CURRENCY") or "").upper()
        return self.enabled(config) and currency in self.currencies()

    # ---- starting ------------------------------------------------------------------------------

    def start(self, payment: Payment) -> Start:
        payment_id = payment.id
        with transaction(write=False):  # a read of its own: none is held open across the network
            fresh = db.session.get(Payment, payment_id, populate_existing=True)
            if fresh is None or fresh.provider != Provider.IPG:
                raise PaymentUnavailable("disabled")
            if fresh.status != PaymentStatus.PENDING:
                raise PaymentUnavailable("not_pending")
            if fresh.expires_at is None or as_utc(fresh.expires_at) <= utcnow():
                raise PaymentUnavailable("expired")
            authority, amount = fresh.provider_reference, fresh.amount
            mobile = db.session.scalar(
                sa.select(Order.mobile).where(Order.payment_id == payment_id).limit(1)
            )
            email = db.session.scalar(sa.select(User.email).where(User.id == fresh.customer_id))
        if authority:
            return Start(api.start_url(authority))
        try:
            answer = api.request_payment(
                amount=amount,
                callback_url=site_url_for("shop.ipg_callback"),
                description=f"Bazarche payment {payment_id}",
                mobile=mobile,
                email=email,
            )
        except api.GatewayError as exc:
            log.warning("payment %s: the gateway is not available: %s", payment_id, exc)
            raise PaymentUnavailable("provider") from exc
        authority = _authority(answer.data.get("authority"))
        if answer.code != api.OK or authority is None:
            log.warning(
                "payment %s: the gateway refused the request: code %s", payment_id, answer.code
            )
            raise PaymentUnavailable("provider")
        return Start(api.start_url(self._store(payment_id, authority)))

    def _store(self, payment_id: int, authority: str) -> str:
        """Keep the first authority of the payment (two tabs may each have asked for one)."""
        with transaction():
            db.session.execute(
                sa.update(Payment)
                .where(Payment.id == payment_id, Payment.provider_reference.is_(None))
                .values(provider_reference=authority)
                .execution_options(synchronize_session=False)
            )
            stored = db.session.scalar(
                sa.select(Payment.provider_reference).where(Payment.id == payment_id)
            )
        return str(stored or authority)

    # ---- the customer's return and the gateway's word ------------------------------------------

    def handle_return(self, args: Mapping[str, str]) -> Returned:
        authority = _authority(args.get("Authority"))
        status = args.get("Status")
        if authority is None or status not in ("OK", "NOK"):
            log.warning("ipg callback refused: malformed (status %r)", str(status)[:20])
            return Returned(None, "malformed")
        payment_id = self._payment_of(authority)
        if payment_id is None:
            log.warning("ipg callback for an authority that is not ours: %s", authority)
            return Returned(None, "unknown")
        result = self.verify(payment_id, cancelled=status == "NOK")
        log.info("ipg callback payment=%s status=%s: %s", payment_id, status, result)
        return Returned(payment_id, result)

    def handle_notice(self, body: bytes, headers: Mapping[str, str]) -> Returned:
        # Zarinpal sends no server-to-server notice: its unVerified list (reconcile) stands in.
        return Returned(None, "ignored")

    def _payment_of(self, authority: str) -> int | None:
        with transaction(write=False):
            return db.session.scalar(
                sa.select(Payment.id).where(
                    Payment.provider == Provider.IPG, Payment.provider_reference == authority
                )
            )

    # ---- verifying ------------------------------------------------------------------------------

    def verify(
        self, payment_id: int, *, cancelled: bool = False, now: datetime | None = None
    ) -> str:
        """Verify ``payment_id`` with the gateway if no other worker is doing it; apply the
        answer once. Returns paid | in_review | failed | refund_due | not_paid | confirming
        (another worker verifies, or the gateway did not answer in time) | already (settled
        before) | duplicate | error."""
        claimed = self._claim(payment_id, now or utcnow())
        if claimed is None:
            return self._settled(payment_id)
        authority, amount = claimed
        try:
            answer = api.verify(amount=amount, authority=authority)
        except api.GatewayError as exc:
            log.warning(
                "payment %s: verify failed (%s); left pending for reconcile", payment_id, exc
            )
            return "confirming"
        outcome = self._apply(payment_id, authority, answer, cancelled=cancelled)
        self._after_commit(outcome)
        return outcome.result

    def _claim(self, payment_id: int, now: datetime) -> tuple[str, int] | None:
        """Take the right to call verify for the payment (committed); (authority, amount), or
        None when another worker holds it or the payment is not waiting for the gateway."""
        with transaction():
            taken = db.session.execute(
                sa.update(Payment)
                .where(
                    Payment.id == payment_id,
                    Payment.provider == Provider.IPG,
                    Payment.provider_reference.is_not(None),
                    Payment.status.in_(_CLAIMABLE),
                    sa.or_(
                        Payment.verify_started_at.is_(None),
                        Payment.verify_started_at < now - lease(),
                    ),
                )
                .values(verify_started_at=now)
                .execution_options(synchronize_session=False)
            )
            if cast("sa.CursorResult[Any]", taken).rowcount != 1:
                return None
            row = db.session.execute(
                sa.select(Payment.provider_reference, Payment.amount).where(
                    Payment.id == payment_id
                )
            ).one()
        return str(row.provider_reference), int(row.amount)

    def _settled(self, payment_id: int) -> str:
        with transaction(write=False):
            status = db.session.scalar(sa.select(Payment.status).where(Payment.id == payment_id))
        return "confirming" if status == PaymentStatus.PENDING else "already"

    def _apply(
        self, payment_id: int, authority: str, answer: api.Answer, *, cancelled: bool
    ) -> _Outcome:
        try:
            with transaction():
                payment = _locked(payment_id)
                if answer.ok:
                    return self._verified(payment, authority, answer)
                if answer.code == api.AMOUNT_MISMATCH:
                    return self._review(payment, authority, answer.code, None)
                payment.verify_started_at = None  # the next callback or reconcile may ask again
                if answer.code == api.NOT_PAID and cancelled:
                    eventlog.record(
                        Provider.IPG,
                        f"failed:{authority}",
                        "failed",
                        payment.id,
                        {"code": answer.code},
                    )
                    if state.expire_payment(payment, "failed"):
                        return _Outcome("failed", [(events.NOTICE_FAILED, _order_ids(payment))])
                    return _Outcome("unchanged")
                if answer.code == api.NOT_PAID:
                    return _Outcome("not_paid")
                log.error("payment %s: verify answered code %s", payment.id, answer.code)
                return _Outcome("error")
        except eventlog.DuplicateEvent:
            return _Outcome("duplicate")

    def _verified(self, payment: Payment, authority: str, answer: api.Answer) -> _Outcome:
        data = answer.data
        ref_id, card = data.get("ref_id"), data.get("card_pan")
        eventlog.record(
            Provider.IPG,
            f"verify:{authority}",
            "verified",
            payment.id,
            {"code": answer.code, "ref_id": ref_id, "card_pan": card, "fee": data.get("fee")},
        )
        payment.gateway_ref_id = str(ref_id)[:64] if ref_id is not None else None
        payment.card_pan = str(card)[:32] if card else None
        reported = data.get("amount")
        if reported is not None and reported != payment.amount:
            return self._review(payment, authority, answer.code, reported)
        result = state.mark_payment_paid(payment)
        if result == "paid":
            return _Outcome("paid", [(events.NOTICE_PAID, _order_ids(payment))])
        if result == "needs_refund":
            eventlog.record(
                Provider.IPG,
                f"refund-due:{payment.id}",
                events.REFUND_DUE,
                payment.id,
                {"reason": "sold_out"},
            )
            return _Outcome(
                "refund_due",
                [(events.NOTICE_SOLD_OUT_REFUND, _order_ids(payment))],
                refund_due=payment.id,
            )
        return _Outcome("already")

    def _review(self, payment: Payment, authority: str, code: int, reported: object) -> _Outcome:
        log.warning(
            "payment %s: the gateway reports amount %s (code %s), we expected %s; held for review",
            payment.id,
            reported,
            code,
            payment.amount,
        )
        if payment.status in _CLAIMABLE:
            payment.status = PaymentStatus.IN_REVIEW
        return _Outcome("in_review")

    def _after_commit(self, outcome: _Outcome) -> None:
        for kind, order_ids in outcome.notices:
            events.notify(kind, order_ids)
        if outcome.refund_due is not None:
            try:
                issue_refund(outcome.refund_due)
            except ProviderFailure:
                log.exception(
                    "refund of payment %s failed; reconcile retries it", outcome.refund_due
                )

    # ---- refunds --------------------------------------------------------------------------------

    def refund(self, payment_id: int, amount: int, *, key: str) -> Refund:
        with transaction(write=False):  # a read of its own: none is held open across the network
            row = db.session.execute(
                sa.select(Payment.provider_reference, Payment.gateway_ref_id).where(
                    Payment.id == payment_id, Payment.provider == Provider.IPG
                )
            ).first()
        authority = row.provider_reference if row is not None else None
        if not authority or row is None or row.gateway_ref_id is None:
            raise ProviderFailure(f"payment {payment_id} was never verified")
        try:
            answer = api.refund(authority=authority, amount=amount, key=key)
        except api.GatewayError as exc:
            raise ProviderFailure(str(exc)) from exc
        if not answer.ok:
            raise ProviderFailure(f"refund refused: code {answer.code}")
        reference = answer.data.get("refund_id") or answer.data.get("id")
        return Refund(str(reference) if reference else None, amount)

    # ---- catching up ----------------------------------------------------------------------------

    def unfinished(self, older_than: datetime) -> list[int]:
        with transaction(write=False):
            return list(
                db.session.scalars(
                    sa.select(Payment.id)
                    .where(
                        Payment.provider == Provider.IPG,
                        Payment.status == PaymentStatus.PENDING,
                        Payment.provider_reference.is_not(None),
                        Payment.created_at < older_than,
                    )
                    .order_by(Payment.id)
                )
            )

    def reconcile(self, older_than: datetime, now: datetime | None = None) -> dict[str, int]:
        """Payments the gateway lists as paid but unverified, then our pending ones older than
        ``older_than``: each verified (once); then the refunds still owed."""
        counts: Counter[str] = Counter()
        seen: set[int] = set()
        try:
            listed = api.unverified()
        except api.GatewayError as exc:
            log.warning("reconcile: unVerified: %s", exc)
            counts["errors"] += 1
            listed = []
        for row in listed:
            authority = _authority(row.get("authority"))
            payment_id = self._payment_of(authority) if authority else None
            if payment_id is None:
                log.warning(
                    "reconcile: the gateway lists an authority that is not ours: %s", authority
                )
                counts["unknown"] += 1
                continue
            seen.add(payment_id)
            counts[self.verify(payment_id, now=now)] += 1
        for payment_id in self.unfinished(older_than):
            if payment_id not in seen:
                counts[self.verify(payment_id, now=now)] += 1
        with transaction(write=False):
            owed = events.refunds_owed(Provider.IPG)
        for payment_id in owed:
            try:
                if issue_refund(payment_id):
                    counts["refund_issued"] += 1
            except ProviderFailure as exc:
                log.warning("reconcile: refund of payment %s: %s", payment_id, exc)
                counts["errors"] += 1
        return dict(counts)

    def expire_overdue(self, now: datetime, limit: int) -> int:
        """Before overdue payments expire, ask the gateway once about each that has an
        authority: one paid meanwhile (its callback lost) is paid instead of expired. Nothing is
        closed at the gateway (an unverified payment goes back to the customer by itself); the
        rest expire with every other online checkout (``state.expire_unpaid``). Returns 0."""
        with transaction(write=False):
            overdue = list(
                db.session.scalars(
                    sa.select(Payment.id)
                    .where(
                        Payment.provider == Provider.IPG,
                        Payment.status == PaymentStatus.PENDING,
                        Payment.provider_reference.is_not(None),
                        Payment.expires_at < now,
                    )
                    .order_by(Payment.id)
                    .limit(limit)
                )
            )
        for payment_id in overdue:
            log.info(
                "expire: payment %s asked of the gateway first: %s",
                payment_id,
                self.verify(payment_id),
            )
        return 0


def _order_ids(payment: Payment) -> list[int]:
    return [
        o.id for o in db.session.scalars(sa.select(Order).where(Order.payment_id == payment.id))
    ]


def issue_refund(payment_id: int) -> bool:
    """Make the whole refund owed to an IPG payment and record it; True when this call recorded
    it. Safe to repeat: the gateway gets the same key, and only one caller records it."""
    with transaction(write=False):
        if payment_id not in events.refunds_owed(Provider.IPG):
            return False
        amount, verified = db.session.execute(
            sa.select(Payment.amount, Payment.gateway_ref_id).where(Payment.id == payment_id)
        ).one()
    if verified is None:
        # Never verified (the gateway refused our amount): the gateway gives unverified money
        # back by itself, so there is nothing to ask it; the refund is recorded as made.
        made = Refund(None, int(amount), "returned_by_gateway")
    else:
        made = PROVIDER.refund(payment_id, int(amount), key=f"refund-{payment_id}")
    try:
        with transaction():
            eventlog.record(
                Provider.IPG,
                f"refund-issued:{payment_id}",
                events.REFUND_ISSUED,
                payment_id,
                {"refund": made.reference, "amount": made.amount, "status": made.status},
            )
            locked = _locked(payment_id)
            acted = state.mark_payment_refunded(locked)
            order_ids = _order_ids(locked) if acted else []
    except eventlog.DuplicateEvent:
        return False
    if acted:
        events.notify(events.NOTICE_REFUNDED, order_ids)
    return True


PROVIDER = BankGateway()


def _locked(payment_id: int) -> Payment:
    """The payment, fresh and locked (it exists: its id came from our own rows)."""
    payment = eventlog.lock_payment(payment_id)
    if payment is None:  # pragma: no cover - payments are never deleted
        raise LookupError(f"payment {payment_id}")
    return payment
