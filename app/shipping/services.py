"""Shipping services: a seller's methods (add, change, delete), the options a cart's seller
groups can be sent with, the choice a checkout makes, and the seller's vacation mode.

A seller with no active method is not an error: their goods are sent as the seller arranges,
with no shipping charged and no dates promised (:func:`app.shipping.rates.arranged_by_seller`),
and the seller's dashboard asks them to add a method.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.catalog.changes import mark_catalog_changed
from app.catalog.models import Seller
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.shipping import rates
from app.shipping.models import (
    CARRIER_DEFAULTS,
    CARRIER_NAMES,
    MAX_DELIVERY_DAYS,
    MAX_METHODS,
    MAX_PROCESSING_DAYS,
    Carrier,
    ShippingMethod,
)
from app.shipping.rates import Option

log = logging.getLogger(__name__)

MAX_AMOUNT = 10**13
MAX_AWAY_DAYS = 366
MAX_NOTE = 300


@dataclass
class MethodData:
    """A method as a seller typed it (amounts in the stored unit, rials)."""

    carrier: str | None
    name: str = ""
    active: bool = True
    flat_amount: int | None = 0
    province_amounts: dict[str, int | None] = field(default_factory=dict)
    free_over_amount: int | None = None
    per_extra_item_amount: int | None = 0
    processing_days: int | None = None
    delivery_min_days: int | None = None
    delivery_max_days: int | None = None


def _amount_errors(data: MethodData, errors: dict[str, list[str]]) -> None:
    if data.flat_amount is None:
        errors["flat_amount"] = ["required"]
    elif not 0 <= data.flat_amount <= MAX_AMOUNT:
        errors["flat_amount"] = ["amount_negative" if data.flat_amount < 0 else "out_of_range"]
    if data.per_extra_item_amount is not None and not (
        0 <= data.per_extra_item_amount <= MAX_AMOUNT
    ):
        errors["per_extra_item_amount"] = ["amount_negative"]
    if data.free_over_amount is not None and not 0 <= data.free_over_amount <= MAX_AMOUNT:
        errors["free_over_amount"] = ["free_over_negative"]
    for province, amount in data.province_amounts.items():
        if amount is not None and not 0 <= amount <= MAX_AMOUNT:
            errors[f"province:{province}"] = ["amount_negative"]


def _day_errors(data: MethodData, errors: dict[str, list[str]]) -> None:
    for name, top in (
        ("processing_days", MAX_PROCESSING_DAYS),
        ("delivery_min_days", MAX_DELIVERY_DAYS),
        ("delivery_max_days", MAX_DELIVERY_DAYS),
    ):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= top:
            errors[name] = ["days_range"]
    low, high = data.delivery_min_days, data.delivery_max_days
    if low is not None and high is not None and "delivery_max_days" not in errors and high < low:
        errors["delivery_max_days"] = ["days_order"]


def validate(data: MethodData) -> MethodData:
    """The method cleaned, with the carrier's default days where none were given; raises
    ValidationFailed naming each bad field (no carrier, a negative amount or free threshold,
    days out of 0–60 or the longest delivery shorter than the shortest)."""
    errors: dict[str, list[str]] = {}
    if data.carrier not in {c.value for c in Carrier}:
        errors["carrier"] = ["carrier_required"]
    _amount_errors(data, errors)
    _day_errors(data, errors)
    if errors:
        raise ValidationFailed(errors)
    carrier = Carrier(str(data.carrier))
    processing, low, high = CARRIER_DEFAULTS[carrier]
    return MethodData(
        carrier=carrier.value,
        name=" ".join((data.name or "").split())[:80] or CARRIER_NAMES[carrier],
        active=bool(data.active),
        flat_amount=data.flat_amount,
        province_amounts={p: a for p, a in data.province_amounts.items() if a is not None},
        free_over_amount=data.free_over_amount,
        per_extra_item_amount=data.per_extra_item_amount or 0,
        processing_days=processing if data.processing_days is None else data.processing_days,
        delivery_min_days=low if data.delivery_min_days is None else data.delivery_min_days,
        delivery_max_days=high if data.delivery_max_days is None else data.delivery_max_days,
    )


# ---- a seller's methods -------------------------------------------------------------------


def methods_of(seller_id: int, *, active_only: bool = False) -> list[ShippingMethod]:
    """The seller's methods, oldest first (only the active ones when asked)."""
    query = sa.select(ShippingMethod).where(ShippingMethod.seller_id == seller_id)
    if active_only:
        query = query.where(ShippingMethod.active.is_(True))
    return list(db.session.scalars(query.order_by(ShippingMethod.id)))


def method_of(seller_id: int, method_id: int) -> ShippingMethod | None:
    """The seller's method with that id; None for another seller's or a missing one."""
    method = db.session.get(ShippingMethod, method_id)
    return method if method is not None and method.seller_id == seller_id else None


def has_active_method(seller_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(ShippingMethod.id)).where(
                ShippingMethod.seller_id == seller_id, ShippingMethod.active.is_(True)
            )
        )
    )


