"""Carts. A logged-in customer's cart lives in ``cart_line`` rows; a guest's in the session as
``{key: [quantity, seen_price_amount]}`` (plain values, passed in and out by the caller), the key
being ``"<product_id>"``, or ``"<product_id>:<variant_id>"`` for a variant of a product with
options. A guest cart merges into the account at login.

A product with options is bought by its variants: one line per variant (size M and size L of
one shirt are two lines), each priced, limited and flagged by the variant's own price and stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.catalog import variants as variant_rules
from app.catalog.models import Product, ProductStatus, ProductVariant, Seller, SellerStatus
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.orders.errors import NotABuyer, OwnProducts
from app.orders.models import CartLine, CartState
from app.shipping import services as shipping

MAX_QUANTITY = 99
MAX_LINES = 50

GuestCart = dict[str, list[int]]
# One cart line: (product_id, variant_id or None, quantity, the price the customer saw).
RawLine = tuple[int, int | None, int, int]


def guest_key(product_id: int, variant_id: int | None) -> str:
    """A guest cart's key of a product's line, or of one of its variants."""
    return str(product_id) if variant_id is None else f"{product_id}:{variant_id}"


def parse_guest_key(key: object) -> tuple[int, int | None]:
    """``(product_id, variant_id or None)`` of a guest cart's key; ValueError when malformed."""
    text = str(key)
    product, colon, variant = text.partition(":")
    product_id = int(product)
    variant_id = int(variant) if variant else None
    if product_id < 1 or (variant_id is not None and variant_id < 1) or (colon and not variant):
        raise ValueError(text)
    return product_id, variant_id


def unit_price(product: Product, variant: ProductVariant | None) -> int:
    """What one unit costs now: the variant's price (sale included) or the product's."""
    if variant is not None:
        return variant_rules.price_now(variant, product)
    return product.effective_price


@dataclass
class CartItem:
    product_id: int
    quantity: int
    seen_price_amount: int
    product: Product | None
    # unavailable | out_of_stock | price_changed | seller_away
    problems: list[str] = field(default_factory=list)
    variant_id: int | None = None
    variant: ProductVariant | None = None
    variant_label: str | None = None

    @property
    def unit_price_amount(self) -> int:
        return unit_price(self.product, self.variant) if self.product else 0

    @property
    def line_total_amount(self) -> int:
        return self.unit_price_amount * self.quantity

    @property
    def stock(self) -> int:
        """Units left of what this line buys (its variant's, or its product's)."""
        if self.variant is not None:
            return self.variant.stock if self.variant.active else 0
        return self.product.stock if self.product else 0


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


def find_variant(product: Product, variant_id: int | None) -> ProductVariant | None:
    """The offered variant ``variant_id`` of ``product`` (None for another product's, an unknown
    or a withdrawn one, or no id)."""
    if variant_id is None or not product.has_variants:
        return None
    return db.session.scalar(
        sa.select(ProductVariant).where(
            ProductVariant.id == variant_id,
            ProductVariant.product_id == product.id,
            ProductVariant.active.is_(True),
        )
    )


def variants_by_id(variant_ids: list[int | None]) -> dict[int, ProductVariant]:
    ids = sorted({i for i in variant_ids if i is not None})
    if not ids:
        return {}
    return {
        v.id: v
        for v in db.session.scalars(sa.select(ProductVariant).where(ProductVariant.id.in_(ids)))
    }


def choose_variant(product: Product, variant_id: int | None) -> ProductVariant | None:
    """What a line of ``product`` buys: None for a product without options (a variant id sent
    with it is ignored); for a product with options its offered variant ``variant_id``, else
    ValidationFailed({"variant_id": ["variant_required" | "variant_unavailable"]})."""
    if not product.has_variants:
        return None
    if variant_id is None:
        raise ValidationFailed({"variant_id": ["variant_required"]})
    variant = find_variant(product, variant_id)
    if variant is None:
        raise ValidationFailed({"variant_id": ["variant_unavailable"]})
    return variant


