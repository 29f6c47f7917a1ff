"""Staff area: online payments held for review, refunds still owed, bank-gateway payments."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.admin import bp
from app.core.formatting import format_digits
from app.orders import lookups as order_lookups
from app.payments import online, staff
from app.web.access import staff_scope
from app.web.http import page_arg
from app.web.invoices import render_invoice


def card_payments_enabled() -> bool:
    """True when an online payment provider is on (decisions and refunds go through it)."""
    return bool(online.enabled_providers())


def _locale() -> str:
    return str(get_locale() or "fa")


class PaymentDecisionForm(FlaskForm):
    action = StringField()  # set by the button pressed
    reason = TextAreaField(
        _l("Why (kept in the audit log)"), validators=[DataRequired(), Length(max=2000)]
    )


class RetryRefundForm(FlaskForm):
    pass


@bp.get("/orders/<int:order_id>/invoice")
def order_invoice(order_id: int) -> ResponseReturnValue:
    """The printable invoice of any order, for programme staff."""
    scope = staff_scope()
    order = order_lookups.invoice_order(order_id, scope)
    if order is None:
        abort(404)
    return render_invoice(
        order, url_for("admin.payments" if scope.is_province else "admin.dashboard")
    )


@bp.get("/payments")
def payments():
    return render_template(
        "admin/payments.html",
        attention=staff.needing_attention(),
        decision=PaymentDecisionForm(),
        retry=RetryRefundForm(),
        card_enabled=card_payments_enabled(),
        gateway=staff.gateway_payments(page_arg()),
    )


DECISIONS = {
    "accept": {
        "paid": (_l("Payment %(id)s accepted: its orders are paid."), "success"),
        "needs_refund": (
            _l("Payment %(id)s cannot be accepted: its products sold meanwhile. Refund it."),
            "error",
        ),
        "not_verified": (
            _l(
                "Payment %(id)s cannot be accepted: the bank never verified it, so no money "
                "arrived. Refund it (the bank returns unverified money by itself)."
            ),
            "error",
        ),
    },
    "refund": {
        "refunded": (_l("Payment %(id)s refunded."), "success"),
        "owed": (
            _l("Stripe could not make the refund of payment %(id)s now; it stays listed as owed."),
            "error",
        ),
    },
}


@bp.post("/payments/<int:payment_id>/decide")
def decide_payment(payment_id: int):
    form = PaymentDecisionForm()
    action = form.action.data or ""
    if action not in DECISIONS:
        flash(_("Choose to accept or to refund the payment."), "error")
        return redirect(url_for("admin.payments"))
    if not form.validate_on_submit():
        flash(_("Write why (up to 2,000 characters); it is kept in the audit log."), "error")
        return redirect(url_for("admin.payments"))
    if not card_payments_enabled():
        flash(_("Card payments are off; nothing was changed."), "error")
        return redirect(url_for("admin.payments"))
    decide = staff.accept if action == "accept" else staff.refund
    result = decide(payment_id, current_user.id, form.reason.data.strip())
    message = DECISIONS[action].get(result)
    if message is None:
        flash(_("That payment is no longer held for review."), "error")
    else:
        flash(str(message[0]) % {"id": format_digits(payment_id, _locale())}, message[1])
    return redirect(url_for("admin.payments"))


@bp.post("/payments/<int:payment_id>/retry-refund")
def retry_refund(payment_id: int):
    if not RetryRefundForm().validate_on_submit():
        flash(_("The form had expired; please try again."), "error")
    elif not card_payments_enabled():
        flash(_("Card payments are off; nothing was changed."), "error")
    else:
        result = staff.retry_refund(payment_id, current_user.id)
        if result == "refunded":
            flash(_("Payment %(id)s refunded.", id=format_digits(payment_id, _locale())), "success")
        elif result == "owed":
            flash(
                _(
                    "Stripe could not make the refund of payment %(id)s now; it stays listed as "
                    "owed.",
                    id=format_digits(payment_id, _locale()),
                ),
                "error",
            )
        else:
            flash(_("That payment owes no refund."), "error")
    return redirect(url_for("admin.payments"))
