"""Order models: carts (``CartLine``, ``CartState``), orders with their lines and status history,
and the one status table that says who may move an order from which status to which."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product, ProductVariant, Seller
from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"  # card checkout waiting for the provider
    PLACED = "placed"  # cash on delivery, waiting for the seller to confirm
    CONFIRMED = "confirmed"  # cash on delivery accepted by the seller
    PAID = "paid"  # card payment confirmed by the provider
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    # The customer confirmed receipt, or the receipt window ran out: the sale is final. The
    # seller's ledger is credited and a cash order counts as sold from this moment.
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class Actor(enum.StrEnum):
    """Who asks for a status move."""

    CUSTOMER = "customer"
    SELLER = "seller"
    STAFF = "staff"
    SYSTEM = "system"  # the payment provider's word, checkout expiry, reconciliation, completion


_C, _S, _T, _P = Actor.CUSTOMER, Actor.SELLER, Actor.STAFF, Actor.SYSTEM

# The one transition table: from a status, to a status, and who may make that move. Every
# status move of the order service is checked against it (a move not listed is refused).
MOVES: dict[OrderStatus, dict[OrderStatus, frozenset[Actor]]] = {
    OrderStatus.AWAITING_PAYMENT: {
        # The customer may give up before paying; the provider pays or fails; expiry cancels.
        # Nobody else touches a checkout the customer may still be paying for.
        OrderStatus.PAID: frozenset({_P}),
        OrderStatus.CANCELLED: frozenset({_C, _P}),
    },
    OrderStatus.PLACED: {
        OrderStatus.CONFIRMED: frozenset({_S}),
        OrderStatus.CANCELLED: frozenset({_C, _S, _T}),
    },
    OrderStatus.CONFIRMED: {
        OrderStatus.SHIPPED: frozenset({_S}),
        OrderStatus.CANCELLED: frozenset({_C, _S, _T}),
    },
    OrderStatus.PAID: {
        OrderStatus.SHIPPED: frozenset({_S}),
        OrderStatus.CANCELLED: frozenset({_S, _T}),
        OrderStatus.REFUNDED: frozenset({_P}),
    },
    # After shipping the customer confirms receipt ("I received it"), or the system completes
    # the order once the receipt window has run out (``flask orders complete-due``).
    OrderStatus.SHIPPED: {
        OrderStatus.DELIVERED: frozenset({_S}),
        OrderStatus.COMPLETED: frozenset({_C, _P}),
        OrderStatus.REFUNDED: frozenset({_P}),
    },
    OrderStatus.DELIVERED: {
        OrderStatus.COMPLETED: frozenset({_C, _P}),
        OrderStatus.REFUNDED: frozenset({_P}),
    },
    # A completed order is final; only the money may still go back to the customer.
    OrderStatus.COMPLETED: {OrderStatus.REFUNDED: frozenset({_P})},
    # A late payment of an expired checkout takes its stock again, if it is still there.
    OrderStatus.CANCELLED: {
        OrderStatus.PAID: frozenset({_P}),
        OrderStatus.REFUNDED: frozenset({_P}),
    },
    OrderStatus.REFUNDED: {},
}

# Where each status may go, whoever asks (for listings; moves check ``may_move``).
ALLOWED_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    current: frozenset(targets) for current, targets in MOVES.items()
}


def may_move(current: OrderStatus, new: OrderStatus, actor: Actor) -> bool:
    """True when the table lets ``actor`` move an order from ``current`` to ``new``."""
    return actor in MOVES[current].get(new, frozenset())


class CartState(Model):
    """A customer's cart as a whole: its version moves on with every change, and the checkout
    that emptied it is remembered, so a second post of an old checkout page is sent to the
    orders already made instead of making more."""

    __tablename__ = "cart_state"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The version the last checkout turned into orders, and that checkout's payment.
    checked_out_version: Mapped[int | None] = mapped_column(sa.BigInteger)
    checkout_payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment.id", ondelete="SET NULL")
    )


class CartLine(Model):
    """A logged-in customer's cart line. Guests keep theirs in the session."""

    __tablename__ = "cart_line"
    __table_args__ = (
        # One line per product, or per variant of a product with options.
        sa.Index(
            "uq_cart_line_user_product",
            "user_id",
            "product_id",
            unique=True,
            postgresql_where=sa.text("variant_id IS NULL"),
            sqlite_where=sa.text("variant_id IS NULL"),
        ),
        sa.Index(
            "uq_cart_line_user_variant",
            "user_id",
            "variant_id",
            unique=True,
            postgresql_where=sa.text("variant_id IS NOT NULL"),
            sqlite_where=sa.text("variant_id IS NOT NULL"),
        ),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_variant.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    # The price the customer saw when adding: a later change is flagged before checkout.
    seen_price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship()
    variant: Mapped[ProductVariant | None] = relationship()


class Order(Model):
    """One seller's share of a checkout."""

    __tablename__ = "shop_order"
    __table_args__ = (
        sa.CheckConstraint("subtotal_amount >= 0", name="subtotal_non_negative"),
        sa.CheckConstraint("shipping_amount >= 0", name="shipping_non_negative"),
        sa.CheckConstraint("total_amount >= 0", name="total_non_negative"),
        sa.CheckConstraint("commission_amount >= 0", name="commission_non_negative"),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= total_amount", name="refunded_in_range"
        ),
        sa.Index("ix_order_seller_status", "seller_id", "status"),
        sa.Index("ix_order_customer_created", "customer_id", "created_at"),
        sa.Index("ix_order_status_shipped", "status", "shipped_at"),
        # A seller's last shipments (the product page's typical shipping time).
        sa.Index("ix_order_seller_shipped", "seller_id", "shipped_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus))
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal_amount: Mapped[int] = mapped_column(sa.BigInteger)
    shipping_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(sa.BigInteger)
    # What the lines' discounts took off their list prices (already out of the subtotal and
    # the total, which are what the customer pays); see OrderLine.discount_amount.
    discount_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    # The shop coupon the customer used on this order (its code as the shop wrote it).
    coupon_code: Mapped[str | None] = mapped_column(sa.String(32))
    # The part of ``discount_amount`` the market pays (its lines' market_discount_amount): the
    # seller's ledger is credited it at completion, as if sold at the pre-campaign price.
    market_discount_amount: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default="0"
    )
    # Shipping address (Iranian fields)
    recipient_name: Mapped[str] = mapped_column(sa.String(120))
    mobile: Mapped[str] = mapped_column(sa.String(11))
    province: Mapped[str] = mapped_column(sa.String(100))
    city: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[str] = mapped_column(sa.Text)
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    # The shipping method chosen at checkout: its carrier and a copy of its name (the method
    # may change or go), and the dates it promised (None: delivery arranged by the seller).
    shipping_method_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("shipping_method.id", ondelete="SET NULL")
    )
    shipping_carrier: Mapped[str | None] = mapped_column(sa.String(20))
    shipping_method_name: Mapped[str | None] = mapped_column(sa.String(80))
    ship_by: Mapped[date | None] = mapped_column(sa.Date)
    deliver_by: Mapped[date | None] = mapped_column(sa.Date)
    carrier: Mapped[str | None] = mapped_column(sa.String(80))
    tracking_code: Mapped[str | None] = mapped_column(sa.String(80))
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Stock of its lines is held until paid, cancelled or expired; released exactly once.
    stock_released: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Sales volume counts an order from this moment (card: provider confirmed; cash: completed).
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The receipt window runs from shipping; completion credits the seller's ledger.
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The market's commission, fixed at completion from the lines (see app.orders.completion).
    commission_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Money given back to the customer after completion (partial or full), never above the total.
    refunded_amount: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default=sa.text("0")
    )

    customer: Mapped[User] = relationship()
    seller: Mapped[Seller] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    status_changes: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", order_by="OrderStatusChange.id"
    )