def _lines_of(user: User) -> dict[tuple[int, int | None], CartLine]:
    """The account's cart lines as the database has them now (not as the session last saw), by
    product and variant."""
    return {
        (line.product_id, line.variant_id): line
        for line in db.session.scalars(
            sa.select(CartLine)
            .where(CartLine.user_id == user.id)
            .execution_options(populate_existing=True)
        )
    }


def add(
    user: User | None,
    guest: GuestCart | None,
    product_id: int,
    quantity: int,
    variant_id: int | None = None,
) -> GuestCart | None:
    """Add ``quantity`` of a product, or of its variant ``variant_id`` when it has options
    (summing with what is there). Returns the new guest cart.

    Raises ValidationFailed (also for a product with options without one of its offered
    variants), NotABuyer or OwnProducts (see :func:`check_buyer`); then the cart is unchanged
    (and the session clean)."""
    if user is None:
        product, variant = _buyable(None, product_id, quantity, variant_id)
        return _add_to_guest_cart(guest, product, variant, quantity)
    try:
        with transaction():
            product, variant = _buyable(user, product_id, quantity, variant_id)
            _add_to_account(user, product, variant, quantity)
    except sa.exc.IntegrityError:  # a concurrent add of the same product: add to it instead
        return add(user, guest, product_id, quantity, variant_id)
    return None


@dataclass
class Reordered:
    """What :func:`reorder` did: the titles added in full, those added in part (title, units
    added) because less is left, and those it could not add (title, reason code:
    ``unavailable``, ``sold_out``, ``own_product``, ``cart_full``). A variant's title names it
    ("Shirt (سایز: M)")."""

    added: list[str] = field(default_factory=list)
    fewer: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


ReorderLine = tuple[int | None, int | None, str, int]


def reorder(user: User, lines: list[ReorderLine], *, top_up: bool = False) -> Reordered:
    """Put the products of a past order (``(product id or None, variant id or None, title,
    quantity)`` per line) in ``user``'s cart again, at today's prices: each as many as are left
    when fewer; one that is gone, hidden or sold out is named and skipped, as is a variant no
    longer offered (or a line without one of a product that now has options). Raises
    NotABuyer for staff.

    ``top_up``: a line already in the cart is brought up to the order's quantity, not added to
    (a checkout resumed twice puts its products back once). Only the cart changes: stock is
    taken by the next checkout, which checks it again, so nothing can be sold twice."""
    if user.role == Role.STAFF:
        raise NotABuyer()
    done = Reordered()
    if top_up:
        in_cart = {key: line.quantity for key, line in _lines_of(user).items()}
        wanted: dict[tuple[int | None, int | None], tuple[str, int]] = {}
        for product_id, variant_id, title, quantity in lines:  # one line per product/variant
            before = wanted.get((product_id, variant_id), (title, 0))[1]
            wanted[(product_id, variant_id)] = (title, before + quantity)
        lines = []
        for (product_id, variant_id), (title, quantity) in wanted.items():
            have = in_cart.get((product_id, variant_id), 0) if product_id is not None else 0
            if have >= quantity:
                done.added.append(title)
            else:
                lines.append((product_id, variant_id, title, quantity - have))
    for product_id, variant_id, title, quantity in lines:
        product = purchasable(product_id) if product_id is not None else None
        variant = find_variant(product, variant_id) if product is not None else None
        if product is None or (product.has_variants and variant is None):
            done.skipped.append((title, "unavailable"))
            continue
        name = product.title if variant is None else f"{product.title} ({_label(variant)})"
        left = variant.stock if variant is not None else product.stock
        if left < 1:
            done.skipped.append((name, "sold_out"))
            continue
        units = min(quantity, left, MAX_QUANTITY)
        try:
            add(user, None, product.id, units, variant.id if variant is not None else None)
        except OwnProducts:
            done.skipped.append((name, "own_product"))
        except ValidationFailed as exc:
            code = next(iter(exc.errors.get("product", ())), "unavailable")
            done.skipped.append((name, code))
        else:
            if units < quantity:
                done.fewer.append((name, units))
            else:
                done.added.append(name)
    return done


