"""Offline sales and the sales summary rows that the programme's reports read.

The summary rows are derived data: ``app.program.summaries`` keeps them up to date in the same
transaction as each order's state change (and each offline sale), and ``flask reports rebuild``
recomputes them from the orders, which stay the truth.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow

# Sales channels of the summary rows.
CARD = "card"  # paid online by card, counted once the provider confirmed it
CASH = "cash"  # cash on delivery, counted once delivered
OFFLINE = "offline"  # recorded by hand: a sale at a fair or an exhibition
CHANNELS = (CARD, CASH, OFFLINE)

# How a customer paid for an offline sale (recorded at a booth; unknown for older records).
PAYMENT_METHODS = ("cash", "card")


class OfflineSale(Model):
    """A sale made away from the site (a fair, an exhibition), recorded by staff or the seller."""

    __tablename__ = "offline_sale"
    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
        sa.CheckConstraint("payment_method IN ('cash', 'card')", name="payment_method_known"),
        sa.Index("ix_offline_sale_seller_sold_on", "seller_id", "sold_on"),
        # One record per entry a booth phone sent, however often it sends it (NULLs repeat).
        sa.Index("uq_offline_sale_seller_client_key", "seller_id", "client_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # The local (Tehran) day of the sale.
    sold_on: Mapped[date] = mapped_column(sa.Date, index=True)
    place: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # The quantities were taken from the online stock (and go back if the record is deleted).
    took_stock: Mapped[bool] = mapped_column(default=False)
    # The random key a booth phone gave the entry (None for the forms' records).
    client_key: Mapped[str | None] = mapped_column(sa.String(40))
    # "cash" or "card" (PAYMENT_METHODS); None when not recorded.
    payment_method: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    seller = relationship("Seller")
    recorded_by = relationship("User")
    lines: Mapped[list[OfflineSaleLine]] = relationship(
        back_populates="sale", cascade="all, delete-orphan", order_by="OfflineSaleLine.id"
    )

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class OfflineSaleLine(Model):
    __tablename__ = "offline_sale_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("amount >= 0", name="amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(
        sa.ForeignKey("offline_sale.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product.id", ondelete="SET NULL"), index=True
    )
    # The variant of a product with options the line sold (its stock goes back with it).
    variant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_variant.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(sa.String(200))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id"))
    quantity: Mapped[int]
    amount: Mapped[int] = mapped_column(sa.BigInteger)

    sale: Mapped[OfflineSale] = relationship(back_populates="lines")


class SalesOrder(Model):
    """An online order that counts in sales volume now: on which local day and through which
    channel. Present exactly while the order is paid (card) or delivered (cash) and neither
    cancelled nor refunded; what it added to the summary rows is taken back when it goes."""

    __tablename__ = "sales_order"
    __table_args__ = (
        sa.Index("ix_sales_order_day_seller_customer", "day", "seller_id", "customer_id"),
        sa.Index("ix_sales_order_seller_day", "seller_id", "day"),
    )

    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), primary_key=True
    )
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    channel: Mapped[str] = mapped_column(sa.String(10))
    units: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)


class SalesDaily(Model):
    """Sales of one seller on one local day through one channel."""

    __tablename__ = "sales_daily"
    __table_args__ = (sa.Index("ix_sales_daily_day", "day"),)

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class SalesDailyProduct(Model):
    """Sales of one product (``product_key`` 0: a line without a product) on one local day."""

    __tablename__ = "sales_daily_product"
    __table_args__ = (sa.Index("ix_sales_daily_product_day_category", "day", "category_id"),)

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    # Not a foreign key: the product may be deleted, its sales stay.
    product_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category_id: Mapped[int | None]
    title: Mapped[str] = mapped_column(sa.String(200))
    units: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class SalesPeriod(Model):
    """A seller's sales in one Jalali month (``M140409``), season (``S14043``) or year
    (``Y1404``): what the report of such a period reads, one row per seller."""

    __tablename__ = "sales_period"
    __table_args__ = (sa.Index("ix_sales_period_period_key", "period_key"),)

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    card_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    cash_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    offline_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    orders: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    buyers: Mapped[int] = mapped_column(default=0)
    repeat_buyers: Mapped[int] = mapped_column(default=0)
    first_day: Mapped[date | None] = mapped_column(sa.Date)
    last_day: Mapped[date | None] = mapped_column(sa.Date)


class SalesPeriodBuyer(Model):
    """How many counted orders a customer has with a seller in one period (distinct and
    repeat buyers are kept from it)."""

    __tablename__ = "sales_period_buyer"

    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"), primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    orders: Mapped[int] = mapped_column(default=0)
