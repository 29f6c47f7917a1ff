"""The self-dealing check: online orders whose buyer is, or shares a contact with, the seller.

A business can inflate its own figures by buying from itself. An order is flagged when it starts
to count as a sale (``app.program.summaries`` calls :func:`check_orders` for the orders it adds to
the summary rows, in the same transaction) and when ``flask reports flag-self-dealing`` looks at
every counted order again. The reasons:

- ``account``: the buyer's account is the seller's owner;
- ``phone``: a number of the buyer (the account's phone or mobile, or the order's delivery mobile)
  equals the shop's phone or a number of the seller's owner (phone or mobile), compared as
  ``09…`` numbers in ASCII digits;
- ``address``: the delivery address is one the seller's owner saved at a checkout of their own
  (``saved_address``): the same postal code, or the same text once normalised (the search
  normaliser, then folded, without punctuation and spaces);
- ``card``: the masked card that paid the order (``payment.card_pan``, the bank gateway's) paid a
  checkout of the seller's owner too. Payouts go to a Sheba account, never to a card, so the
  cards the owner paid with on the market are the only cards known to be the seller's.

A flag starts ``pending``; staff clear it (a real sale: it counts) or confirm it (it stays out).
Pending and confirmed flags keep the order out of the impact figures (``app.program.impact``); the
sales reports are not changed. A flag is made once per order and never made again after a decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.accounts.models import User
from app.audit import log as audit
from app.catalog.models import Seller
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.inputs import ascii_digits, normalise_mobile, normalise_postal_code
from app.core.pagination import Page, page_of
from app.core.timeutil import utcnow
from app.orders.models import Order, SavedAddress
from app.payments.models import Payment
from app.program.impact_models import FLAG_REASONS, FlagStatus, SalesFlag
from app.program.sales_models import SalesOrder
from app.search.normalize.chars import fold

MAX_NOTE = 2000
BATCH = 500
_NOT_WORD = re.compile(r"[\W_]+")


def normal_address(text: str | None) -> str:
    """An address as compared: normalised and folded Persian, ASCII digits, no punctuation or
    spaces, lower case."""
    return _NOT_WORD.sub("", fold(ascii_digits(text or "")).lower())


def _number(text: str | None) -> str:
    return normalise_mobile(text) if text and text.strip() else ""


@dataclass
class _SellerSide:
    owner_id: int
    numbers: set[str]
    postal_codes: set[str]
    addresses: set[str]
    cards: set[str]


def _seller_sides(session: Session, seller_ids: set[int]) -> dict[int, _SellerSide]:
    sides: dict[int, _SellerSide] = {}
    rows = session.execute(
        sa.select(Seller.id, Seller.user_id, Seller.phone, User.phone, User.mobile)
        .join(User, User.id == Seller.user_id)
        .where(Seller.id.in_(seller_ids))
    ).tuples()
    for seller_id, owner_id, shop_phone, owner_phone, owner_mobile in rows:
        numbers = {_number(n) for n in (shop_phone, owner_phone, owner_mobile)} - {""}
        sides[seller_id] = _SellerSide(owner_id, numbers, set(), set(), set())
    by_owner = {side.owner_id: side for side in sides.values()}
    if not by_owner:
        return sides
    for user_id, postal_code, address in session.execute(
        sa.select(SavedAddress.user_id, SavedAddress.postal_code, SavedAddress.address).where(
            SavedAddress.user_id.in_(by_owner)
        )
    ).tuples():
        side = by_owner[user_id]
        if code := normalise_postal_code(postal_code):
            side.postal_codes.add(code)
        if text := normal_address(address):
            side.addresses.add(text)
    for user_id, card in session.execute(
        sa.select(Payment.customer_id, Payment.card_pan)
        .where(Payment.customer_id.in_(by_owner), Payment.card_pan.is_not(None))
        .distinct()
    ).tuples():
        if card and card.strip():
            by_owner[user_id].cards.add(card.strip())
    return sides


def reasons_for(order: dict, side: _SellerSide) -> list[str]:
    """The reasons (in :data:`FLAG_REASONS` order) one order's buyer looks like its seller."""
    found: set[str] = set()
    if order["customer_id"] == side.owner_id:
        found.add("account")
    buyer_numbers = {
        _number(n) for n in (order["buyer_phone"], order["buyer_mobile"], order["mobile"])
    } - {""}
    if buyer_numbers & side.numbers:
        found.add("phone")
    code = normalise_postal_code(order["postal_code"])
    text = normal_address(order["address"])
    if (code and code in side.postal_codes) or (text and text in side.addresses):
        found.add("address")
    card = (order["card_pan"] or "").strip()
    if card and card in side.cards:
        found.add("card")
    return [r for r in FLAG_REASONS if r in found]


