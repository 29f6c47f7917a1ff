"""Shop coupons: a seller's codes, and their use at checkout.

A coupon takes a percentage or an amount off its shop's lines of one checkout (once per
checkout), when that shop's lines (at their prices now, sales included) come to at least its
minimum, on whole market days as a listing's sale does (``app.catalog.pricing``), at most
``max_uses`` times. The discount is computed here, on the server, inside the checkout's
transaction (``app.orders.placing.apply_coupon``), after the stock is reserved; the use is
counted by one conditional ``UPDATE coupon SET uses = uses + 1 WHERE ... AND uses < max_uses``,
so concurrent checkouts never spend more uses than there are (the loser's checkout rolls back
whole, stock included). The seller who made the coupon pays for it: the lines' totals, the
order's total, the commission and the sales figures are what the customer paid.

A use is spent when the order is placed and is not given back when the order is later cancelled
or its card payment expires: an order revived by a late card payment keeps its discount, and a
use given back and taken again could exceed the limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa

from app.catalog import pricing
from app.catalog.models import Seller
from app.catalog.rules import MAX_PRICE_AMOUNT
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import ascii_digits
from app.core.timeutil import utcnow
from app.orders.models import Coupon

KINDS = ("percent", "amount")
MAX_USES = 1_000_000
_CODE = re.compile(r"[A-Z0-9_-]{3,32}")


def normalise_code(text: object) -> str:
    """A typed code as stored: trimmed, ASCII digits (Persian and Arabic ones accepted), upper
    case."""
    return ascii_digits(text).strip().upper()


@dataclass
class CouponData:
    code: str
    kind: str
    value: int | None
    min_order_amount: int | None
    first_day: date | None
    last_day: date | None
    max_uses: int | None


def create_coupon(seller: Seller, data: CouponData) -> Coupon:
    """A new coupon of ``seller``; ValidationFailed naming each bad field, nothing made."""
    code = normalise_code(data.code)
    errors: dict[str, list[str]] = {}
    if not _CODE.fullmatch(code):
        errors["code"] = ["coupon_code_invalid"]
    if data.kind not in KINDS:
        errors["kind"] = ["invalid"]
    value = data.value
    if value is None or value <= 0:
        errors["value"] = ["out_of_range"]
    elif data.kind == "percent" and value > 100:
        errors["value"] = ["coupon_percent_range"]
    elif value > MAX_PRICE_AMOUNT:
        errors["value"] = ["out_of_range"]
    minimum = data.min_order_amount or 0
    if not (0 <= minimum <= MAX_PRICE_AMOUNT):
        errors["min_order_amount"] = ["out_of_range"]
    if data.first_day is None:
        errors["starts_on"] = ["required"]
    if data.last_day is None:
        errors["ends_on"] = ["required"]
    elif data.first_day is not None and data.last_day < data.first_day:
        errors["ends_on"] = ["sale_ends_before_start"]
    if data.max_uses is None or not (0 < data.max_uses <= MAX_USES):
        errors["max_uses"] = ["out_of_range"]
    if not errors and _find(seller.id, code) is not None:
        errors["code"] = ["coupon_code_taken"]
    if errors:
        raise ValidationFailed(errors)
    assert data.first_day is not None and data.last_day is not None and data.max_uses
    starts, ends = pricing.sale_period(data.first_day, data.last_day)
    try:
        with transaction():
            coupon = Coupon(
                seller_id=seller.id,
                code=code,
                kind=data.kind,
                value=value,
                min_order_amount=minimum,
                starts_at=starts,
                ends_at=ends,
                max_uses=data.max_uses,
                uses=0,
            )
            db.session.add(coupon)
    except sa.exc.IntegrityError as exc:  # the same code made at the same moment
        raise ValidationFailed({"code": ["coupon_code_taken"]}) from exc
    return coupon


def seller_coupons(seller: Seller) -> list[Coupon]:
    """The seller's coupons, newest first."""
    return list(
        db.session.scalars(
            sa.select(Coupon)
            .where(Coupon.seller_id == seller.id)
            .order_by(Coupon.created_at.desc(), Coupon.id.desc())
        )
    )


