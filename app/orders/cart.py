"""Carts. A logged-in customer's cart lives in ``cart_line`` rows; a guest's in the session as
``{product_id: [quantity, seen_price_amount]}`` (plain values, passed in and out by the caller).
A guest cart merges into the account at login.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders.errors import NotABuyer, OwnProducts
from app.orders.models import CartLine, CartState
from app.shipping import services as shipping

MAX_QUANTITY = 99
MAX_LINES = 50

GuestCart = dict[str, list[int]]


@dataclass
class CartItem:
    product_id: int
    quantity: int
    seen_price_amount: int
    product: Product | None
    # unavailable | out_of_stock | price_changed | seller_away
    problems: list[str] = field(default_factory=list)

    @property
    def line_total_amount(self) -> int:
        return (self.product.effective_price if self.product else 0) * self.quantity


@dataclass
class SellerGroup:
    seller: Seller
    items: list[CartItem]
    away_until: date | None = None  # the seller is on vacation until then

    @property
    def units(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def subtotal_amount(self) -> int:
        return sum(
            i.line_total_amount
            for i in self.items
            if not i.problems or i.problems == ["price_changed"]
        )


@dataclass
class CartView:
    groups: list[SellerGroup]
    missing: list[CartItem]  # products that no longer exist or are not public

    @property
    def total_amount(self) -> int:
        return sum(g.subtotal_amount for g in self.groups)

    @property
    def count(self) -> int:
        return sum(i.quantity for g in self.groups for i in g.items) + sum(
            i.quantity for i in self.missing
        )

    @property
    def has_problems(self) -> bool:
        return bool(self.missing) or any(i.problems for g in self.groups for i in g.items)

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.missing


# ---- who may buy, and the cart as a whole -----------------------------------------------------


def own_product_ids(user: User | None, product_ids: list[int]) -> set[int]:
    """Those of ``product_ids`` that ``user`` sells in their own shop."""
    if user is None or not product_ids or user.role != Role.SELLER:
        return set()
    return set(
        db.session.scalars(
            sa.select(Product.id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(Product.id.in_(product_ids), Seller.user_id == user.id)
        )
    )


def check_buyer(user: User | None, product_ids: list[int]) -> None:
    """Who may buy what: programme staff buy nothing (NotABuyer); a seller buys from other
    shops, never their own products (OwnProducts). Guests may fill a cart."""
    if user is None:
        return
    if user.role == Role.STAFF:
        raise NotABuyer("programme staff do not buy in the market")
    own = own_product_ids(user, product_ids)
    if own:
        raise OwnProducts(own)


def lock(user: User) -> CartState:
    """Inside a write transaction: hold the customer's cart for this transaction (their user row
    is locked on PostgreSQL; SQLite's write transaction already runs alone) and return its state.

    Every change of a logged-in customer's cart and every checkout takes this lock first, so a
    cart is read, changed and turned into orders by one transaction at a time."""
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    state = db.session.get(CartState, user.id, populate_existing=True)
    if state is None:
        state = CartState(user_id=user.id, version=0)
        db.session.add(state)
        db.session.flush()
    return state


def version(user: User) -> int:
    """The current version of the customer's cart (0 before its first change)."""
    return db.session.scalar(sa.select(CartState.version).where(CartState.user_id == user.id)) or 0


def _changed(state: CartState) -> None:
    state.version = (state.version or 0) + 1


def check_quantity(quantity: int) -> int:
    if not isinstance(quantity, int) or not (1 <= quantity <= MAX_QUANTITY):
        raise ValidationFailed({"quantity": ["quantity_range"]})
    return quantity


def purchasable(product_id: int) -> Product | None:
    """The product if the public can buy it now (published, approved seller)."""
    return db.session.scalar(
        sa.select(Product)
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.id == product_id,
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
        )
    )


def _lines_of(user: User) -> dict[int, CartLine]:
    """The account's cart lines as the database has them now (not as the session last saw)."""
    return {
        line.product_id: line
        for line in db.session.scalars(
            sa.select(CartLine)
            .where(CartLine.user_id == user.id)
            .execution_options(populate_existing=True)
        )
    }


def add(
    user: User | None, guest: GuestCart | None, product_id: int, quantity: int
) -> GuestCart | None:
    """Add ``quantity`` of a product (summing with what is there). Returns the new guest cart.

    Raises ValidationFailed, NotABuyer or OwnProducts (see :func:`check_buyer`); then the cart
    is unchanged (and the session clean)."""
    if user is None:
        return _add_to_guest_cart(guest, _buyable(None, product_id, quantity), quantity)
    try:
        with transaction():
            _add_to_account(user, _buyable(user, product_id, quantity), quantity)
    except sa.exc.IntegrityError:  # a concurrent add of the same product: add to it instead
        return add(user, guest, product_id, quantity)
    return None


