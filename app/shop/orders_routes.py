"""Checkout, the pages an online payment returns to, and the customer's own orders."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog import browse
from app.core.db import database_id
from app.core.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from app.core.formatting import format_date, format_number, persian_digits
from app.core.inputs import optional_int
from app.disputes import services as disputes
from app.notifications.orders import send_order_event
from app.orders import addresses, completion, coupons
from app.orders import cart as carts
from app.orders import lookups as order_lookups
from app.orders import services as orders
from app.orders.errors import (
    CartAlreadyCheckedOut,
    CartChanged,
    CartProblem,
    NotABuyer,
    OutOfStock,
    OwnProducts,
    SellerAway,
    ShippingChanged,
    TooManyCashOrders,
    Unavailable,
)
from app.orders.models import Order, OrderLine, OrderStatus
from app.orders.placing import Address, ShippingWish
from app.payments import checkout as payment_checkout
from app.payments import lookups as payment_lookups
from app.payments import online
from app.payments.models import Payment, PaymentStatus, Provider
from app.reviews import services as reviews
from app.shipping import services as shipping
from app.shop import bp
from app.shop.cart_routes import is_staff, known_cart_units, own_product_ids
from app.shop.forms import CheckoutForm, province_label
from app.web.http import page_arg
from app.web.invoices import render_invoice
from app.web.messages import apply_errors, error_text, reason_text, status_label

log = logging.getLogger(__name__)

ORDERS_PER_PAGE = 20


def _locale() -> str:
    return str(get_locale() or "fa")


def order_number(order_id: int) -> str:
    return persian_digits(order_id) if _locale() == "fa" else str(order_id)


bp.add_app_template_global(lambda stored: province_label(stored, _locale()), "province_name")
bp.add_app_template_global(reason_text, "reason_text")


# ---- checkout -------------------------------------------------------------------------------


def _cart_blocker(view: carts.CartView) -> str | None:
    """Why the cart cannot go to checkout as it is, or None."""
    if view.is_empty:
        return _("Your cart is empty.")
    if view.has_problems:
        return _("Some items in your cart need your attention before checkout.")
    if own_product_ids([i.product_id for g in view.groups for i in g.items]):
        return _("Your cart holds your own products. Remove them to continue.")
    return None


def _prefill(form: CheckoutForm) -> None:
    """The saved address the customer picked (``?address=<id>``), else the one they used last,
    else the address of their last order, else their name and phone."""
    picked = database_id(request.args.get("address"))
    chosen = addresses.own(current_user.id, picked) if picked is not None else None
    if chosen is None:
        chosen = next(iter(addresses.saved(current_user.id)), None)
    last = chosen if chosen is not None else order_lookups.last_order(current_user.id)
    if last is not None:
        for name in ("recipient_name", "mobile", "province", "city", "address", "postal_code"):
            getattr(form, name).data = getattr(last, name)
    else:
        form.recipient_name.data = current_user.name
        form.mobile.data = current_user.phone or ""


def _address(form: CheckoutForm) -> Address:
    return Address(
        recipient_name=form.recipient_name.data or "",
        mobile=form.mobile.data or "",
        province=form.province.data or "",
        city=form.city.data or "",
        address=form.address.data or "",
        postal_code=form.postal_code.data or "",
    )


def _address_errors(form: CheckoutForm, address: Address) -> None:
    """The service's address rules, on fields the form itself found no fault with."""
    try:
        address.cleaned()
    except ValidationFailed as exc:
        apply_errors(
            form,
            ValidationFailed({k: v for k, v in exc.errors.items() if not getattr(form, k).errors}),
        )


def cash_limit_message(open_count: int, limit: int) -> str:
    """Why cash on delivery is refused, with the customer's real count and the limit, and a way
    on that the market offers now."""
    locale = _locale()
    text = _(
        "You have %(n)s open cash-on-delivery orders, and %(limit)s is the most you can have "
        "at a time.",
        n=format_number(open_count, locale),
        limit=format_number(limit, locale),
    )
    if online.enabled_providers():
        return text + " " + _("Pay online, or wait until one of them is delivered.")
    return (
        text
        + " "
        + _("You can order with cash on delivery again once one of them is delivered or cancelled.")
    )


