"""Offline sales: sales made at a fair or an exhibition, recorded by staff or by the seller.

A record counts as offline sales volume at once (its summary rows change in the same
transaction); with "take stock" its quantities leave the online stock through
``app.orders.stock`` (all or nothing, never below zero) and go back if the record is deleted.
A record sent from the booth page carries the phone's random key for the entry: sent again
(the phone did not hear the answer), it is the same record, never a second one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import log as audit
from app.catalog import variants
from app.catalog.models import Product, Seller, SellerStatus
from app.catalog.scope import PROVINCE, Scope
from app.core.db import database_id, transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.inputs import normalise_code
from app.core.pagination import Page, page_of
from app.orders import stock
from app.program.calendar import tehran_today
from app.program.sales_models import OFFLINE, PAYMENT_METHODS, OfflineSale, OfflineSaleLine
from app.program.summaries import Deltas, SaleLine

MAX_AGE = timedelta(days=3 * 366)  # a sale older than this is a typo
MAX_SELLERS_LISTED = 300  # more approved sellers than this: staff type a code instead
CLIENT_KEY = re.compile(r"[A-Za-z0-9_-]{8,40}")  # a phone's key for an entry (a UUID fits)


@dataclass
class OfflineLineInput:
    product_id: int | None
    title: str
    quantity: int
    amount: int
    # For a product with options: which of its variants (required to take its stock).
    variant_id: int | None = None


def _lines(sale: OfflineSale) -> list[SaleLine]:
    return [(x.product_id, x.title, x.category_id, x.quantity, x.amount) for x in sale.lines]


def _errors(
    sold_on: date, place: str, lines: list[OfflineLineInput], take_stock: bool, today: date
) -> dict[str, list[str]]:
    """Field -> error codes of an offline sale (nothing looked up)."""
    errors: dict[str, list[str]] = {}
    if not place:
        errors["place"] = ["required"]
    if sold_on > today:
        errors["sold_on"] = ["in_future"]
    elif sold_on < today - MAX_AGE:
        errors["sold_on"] = ["too_old"]
    if not lines:
        errors["lines"] = ["required"]
    for x in lines:
        if x.quantity is None or x.quantity <= 0:
            errors.setdefault("lines", []).append("quantity_positive")
        if x.amount is None or x.amount < 0:
            errors.setdefault("lines", []).append("amount_non_negative")
    if take_stock and any(x.product_id is None for x in lines):
        errors.setdefault("lines", []).append("stock_needs_product")
    return errors


def _sale_lines(
    seller: Seller, lines: list[OfflineLineInput], take_stock: bool
) -> list[OfflineSaleLine]:
    """The record's lines: a chosen product gives its title and category, a chosen variant its
    label too. Raises NotAllowed for a product of another seller (or none) or a variant of
    another product, ValidationFailed({"lines": ["variant_required"]}) when stock is to be
    taken from a product with options without naming its variant."""
    ids = {x.product_id for x in lines if x.product_id}
    products = {p.id: p for p in db.session.scalars(sa.select(Product).where(Product.id.in_(ids)))}
    if any(products.get(pid) is None or products[pid].seller_id != seller.id for pid in ids):
        raise NotAllowed("product of another seller")
    chosen = {v.id: v for v in variants.variants_of_ids([x.variant_id for x in lines])}
    labels = variants.labels_of(list(chosen))
    out = []
    for x in lines:
        product = products.get(x.product_id) if x.product_id else None
        variant = chosen.get(x.variant_id) if x.variant_id is not None else None
        if x.variant_id is not None and (variant is None or variant.product_id != x.product_id):
            raise NotAllowed("variant of another product")
        if take_stock and product is not None and product.has_variants and variant is None:
            raise ValidationFailed({"lines": ["variant_required"]})
        title = product.title if product else " ".join(x.title.split())
        if variant is not None:
            title = f"{title} ({labels[variant.id]})"
        out.append(
            OfflineSaleLine(
                product_id=x.product_id,
                variant_id=variant.id if variant is not None else None,
                title=title[:200],
                category_id=product.category_id if product else None,
                quantity=x.quantity,
                amount=x.amount,
            )
        )
    return out


def record_offline_sale(
    seller: Seller,
    actor_id: int | None,
    *,
    sold_on: date,
    place: str,
    lines: list[OfflineLineInput],
    note: str = "",
    take_stock: bool = False,
    today: date | None = None,
    client_key: str | None = None,
    payment_method: str | None = None,
) -> OfflineSale:
    """Record a sale made at a fair or an exhibition; it counts as offline sales volume at once.

    With ``take_stock`` the quantities leave the online stock (all or nothing; never below zero:
    raises OutOfStock). ``client_key`` is the key a booth phone gave the entry: when the seller
    already has a record with it, that record is returned and nothing changes (two sends at the
    same moment end with one record too). ``payment_method`` is "cash" or "card". Raises
    ValidationFailed for bad input, NotAllowed for another seller's product. Commits.
    """
    if client_key is not None:
        if not CLIENT_KEY.fullmatch(client_key):
            raise ValidationFailed({"client_key": ["invalid"]})
        known = _by_client_key(seller.id, client_key)
        if known is not None:
            return known
    place = " ".join((place or "").split())[:200]
    clean = [x for x in lines if x.product_id or (x.title or "").strip()]
    errors = _errors(sold_on, place, clean, take_stock, today or tehran_today())
    if payment_method is not None and payment_method not in PAYMENT_METHODS:
        errors["payment_method"] = ["invalid"]
    if errors:
        raise ValidationFailed(errors)
    with transaction() as session:
        sale = OfflineSale(
            seller_id=seller.id,
            recorded_by_id=actor_id,
            sold_on=sold_on,
            place=place,
            note=(note or "").strip()[:2000],
            amount=sum(x.amount for x in clean),
            took_stock=take_stock,
            client_key=client_key,
            payment_method=payment_method,
        )
        sale.lines.extend(_sale_lines(seller, clean, take_stock))
        if client_key is not None:
            # The unique index decides between two sends of one entry: the later one waits for
            # the first to commit, fails here, and answers with the first one's record.
            try:
                with session.begin_nested():
                    session.add(sale)
                    session.flush()
            except sa.exc.IntegrityError:
                known = _by_client_key(seller.id, client_key)
                if known is None:
                    raise
                return known
        if take_stock:
            stock.take((x.product_id, x.variant_id, x.quantity) for x in clean if x.product_id)
        session.add(sale)
        session.flush()
        deltas = Deltas()
        deltas.add(seller.id, sold_on, OFFLINE, _lines(sale), +1)
        deltas.apply(session)
        audit.record(
            actor_id,
            "offline_sale.create",
            "offline_sale",
            sale.id,
            data={"seller_id": seller.id, "amount": sale.amount, "took_stock": take_stock},
        )
    return sale


def _by_client_key(seller_id: int, client_key: str) -> OfflineSale | None:
    return db.session.scalar(
        sa.select(OfflineSale).where(
            OfflineSale.seller_id == seller_id, OfflineSale.client_key == client_key
        )
    )


def delete_offline_sale(sale: OfflineSale, actor_id: int | None) -> None:
    """Remove a mistaken record: its figures leave the reports and taken stock goes back
    (nothing when it is already gone). Commits."""
    with transaction() as session:
        found = session.get(OfflineSale, sale.id, populate_existing=True)
        if found is None:
            return
        deltas = Deltas()
        deltas.add(found.seller_id, found.sold_on, OFFLINE, _lines(found), -1)
        deltas.apply(session)
        if found.took_stock:
            stock.give_back(
                (line.product_id, line.variant_id, line.quantity) for line in found.lines
            )
        audit.record(
            actor_id,
            "offline_sale.delete",
            "offline_sale",
            found.id,
            data={"seller_id": found.seller_id, "amount": found.amount,
                  "sold_on": str(found.sold_on)},
        )  # fmt: skip
        session.delete(found)


# ---- what the pages read ----------------------------------------------------------------------


def find_sale(sale_id: int, scope: Scope = PROVINCE) -> OfflineSale | None:
    """The off-line sale ``sale_id`` if its seller is within ``scope``."""
    sale = db.session.get(OfflineSale, sale_id)
    return sale if sale is not None and scope.holds(sale.seller) else None


def _listing(seller_id: int | None, scope: Scope) -> sa.Select[tuple[OfflineSale]]:
    stmt = sa.select(OfflineSale).options(
        selectinload(OfflineSale.lines),
        selectinload(OfflineSale.seller),
        selectinload(OfflineSale.recorded_by),
    )
    return _filtered(stmt, seller_id, scope).order_by(
        OfflineSale.sold_on.desc(), OfflineSale.id.desc()
    )


def _filtered(stmt: sa.Select, seller_id: int | None, scope: Scope) -> sa.Select:
    if seller_id:
        stmt = stmt.where(OfflineSale.seller_id == seller_id)
    if not scope.is_province:
        stmt = stmt.where(OfflineSale.seller_id.in_(scope.seller_ids()))
    return stmt


def offline_sales_page(
    seller_id: int | None, page: int, per_page: int, scope: Scope = PROVINCE
) -> Page:
    """One page of the offline sales (of one seller, or every one of ``scope``), newest day
    first."""
    count = _filtered(sa.select(sa.func.count(OfflineSale.id)), seller_id, scope)
    return page_of(_listing(seller_id, scope), db.session.scalar(count) or 0, page, per_page)


def all_offline_sales(seller_id: int | None, scope: Scope = PROVINCE) -> list[OfflineSale]:
    """Every offline sale (of one seller, or every one of ``scope``), as the list shows them."""
    return list(db.session.scalars(_listing(seller_id, scope)))


def seller_products(seller_id: int) -> list[tuple[str, str, int]]:
    """(choice, title, stock) of a seller's products, for the form's product choices: the
    product's id, or for a product with options one ``"<product id>:<variant id>"`` per offered
    variant, titled with its label."""
    rows = db.session.execute(
        sa.select(Product.id, Product.title, Product.stock, Product.has_variants)
        .where(Product.seller_id == seller_id)
        .order_by(Product.title)
    ).all()
    out: list[tuple[str, str, int]] = []
    for product_id, title, left, has_variants in rows:
        if not has_variants:
            out.append((str(product_id), title, left))
            continue
        offered = variants.variants_of(product_id)
        labels = variants.labels_of([v.id for v in offered])
        out.extend((f"{product_id}:{v.id}", f"{title} ({labels[v.id]})", v.stock) for v in offered)
    return out


def approved_seller(raw: str | None, scope: Scope = PROVINCE) -> Seller | None:
    """The approved seller (within ``scope``) a staff member named by id or programme
    registration code."""
    raw = (raw or "").strip()
    if not raw:
        return None
    seller = None
    seller_id = database_id(raw)
    if seller_id is not None:
        seller = db.session.get(Seller, seller_id)
    if seller is None:
        # Codes are stored normalised; one saved before that is found as typed.
        codes = {normalise_code(raw), raw}
        seller = db.session.scalar(
            sa.select(Seller).where(Seller.registration_code.in_(codes)).limit(1)
        )
    if seller is None or seller.status != SellerStatus.APPROVED or not scope.holds(seller):
        return None
    return seller


def seller_choices(scope: Scope = PROVINCE) -> list[tuple[int, str, str | None]] | None:
    """(id, name, code) of the approved sellers (of ``scope``) for a drop-down, or None when
    there are too many (a code is typed instead)."""
    rows = db.session.execute(
        sa.select(Seller.id, Seller.display_name, Seller.registration_code)
        .where(Seller.status == SellerStatus.APPROVED, *scope.sellers())
        .order_by(Seller.display_name)
        .limit(MAX_SELLERS_LISTED + 1)
    ).all()
    return None if len(rows) > MAX_SELLERS_LISTED else [tuple(r) for r in rows]


def seller_by_id(seller_id: int | None, scope: Scope = PROVINCE) -> Seller | None:
    seller = db.session.get(Seller, seller_id) if seller_id else None
    return seller if seller is not None and scope.holds(seller) else None
