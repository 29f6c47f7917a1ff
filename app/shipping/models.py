"""A seller's shipping methods: the carrier, the rate rule and the days it takes."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow


class Carrier(enum.StrEnum):
    POST_PISHTAZ = "post_pishtaz"  # Iran Post, express
    POST_SEFARESHI = "post_sefareshi"  # Iran Post, registered
    TIPAX = "tipax"
    COURIER = "courier"  # in-city courier
    PICKUP = "pickup"  # the customer collects from the seller


# The carriers' names as orders keep them (a method's name defaults to its carrier's).
CARRIER_NAMES: dict[Carrier, str] = {
    Carrier.POST_PISHTAZ: "پست پیشتاز",
    Carrier.POST_SEFARESHI: "پست سفارشی",
    Carrier.TIPAX: "تیپاکس",
    Carrier.COURIER: "پیک درون‌شهری",
    Carrier.PICKUP: "تحویل حضوری از فروشنده",
}

# (processing days, delivery min days, delivery max days) a new method of each carrier starts
# with; the seller may change them.
CARRIER_DEFAULTS: dict[Carrier, tuple[int, int, int]] = {
    Carrier.POST_PISHTAZ: (2, 2, 4),
    Carrier.POST_SEFARESHI: (2, 5, 10),
    Carrier.TIPAX: (2, 1, 3),
    Carrier.COURIER: (1, 0, 1),
    Carrier.PICKUP: (1, 0, 0),
}

_BY_NAME = {name: carrier for carrier, name in CARRIER_NAMES.items()}


def carrier_of(text: str | None) -> Carrier | None:
    """The carrier a stored text names: its code (``tipax``) or its Persian name; else None."""
    value = (text or "").strip()
    if value in Carrier._value2member_map_:
        return Carrier(value)
    return _BY_NAME.get(value)


MAX_PROCESSING_DAYS = 60
MAX_DELIVERY_DAYS = 60
MAX_METHODS = 10


class ShippingMethod(Model):
    """One way a seller ships. Cost for an order (:func:`app.shipping.rates.cost`): nothing when
    its subtotal reaches ``free_over_amount``; else the amount for the destination province
    (``province_amounts``, by the province's stored Persian name) or ``flat_amount``, plus
    ``per_extra_item_amount`` for every unit after the first."""

    __tablename__ = "shipping_method"
    __table_args__ = (
        sa.CheckConstraint("flat_amount >= 0", name="flat_non_negative"),
        sa.CheckConstraint("per_extra_item_amount >= 0", name="per_item_non_negative"),
        sa.CheckConstraint(
            "free_over_amount IS NULL OR free_over_amount >= 0", name="free_over_non_negative"
        ),
        sa.CheckConstraint(
            "processing_days >= 0 AND delivery_min_days >= 0 "
            "AND delivery_max_days >= delivery_min_days",
            name="days_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seller_id: Mapped[int] = mapped_column(
        sa.ForeignKey("seller.id", ondelete="CASCADE"), index=True
    )
    carrier: Mapped[Carrier] = mapped_column(enum_column(Carrier))
    name: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)
    flat_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # {Persian province name: amount}: overrides ``flat_amount`` for those provinces.
    province_amounts: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    free_over_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    per_extra_item_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    processing_days: Mapped[int] = mapped_column(default=1)
    delivery_min_days: Mapped[int] = mapped_column(default=1)
    delivery_max_days: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