def error_summary(form: CheckoutForm) -> list[tuple[str, str]]:
    """(field id or "", message) of every error on the form, in page order, for the summary."""
    out = [("", message) for message in form.form_errors]
    for field in form:
        hidden = field.type in ("HiddenField", "CSRFTokenField")
        for message in field.errors:
            out.append(("" if hidden else field.id, str(message)))
    return out


def shipping_wishes() -> dict[int, ShippingWish]:
    """Each seller's shipping as the page posted it (``shipping-<seller id>`` =
    ``<method id, 0 for the seller's own arrangement>:<cost shown>``); a malformed value counts
    as no choice (the cheapest method, no cost to compare)."""
    wishes: dict[int, ShippingWish] = {}
    for key, value in request.form.items():
        if not key.startswith("shipping-"):
            continue
        seller_id = database_id(key[9:])
        method, _sep, seen = value.partition(":")
        try:
            method_id, seen_cost = optional_int(method), optional_int(seen)
        except ValueError:
            continue
        if seller_id is None:
            continue
        wishes[seller_id] = (method_id or None, seen_cost)
    return wishes


def _shipping_choices(
    view: carts.CartView, province: str | None, provinces: list[str]
) -> list[dict[str, Any]]:
    """For each seller group: its shipping options for ``province``, the one selected (the
    posted one when it is still offered, else the cheapest), and each option's cost to each of
    ``provinces`` (the page's script shows those when the customer picks another province)."""
    wishes = shipping_wishes() if request.method == "POST" else {}
    out = []
    for group in view.groups:
        options = shipping.options(group.seller.id, province, group.units, group.subtotal_amount)
        wanted = wishes.get(group.seller.id, (None, None))[0]
        selected = next((o for o in options if o.method_id == wanted), options[0])
        costs = shipping.costs_by_province(
            group.seller.id, provinces, group.units, group.subtotal_amount
        )
        out.append({"group": group, "options": options, "selected": selected, "costs": costs})
    return out


def _render_checkout(
    form: CheckoutForm,
    view: carts.CartView,
    status: int = 200,
    preview: tuple[coupons.Preview, str] | None = None,
) -> ResponseReturnValue:
    province = form.province.data or None
    provinces = [str(value) for value, _label in form.province.choices if value]
    choices = _shipping_choices(view, province, provinces)
    return (
        render_template(
            "shop/checkout.html",
            form=form,
            view=view,
            shipping_choices=choices,
            shipping_total=sum(c["selected"].cost for c in choices),
            province=province,
            coupon_preview=preview,
            saved_addresses=addresses.saved(current_user.id),
            errors=error_summary(form) if status >= 400 else [],
            cash_note=_cash_note(),
            expiry_minutes=payment_checkout.card_hold_minutes(
                current_app.config["CHECKOUT_EXPIRY_MINUTES"]
            ),
        ),
        status,
    )


def _cash_note() -> str | None:
    """Said on the checkout page before the customer fills it in: cash on delivery is not
    possible now because the customer is at the limit."""
    limit = int(current_app.config["MAX_OPEN_CASH_ORDERS"])
    open_count = payment_checkout.open_cash_checkouts(current_user._get_current_object())
    return cash_limit_message(open_count, limit) if open_count >= limit else None


