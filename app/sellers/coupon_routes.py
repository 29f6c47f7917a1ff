"""The seller's shop coupons: the list with the form for a new one, and ending one. The rules
are the coupon service's (``app.orders.coupons``); these views read the form and show its
errors."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.core.errors import NotFound, ValidationFailed
from app.orders import coupons
from app.sellers import bp
from app.sellers.forms import CouponForm
from app.sellers.routes import current_seller
from app.web.messages import apply_errors

# The service's field names that the form spells otherwise.
_FIELDS = {"value": "percent", "min_order_amount": "min_order_toman"}


def _page(form: CouponForm, status: int = 200) -> ResponseReturnValue:
    seller = current_seller()
    return (
        render_template(
            "sellers/coupons.html",
            seller=seller,
            form=form,
            coupons=coupons.seller_coupons(seller),
            is_open=coupons.is_open,
            last_day=coupons.last_day,
        ),
        status,
    )


@bp.route("/coupons", methods=["GET", "POST"])
def coupon_list() -> ResponseReturnValue:
    form = CouponForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 400)
    kind = form.kind.data or ""
    data = coupons.CouponData(
        code=form.code.data or "",
        kind=kind,
        value=form.percent.data if kind == "percent" else form.amount_toman.data,
        min_order_amount=form.min_order_toman.data,
        first_day=form.starts_on.data,
        last_day=form.ends_on.data,
        max_uses=form.max_uses.data,
    )
    try:
        coupons.create_coupon(current_seller(), data)
    except ValidationFailed as exc:
        fields = {
            ("amount_toman" if key == "value" and kind == "amount" else _FIELDS.get(key, key)): v
            for key, v in exc.errors.items()
        }
        apply_errors(form, ValidationFailed(fields))
        return _page(form, 400)
    flash(_("The coupon is saved."), "success")
    return redirect(url_for("sellers.coupon_list"))


@bp.post("/coupons/<int:coupon_id>/end")
def end_coupon(coupon_id: int) -> ResponseReturnValue:
    try:
        coupons.end_coupon(current_seller(), coupon_id)
    except NotFound:
        abort(404)
    flash(_("The coupon has ended; it can no longer be used."), "success")
    return redirect(url_for("sellers.coupon_list"))
