"""The orders' side of a checkout: the shipping address, the customer's cart read under its lock
and checked, the stock reserved, and one order per seller made from it.

These are steps of the one checkout transaction that ``app.payments.checkout`` runs (it makes
the payment the orders belong to); each runs inside that transaction and commits nothing. The
cart lock is taken first (:func:`lock_cart`), so a cart becomes orders at most once however many
tabs post it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog import variants as variant_rules
from app.catalog.models import Product, ProductStatus, ProductVariant, Seller, SellerStatus
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.inputs import POSTAL_CODE, is_mobile, normalise_mobile, normalise_postal_code
from app.orders import cart as carts
from app.orders import coupons, stock
from app.orders.errors import (
    CartAlreadyCheckedOut,
    CartChanged,
    CartProblem,
    SellerAway,
    ShippingChanged,
    Unavailable,
)
from app.orders.models import (
    CartState,
    Coupon,
    CouponUse,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from app.shipping import services as shipping
from app.shipping.rates import Option, market_today

# (product_id, variant_id or None, quantity, the price the customer saw) of one cart line.
CartLineTuple = carts.RawLine
# A seller's shipping as the checkout page posted it: (method id or None for the cheapest,
# the cost the page showed or None when it showed none).
ShippingWish = tuple[int | None, int | None]


@dataclass
class Address:
    recipient_name: str
    mobile: str
    province: str
    city: str
    address: str
    postal_code: str

    def cleaned(self) -> Address:
        """Trimmed, digits made ASCII; raises ValidationFailed naming each bad field."""
        mobile = normalise_mobile(self.mobile)
        postal = normalise_postal_code(self.postal_code)
        out = Address(
            recipient_name=" ".join(self.recipient_name.split())[:120],
            mobile=mobile,
            province=" ".join(self.province.split())[:100],
            city=" ".join(self.city.split())[:100],
            address=self.address.strip()[:1000],
            postal_code=postal,
        )
        errors: dict[str, list[str]] = {}
        for name in ("recipient_name", "province", "city", "address"):
            if not getattr(out, name):
                errors[name] = ["required"]
        if not is_mobile(out.mobile):
            errors["mobile"] = ["mobile_invalid"]
        if not POSTAL_CODE.match(out.postal_code):
            errors["postal_code"] = ["postal_code_invalid"]
        if errors:
            raise ValidationFailed(errors)
        return out


def lock_cart(customer: User) -> CartState:
    """Hold the customer's cart (their user row) for the rest of the transaction; its state."""
    return carts.lock(customer)


def read_cart(customer: User, state: CartState, cart_version: int | None) -> list[CartLineTuple]:
    """The locked cart's lines. Raises CartAlreadyCheckedOut when the page showed the cart that
    a checkout took (or the cart is still as that checkout left it), CartChanged when the cart
    changed since the page showed ``cart_version``, CartProblem("empty") for an empty cart."""
    lines = carts.raw_lines(customer, None)
    taken = (
        state.checkout_payment_id
        if state.checked_out_version is not None
        and (
            # the page showed the cart a checkout took, or the cart is still as it left it
            cart_version == state.checked_out_version
            or (not lines and state.version == state.checked_out_version + 1)
        )
        else None
    )
    if taken is not None:
        raise CartAlreadyCheckedOut(taken)
    if cart_version is not None and cart_version != state.version:
        raise CartChanged("the cart changed after the checkout page was shown")
    if not lines:
        raise CartProblem("empty")
    return lines


def check_cart(customer: User, lines: list[CartLineTuple]) -> dict[int, Product]:
    """The cart's products by id, once the customer may buy them (NotABuyer, OwnProducts), each
    quantity is in range (ValidationFailed), each product is on sale (Unavailable; a product
    with options, unless the line names one of its offered variants) and its price, or its
    variant's, is the one the customer saw (CartProblem("price_changed"))."""
    ids = [pid for pid, _, _, _ in lines]
    carts.check_buyer(customer, ids)
    for _, _, qty, _ in lines:
        carts.check_quantity(qty)
    products = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Product)
            .join(Seller, Seller.id == Product.seller_id)
            .where(
                Product.id.in_(ids),
                Product.status == ProductStatus.PUBLISHED,
                Seller.status == SellerStatus.APPROVED,
            )
        )
    }
    variants = line_variants(lines)
    for pid, vid, _, seen in lines:
        product = products.get(pid)
        if product is None:
            raise Unavailable(pid)
        variant = variants.get(vid) if vid is not None else None
        if product.has_variants != (vid is not None) or (
            vid is not None and (variant is None or variant.product_id != pid or not variant.active)
        ):
            raise Unavailable(pid)
        if carts.unit_price(product, variant) != seen:
            raise CartProblem("price_changed")
    return products