def _version_arg(form: CheckoutForm) -> int | None:
    """The cart version the page showed, or None when the post did not carry one."""
    try:
        return int(form.cart_version.data)
    except (TypeError, ValueError):
        return None


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout() -> ResponseReturnValue:
    if is_staff():
        flash(_("Programme staff accounts cannot buy in the market."), "error")
        return redirect(url_for("shop.cart"))
    form = CheckoutForm(online=[(p.form_value, p.label) for p in online.enabled_providers()])
    view = carts.view(current_user._get_current_object(), None)
    if request.method == "GET":
        known_cart_units(view)
        return _show_checkout(form, view)
    if request.form.get("preview_coupon"):
        return _preview_coupon(form, view)
    address = _address(form)
    if not form.validate_on_submit():
        _address_errors(form, address)  # all mistakes at once, not one round each
        return _render_checkout(form, view, 400)
    token = form.checkout_token.data or ""
    existing = payment_checkout.find_checkout(token) if token else None
    if existing is not None and existing.customer_id == current_user.id:
        # The same form posted again (a double click, a retry): the checkout it already made.
        return _after_checkout(existing, created=False)
    try:
        payment, created = _place(form, address, token)
    except _REFUSALS as exc:
        return _refused(exc, form, view)
    if created:
        _remember(address)
    return _after_checkout(payment, created=created)


