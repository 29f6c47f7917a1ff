"""The printable invoice of one order, shown to its customer, its seller and programme staff
(each blueprint checks who may see it and renders it through here)."""

from __future__ import annotations

import jdatetime
from flask import render_template

from app.core.formatting import to_local
from app.orders.models import Order
from app.payments import lookups as payment_lookups


def invoice_number(order: Order) -> str:
    """The invoice's number: the Jalali year the order was placed and the order's id
    (``1405-000123``); one invoice per order, so the number never repeats."""
    year = jdatetime.date.fromgregorian(date=to_local(order.created_at).date()).year
    return f"{year:04d}-{order.id:06d}"


def render_invoice(order: Order, back_url: str) -> str:
    """The invoice page of ``order``; ``back_url`` is the order page it was opened from."""
    return render_template(
        "invoice.html",
        order=order,
        seller=order.seller,
        payment=payment_lookups.payment(order.payment_id),
        number=invoice_number(order),
        back_url=back_url,
    )