@dataclass
class Reordered:
    """What :func:`reorder` did: the titles added in full, those added in part (title, units
    added) because less is left, and those it could not add (title, reason code:
    ``unavailable``, ``sold_out``, ``own_product``, ``cart_full``)."""

    added: list[str] = field(default_factory=list)
    fewer: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def reorder(
    user: User, lines: list[tuple[int | None, str, int]], *, top_up: bool = False
) -> Reordered:
    """Put the products of a past order (``(product id or None, title, quantity)`` per line)
    in ``user``'s cart again, at today's prices: each as many as are left when fewer; one that
    is gone, hidden or sold out is named and skipped. Raises NotABuyer for staff.

    ``top_up``: a line already in the cart is brought up to the order's quantity, not added to
    (a checkout resumed twice puts its products back once). Only the cart changes: stock is
    taken by the next checkout, which checks it again, so nothing can be sold twice."""
    if user.role == Role.STAFF:
        raise NotABuyer()
    done = Reordered()
    if top_up:
        in_cart = {pid: line.quantity for pid, line in _lines_of(user).items()}
        wanted: dict[int | None, tuple[str, int]] = {}
        for product_id, title, quantity in lines:  # one line per product, whatever the orders
            before = wanted.get(product_id, (title, 0))[1]
            wanted[product_id] = (title, before + quantity)
        lines = []
        for product_id, (title, quantity) in wanted.items():
            have = in_cart.get(product_id, 0) if product_id is not None else 0
            if have >= quantity:
                done.added.append(title)
            else:
                lines.append((product_id, title, quantity - have))
    for product_id, title, quantity in lines:
        product = purchasable(product_id) if product_id is not None else None
        if product is None:
            done.skipped.append((title, "unavailable"))
            continue
        if product.stock < 1:
            done.skipped.append((product.title, "sold_out"))
            continue
        units = min(quantity, product.stock, MAX_QUANTITY)
        try:
            add(user, None, product.id, units)
        except OwnProducts:
            done.skipped.append((product.title, "own_product"))
        except ValidationFailed as exc:
            code = next(iter(exc.errors.get("product", ())), "unavailable")
            done.skipped.append((product.title, code))
        else:
            if units < quantity:
                done.fewer.append((product.title, units))
            else:
                done.added.append(product.title)
    return done


def _buyable(user: User | None, product_id: int, quantity: int) -> Product:
    """The product, once ``user`` may buy ``quantity`` of it now (else the domain error)."""
    check_quantity(quantity)
    product = purchasable(product_id)
    if product is None:
        raise ValidationFailed({"product": ["unavailable"]})
    check_buyer(user, [product_id])
    return product


def _add_to_account(user: User, product: Product, quantity: int) -> None:
    _changed(lock(user))
    lines = _lines_of(user)
    line = lines.get(product.id)
    if line is None:
        if len(lines) >= MAX_LINES:
            raise ValidationFailed({"product": ["cart_full"]})
        db.session.add(
            CartLine(
                user_id=user.id,
                product_id=product.id,
                quantity=quantity,
                seen_price_amount=product.effective_price,
            )
        )
    else:
        line.quantity = min(line.quantity + quantity, MAX_QUANTITY)
        line.seen_price_amount = product.effective_price


def _add_to_guest_cart(guest: GuestCart | None, product: Product, quantity: int) -> GuestCart:
    cart = dict(guest or {})
    key = str(product.id)
    if key not in cart and len(cart) >= MAX_LINES:
        raise ValidationFailed({"product": ["cart_full"]})
    current = cart.get(key, [0, product.effective_price])[0]
    cart[key] = [min(current + quantity, MAX_QUANTITY), product.effective_price]
    return cart


def set_quantity(
    user: User | None, guest: GuestCart | None, product_id: int, quantity: int
) -> GuestCart | None:
    """Set a line's quantity; 0 removes the line (ValidationFailed for a quantity out of range)."""
    if quantity != 0:
        check_quantity(quantity)
    if user is not None:
        with transaction():
            state = lock(user)
            line = _lines_of(user).get(product_id)
            if line is not None:
                _changed(state)
                if quantity == 0:
                    db.session.delete(line)
                else:
                    line.quantity = quantity
        return None
    cart = dict(guest or {})
    key = str(product_id)
    if key in cart:
        if quantity == 0:
            del cart[key]
        else:
            cart[key] = [quantity, cart[key][1]]
    return cart