def line_variants(lines: list[CartLineTuple]) -> dict[int, ProductVariant]:
    """The variants the lines name, by id."""
    return carts.variants_by_id([vid for _, vid, _, _ in lines])


def choose_shipping(
    lines: list[CartLineTuple],
    products: dict[int, Product],
    province: str,
    wishes: dict[int, ShippingWish],
) -> dict[int, Option]:
    """Each seller's shipping option for this cart and the address province, priced from the
    database (never from the form). Raises SellerAway when a seller is on vacation,
    ValidationFailed({"shipping": ...}) for a method that is not an active one of that seller,
    ShippingChanged when a cost is not the one the page showed."""
    groups: dict[int, list[int]] = {}  # seller id -> [units, subtotal]
    variants = line_variants(lines)
    for pid, vid, qty, _ in lines:
        product = products[pid]
        group = groups.setdefault(product.seller_id, [0, 0])
        group[0] += qty
        group[1] += carts.unit_price(product, variants.get(vid) if vid else None) * qty
    today = market_today()
    away = shipping.away_sellers(sorted(groups), today)
    if away:
        seller_id = min(away)
        name = next(p.seller.display_name for p in products.values() if p.seller_id == seller_id)
        raise SellerAway(seller_id, name, away[seller_id])
    chosen: dict[int, Option] = {}
    changed: dict[int, int] = {}
    for seller_id, (units, subtotal) in sorted(groups.items()):
        method_id, seen = wishes.get(seller_id, (None, None))
        option = shipping.choose(seller_id, method_id, province, units, subtotal, today)
        if seen is not None and seen != option.cost:
            changed[seller_id] = option.cost
        chosen[seller_id] = option
    if changed:
        raise ShippingChanged(changed)
    return chosen


def reserve(lines: list[CartLineTuple]) -> None:
    """Take the lines' stock, all or none (OutOfStock; the transaction must roll back)."""
    stock.take([(pid, vid, qty) for pid, vid, qty, _ in lines], published_only=True)


def create_orders(
    payment_id: int,
    customer: User,
    lines: list[CartLineTuple],
    products: dict[int, Product],
    address: Address,
    *,
    first: OrderStatus,
    currency: str,
    shipping_options: dict[int, Option] | None = None,
) -> list[Order]:
    """One order per seller for ``payment_id``, in status ``first``, its lines copying title,
    seller and price now from ``products`` (a running sale's or campaign's price, its list
    price, discount, source and payer kept on the line and summed on the order; the part a
    campaign paid by the market takes off kept apart as ``market_discount_amount``), with the seller's shipping option (its cost in the
    total, its carrier, name and dates copied; none: no shipping charged); each order's first
    status change is recorded. A variant's line also keeps the variant, its label and SKU, and
    its own price and list price."""
    options = shipping_options or {}
    by_seller: dict[int, Order] = {}
    variants = line_variants(lines)
    labels = variant_rules.labels_of(list(variants))
    for pid, vid, qty, _ in sorted(lines, key=lambda line: (line[0], line[1] or 0)):
        product = products[pid]
        variant = variants.get(vid) if vid is not None else None
        order = by_seller.get(product.seller_id)
        if order is None:
            order = Order(
                payment_id=payment_id,
                customer_id=customer.id,
                seller_id=product.seller_id,
                status=first,
                currency=currency,
                subtotal_amount=0,
                shipping_amount=0,
                total_amount=0,
                discount_amount=0,
                **address.__dict__,
            )
            _ship_with(order, options.get(product.seller_id))
            by_seller[product.seller_id] = order
            db.session.add(order)
        # The one price rule (sale, campaign) on the variant's own prices or the product's.
        quote = (
            variant_rules.quote(variant, product) if variant is not None else product.price_quote
        )
        price = quote.amount
        list_price = quote.list_amount
        line_total = price * qty
        line = OrderLine(
            product_id=pid,
            product_title=product.title,
            variant_id=vid if variant is not None else None,
            variant_label=labels.get(vid) if vid is not None else None,
            sku=variant.sku if variant is not None else None,
            seller_name=product.seller.display_name,
            category_id=product.category_id,
            unit_price_amount=price,
            quantity=qty,
            line_total_amount=line_total,
            discount_amount=0,
        )
        if price < list_price:  # the listing's (or variant's) sale, or a market campaign
            line.list_price_amount = list_price
            line.discount_amount = (list_price - price) * qty
            line.discount_source = quote.source
            line.discount_payer = "seller"
            if quote.campaign is not None:
                line.campaign_id = quote.campaign.campaign_id
                line.discount_payer = quote.campaign.payer
                if quote.campaign.payer == "market":  # the seller is owed it at completion
                    line.market_discount_amount = line.discount_amount
                    order.market_discount_amount += line.discount_amount
            order.discount_amount += line.discount_amount
        order.lines.append(line)
        order.subtotal_amount += line_total
        order.total_amount += line_total
    made = list(by_seller.values())
    db.session.flush()
    for order in made:
        db.session.add(OrderStatusChange(order_id=order.id, to_status=first, actor_id=customer.id))
    return made


