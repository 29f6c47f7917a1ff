"""Back-in-stock alerts (:mod:`app.catalog.stock_alerts`): the button on a sold-out product's
page and the account's list of alerts.

The product page is cached and shared, so its button is a neutral link to this product's
``/stock-alerts/<id>`` page, drawn unpressed; ``static/js/favourites.js`` reads the visitor's
waiting alerts from ``/favourites/ids`` (``alerts``) and presses it with a POST of the same
address. A guest's link asks them to log in first and comes back here (a safe ``next``).

A product with options is awaited per variant: the same address with ``?variant=<id>`` (one of
its offered variants; anything else is a 404).
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog import stock_alerts
from app.catalog.variants import labels_of as variant_labels_of
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
    """Ask to be told when a sold-out product (or its variant ``?variant=``) is back, or cancel:
    GET shows the form, POST sets it (``want``). A product that is not public can have its
    alert cancelled only (404)."""
    user = current_user._get_current_object()
    variant_id = _variant_arg()
    product = stock_alerts.find_public_product(product_id)
    variant = None
    if product is not None and variant_id is not None:
        variant = stock_alerts.find_variant(product, variant_id)
        if variant is None:
            product = None  # not an offered variant of it: nothing to ask for
    waiting = stock_alerts.is_waiting(user, product_id, variant_id)
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
                variant=variant,
                variant_label=variant_labels_of([variant_id]).get(variant_id or 0),
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
            stock_alerts.ask(user, product, variant)
        except ValidationFailed as exc:
            codes = [code for found in exc.errors.values() for code in found]
            if _wants_json():
                return _private((jsonify(errors=codes), 409))
            for code in codes:
                flash(error_text(code), "error")
            return redirect(back)
    else:
        stock_alerts.cancel(user, product_id, variant_id)
    if _wants_json():
        answer: dict[str, object] = {"product_id": product_id, "waiting": wanted}
        if variant_id is not None:
            answer["variant_id"] = variant_id
        return _private(jsonify(answer))
    if wanted:
        flash(_("We will tell you when this product is back in stock."), "success")
    else:
        flash(_("You will not be told when this product is back."), "success")
    return redirect(back)


def _variant_arg() -> int | None:
    """The ``variant`` of the address (None: none); a malformed one is a 404."""
    raw = request.args.get("variant")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or not (0 < int(raw) < 2**31):
        abort(404)
    return int(raw)


@bp.get("/account/stock-alerts")
@login_required
def stock_alerts_page() -> ResponseReturnValue:
    """The products the customer asked about: those still awaited (with cancel) and those
    already told."""
    user = current_user._get_current_object()
    alerts = stock_alerts.alerts_of(user)
    return _private(
        render_template(
            "shop/stock_alerts.html",
            alerts=alerts,
            labels=variant_labels_of([a.variant_id for a in alerts]),
            form=ToggleForm(),
        )
    )