class OrderLine(Model):
    """A snapshot of what was bought: the product may change or disappear, reports must not."""

    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_amount >= 0", name="unit_price_non_negative"),
        sa.CheckConstraint("discount_amount >= 0", name="discount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product.id", ondelete="SET NULL"), index=True
    )
    product_title: Mapped[str] = mapped_column(sa.String(200))
    # The variant bought, when the product has options: its id while it exists, and what it
    # was ("سایز: M، رنگ: آبی") and its SKU as they were at the sale.
    variant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_variant.id", ondelete="SET NULL"), index=True
    )
    variant_label: Mapped[str | None] = mapped_column(sa.String(200))
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    seller_name: Mapped[str] = mapped_column(sa.String(120))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"))
    unit_price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    quantity: Mapped[int]
    # What the customer pays for the line (the unit price, after any discount, times quantity).
    line_total_amount: Mapped[int] = mapped_column(sa.BigInteger)
    # A discount on the line: the unit's list price it was taken off, what it took off the
    # line, where it came from ("sale": the listing's sale) and who gave it ("seller": the
    # seller's own price, so commission and sales figures count what the customer paid).
    list_price_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    discount_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    discount_source: Mapped[str | None] = mapped_column(sa.String(20))
    discount_payer: Mapped[str | None] = mapped_column(sa.String(20))
    # The part of ``discount_amount`` the market pays (a campaign it pays for): the seller is
    # credited it at completion and the commission counts it (app.catalog.campaigns).
    market_discount_amount: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default="0"
    )
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaign.id"), index=True)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderStatusChange(Model):
    __tablename__ = "order_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[OrderStatus | None] = mapped_column(
        enum_column(OrderStatus, name="from_status")
    )
    to_status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, name="to_status"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="status_changes")