def find_coupon(text: str, products: dict[int, Product]) -> Coupon | None:
    """The coupon the customer typed, among the cart's shops (None when nothing was typed);
    ValidationFailed({"coupon": ...}) for a code that cannot be used."""
    if not text.strip():
        return None
    return coupons.find_for_cart(text, sorted({p.seller_id for p in products.values()}))


def apply_coupon(coupon: Coupon, orders: list[Order], customer: User) -> None:
    """Take the coupon's discount off its shop's order (its lines' totals, shared in proportion,
    so commission and sales figures count what the customer pays; the subtotal and the total)
    and spend one use (ValidationFailed when none is left or the lines are under the minimum;
    the transaction must roll back). The orders are flushed (they have ids)."""
    order = next(o for o in orders if o.seller_id == coupon.seller_id)
    subtotal = order.subtotal_amount
    amount = coupons.discount(coupon, subtotal)
    coupons.spend(coupon)
    left = amount
    lines = sorted(order.lines, key=lambda line: line.id)
    for index, line in enumerate(lines):
        share = left if index == len(lines) - 1 else amount * line.line_total_amount // subtotal
        share = min(share, line.line_total_amount, left)
        left -= share
        line.line_total_amount -= share
        line.discount_amount += share
        line.discount_source = (
            f"{line.discount_source}+coupon" if line.discount_source else "coupon"
        )
        line.discount_payer = "market+seller" if line.market_discount_amount else "seller"
    order.subtotal_amount -= amount
    order.total_amount -= amount
    order.discount_amount += amount
    order.coupon_code = coupon.code
    db.session.add(
        CouponUse(
            coupon_id=coupon.id,
            payment_id=order.payment_id,
            customer_id=customer.id,
            order_id=order.id,
            amount=amount,
        )
    )


def _ship_with(order: Order, option: Option | None) -> None:
    """Copy a shipping option onto a new order (its cost counts in the total)."""
    if option is None:
        return
    order.shipping_method_id = option.method_id
    order.shipping_carrier = option.carrier.value if option.carrier else None
    order.shipping_method_name = option.name
    order.shipping_amount = option.cost
    order.total_amount = option.cost
    if option.promise is not None:
        order.ship_by = option.promise.ship_by
        order.deliver_by = option.promise.deliver_by


def close_cart(customer: User, state: CartState, payment_id: int) -> None:
    """The cart became the orders of ``payment_id``: empty it and remember which checkout took
    which version, so an old checkout page posted again finds that checkout."""
    carts.clear(customer)
    state.checked_out_version = state.version
    state.checkout_payment_id = payment_id
    state.version += 1
