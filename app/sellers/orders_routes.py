"""The seller's orders: list, detail with the next steps, packing slip.

Every lookup goes through ``owned_or_404``: another seller's order looks like a missing one.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.catalog.models import Seller
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.formatting import format_digits
from app.disputes import services as disputes
from app.notifications.orders import send_order_event
from app.orders import lookups as order_lookups
from app.orders import services as orders
from app.orders.models import Actor, Order, OrderStatus, may_move
from app.payments import lookups as payment_lookups
from app.sellers import bp
from app.sellers.routes import current_seller
from app.shipping.models import Carrier
from app.web.access import owned_or_404
from app.web.http import page_arg
from app.web.invoices import render_invoice
from app.web.messages import error_text, status_label

ORDERS_PER_PAGE = 25

# action -> (new status, the e-mail it sends)
ACTIONS: dict[str, tuple[OrderStatus, str]] = {
    "confirm": (OrderStatus.CONFIRMED, "confirmed"),
    "ship": (OrderStatus.SHIPPED, "shipped"),
    "deliver": (OrderStatus.DELIVERED, "delivered"),
    "cancel": (OrderStatus.CANCELLED, "cancelled"),
}


def next_actions(order: Order) -> list[str]:
    """What the status table lets a seller do with the order now (nothing while a card order
    waits for its payment: that is the customer's and the provider's to settle first)."""
    return [
        name for name, (new, _kind) in ACTIONS.items() if may_move(order.status, new, Actor.SELLER)
    ]


def recent_orders(seller: Seller, limit: int = 5) -> list[Order]:
    """The seller's newest orders, for the seller's dashboard."""
    return order_lookups.recent_seller_orders(seller.id, limit)


@bp.context_processor
def _order_helpers() -> dict[str, object]:
    return {"recent_orders": recent_orders}


def _owned_order(order_id: int) -> Order:
    return owned_or_404(
        Order,
        order_id,
        seller_id=current_seller().id,
        options=(selectinload(Order.lines), selectinload(Order.status_changes)),
    )


@bp.get("/orders")
def orders_list() -> ResponseReturnValue:
    seller = current_seller()
    status = request.args.get("status", "")
    if status not in {s.value for s in OrderStatus}:
        status = ""
    page = order_lookups.seller_orders(
        seller.id, OrderStatus(status) if status else None, page_arg(), ORDERS_PER_PAGE
    )
    return render_template(
        "sellers/orders.html",
        seller=seller,
        page=page,
        status=status,
        statuses=list(OrderStatus),
    )


@bp.get("/orders/<int:order_id>")
def order_detail(order_id: int) -> ResponseReturnValue:
    order = _owned_order(order_id)
    return render_template(
        "sellers/order_detail.html",
        seller=current_seller(),
        order=order,
        payment=payment_lookups.payment(order.payment_id),
        actions=next_actions(order),
        carriers=[c.value for c in Carrier],
        problem=disputes.problem_of(order.id),
    )


@bp.post("/orders/<int:order_id>/move")
def move_order(order_id: int) -> ResponseReturnValue:
    """Confirm, ship (carrier and tracking code), deliver or cancel (with a reason)."""
    order = _owned_order(order_id)
    target = url_for("sellers.order_detail", order_id=order_id)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        flash(_("That action is not possible here."), "error")
        return redirect(target)
    new, kind = ACTIONS[action]
    try:
        cancelled = orders.seller_move(
            order,
            current_seller(),
            current_user._get_current_object(),
            new,
            reason=request.form.get("reason", "")[:1000],
            carrier=request.form.get("carrier", ""),
            tracking_code=request.form.get("tracking_code", ""),
        )
    except ValidationFailed as exc:
        for field, codes in exc.errors.items():
            for code in codes:
                flash(_field_message(field, code), "error")
        return redirect(target)
    except InvalidTransition as exc:
        flash(
            _(
                "The order is %(status)s, so it cannot be moved to “%(new)s”. The page shows it as it is now.",
                status=status_label(exc.current),
                new=status_label(exc.new),
            ),
            "error",
        )
        return redirect(target)
    except NotAllowed:
        flash(_("That action is not possible here."), "error")
        return redirect(target)
    send_order_event(kind, [order_id])
    if cancelled is not None and cancelled.refund == "sent":
        flash(_("The customer's payment for this order is being refunded."), "info")
    elif cancelled is not None and cancelled.refund == "failed":
        flash(_("The refund could not be sent now; programme staff will complete it."), "warning")
    flash(
        _(
            "Order %(number)s: %(status)s.",
            number=format_digits(order_id, str(get_locale() or "fa")),
            status=status_label(new),
        ),
        "success",
    )
    return redirect(target)


def _field_message(field: str, code: str) -> str:
    if code == "required" and field == "carrier":
        return _("Enter the carrier (e.g. the national post).")
    if code == "required" and field == "tracking_code":
        return _("Enter the tracking code so the customer can follow the parcel.")
    if field == "reason":
        return _("Please give a reason; the customer will see it.")
    return error_text(code)


@bp.get("/orders/<int:order_id>/slip")
def packing_slip(order_id: int) -> ResponseReturnValue:
    order = _owned_order(order_id)
    return render_template(
        "sellers/packing_slip.html",
        seller=current_seller(),
        order=order,
        payment=payment_lookups.payment(order.payment_id),
    )


@bp.get("/orders/<int:order_id>/invoice")
def order_invoice(order_id: int) -> ResponseReturnValue:
    """The printable invoice of one of the seller's orders (another seller's is a 404)."""
    order = _owned_order(order_id)
    return render_invoice(order, url_for("sellers.order_detail", order_id=order.id))
