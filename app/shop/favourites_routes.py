"""Favourites and followed shops: the hearts and follow buttons, their pages, and the JSON the
browser fills the shared pages' neutral hearts from (:mod:`app.catalog.favourites`).

Cached storefront pages hold no one's favourites: every heart is a link to this product's
``/favourites/<id>`` page, drawn unpressed. ``static/js/favourites.js`` asks
:func:`favourite_ids` once per page, marks the pressed ones and presses them with a POST of the
same address (the token comes with the ids). Without script the link opens a small page with
the form, whose POST comes back to the page the visitor was on.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from app.accounts.models import User
from app.catalog import favourites, stock_alerts
from app.core.extensions import limiter
from app.shop import bp
from app.shop.forms import ToggleForm
from app.web.http import page_arg, safe_next

PER_PAGE = 24


def _limit() -> str:
    return current_app.config["FAVOURITE_RATE_LIMIT"]


def _user() -> User | None:
    return current_user._get_current_object() if current_user.is_authenticated else None


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _private(response: ResponseReturnValue) -> ResponseReturnValue:
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/favourites/ids")
def favourite_ids() -> ResponseReturnValue:
    """The visitor's favourite product ids, followed shop ids and the products they wait for
    (back-in-stock alerts), with a form token for the buttons' POSTs (see below). Never cached
    (shared pages stay the same for everyone)."""
    user = _user()
    ids = favourites.favourite_ids(user, session.get(favourites.SESSION_KEY))
    shops = [s.id for s in favourites.followed_shops(user)] if user is not None else []
    alerts = stock_alerts.waiting_ids(user)
    # A token makes a session; a visitor without one gets it only when they press a heart
    # (``?token=1``), so merely looking keeps them cookie-less (the anonymous lane's visitors).
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = generate_csrf() if request.args.get("token") or field in session else ""
    return _private(
        jsonify(
            products=ids,
            shops=shops,
            alerts=alerts,
            signed_in=user is not None,
            csrf_token=token,
        )
    )


@bp.route("/favourites/<int:product_id>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def favourite(product_id: int) -> ResponseReturnValue:
    """The heart of one product: GET shows its form (for browsers without script), POST keeps
    or drops the product (``want``), for a guest in the session."""
    product = favourites.find_product(product_id)
    user = _user()
    guest = session.get(favourites.SESSION_KEY)
    kept = product_id in favourites.favourite_ids(user, guest)
    public = product is not None and favourites.is_public_product(product_id)
    if product is None or not (public or kept):
        abort(404)
    form = ToggleForm()
    if request.method == "GET":
        form.want.data = "0" if kept else "1"
        form.next.data = safe_next(request.args.get("next"), url_for("shop.favourites_page"))
        return _private(
            render_template("shop/favourite_toggle.html", form=form, product=product, kept=kept)
        )
    if not form.validate_on_submit():
        abort(400)
    wanted = form.want.data == "1"
    if wanted and not public:
        abort(404)
    if user is not None:
        favourites.set_favourite(user, product_id, wanted)
    else:
        session[favourites.SESSION_KEY] = favourites.set_guest_favourite(
            favourites.guest_ids(guest), product_id, wanted
        )
    if _wants_json():
        return _private(jsonify(product_id=product_id, favourite=wanted))
    if wanted:
        flash(_("Added to your favourites."), "success")
    else:
        flash(_("Removed from your favourites."), "success")
    return redirect(safe_next(form.next.data, url_for("shop.favourites_page")))


@bp.get("/favourites")
def favourites_page() -> ResponseReturnValue:
    page = favourites.favourite_products(
        _user(), session.get(favourites.SESSION_KEY), page_arg(), PER_PAGE
    )
    return _private(render_template("shop/favourites.html", page=page, form=ToggleForm()))


@bp.route("/following/<int:seller_id>", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
@login_required
def follow(seller_id: int) -> ResponseReturnValue:
    """Follow or stop following one shop: GET shows the form, POST sets it (``want``)."""
    user = current_user._get_current_object()
    shop = favourites.find_shop(seller_id)
    following = favourites.follows(user, seller_id)
    public = shop is not None and favourites.is_public_shop(seller_id)
    if shop is None or not (public or following):
        abort(404)
    form = ToggleForm()
    if request.method == "GET":
        form.want.data = "0" if following else "1"
        form.next.data = safe_next(request.args.get("next"), url_for("shop.following_page"))
        return _private(
            render_template("shop/follow_toggle.html", form=form, shop=shop, following=following)
        )
    if not form.validate_on_submit():
        abort(400)
    wanted = form.want.data == "1"
    if wanted and not public:
        abort(404)
    favourites.set_follow(user, seller_id, wanted)
    if _wants_json():
        return _private(jsonify(seller_id=seller_id, following=wanted))
    if wanted:
        flash(_("You follow %(shop)s now.", shop=shop.display_name), "success")
    else:
        flash(_("You no longer follow %(shop)s.", shop=shop.display_name), "success")
    return redirect(safe_next(form.next.data, url_for("shop.following_page")))


@bp.get("/following")
@login_required
def following_page() -> ResponseReturnValue:
    """The shops the customer follows and their newest listings."""
    user = current_user._get_current_object()
    return _private(
        render_template(
            "shop/following.html",
            shops=favourites.followed_shops(user),
            page=favourites.followed_listings(user, page_arg(), PER_PAGE),
            form=ToggleForm(),
        )
    )
