"""The cart: guests keep it in the session, logged-in customers in the database.

Who may buy (customers, and sellers from other shops, never their own products; programme staff
do not buy) is the cart service's rule (``carts.check_buyer``), held by adding to the cart and
by checkout alike; these pages only say it early.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.models import Role, User
from app.catalog.models import ProductVariant
from app.catalog.variants import label, options_of
from app.core.errors import ValidationFailed
from app.core.formatting import LocalNumber
from app.orders import cart as carts
from app.orders import lookups as order_lookups
from app.orders import services as orders
from app.orders.errors import NotABuyer, OwnProducts
from app.payments import checkout as payment_checkout
from app.payments import online
from app.shipping import services as shipping
from app.shipping.rates import Option
from app.shop import bp
from app.shop.cache import KNOWN_CART_UNITS, KNOWN_PROVINCE, csrf_field
from app.shop.forms import AddToCartForm, CartLineForm
from app.web.messages import error_text

# Cached storefront pages put their add-to-cart token in with this, not csrf_token().
bp.add_app_template_global(csrf_field, "csrf_field")


def shopper() -> User | None:
    """The logged-in user whose cart is in the database, or None for a guest."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def guest_cart() -> carts.GuestCart | None:
    value = session.get("cart")
    return value if isinstance(value, dict) else None


def store_guest_cart(cart: carts.GuestCart | None) -> None:
    # An empty cart leaves the session, so the visitor gets cached pages again.
    if cart:
        session["cart"] = cart
    else:
        session.pop("cart", None)


def is_staff() -> bool:
    return current_user.is_authenticated and current_user.role == Role.STAFF


def own_product_ids(product_ids: list[int]) -> set[int]:
    """Those of ``product_ids`` the logged-in seller sells themselves."""
    return carts.own_product_ids(shopper(), product_ids)


_UNKNOWN = object()


@bp.app_template_global()
def cart_count() -> int:
    """Units in the visitor's cart, for the header (never on a cached page)."""
    if not current_user.is_authenticated:
        return sum(qty for _, _, qty, _ in carts.raw_lines(None, guest_cart()))
    if current_user.role == Role.STAFF:
        return 0
    known = request.environ.get(KNOWN_CART_UNITS)
    if known is not None:
        return int(known)
    return carts.unit_count(current_user.id)


def known_cart_units(view: carts.CartView) -> None:
    """The header's cart count from a cart the page has just read whole (no query of its own)."""
    if current_user.is_authenticated:
        request.environ[KNOWN_CART_UNITS] = view.count


def _away_ids(view: carts.CartView) -> set[int]:
    return {g.seller.id for g in view.groups if g.away_until}


def _back_to(product_id: int | None) -> str:
    if product_id and carts.purchasable(product_id) is not None:
        return url_for("shop.product", product_id=product_id)
    return url_for("shop.cart")


def variant_label(variant: ProductVariant) -> str:
    return label(variant, options_of(variant.product_id))


def _short_of_stock(title: str, left: int, quantity: int) -> str | None:
    """Why ``quantity`` of what is called ``title`` cannot be added when ``left`` are left."""
    if left < 1:
        return _("“%(title)s” is sold out.", title=title)
    if quantity > left:
        return _(
            "Only %(n)s of “%(title)s” left. Choose a smaller quantity.",
            n=LocalNumber(left),
            title=title,
        )
    return None


def _flash_errors(exc: ValidationFailed) -> None:
    for codes in exc.errors.values():
        for code in codes:
            flash(error_text(code), "error")


def customer_province() -> str | None:
    """The province the logged-in customer last had an order sent to (None: unknown)."""
    if not current_user.is_authenticated:
        return None
    known = request.environ.get(KNOWN_PROVINCE, _UNKNOWN)
    if known is not _UNKNOWN:  # read with the visitor's login by a page-cache hit
        return known
    last = order_lookups.last_order(current_user.id)
    return last.province if last is not None else None


def shipping_estimates(view: carts.CartView, province: str | None) -> dict[int, Option]:
    """Each seller group's cheapest shipping option (priced for ``province`` when known)."""
    return {
        group.seller.id: shipping.options(
            group.seller.id, province, group.units, group.subtotal_amount
        )[0]
        for group in view.groups
    }