def _preview_coupon(form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    """The checkout page again, as posted (the typed code kept for placing), with what the
    typed coupon would take off and from which shop, or why it would not apply; nothing is
    placed or spent (the coupon service's own rules: ``coupons.preview``)."""
    text = (form.coupon.data or "").strip()
    if not text:
        form.coupon.errors = [_("Type a coupon code to see what it takes off.")]
        return _render_checkout(form, view)
    subtotals = {group.seller.id: group.subtotal_amount for group in view.groups}
    try:
        found = coupons.preview(text, subtotals)
    except ValidationFailed as exc:
        form.coupon.errors = [error_text(code) for code in exc.errors.get("coupon", [])]
        return _render_checkout(form, view)
    names = {group.seller.id: group.seller.display_name for group in view.groups}
    return _render_checkout(form, view, preview=(found, names[found.seller_id]))


def _remember(address: Address) -> None:
    """Offer the address again next time; a failure here never undoes the checkout."""
    try:
        addresses.remember(current_user.id, address.cleaned())
    except Exception:
        log.exception("could not keep the address of user %s's checkout", current_user.id)


def _show_checkout(form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    """The checkout page, filled with the last address and a fresh form token; back to the
    cart when it cannot go to checkout as it is."""
    blocker = _cart_blocker(view)
    if blocker:
        flash(blocker, "error")
        return redirect(url_for("shop.cart"))
    _prefill(form)
    pay = request.args.get("pay", "")
    if any(value == pay for value, _label in form.payment_method.choices or ()):
        form.payment_method.data = pay  # the method chosen when a failed payment is resumed
    form.checkout_token.data = secrets.token_urlsafe(24)
    form.cart_version.data = str(carts.version(current_user._get_current_object()))
    return _render_checkout(form, view)


def _place(form: CheckoutForm, address: Address, token: str) -> payment_checkout.Checkout:
    """The checkout service, with the market's settings and the form's choices."""
    config = current_app.config
    chosen = online.by_form_value(form.payment_method.data or "")
    return payment_checkout.place_checkout(
        current_user._get_current_object(),
        address,
        chosen.key if chosen is not None else Provider.CASH,
        token,
        currency=config["MARKET_CURRENCY"],
        expiry_minutes=int(config["CHECKOUT_EXPIRY_MINUTES"]),
        max_open_cash_orders=int(config["MAX_OPEN_CASH_ORDERS"]),
        cart_version=_version_arg(form),
        shipping=shipping_wishes(),
        coupon=form.coupon.data or "",
    )


# ---- what the customer is told when the checkout service refuses --------------------------------
# Each answer gets the refusal, the form and the cart view; the service has rolled back.

Refusal = Callable[[Any, CheckoutForm, carts.CartView], ResponseReturnValue]


def _back_to_cart(message: str) -> ResponseReturnValue:
    flash(message, "error")
    return redirect(url_for("shop.cart"))


def _already_ordered(
    exc: CartAlreadyCheckedOut, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    flash(
        _(
            "This cart was already ordered (from another window or an earlier click), so "
            "nothing new was ordered. Here is the order that was made."
        ),
        "info",
    )
    made = payment_lookups.payment(exc.payment_id)
    if made is None:  # pragma: no cover - a payment row is never deleted
        return redirect(url_for("shop.orders"), code=303)
    # A card checkout still unpaid goes on to the provider's page, as the first tab did.
    return _after_checkout(made, created=False)


def _cart_changed(
    exc: CartChanged, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    view = carts.view(current_user._get_current_object(), None)
    if _cart_blocker(view):
        return _back_to_cart(_("Your cart changed in another window. Please check it."))
    form.form_errors.append(
        _(
            "Your cart changed in another window since this page was opened. Check the "
            "order below and place it again."
        )
    )
    form.cart_version.data = str(carts.version(current_user._get_current_object()))
    form.checkout_token.data = secrets.token_urlsafe(24)
    return _render_checkout(form, view, 409)


def _not_a_buyer(exc: NotABuyer, form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    return _back_to_cart(_("Programme staff accounts cannot buy in the market."))


def _own_products(
    exc: OwnProducts, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    return _back_to_cart(_("Your cart holds your own products. Remove them to continue."))


def _cart_problem(
    exc: CartProblem, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    if exc.args and exc.args[0] == "empty":
        return _back_to_cart(_("Your cart is empty."))
    return _back_to_cart(_("Some prices changed since you added the items. Please check them."))


def _not_for_sale(
    exc: Unavailable | OutOfStock, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    title = exc.title or browse.product_title(exc.product_id) or "?"
    if isinstance(exc, OutOfStock):
        return _back_to_cart(
            _("“%(title)s” has just sold out. Please change your cart.", title=title)
        )
    return _back_to_cart(_("“%(title)s” is no longer for sale. Please remove it.", title=title))


def _seller_away(exc: SellerAway, form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    return _back_to_cart(
        _(
            "%(seller)s is away until %(date)s, so their items cannot be ordered now. Remove "
            "them to order the rest.",
            seller=exc.name,
            date=format_date(exc.until, _locale()),
        )
    )


def _shipping_changed(
    exc: ShippingChanged, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    form.form_errors.append(
        _(
            "The shipping cost is different for this address (or the seller changed it). "
            "Nothing was ordered: check the new shipping costs below and place the order again."
        )
    )
    form.checkout_token.data = secrets.token_urlsafe(24)
    return _render_checkout(form, view, 409)


def _cash_cap(
    exc: TooManyCashOrders, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    form.payment_method.errors = [
        *form.payment_method.errors,
        cash_limit_message(exc.open, exc.limit),
    ]
    return _render_checkout(form, view, 400)


def _invalid(
    exc: ValidationFailed, form: CheckoutForm, view: carts.CartView
) -> ResponseReturnValue:
    if exc.errors.pop("token", None):
        form.form_errors.append(_("Please check the form and send it again."))
        form.checkout_token.data = secrets.token_urlsafe(24)
    apply_errors(form, exc)
    return _render_checkout(form, view, 400)


def _not_allowed(exc: NotAllowed, form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    form.checkout_token.data = secrets.token_urlsafe(24)
    form.form_errors.append(_("Please check the form and send it again."))
    return _render_checkout(form, view, 400)


# Refusal kinds and their answers, the first that matches wins.
_ANSWERS: tuple[tuple[type[DomainError] | tuple[type[DomainError], ...], Refusal], ...] = (
    (CartAlreadyCheckedOut, _already_ordered),
    (CartChanged, _cart_changed),
    (NotABuyer, _not_a_buyer),
    (OwnProducts, _own_products),
    (CartProblem, _cart_problem),
    ((Unavailable, OutOfStock), _not_for_sale),
    (SellerAway, _seller_away),
    (ShippingChanged, _shipping_changed),
    (TooManyCashOrders, _cash_cap),
    (ValidationFailed, _invalid),
    (NotAllowed, _not_allowed),
)
_REFUSALS = tuple(
    kind
    for kinds, _answer in _ANSWERS
    for kind in (kinds if isinstance(kinds, tuple) else (kinds,))
)


def _refused(exc: DomainError, form: CheckoutForm, view: carts.CartView) -> ResponseReturnValue:
    """The page or redirect that says why the checkout was refused."""
    answer = next(answer for kinds, answer in _ANSWERS if isinstance(exc, kinds))
    return answer(exc, form, view)


def _after_checkout(payment: Payment, *, created: bool) -> ResponseReturnValue:
    """After commit: mail a new cash order; send an online payment to its provider's page."""
    payment_id = payment.id  # the provider call ends the session's transaction
    done = url_for("shop.checkout_return", payment_id=payment_id)
    if payment.provider == Provider.CASH:
        if created:
            send_order_event("placed", [o.id for o in payment.orders])
        return redirect(done, code=303)
    if payment.status != PaymentStatus.PENDING:
        return redirect(done, code=303)
    try:
        target = online.start(payment)
    except Exception:
        current_app.logger.exception("could not start the online payment %s", payment_id)
        flash(
            _(
                "We could not reach the card payment service, so nothing was charged. Your items "
                "stay reserved for %(n)s minutes; the order is cancelled if it is not paid.",
                n=format_number(
                    payment_checkout.card_hold_minutes(
                        current_app.config["CHECKOUT_EXPIRY_MINUTES"]
                    ),
                    _locale(),
                ),
            ),
            "error",
        )
        return redirect(url_for("shop.orders"), code=303)
    if target.fields is not None:  # a provider that takes a posted form
        return render_template("shop/provider_redirect.html", target=target)
    return redirect(target.url, code=303)


@bp.get("/checkout/return/<int:payment_id>")
@login_required
def checkout_return(payment_id: int) -> ResponseReturnValue:
    """Where the customer lands after checkout: cash orders are placed; an online payment is
    confirmed by the provider's word, so this page refreshes itself until it arrives."""
    payment = payment_lookups.customer_payment(payment_id, current_user.id)
    if payment is None:
        abort(404)
    waiting = payment.provider != Provider.CASH and payment.status == PaymentStatus.PENDING
    response = current_app.make_response(
        render_template("shop/checkout_return.html", payment=payment, waiting=waiting)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


RESUMABLE = (PaymentStatus.FAILED, PaymentStatus.EXPIRED)


@bp.post("/checkout/return/<int:payment_id>/resume")
@login_required
def resume_checkout(payment_id: int) -> ResponseReturnValue:
    """After an online payment that was cancelled, failed or ran out of time (its orders are
    cancelled and their stock released): put its products back in the cart, once, and go to
    the checkout with the card (``how=card``) or cash on delivery (``how=cash``) chosen. The
    checkout takes the stock again, so nothing is sold twice."""
    payment = payment_lookups.customer_payment(payment_id, current_user.id)
    if payment is None:
        abort(404)
    how = request.form.get("how", "")
    if how not in ("card", "cash"):
        abort(400)
    if payment.provider == Provider.CASH or payment.status not in RESUMABLE:
        flash(_("This payment cannot be tried again."), "error")
        return redirect(url_for("shop.checkout_return", payment_id=payment_id), code=303)
    lines = [_reorder_line(line) for order in payment.orders for line in order.lines]
    try:
        done = carts.reorder(current_user._get_current_object(), lines, top_up=True)
    except NotABuyer:
        abort(403)
    _flash_left_out(done)
    if not (done.added or done.fewer):
        return redirect(url_for("shop.cart"), code=303)
    provider = online.provider(payment.provider)
    card = (
        provider.form_value
        if provider is not None and provider.available(current_app.config)
        else None
    )
    return redirect(
        url_for("shop.checkout", pay=card if how == "card" and card else "cash"), code=303
    )


# ---- my orders ------------------------------------------------------------------------------


def _own_order(order_id: int) -> Order:
    order = order_lookups.customer_order(order_id, current_user.id)
    if order is None:
        abort(404)
    return order


@bp.get("/orders", endpoint="orders")
@login_required
def order_list() -> ResponseReturnValue:
    page = order_lookups.customer_orders(current_user.id, page_arg(), ORDERS_PER_PAGE)
    return render_template("shop/orders.html", page=page)


@bp.get("/orders/<int:order_id>")
@login_required
def order_detail(order_id: int) -> ResponseReturnValue:
    order = _own_order(order_id)
    payment = payment_lookups.payment(order.payment_id)
    problem = disputes.problem_of(order.id)
    return render_template(
        "shop/order_detail.html",
        order=order,
        payment=payment,
        can_cancel=orders.customer_may_cancel(order),
        can_complete=completion.customer_may_complete(order),
        receipt_deadline=completion.receipt_deadline(order),
        problem=problem,
        can_report=problem is None and disputes.may_report(order),
        report_deadline=disputes.report_deadline(order),
        can_escalate=problem is not None and disputes.customer_may_escalate(problem),
        line_reviews=(
            reviews.reviews_of_lines([line.id for line in order.lines])
            if order.status == OrderStatus.COMPLETED
            else None
        ),
    )


@bp.get("/orders/<int:order_id>/invoice")
@login_required
def order_invoice(order_id: int) -> ResponseReturnValue:
    """The printable invoice of one of the customer's own orders (another's is a 404)."""
    order = _own_order(order_id)
    return render_invoice(order, url_for("shop.order_detail", order_id=order.id))


@bp.post("/orders/<int:order_id>/received")
@login_required
def confirm_receipt(order_id: int) -> ResponseReturnValue:
    order = _own_order(order_id)
    try:
        completion.complete_by_customer(order, current_user._get_current_object())
    except InvalidTransition:
        flash(
            _(
                "This order cannot be marked as received now (status: %(status)s).",
                status=status_label(order.status),
            ),
            "error",
        )
    except NotAllowed:
        abort(404)
    else:
        flash(
            _("Thank you: order %(number)s is complete.", number=order_number(order.id)),
            "success",
        )
    return redirect(url_for("shop.order_detail", order_id=order_id))


def _reorder_line(line: OrderLine) -> carts.ReorderLine:
    """What buying ``line`` again asks for: the same product, and the same variant if any."""
    title = line.product_title
    if line.variant_label:
        title = f"{title} ({line.variant_label})"
    return (line.product_id, line.variant_id, title, line.quantity)


@bp.post("/orders/<int:order_id>/reorder")
@login_required
def reorder(order_id: int) -> ResponseReturnValue:
    """Put the products of one of the customer's orders in the cart again, at today's prices."""
    order = _own_order(order_id)
    lines = [_reorder_line(line) for line in order.lines]
    try:
        done = carts.reorder(current_user._get_current_object(), lines)
    except NotABuyer:
        flash(_("Programme staff accounts cannot buy in the market."), "error")
        return redirect(url_for("shop.order_detail", order_id=order_id))
    if done.added or done.fewer:
        flash(_("The products are in your cart again, at today's prices."), "success")
    _flash_left_out(done)
    return redirect(url_for("shop.cart"))


def _flash_left_out(done: carts.Reordered) -> None:
    """Say which products went back into the cart in part, or not at all, and why."""
    for title, units in done.fewer:
        flash(
            _(
                "Only %(n)s of “%(title)s” left: %(n)s are in your cart.",
                n=format_number(units, _locale()),
                title=title,
            ),
            "info",
        )
    reasons = {
        "sold_out": _("sold out"),
        "own_product": _("your own product"),
        "cart_full": _("your cart is full"),
    }
    gone = _("no longer for sale")
    for title, code in done.skipped:
        reason = reasons.get(code, gone)
        flash(_("“%(title)s” could not be added: %(reason)s.", title=title, reason=reason), "error")


@bp.post("/orders/<int:order_id>/cancel")
@login_required
def cancel_order(order_id: int) -> ResponseReturnValue:
    order = _own_order(order_id)
    reason = (request.form.get("reason") or "").strip()[:500] or None
    try:
        orders.cancel_by_customer(order, current_user._get_current_object(), reason)
    except InvalidTransition:
        flash(
            _(
                "This order can no longer be cancelled (status: %(status)s).",
                status=status_label(order.status),
            ),
            "error",
        )
    except NotAllowed:
        abort(404)
    else:
        send_order_event("cancelled", [order.id])
        flash(_("Order %(number)s is cancelled.", number=order_number(order.id)), "success")
    return redirect(url_for("shop.order_detail", order_id=order_id))
