"""Payment operations the web layer calls. Card payments go through Stripe (stripe_provider)."""

from __future__ import annotations

from flask import current_app

from app.payments.models import Payment

# Currencies Stripe settles; IRR is not one of them.
STRIPE_CURRENCIES = frozenset({"EUR", "USD", "GBP", "AED", "TRY", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK"})


def card_payments_enabled() -> bool:
    """True when a Stripe key is set and the market currency is one Stripe accepts."""
    cfg = current_app.config
    return bool(cfg.get("STRIPE_SECRET_KEY")) and cfg["MARKET_CURRENCY"].upper() in STRIPE_CURRENCIES


def start_card_payment(payment: Payment, *, success_url: str, cancel_url: str) -> str:
    """Create the provider's checkout for ``payment`` (after its commit); returns the URL to send
    the customer to."""
    raise NotImplementedError