class SavedAddress(Model):
    """An address a customer shipped to, kept so the checkout can offer it again (the most
    recently used first); the customer may remove it. At most a few per customer."""

    __tablename__ = "saved_address"
    __table_args__ = (sa.Index("ix_saved_address_user_used", "user_id", "last_used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    recipient_name: Mapped[str] = mapped_column(sa.String(120))
    mobile: Mapped[str] = mapped_column(sa.String(11))
    province: Mapped[str] = mapped_column(sa.String(100))
    city: Mapped[str] = mapped_column(sa.String(100))
    address: Mapped[str] = mapped_column(sa.Text)
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Coupon(Model):
    """A shop's coupon code: a percentage or an amount off that shop's lines of one checkout,
    for an order of at least ``min_order_amount``, on whole market days, ``max_uses`` times.
    ``uses`` is only ever raised by the conditional UPDATE of ``app.orders.coupons.spend``."""

    __tablename__ = "coupon"
    __table_args__ = (
        sa.UniqueConstraint("seller_id", "code", name="uq_coupon_seller_id_code"),
        sa.CheckConstraint("kind IN ('percent', 'amount')", name="kind_known"),
        sa.CheckConstraint("value > 0", name="value_positive"),
        sa.CheckConstraint("min_order_amount >= 0", name="min_order_non_negative"),
        sa.CheckConstraint("max_uses > 0", name="max_uses_positive"),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), index=True)
    # Upper case, ASCII digits: codes are compared case-insensitively, typed in any digits.
    code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(10))  # percent | amount
    value: Mapped[int] = mapped_column(sa.BigInteger)  # percent (1-100) or rials
    min_order_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_uses: Mapped[int]
    uses: Mapped[int] = mapped_column(default=0)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # ended by the seller
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CouponUse(Model):
    """One use of a coupon: the checkout (payment) and order it took off, and how much."""

    __tablename__ = "coupon_use"
    __table_args__ = (
        # A coupon applies once per checkout.
        sa.UniqueConstraint("coupon_id", "payment_id", name="uq_coupon_use_coupon_id_payment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupon.id"), index=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
