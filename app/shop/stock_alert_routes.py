"""Back-in-stock alerts (:mod:`app.catalog.stock_alerts`): the button on a sold-out product's
page and the account's list of alerts.

The product page is cached and shared, so its button is a neutral link to this product's
``/stock-alerts/<id>`` page, drawn unpressed; ``static/js/favourites.js`` reads the visitor's
waiting alerts from ``/favourites/ids`` (``alerts``) and presses it with a POST of the same
address. A guest's link asks them to log in first and comes back here (a safe ``next``).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog import stock_alerts
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.shop import bp
from app.shop.favourites_routes import _limit, _private, _wants_json
from app.shop.forms import ToggleForm
from app.web.http import safe_next
from app.web.messages import error_text


@bp.route("/stock-alerts/<int:product_id>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
@login_required
def stock_alert(product_id: int) -> ResponseReturnValue:
    """Ask to be told when a sold-out product is back, or cancel: GET shows the form, POST sets
    it (``want``). A product that is not public can have its alert cancelled only (404)."""
    user = current_user._get_current_object()
    product = stock_alerts.find_public_product(product_id)
    waiting = stock_alerts.is_waiting(user, product_id)
    if product is None and not waiting:
        abort(404)
    default = url_for("shop.stock_alerts_page")
    form = ToggleForm()
    if request.method == "GET":
        form.want.data = "0" if waiting else "1"
        form.next.data = safe_next(request.args.get("next"), default)
        return _private(
            render_template(
                "shop/stock_alert_toggle.html",
                form=form,
                product=product,
                product_id=product_id,
                waiting=waiting,
            )
        )
    if not form.validate_on_submit():
        abort(400)
    wanted = form.want.data == "1"
    back = safe_next(form.next.data, default)
    if wanted:
        if product is None:
            abort(404)
        try:
            stock_alerts.ask(user, product)
        except ValidationFailed as exc:
            codes = [code for found in exc.errors.values() for code in found]
            if _wants_json():
                return _private((jsonify(errors=codes), 409))
            for code in codes:
                flash(error_text(code), "error")
            return redirect(back)
    else:
        stock_alerts.cancel(user, product_id)
    if _wants_json():
        return _private(jsonify(product_id=product_id, waiting=wanted))
    if wanted:
        flash(_("We will tell you when this product is back in stock."), "success")
    else:
        flash(_("You will not be told when this product is back."), "success")
    return redirect(back)


@bp.get("/account/stock-alerts")
@login_required
def stock_alerts_page() -> ResponseReturnValue:
    """The products the customer asked about: those still awaited (with cancel) and those
    already told."""
    user = current_user._get_current_object()
    return _private(
        render_template(
            "shop/stock_alerts.html", alerts=stock_alerts.alerts_of(user), form=ToggleForm()
        )
    )