def accept_prices(user: User | None, guest: GuestCart | None) -> GuestCart | None:
    """The customer has seen the new prices: remember them so the flags go away."""
    if user is not None:
        with transaction():
            _changed(lock(user))
            for line in _lines_of(user).values():
                product = db.session.get(Product, line.product_id)
                if product is not None:
                    line.seen_price_amount = product.effective_price
        return None
    cart = {}
    for key, (qty, seen) in (guest or {}).items():
        product = db.session.get(Product, int(key))
        cart[key] = [qty, product.effective_price if product else seen]
    return cart


def merge_guest_cart(user: User, guest: GuestCart | None) -> None:
    """At login: the guest cart's lines join the account's cart (quantities add up, capped)."""
    if not guest:
        return
    with transaction():
        _merge(user, guest)


def _merge(user: User, guest: GuestCart) -> None:
    _changed(lock(user))
    lines = _lines_of(user)
    for key, (qty, seen) in guest.items():
        try:
            product_id = int(key)
            qty = check_quantity(int(qty))
        except (TypeError, ValueError, ValidationFailed):
            continue
        if db.session.get(Product, product_id) is None:
            continue
        line = lines.get(product_id)
        if line is None:
            if len(lines) >= MAX_LINES:
                break
            line = CartLine(
                user_id=user.id, product_id=product_id, quantity=qty, seen_price_amount=int(seen)
            )
            db.session.add(line)
            lines[product_id] = line
        else:
            line.quantity = min(line.quantity + qty, MAX_QUANTITY)


def raw_lines(user: User | None, guest: GuestCart | None) -> list[tuple[int, int, int]]:
    """(product_id, quantity, seen_price_amount) of the cart, with malformed guest entries dropped."""
    if user is not None:
        return [
            (line.product_id, line.quantity, line.seen_price_amount)
            for line in _lines_of(user).values()
        ]
    out = []
    for key, value in (guest or {}).items():
        try:
            qty, seen = int(value[0]), int(value[1])
            out.append((int(key), qty, seen))
        except (TypeError, ValueError, IndexError):
            continue
    return out


def view(user: User | None, guest: GuestCart | None) -> CartView:
    """The cart with current products, grouped by seller, each line flagged with its problems."""
    lines = raw_lines(user, guest)
    ids = [pid for pid, _, _ in lines]
    products = (
        {
            p.id: p
            for p in db.session.scalars(
                sa.select(Product)
                .where(Product.id.in_(ids))
                .options(joinedload(Product.seller), selectinload(Product.images))
            )
        }
        if ids
        else {}
    )
    groups: dict[int, SellerGroup] = {}
    missing: list[CartItem] = []
    for pid, qty, seen in sorted(lines):
        product = products.get(pid)
        item = CartItem(product_id=pid, quantity=qty, seen_price_amount=seen, product=product)
        if (
            product is None
            or product.status != ProductStatus.PUBLISHED
            or product.seller.status != SellerStatus.APPROVED
        ):
            item.problems.append("unavailable")
            if product is None:
                missing.append(item)
                continue
        else:
            if product.stock < qty:
                item.problems.append("out_of_stock")
            if product.effective_price != seen:
                item.problems.append("price_changed")
        group = groups.setdefault(product.seller_id, SellerGroup(seller=product.seller, items=[]))
        group.items.append(item)
    for seller_id, until in shipping.away_sellers(sorted(groups)).items():
        groups[seller_id].away_until = until
        for item in groups[seller_id].items:
            item.problems.append("seller_away")
    return CartView(groups=list(groups.values()), missing=missing)


def units_of(user_id: sa.ColumnExpressionArgument[int] | int) -> sa.ScalarSelect[int]:
    """The units in the cart of ``user_id`` (a value or a column), as a scalar subquery."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(CartLine.quantity), 0))
        .where(CartLine.user_id == user_id)
        .scalar_subquery()
    )


def unit_count(user_id: int) -> int:
    """Units in the customer's cart, for the page header; 0 when the database cannot answer
    (the header of an error page must not fail in its turn)."""
    try:
        return db.session.scalar(sa.select(units_of(user_id))) or 0
    except sa.exc.SQLAlchemyError:
        # The failed statement spoilt the transaction: drop it so the page can still render.
        db.session.rollback()
        return 0


def clear(user: User) -> None:
    """Empty the account's cart (inside the caller's transaction, which holds :func:`lock`)."""
    db.session.execute(sa.delete(CartLine).where(CartLine.user_id == user.id))
