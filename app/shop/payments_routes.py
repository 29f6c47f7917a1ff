"""Stripe's webhook, and the payment state the customer's return page waits on.

The webhook is the market's only view exempt from CSRF: Stripe cannot send our token, and the
signature (checked with the webhook secret by the Stripe library) takes its place.
"""

from __future__ import annotations

from flask import abort, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from app.core.extensions import csrf
from app.payments import services as payments
from app.shop import bp

# Stripe's events are a few kilobytes; anything far larger is not one of them.
MAX_WEBHOOK_BYTES = 256 * 1024


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook() -> ResponseReturnValue:
    """Stripe delivers events here. 400 when the signature does not check out (nothing is
    changed), 200 when the event was applied, seen before or is not ours to handle; anything
    else makes Stripe deliver it again later."""
    if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
        abort(413)
    payload = request.stream.read(MAX_WEBHOOK_BYTES + 1)
    if len(payload) > MAX_WEBHOOK_BYTES:
        abort(413)
    try:
        result = payments.receive_stripe_webhook(payload, request.headers.get("Stripe-Signature"))
    except payments.InvalidWebhook:
        return {"error": "invalid signature"}, 400
    return {"received": True, "result": result}, 200


@bp.get("/payments/<int:payment_id>/state")
@login_required
def payment_state(payment_id: int) -> ResponseReturnValue:
    """The state of the customer's own payment, for the return page to poll ("confirming" until
    Stripe's word lands)."""
    state = payments.customer_payment_state(payment_id, current_user.id)
    if state is None:
        abort(404)
    response = {"state": state}
    return response, 200, {"Cache-Control": "no-store"}
