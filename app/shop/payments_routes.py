"""Stripe's webhook, the bank gateway's callback, the sandbox gateway's page, and the payment
state the customer's return page waits on.

The webhook is the market's only view exempt from CSRF: Stripe cannot send our token, and the
signature (checked with the webhook secret by the Stripe library) takes its place.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField

from app.core.extensions import csrf
from app.core.links import site_url_for
from app.payments import online
from app.payments import services as payments
from app.payments.providers import ipg_api
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


# ---- the bank gateway (IPG) -------------------------------------------------------------------

_CALLBACK_PAGES = {
    # result: (status code, title, message)
    "malformed": (
        400,
        _l("This payment link is not valid"),
        _l("The bank's answer could not be read, so nothing was changed."),
    ),
    "unknown": (
        404,
        _l("We do not know this payment"),
        _l(
            "The bank sent you back for a payment this market did not start, so nothing was "
            "changed. If money was taken from your card, the bank returns it."
        ),
    ),
    "disabled": (
        404,
        _l("Online payment is off"),
        _l("Online payment through the bank is not available now, so nothing was changed."),
    ),
}


@bp.get("/payments/ipg/callback")
def ipg_callback() -> ResponseReturnValue:
    """The bank gateway sends the customer's browser back here (``Authority``, ``Status``).
    The payment is verified with the gateway (never on the word of this request), once; then
    the customer goes on to the payment's return page. An unknown, foreign or malformed
    authority gets a page that says so, and changes nothing."""
    returned = online.ipg_return(
        {key: request.args.get(key, "") for key in ("Authority", "Status")}
    )
    if returned.payment_id is None:
        status, title, message = _CALLBACK_PAGES.get(returned.result, _CALLBACK_PAGES["unknown"])
        page = render_template("shop/payment_problem.html", title=title, message=message)
        return page, status, {"Cache-Control": "no-store"}
    if returned.result == "not_paid":
        flash(_("The bank has not confirmed this payment; nothing was charged."), "error")
    return redirect(url_for("shop.checkout_return", payment_id=returned.payment_id), code=303)


# ---- the sandbox gateway (PAYMENT_SANDBOX): a simulated bank page, no real money --------------


class SandboxGatewayForm(FlaskForm):
    """Pay, cancel or fail a sandbox payment (CSRF-protected)."""

    outcome = StringField()


_SANDBOX_OUTCOMES = {
    "pay": ("paid", "OK"),
    "cancel": ("cancelled", "NOK"),
    "fail": ("failed", "NOK"),
}


def _sandbox_only() -> None:
    if not current_app.config.get("PAYMENT_SANDBOX"):
        abort(404)


@bp.get("/sandbox/gateway/<authority>")
def sandbox_gateway(authority: str) -> ResponseReturnValue:
    """The simulated bank page of a sandbox payment: its amount and three buttons."""
    _sandbox_only()
    amount = ipg_api.sandbox_amount(authority)
    if amount is None:
        title = _l("This sandbox payment is not open")
        message = _l("It was paid, cancelled or never started. Go back to the market.")
        page = render_template("shop/payment_problem.html", title=title, message=message)
        return page, 404, {"Cache-Control": "no-store"}
    page = render_template(
        "shop/sandbox_gateway.html", amount=amount, authority=authority, form=SandboxGatewayForm()
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/sandbox/gateway/<authority>")
def sandbox_decide(authority: str) -> ResponseReturnValue:
    """The sandbox customer's choice, recorded once by the simulated gateway; then back to the
    market's callback, as the bank would send them."""
    _sandbox_only()
    form = SandboxGatewayForm()
    chosen = _SANDBOX_OUTCOMES.get(form.outcome.data or "")
    if not form.validate_on_submit() or chosen is None:
        flash(_("The form had expired; please try again."), "error")
        return redirect(url_for("shop.sandbox_gateway", authority=authority), code=303)
    outcome, status = chosen
    if not ipg_api.sandbox_decide(authority, outcome):
        return redirect(url_for("shop.sandbox_gateway", authority=authority), code=303)
    return redirect(site_url_for("shop.ipg_callback", Authority=authority, Status=status), code=303)