def check_orders(session: Session, order_ids: Iterable[int]) -> int:
    """Flag the orders of ``order_ids`` that look like self-dealing and have no flag yet, in the
    caller's transaction; returns how many were flagged."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    flagged = set(session.scalars(sa.select(SalesFlag.order_id).where(SalesFlag.order_id.in_(ids))))
    ids = [i for i in ids if i not in flagged]
    if not ids:
        return 0
    orders = [
        dict(row._mapping)
        for row in session.execute(
            sa.select(
                Order.id, Order.seller_id, Order.customer_id, Order.mobile, Order.postal_code,
                Order.address, Payment.card_pan, User.phone.label("buyer_phone"),
                User.mobile.label("buyer_mobile"),
            )
            .join(Payment, Payment.id == Order.payment_id)
            .join(User, User.id == Order.customer_id)
            .where(Order.id.in_(ids))
            .order_by(Order.id)
        )
    ]  # fmt: skip
    sides = _seller_sides(session, {o["seller_id"] for o in orders})
    new = []
    for order in orders:
        side = sides.get(order["seller_id"])
        reasons = reasons_for(order, side) if side else []
        if reasons:
            new.append(
                {"order_id": order["id"], "seller_id": order["seller_id"],
                 "reasons": ",".join(reasons), "status": FlagStatus.PENDING.value,
                 "flagged_at": utcnow(), "note": ""}
            )  # fmt: skip
    if new:
        session.execute(sa.insert(SalesFlag), new)
    return len(new)


def flag_all() -> int:
    """Look at every counted order again (the backfill); returns how many were flagged. One
    transaction per batch of orders."""
    total = 0
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                sa.select(SalesOrder.order_id)
                .where(SalesOrder.order_id > last)
                .order_by(SalesOrder.order_id)
                .limit(BATCH)
            )
        )
        db.session.rollback()
        if not ids:
            return total
        with transaction() as session:
            total += check_orders(session, ids)
        last = ids[-1]


# ---- staff: the list and the decision ----------------------------------------------------------


def flags(status: FlagStatus | None, number: int, per_page: int) -> Page:
    """Flags of ``status`` (or all), oldest first for pending ones and newest first otherwise,
    each with its order, seller and buyer."""
    stmt = sa.select(SalesFlag).options(
        joinedload(SalesFlag.order).joinedload(Order.customer), joinedload(SalesFlag.seller)
    )
    count = sa.select(sa.func.count()).select_from(SalesFlag)
    if status is not None:
        stmt = stmt.where(SalesFlag.status == status)
        count = count.where(SalesFlag.status == status)
    order = (
        (SalesFlag.flagged_at, SalesFlag.order_id)
        if status == FlagStatus.PENDING
        else (SalesFlag.flagged_at.desc(), SalesFlag.order_id.desc())
    )
    return page_of(stmt.order_by(*order), db.session.scalar(count) or 0, number, per_page)


def status_counts() -> dict[str, int]:
    return {
        str(status): int(n)
        for status, n in db.session.execute(
            sa.select(SalesFlag.status, sa.func.count()).group_by(SalesFlag.status)
        ).tuples()
    }


def decide(actor_id: int, order_id: int, status: FlagStatus, note: str) -> SalesFlag:
    """Clear or confirm a flag (a decision may be changed later), with an audit row. Raises
    NotFound, ValidationFailed (``note``: ``too_long``), InvalidTransition (to pending).
    Commits."""
    note = (note or "").strip()
    if status not in (FlagStatus.CLEARED, FlagStatus.CONFIRMED):
        raise InvalidTransition(None, status)
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": ["too_long"]})
    with transaction() as session:
        flag = session.get(SalesFlag, order_id, with_for_update=True)
        if flag is None:
            raise NotFound("sales_flag")
        before = str(flag.status)
        flag.status = status
        flag.note = note
        flag.decided_by_id = actor_id
        flag.decided_at = utcnow()
        audit.record(
            actor_id,
            f"sales_flag.{status.value}",
            "order",
            order_id,
            reason=note or None,
            data={"seller_id": flag.seller_id, "reasons": flag.reason_list, "before": before,
                  "after": status.value},
        )  # fmt: skip
    return flag