def end_coupon(seller: Seller, coupon_id: int) -> None:
    """End the seller's coupon now (NotFound for another seller's or a missing one); ending an
    ended coupon changes nothing."""
    with transaction():
        coupon = db.session.scalar(
            sa.select(Coupon).where(Coupon.id == coupon_id, Coupon.seller_id == seller.id)
        )
        if coupon is None:
            raise NotFound("coupon")
        if coupon.ended_at is None:
            coupon.ended_at = utcnow()


def is_open(coupon: Coupon) -> bool:
    """Whether the coupon may be used now (its days run, not ended, uses left)."""
    now = utcnow()
    return (
        coupon.ended_at is None
        and coupon.starts_at <= now < coupon.ends_at
        and coupon.uses < coupon.max_uses
    )


def last_day(coupon: Coupon) -> date:
    """The coupon's last market day (its stored end is the start of the day after)."""
    return pricing.market_day(coupon.ends_at) - timedelta(days=1)


def _find(seller_id: int, code: str) -> Coupon | None:
    return db.session.scalar(
        sa.select(Coupon).where(Coupon.seller_id == seller_id, Coupon.code == code)
    )


def find_for_cart(text: str, seller_ids: list[int]) -> Coupon:
    """The coupon ``text`` names among the shops of the cart (``seller_ids``; should two of them
    have that code, the first by id). ValidationFailed({"coupon": ...}) when no shop of the cart
    has it, or it has not started, has ended or is used up."""
    code = normalise_code(text)
    coupon = (
        db.session.scalar(
            sa.select(Coupon)
            .where(Coupon.code == code, Coupon.seller_id.in_(seller_ids))
            .order_by(Coupon.seller_id)
            .limit(1)
        )
        if _CODE.fullmatch(code) and seller_ids
        else None
    )
    if coupon is None:
        raise ValidationFailed({"coupon": ["coupon_unknown"]})
    now = utcnow()
    if coupon.ended_at is not None or now >= coupon.ends_at:
        raise ValidationFailed({"coupon": ["coupon_ended"]})
    if now < coupon.starts_at:
        raise ValidationFailed({"coupon": ["coupon_not_started"]})
    if coupon.uses >= coupon.max_uses:
        raise ValidationFailed({"coupon": ["coupon_used_up"]})
    return coupon


def discount(coupon: Coupon, subtotal: int) -> int:
    """What ``coupon`` takes off its shop's lines worth ``subtotal`` (ValidationFailed when the
    lines are under its minimum); never more than the lines."""
    if subtotal < coupon.min_order_amount:
        raise ValidationFailed({"coupon": ["coupon_min_order"]})
    if coupon.kind == "percent":
        return min(subtotal, subtotal * coupon.value // 100)
    return min(subtotal, coupon.value)


@dataclass(frozen=True)
class Preview:
    """What a typed code would do to a cart: which shop's coupon, and how much it takes off
    that shop's lines (``subtotal``, at their prices now)."""

    coupon: Coupon
    seller_id: int
    subtotal: int
    amount: int


def preview(text: str, subtotals: dict[int, int]) -> Preview:
    """What the code ``text`` would take off a cart whose shops' lines come to ``subtotals``
    (seller id -> rials at the prices now), by the same rules as the checkout
    (:func:`find_for_cart`, :func:`discount`): ValidationFailed({"coupon": [reason]}) when it
    would not apply (unknown, ended, not started, used up, under its minimum). Changes
    nothing: a use is counted only when the order is placed."""
    coupon = find_for_cart(text[:64], sorted(subtotals))
    subtotal = subtotals[coupon.seller_id]
    return Preview(coupon, coupon.seller_id, subtotal, discount(coupon, subtotal))


def spend(coupon: Coupon) -> None:
    """Count one use, if one is left and the coupon still runs (one conditional UPDATE: exact
    under concurrency); ValidationFailed({"coupon": ["coupon_used_up"]}) otherwise (the caller's
    transaction must roll back)."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Coupon)
        .where(
            Coupon.id == coupon.id,
            Coupon.uses < Coupon.max_uses,
            Coupon.ended_at.is_(None),
            Coupon.starts_at <= now,
            Coupon.ends_at > now,
        )
        .values(uses=Coupon.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount != 1:
        raise ValidationFailed({"coupon": ["coupon_used_up"]})