@bp.get("/cart")
def cart():
    view = carts.view(shopper(), guest_cart())
    known_cart_units(view)
    province = customer_province()
    estimates = shipping_estimates(view, province)
    ids = [i.product_id for g in view.groups for i in g.items]
    awaiting = []
    if current_user.is_authenticated:
        awaiting = orders.awaiting_payment(current_user.id, limit=5)
    cash_open, cash_limit = 0, int(current_app.config["MAX_OPEN_CASH_ORDERS"])
    if current_user.is_authenticated and not view.is_empty:
        cash_open = payment_checkout.open_cash_checkouts(current_user._get_current_object())
    return render_template(
        "shop/cart.html",
        cash_full=cash_open >= cash_limit,
        cash_open=cash_open,
        cash_limit=cash_limit,
        card_enabled=bool(online.enabled_providers()),
        view=view,
        shipping=estimates,
        shipping_total=sum(o.cost for sid, o in estimates.items() if sid not in _away_ids(view)),
        province=province,
        own=own_product_ids(ids),
        price_changed=any("price_changed" in i.problems for g in view.groups for i in g.items),
        awaiting=awaiting,
        staff=is_staff(),
    )


@bp.post("/cart/add")
def cart_add():
    """Add a product, or one of its variants (a product with options is bought by them); only
    the ids and a quantity are read (prices come from the database)."""
    form = AddToCartForm()
    if not form.validate_on_submit():
        if form.product_id.errors or not form.product_id.data:
            flash(error_text("unavailable"), "error")
            return redirect(url_for("shop.cart"))
        if form.variant_id.errors:
            flash(error_text("variant_unavailable"), "error")
            return redirect(_back_to(form.product_id.data))
        flash(error_text("quantity_range"), "error")
        return redirect(_back_to(form.product_id.data))
    product_id, quantity = form.product_id.data, form.quantity.data
    assert product_id is not None and quantity is not None  # the form's validators saw to it
    if is_staff():
        flash(_("Programme staff accounts cannot buy in the market."), "error")
        return redirect(_back_to(product_id))
    product = carts.purchasable(product_id)
    if product is None:
        flash(error_text("unavailable"), "error")
        return redirect(url_for("shop.cart"))
    if own_product_ids([product.id]):
        flash(_("This is your own product: you cannot buy it."), "error")
        return redirect(_back_to(product.id))
    if shipping.is_away(product.seller):
        flash(_("The seller is away and cannot take orders now."), "error")
        return redirect(_back_to(product.id))
    try:
        variant = carts.choose_variant(product, form.variant_id.data)
    except ValidationFailed as exc:
        _flash_errors(exc)
        return redirect(_back_to(product.id))
    title, left = product.title, product.stock
    if variant is not None:
        title = f"{product.title} ({variant_label(variant)})"
        left = variant.stock
    short = _short_of_stock(title, left, quantity)
    if short:
        flash(short, "error")
        return redirect(_back_to(product.id))
    variant_id = variant.id if variant is not None else None
    try:
        new_guest_cart = carts.add(shopper(), guest_cart(), product.id, quantity, variant_id)
    except ValidationFailed as exc:
        _flash_errors(exc)
        return redirect(_back_to(product.id))
    except NotABuyer:
        flash(_("Programme staff accounts cannot buy in the market."), "error")
        return redirect(_back_to(product.id))
    except OwnProducts:
        flash(_("This is your own product: you cannot buy it."), "error")
        return redirect(_back_to(product.id))
    if not current_user.is_authenticated:
        store_guest_cart(new_guest_cart)
    flash(_("“%(title)s” is in your cart.", title=title), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/cart/update")
def cart_update():
    """Set a line's quantity; 0 (the remove button) takes the line out."""
    form = CartLineForm()
    if not form.validate_on_submit():
        flash(error_text("quantity_range"), "error")
        return redirect(url_for("shop.cart"))
    product_id, quantity = form.product_id.data, form.quantity.data
    variant_id = form.variant_id.data
    assert product_id is not None and quantity is not None  # the form's validators saw to it
    user, guest = shopper(), guest_cart()
    if (product_id, variant_id) not in {
        (pid, vid) for pid, vid, _, _ in carts.raw_lines(user, guest)
    }:
        flash(_("That product is not in your cart."), "error")
        return redirect(url_for("shop.cart"))
    try:
        new_guest_cart = carts.set_quantity(user, guest, product_id, quantity, variant_id)
    except ValidationFailed as exc:
        _flash_errors(exc)
        return redirect(url_for("shop.cart"))
    if user is None:
        store_guest_cart(new_guest_cart)
    flash(_("Removed from your cart.") if quantity == 0 else _("Your cart is updated."), "success")
    return redirect(url_for("shop.cart"))


@bp.post("/cart/accept-prices")
def cart_accept_prices():
    """The customer has seen the new prices and takes them."""
    user = shopper()
    new_guest_cart = carts.accept_prices(user, guest_cart())
    if user is None:
        store_guest_cart(new_guest_cart)
    flash(_("The cart now shows today's prices."), "success")
    return redirect(url_for("shop.cart"))
