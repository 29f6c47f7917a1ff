"""Rate rules and delivery estimates: plain arithmetic on a method, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.core.timeutil import market_timezone, utcnow
from app.shipping.models import Carrier, ShippingMethod


def market_today() -> date:
    """Today's date in the market's time zone (the date sellers and customers live in)."""
    return utcnow().astimezone(market_timezone()).date()


def cost(method: ShippingMethod, province: str | None, quantity: int, subtotal: int) -> int:
    """What the customer pays to have ``quantity`` units worth ``subtotal`` sent to ``province``
    by ``method``: 0 when the subtotal reaches the method's free threshold; otherwise the
    province's own amount (or the flat amount when the province has none or is unknown) plus
    the per-item amount for every unit after the first. Never negative."""
    if method.free_over_amount is not None and subtotal >= method.free_over_amount:
        return 0
    amounts = method.province_amounts or {}
    base = amounts.get(province, method.flat_amount) if province else method.flat_amount
    return max(0, int(base)) + max(0, method.per_extra_item_amount) * max(0, quantity - 1)


def lowest_cost(method: ShippingMethod, quantity: int, subtotal: int) -> int:
    """The least the method can cost for this order, whatever the province ("from X")."""
    if method.free_over_amount is not None and subtotal >= method.free_over_amount:
        return 0
    bases = [method.flat_amount, *(int(v) for v in (method.province_amounts or {}).values())]
    return max(0, min(bases)) + method.per_extra_item_amount * max(0, quantity - 1)


@dataclass(frozen=True)
class Promise:
    """When a parcel leaves (``ship_by``) and arrives (``deliver_from`` – ``deliver_by``)."""

    ship_by: date
    deliver_from: date
    deliver_by: date


def promise(method: ShippingMethod, today: date) -> Promise:
    """The dates a method promises for an order placed on ``today``: made or packed within its
    processing days, then on the way for its delivery days (calendar days)."""
    ship_by = today + timedelta(days=method.processing_days)
    return Promise(
        ship_by=ship_by,
        deliver_from=ship_by + timedelta(days=method.delivery_min_days),
        deliver_by=ship_by + timedelta(days=method.delivery_max_days),
    )


@dataclass(frozen=True)
class Option:
    """One way a seller's share of a cart can reach the customer, priced for it.

    ``method_id`` None is the fallback of a seller who has set no method yet: the seller
    arranges delivery and the customer pays no shipping (no dates are promised)."""

    method_id: int | None
    carrier: Carrier | None
    name: str
    cost: int
    from_cost: bool  # True when the province is unknown: ``cost`` is the lowest it can be
    promise: Promise | None


def option(
    method: ShippingMethod, province: str | None, quantity: int, subtotal: int, today: date
) -> Option:
    """The method priced for an order (the lowest price when ``province`` is unknown)."""
    return Option(
        method_id=method.id,
        carrier=method.carrier,
        name=method.name,
        cost=(
            cost(method, province, quantity, subtotal)
            if province
            else lowest_cost(method, quantity, subtotal)
        ),
        from_cost=not province,
        promise=promise(method, today),
    )


ARRANGED = "ارسال با هماهنگی فروشنده"


def arranged_by_seller() -> Option:
    """The option of a seller without any active method (see :class:`Option`)."""
    return Option(None, None, ARRANGED, 0, False, None)