def save_method(seller: Seller, data: MethodData, method_id: int | None = None) -> int:
    """Add a method to the seller's (``method_id`` None) or change one of theirs; its id.

    Raises ValidationFailed (see :func:`validate`; also ``too_many`` past the limit of methods)
    or NotFound (not a method of this seller); then nothing is saved."""
    clean = validate(data)
    with transaction():
        if method_id is None:
            count = db.session.scalar(
                sa.select(sa.func.count(ShippingMethod.id)).where(
                    ShippingMethod.seller_id == seller.id
                )
            )
            if (count or 0) >= MAX_METHODS:
                raise ValidationFailed({"carrier": ["too_many_methods"]})
            method = ShippingMethod(seller_id=seller.id)
            db.session.add(method)
        else:
            found = method_of(seller.id, method_id)
            if found is None:
                raise NotFound("shipping method")
            method = found
        method.carrier = Carrier(clean.carrier or "")
        method.name = clean.name
        method.active = clean.active
        method.flat_amount = clean.flat_amount or 0
        method.province_amounts = {p: int(a) for p, a in clean.province_amounts.items() if a}
        method.free_over_amount = clean.free_over_amount
        method.per_extra_item_amount = clean.per_extra_item_amount or 0
        method.processing_days = clean.processing_days or 0
        method.delivery_min_days = clean.delivery_min_days or 0
        method.delivery_max_days = clean.delivery_max_days or 0
        db.session.flush()
        mark_catalog_changed(db.session())  # product pages show the costs
        saved = method.id
    log.info("shipping method %s of seller %s saved", saved, seller.id)
    return saved


def delete_method(seller: Seller, method_id: int) -> None:
    """Delete one of the seller's methods (orders keep their copy of its name and cost);
    NotFound for another seller's or a missing method."""
    with transaction():
        method = method_of(seller.id, method_id)
        if method is None:
            raise NotFound("shipping method")
        db.session.delete(method)
        mark_catalog_changed(db.session())
    log.info("shipping method %s of seller %s deleted", method_id, seller.id)


# ---- options for customers ----------------------------------------------------------------


def options(
    seller_id: int, province: str | None, quantity: int, subtotal: int, today: date | None = None
) -> list[Option]:
    """The ways the seller can send an order of ``quantity`` units worth ``subtotal`` to
    ``province`` (unknown: each at its lowest price), cheapest first; a seller without an
    active method has the one "arranged by the seller" option."""
    day = today or rates.market_today()
    found = [
        rates.option(m, province, quantity, subtotal, day)
        for m in methods_of(seller_id, active_only=True)
    ]
    if not found:
        return [rates.arranged_by_seller()]
    return sorted(found, key=lambda o: (o.cost, o.promise.deliver_by if o.promise else day))


def costs_by_province(
    seller_id: int, provinces: list[str], quantity: int, subtotal: int
) -> dict[int | None, dict[str, int]]:
    """For each active method of the seller (None: the seller arranges delivery), what an order
    of ``quantity`` units worth ``subtotal`` costs to each of ``provinces``: what the checkout
    page shows as soon as the customer picks a province, before anything is posted."""
    found = methods_of(seller_id, active_only=True)
    if not found:
        return {None: dict.fromkeys(provinces, 0)}
    return {m.id: {p: rates.cost(m, p, quantity, subtotal) for p in provinces} for m in found}


def choose(
    seller_id: int,
    method_id: int | None,
    province: str,
    quantity: int,
    subtotal: int,
    today: date | None = None,
) -> Option:
    """The option a checkout uses for one seller's order, priced from the database for the
    address province: ``method_id`` must be an active method of this seller (None takes the
    cheapest). Raises ValidationFailed({"shipping": ["shipping_invalid"]}) otherwise."""
    available = options(seller_id, province, quantity, subtotal, today)
    if method_id is None:
        return available[0]
    for item in available:
        if item.method_id == method_id:
            return item
    raise ValidationFailed({"shipping": ["shipping_invalid"]})


# ---- vacation -----------------------------------------------------------------------------


def is_away(seller: Seller, today: date | None = None) -> bool:
    """True while the seller is on vacation: from when they set it until their return date
    (on that date they are back, with nothing to do)."""
    return seller.away_until is not None and (today or rates.market_today()) < seller.away_until


def away_sellers(seller_ids: list[int], today: date | None = None) -> dict[int, date]:
    """Those of ``seller_ids`` away today, with their return dates."""
    if not seller_ids:
        return {}
    day = today or rates.market_today()
    return {
        sid: until
        for sid, until in db.session.execute(
            sa.select(Seller.id, Seller.away_until).where(
                Seller.id.in_(seller_ids), Seller.away_until > day
            )
        )
        if until is not None
    }


def set_away(seller: Seller, until: date | None, note: str = "", today: date | None = None) -> None:
    """Start vacation mode until ``until`` (the day the seller is back), with an optional note
    shown to customers. Raises ValidationFailed: ``away_until`` missing, not after today or
    more than a year ahead; ``away_note`` too long."""
    day = today or rates.market_today()
    errors: dict[str, list[str]] = {}
    if until is None:
        errors["away_until"] = ["required"]
    elif until <= day:
        errors["away_until"] = ["away_past"]
    elif (until - day).days > MAX_AWAY_DAYS:
        errors["away_until"] = ["away_too_far"]
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        errors["away_note"] = ["too_long"]
    if errors:
        raise ValidationFailed(errors)
    with transaction():
        row = db.session.get(Seller, seller.id, populate_existing=True)
        assert row is not None
        row.away_until = until
        row.away_note = note or None
    log.info("seller %s away until %s", seller.id, until)


def end_away(seller: Seller) -> None:
    """End vacation mode now."""
    with transaction():
        row = db.session.get(Seller, seller.id, populate_existing=True)
        assert row is not None
        row.away_until = None
        row.away_note = None
    log.info("seller %s back from vacation", seller.id)