def _label(variant: ProductVariant) -> str:
    return variant_rules.label(variant, variant_rules.options_of(variant.product_id))


def _buyable(
    user: User | None, product_id: int, quantity: int, variant_id: int | None
) -> tuple[Product, ProductVariant | None]:
    """The product and the variant the line buys (see :func:`choose_variant`), once ``user``
    may buy ``quantity`` of it now (else the domain error)."""
    check_quantity(quantity)
    product = purchasable(product_id)
    if product is None:
        raise ValidationFailed({"product": ["unavailable"]})
    variant = choose_variant(product, variant_id)
    check_buyer(user, [product_id])
    return product, variant


def _add_to_account(
    user: User, product: Product, variant: ProductVariant | None, quantity: int
) -> None:
    _changed(lock(user))
    lines = _lines_of(user)
    variant_id = variant.id if variant is not None else None
    line = lines.get((product.id, variant_id))
    price = unit_price(product, variant)
    if line is None:
        if len(lines) >= MAX_LINES:
            raise ValidationFailed({"product": ["cart_full"]})
        db.session.add(
            CartLine(
                user_id=user.id,
                product_id=product.id,
                variant_id=variant_id,
                quantity=quantity,
                seen_price_amount=price,
            )
        )
    else:
        line.quantity = min(line.quantity + quantity, MAX_QUANTITY)
        line.seen_price_amount = price


def _add_to_guest_cart(
    guest: GuestCart | None, product: Product, variant: ProductVariant | None, quantity: int
) -> GuestCart:
    cart = dict(guest or {})
    key = guest_key(product.id, variant.id if variant is not None else None)
    if key not in cart and len(cart) >= MAX_LINES:
        raise ValidationFailed({"product": ["cart_full"]})
    price = unit_price(product, variant)
    current = cart.get(key, [0, price])[0]
    cart[key] = [min(current + quantity, MAX_QUANTITY), price]
    return cart


def set_quantity(
    user: User | None,
    guest: GuestCart | None,
    product_id: int,
    quantity: int,
    variant_id: int | None = None,
) -> GuestCart | None:
    """Set a line's quantity (the line of ``variant_id`` for a variant); 0 removes the line
    (ValidationFailed for a quantity out of range)."""
    if quantity != 0:
        check_quantity(quantity)
    if user is not None:
        with transaction():
            state = lock(user)
            line = _lines_of(user).get((product_id, variant_id))
            if line is not None:
                _changed(state)
                if quantity == 0:
                    db.session.delete(line)
                else:
                    line.quantity = quantity
        return None
    cart = dict(guest or {})
    key = guest_key(product_id, variant_id)
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
                price = _price_of(line.product_id, line.variant_id)
                if price is not None:
                    line.seen_price_amount = price
        return None
    cart = {}
    for key, (qty, seen) in (guest or {}).items():
        try:
            product_id, variant_id = parse_guest_key(key)
        except ValueError:
            continue
        price = _price_of(product_id, variant_id)
        cart[key] = [qty, price if price is not None else seen]
    return cart


def _price_of(product_id: int, variant_id: int | None) -> int | None:
    """The unit price now of a line (None when its product, or its variant, is gone)."""
    product = db.session.get(Product, product_id)
    if product is None:
        return None
    if variant_id is None:
        return product.effective_price
    variant = db.session.get(ProductVariant, variant_id)
    if variant is None or variant.product_id != product_id:
        return None
    return unit_price(product, variant)


