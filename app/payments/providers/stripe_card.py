"""Stripe behind the provider interface: card payments through hosted Checkout Sessions.

Its behaviour is the one described in :mod:`app.payments.services` and :mod:`app.payments.events`
(this module only adapts them): switched on by ``STRIPE_SECRET_KEY``, for the currencies Stripe
settles; its server-to-server notices are the signed webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from app.payments import events, services
from app.payments import stripe_provider as api
from app.payments.models import Payment, Provider
from app.payments.providers.base import ProviderFailure, Refund, Returned, Start


class StripeCard:
    key = Provider.STRIPE
    form_value = "card"  # the checkout form's value since before there were other providers
    label = _l("Card (pay online now)")

    def currencies(self) -> frozenset[str]:
        return services.STRIPE_CURRENCIES

    def enabled(self, config: Mapping[str, Any]) -> bool:
        return bool(config.get("STRIPE_SECRET_KEY"))

    def available(self, config: Mapping[str, Any]) -> bool:
        return services.card_payments_enabled()  # the key, and a currency Stripe settles

    def start(self, payment: Payment) -> Start:
        return Start(services.start_card_payment(payment, **services.return_urls(payment.id)))

    def handle_return(self, args: Mapping[str, str]) -> Returned:
        # Stripe's return carries nothing to act on: its webhook (or reconcile) confirms.
        return Returned(None, "confirming")

    def handle_notice(self, body: bytes, headers: Mapping[str, str]) -> Returned:
        return Returned(
            None, services.receive_stripe_webhook(body, headers.get("Stripe-Signature"))
        )

    def verify(self, payment_id: int) -> str:
        reference = services.session_of(payment_id)
        if reference is None:
            return "waiting"
        try:
            return events.apply_session_state(api.retrieve_session(reference))
        except api.ProviderError as exc:
            raise ProviderFailure(str(exc)) from exc

    def refund(self, payment_id: int, amount: int, *, key: str) -> Refund:
        try:
            intent = events.intent_of(payment_id, services.session_of(payment_id))
            if not intent:
                raise ProviderFailure(f"payment {payment_id} has no PaymentIntent")
            made = api.refund_amount(intent, amount, key=key)
        except api.ProviderError as exc:
            raise ProviderFailure(str(exc)) from exc
        return Refund(made.get("id"), amount, str(made.get("status") or "succeeded"))

    def unfinished(self, older_than: datetime) -> list[int]:
        return services.waiting_card_payment_ids(older_than)

    def reconcile(self, older_than: datetime, now: datetime | None = None) -> dict[str, int]:
        return services.reconcile_at(older_than)

    def expire_overdue(self, now: datetime, limit: int) -> int:
        return services.expire_stripe_sessions(now, limit)


PROVIDER = StripeCard()