def merge_guest_cart(user: User, guest: GuestCart | None) -> None:
    """At login: the guest cart's lines join the account's cart (quantities add up, capped)."""
    if not guest:
        return
    with transaction():
        _merge(user, guest)


def _merge(user: User, guest: GuestCart) -> None:
    _changed(lock(user))
    lines = _lines_of(user)
    for key, value in guest.items():
        try:
            product_id, variant_id = parse_guest_key(key)
            qty, seen = check_quantity(int(value[0])), int(value[1])
        except (TypeError, ValueError, IndexError, ValidationFailed):
            continue
        if db.session.get(Product, product_id) is None:
            continue
        if variant_id is not None:
            variant = db.session.get(ProductVariant, variant_id)
            if variant is None or variant.product_id != product_id:
                continue
        line = lines.get((product_id, variant_id))
        if line is None:
            if len(lines) >= MAX_LINES:
                break
            line = CartLine(
                user_id=user.id,
                product_id=product_id,
                variant_id=variant_id,
                quantity=qty,
                seen_price_amount=seen,
            )
            db.session.add(line)
            lines[(product_id, variant_id)] = line
        else:
            line.quantity = min(line.quantity + qty, MAX_QUANTITY)


def raw_lines(user: User | None, guest: GuestCart | None) -> list[RawLine]:
    """(product_id, variant_id, quantity, seen_price_amount) of the cart, with malformed guest
    entries dropped."""
    if user is not None:
        return [
            (line.product_id, line.variant_id, line.quantity, line.seen_price_amount)
            for line in _lines_of(user).values()
        ]
    out: list[RawLine] = []
    for key, value in (guest or {}).items():
        try:
            product_id, variant_id = parse_guest_key(key)
            qty, seen = int(value[0]), int(value[1])
            out.append((product_id, variant_id, qty, seen))
        except (TypeError, ValueError, IndexError):
            continue
    return out


def view(user: User | None, guest: GuestCart | None) -> CartView:
    """The cart with current products, grouped by seller, each line flagged with its problems."""
    lines = raw_lines(user, guest)
    ids = [pid for pid, _, _, _ in lines]
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
    variants = variants_by_id([vid for _, vid, _, _ in lines])
    labels = variant_rules.labels_of(list(variants))
    groups: dict[int, SellerGroup] = {}
    missing: list[CartItem] = []
    for pid, vid, qty, seen in sorted(lines, key=lambda line: (line[0], line[1] or 0)):
        product = products.get(pid)
        variant = variants.get(vid) if vid is not None else None
        if variant is not None and variant.product_id != pid:
            variant = None
        item = CartItem(
            product_id=pid,
            quantity=qty,
            seen_price_amount=seen,
            product=product,
            variant_id=vid,
            variant=variant,
            variant_label=labels.get(vid) if variant is not None and vid is not None else None,
        )
        if (
            product is None
            or product.status != ProductStatus.PUBLISHED
            or product.seller.status != SellerStatus.APPROVED
            or _wrong_variant(product, vid, variant)
        ):
            item.problems.append("unavailable")
            if product is None:
                missing.append(item)
                continue
        else:
            if item.stock < qty:
                item.problems.append("out_of_stock")
            if unit_price(product, variant) != seen:
                item.problems.append("price_changed")
        group = groups.setdefault(product.seller_id, SellerGroup(seller=product.seller, items=[]))
        group.items.append(item)
    for seller_id, until in shipping.away_sellers(sorted(groups)).items():
        groups[seller_id].away_until = until
        for item in groups[seller_id].items:
            item.problems.append("seller_away")
    return CartView(groups=list(groups.values()), missing=missing)


def _wrong_variant(product: Product, vid: int | None, variant: ProductVariant | None) -> bool:
    """A line that cannot be bought as it is: a product with options without an offered
    variant of it, or a variant's line of a product sold as one item again."""
    if product.has_variants:
        return variant is None or not variant.active
    return vid is not None


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
