"""Read-side queries of the storefront. Only published products of approved sellers are public."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, joinedload, selectinload
from sqlalchemy.sql.functions import FunctionElement

from app.catalog import campaigns, pricing
from app.catalog.models import (
    Category,
    PhotoStatus,
    Product,
    ProductImage,
    ProductOption,
    ProductStatus,
    ProductVariant,
    Seller,
    SellerStatus,
)
from app.catalog.ratings import ProductRating
from app.core.dbtypes import UTCDateTime
from app.core.extensions import db
from app.core.pagination import Page, contains_pattern, paginate
from app.core.reads import by_version, read_rows
from app.core.timeutil import utcnow
from app.reference.models import County, Sector

_RATED = ProductRating.__table__.c


def _by_rating(rated: Any, product_id: Any) -> tuple[Any, ...]:
    """Best rated first: the average (unrated last), then the number of reviews, newest."""
    average = sa.func.coalesce(
        sa.cast(rated.stars_sum, sa.Float) / sa.func.nullif(rated.review_count, 0), 0.0
    )
    return (average.desc(), sa.func.coalesce(rated.review_count, 0).desc(), product_id.desc())


# The ORM statements' "rating" order needs the summary joined (see :func:`_sorted_page`).
# The price orders sort by the price now (sales and campaigns: app.catalog.campaigns), a SQL
# expression of the clock and the running campaigns, built per query (:func:`_order_of`).
SORTS: dict[str, tuple[Any, ...]] = {
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price_amount.asc(), Product.id.asc()),
    "price_desc": (Product.price_amount.desc(), Product.id.desc()),
    "rating": _by_rating(_RATED, Product.id),
}


def _order_of(sort: str) -> tuple[Any, ...]:
    """The ORM statements' order for ``sort`` (newest first when it names none)."""
    if sort == "price_asc":
        return (campaigns.sql_price_now(Product).asc(), Product.id.asc())
    if sort == "price_desc":
        return (campaigns.sql_price_now(Product).desc(), Product.id.desc())
    return SORTS.get(sort, SORTS[DEFAULT_SORT])


DEFAULT_SORT = "newest"


def public_products() -> sa.Select[tuple[Product]]:
    """Published products of approved sellers, with what a product card shows loaded up front."""
    return (
        sa.select(Product)
        .join(Seller, Seller.id == Product.seller_id)
        .where(Product.status == ProductStatus.PUBLISHED, Seller.status == SellerStatus.APPROVED)
        .options(
            selectinload(Product.images),
            joinedload(Product.seller).joinedload(Seller.county),
        )
    )


def _sorted_page(stmt: sa.Select, page: int, per_page: int, sort: str) -> Page:
    """Page ``page`` of the products ``stmt`` selects, in the ``sort`` order (newest first when
    ``sort`` names none of :data:`SORTS`)."""
    if sort == "rating":
        stmt = stmt.outerjoin(ProductRating.__table__, _RATED.product_id == Product.id)
    return paginate(stmt, Product.id, _order_of(sort), page, per_page)


def category_tree() -> list[Category]:
    """Root categories with children loaded (two levels)."""
    return list(
        db.session.scalars(
            sa.select(Category)
            .where(Category.parent_id.is_(None))
            .order_by(Category.position, Category.id)
            .options(selectinload(Category.children))
        )
    )


def leaf_category() -> Category | None:
    """The first category (in tree order) that has no sub-categories: a real, specific one."""
    parent = aliased(Category)
    has_children = sa.exists().where(parent.parent_id == Category.id)
    return db.session.scalar(
        sa.select(Category).where(~has_children).order_by(Category.position, Category.id).limit(1)
    )


def category_and_descendant_ids(category: Category) -> list[int]:
    """The ids of ``category`` and every category below it, read in one query (a recursive
    CTE; ``UNION``, not ``ALL``, ends at a parent loop in the data).

    Product queries take them as a list of values, not as a subquery: with the ids in hand
    PostgreSQL plans from the product index on (category, status, created_at) and counts only
    the category's rows, where a subquery's unknown size made it scan every product."""
    tree = sa.select(Category.id).where(Category.id == category.id).cte("subtree", recursive=True)
    child = aliased(Category)
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sorted(db.session.scalars(sa.select(tree.c.id)))


def breadcrumbs(category: Any) -> list[Any]:
    """``category`` and its ancestors, the root first (a :class:`Category` or a
    :class:`CategoryNode`); a loop in the parents ends the trail."""
    trail: list[Any] = []
    seen: set[int] = set()
    while category is not None and category.id not in seen:
        trail.append(category)
        seen.add(category.id)
        category = category.parent
    return list(reversed(trail))


# --------------------------------------------------------------------------------------------
# Product cards: the lists of the storefront read plain rows (no ORM objects), in one statement
# per page plus its count, each statement built once per process.


@dataclass(slots=True)
class CardPlace:
    """The county a card names."""

    name_fa: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


@dataclass(slots=True)
class CardSeller:
    display_name: str
    county: CardPlace


@dataclass(slots=True)
class CardPhoto:
    """The cover of a card: the product's first ready photo."""

    variants: list[list]
    alt_text: str


@dataclass(slots=True)
class ProductCard:
    """What a product card shows, read as one row; the attributes a card uses have the names
    of :class:`Product`'s, so a template takes either."""

    id: int
    title: str
    price_amount: int
    stock: int
    seller: CardSeller
    cover: CardPhoto | None
    # From the product's rating summary (no reviews: 0 and 0).
    review_count: int = 0
    stars_sum: int = 0
    sale_price_amount: int | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    seller_id: int = 0
    category_id: int | None = None

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def price_quote(self) -> pricing.Quote:
        """As ``Product.price_quote``: the price now and why."""
        return pricing.quote_of(self)

    @property
    def on_sale(self) -> bool:
        return self.price_quote.amount < self.price_amount

    @property
    def effective_price(self) -> int:
        return self.price_quote.amount

    @property
    def campaign(self) -> pricing.Offer | None:
        return self.price_quote.campaign


def _fixed(value: str | int) -> Any:
    """A constant of the card statements written into their SQL, not bound (values of the
    code, never of a request)."""
    if isinstance(value, int):
        return sa.literal_column(str(int(value)), sa.Integer)
    if not value.isidentifier():
        raise ValueError(f"not a constant of the code: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


_PUBLISHED = ProductStatus.PUBLISHED.value
_APPROVED = SellerStatus.APPROVED.value
_READY = PhotoStatus.READY.value

_P = Product.__table__.c
_S = Seller.__table__.c
_C = County.__table__.c
_I = ProductImage.__table__.c
_R = _RATED

# Table columns, not ORM attributes: a statement of them runs without the ORM's compile step.
# The price orders take the price-now expression (:func:`_card_price`).
_CARD_SORTS: dict[str, Any] = {
    "newest": lambda _price: (_P.created_at.desc(), _P.id.desc()),
    "price_asc": lambda price: (price.asc(), _P.id.asc()),
    "price_desc": lambda price: (price.desc(), _P.id.desc()),
    "rating": lambda _price: _by_rating(_R, _P.id),
}
_PRICED_SORTS = ("price_asc", "price_desc")
_PRICED_EXTRAS = ("min_price", "max_price")


def _card_price(key: tuple[Any, ...]) -> Any:
    """The price now of the card statements' product rows, for the running campaigns ``key``
    and the bound moment ``now`` (a sale runs on whole market days; see app.catalog.pricing)."""
    return campaigns.sql_price_now(_P, sa.bindparam("now", type_=UTCDateTime()), key)


# What narrows the public products of a list (bound values: ``ids``, ``owner``).
_CARD_FILTERS: dict[str, Any] = {
    "all": None,
    "category": lambda: _P.category_id.in_(sa.bindparam("ids", expanding=True)),
    "county": lambda: _S.county_id == sa.bindparam("owner", type_=sa.Integer),
    "seller": lambda: _P.seller_id == sa.bindparam("owner", type_=sa.Integer),
    "featured": lambda: _P.featured.is_(True),
    # The product page's lists: the seller's other listings; the category's of other sellers.
    "seller_other": lambda: sa.and_(
        _P.seller_id == sa.bindparam("owner", type_=sa.Integer),
        _P.id != sa.bindparam("exclude", type_=sa.Integer),
    ),
    "related": lambda: sa.and_(
        _P.category_id == sa.bindparam("category", type_=sa.Integer),
        _P.seller_id != sa.bindparam("owner", type_=sa.Integer),
    ),
}


# What a visitor may narrow a category's list by (bound values of the same names).
_CARD_EXTRAS: dict[str, Any] = {
    "min_price": lambda price: price >= sa.bindparam("min_price", type_=sa.BigInteger),
    "max_price": lambda price: price <= sa.bindparam("max_price", type_=sa.BigInteger),
    "in_stock": lambda _price: _P.stock > _fixed(0),
    "county_id": lambda _price: _S.county_id == sa.bindparam("county_id", type_=sa.Integer),
}


@dataclass(frozen=True)
class ListFilters:
    """A visitor's narrowing of a category's list: price bounds (stored unit), in stock only,
    one county. Empty: the whole list."""

    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    county_id: int | None = None

    def names(self) -> tuple[str, ...]:
        """The :data:`_CARD_EXTRAS` in force, in a fixed order."""
        return tuple(name for name in _CARD_EXTRAS if self.values_of(name) is not None)

    def values_of(self, name: str) -> Any:
        value = getattr(self, name)
        if name == "in_stock":
            return True if value else None
        return value

    def values(self) -> dict[str, Any]:
        """The bound values of the filters in force."""
        return {name: getattr(self, name) for name in self.names() if name != "in_stock"}

    def __bool__(self) -> bool:
        return bool(self.names())


def _public_card_rows(
    columns: tuple[Any, ...], narrow: str, extras: tuple[str, ...] = (), price: Any = None
) -> sa.Select:
    make = _CARD_FILTERS[narrow]
    conditions = [
        _P.status == _fixed(_PUBLISHED),
        _S.status == _fixed(_APPROVED),
    ]
    if make is not None:
        conditions.append(make())
    conditions.extend(_CARD_EXTRAS[name](price) for name in extras)
    return (
        sa.select(*columns)
        .select_from(Product.__table__.join(Seller.__table__, _S.id == _P.seller_id))
        .where(*conditions)
    )


def _card_count(narrow: str, extras: tuple[str, ...] = (), price: Any = None) -> sa.Select:
    """How many cards ``narrow`` selects. Unless the narrowing needs the seller's row (a
    county), the products of sellers who may not trade are left out by the few such sellers'
    ids (a hashed NOT IN) rather than by joining every product to its seller: PostgreSQL then
    counts from the product rows alone, a fifth cheaper. Never correlated: it is also a
    subquery of the page statement, whose product and seller are other rows."""
    if narrow == "county" or "county_id" in extras:
        return _public_card_rows((sa.func.count(),), narrow, extras, price).correlate(None)
    barred = sa.select(_S.id).where(_S.status != _fixed(_APPROVED)).correlate(None)
    make = _CARD_FILTERS[narrow]
    conditions = [_P.status == _fixed(_PUBLISHED), _P.seller_id.not_in(barred)]
    if make is not None:
        conditions.append(make())
    conditions.extend(_CARD_EXTRAS[name](price) for name in extras)
    return (
        sa.select(sa.func.count()).select_from(Product.__table__).where(*conditions).correlate(None)
    )


class _Cover(FunctionElement[Any]):
    """``[variants, alt_text]`` of the product's cover (its first ready photo by position) as
    one JSON value, or NULL: one lookup per card where a column each took two. PostgreSQL
    evaluates it after the LIMIT (a lookup on the (product_id, position) index per card shown,
    not per matching product)."""

    type = sa.JSON()
    inherit_cache = True


def _cover_lookup(pair: Any) -> sa.ScalarSelect:
    return (
        sa.select(pair)
        .where(_I.product_id == _P.id, _I.status == _fixed(_READY))
        .order_by(_I.position)
        .limit(_fixed(1))
        .scalar_subquery()
    )


@compiles(_Cover, "postgresql")
def _cover_postgresql(element: _Cover, compiler: Any, **kw: Any) -> str:
    pair = sa.func.json_build_array(_I.variants, _I.alt_text)
    return compiler.process(_cover_lookup(pair), **kw)


@compiles(_Cover)
def _cover_sqlite(element: _Cover, compiler: Any, **kw: Any) -> str:
    # SQLite (and any other): variants are JSON text, made a JSON value again inside the array.
    pair = sa.func.json_array(sa.func.json(_I.variants), _I.alt_text)
    return compiler.process(_cover_lookup(pair), **kw)


@lru_cache(maxsize=256)
def _card_statements(
    narrow: str, sort: str, extras: tuple[str, ...] = (), key: tuple[Any, ...] | None = None
) -> tuple[sa.Select, sa.Select, sa.Select]:
    """The count, the page and the counted page (the page with the count on each row, which
    PostgreSQL computes once) of the cards ``narrow`` (and the visitor's ``extras``) selects in
    the ``sort`` order (bound values ``limit`` and ``offset``); built once per process, and
    once per set of running campaigns (``key``) when they sort or filter by the price now
    (then also the bound value ``now``)."""
    price = _card_price(key) if key is not None else _P.price_amount
    count = _card_count(narrow, extras, price)
    page = (
        _public_card_rows(
            (
                _P.id,
                _P.title,
                _P.price_amount,
                _P.stock,
                _S.display_name,
                _C.name_fa,
                _C.name_en,
                _Cover(),
                sa.func.coalesce(_R.review_count, _fixed(0)),
                sa.func.coalesce(_R.stars_sum, _fixed(0)),
                _P.sale_price_amount,
                _P.sale_starts_at,
                _P.sale_ends_at,
                _P.seller_id,
                _P.category_id,
            ),
            narrow,
            extras,
            price,
        )
        .join(County.__table__, _C.id == _S.county_id)
        .outerjoin(ProductRating.__table__, _R.product_id == _P.id)
        .order_by(*_CARD_SORTS[sort](price))
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .offset(sa.bindparam("offset", type_=sa.Integer))
    )
    counted = page.add_columns(count.scalar_subquery())
    return count, page, counted


def _aware(moment: datetime | None) -> datetime | None:
    """A sale boundary as read (aware from PostgreSQL's driver or the ORM's type), in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _cards(rows: Any) -> list[ProductCard]:
    places: dict[tuple[str, str], CardPlace] = {}
    cards = []
    for row in rows:
        pid, title, price, stock, seller_name, county_fa, county_en, photo, count, total = row[:10]
        sale, starts, ends, seller_id, category_id = row[10:15]
        place = places.get((county_fa, county_en))
        if place is None:
            place = places[county_fa, county_en] = CardPlace(county_fa, county_en)
        cover = CardPhoto(photo[0], photo[1] or "") if photo is not None else None
        cards.append(
            ProductCard(
                pid,
                title,
                price,
                stock,
                CardSeller(seller_name, place),
                cover,
                int(count or 0),
                int(total or 0),
                sale,
                _aware(starts),
                _aware(ends),
                seller_id,
                category_id,
            )
        )
    return cards


def _statements(
    narrow: str, sort: str, extras: tuple[str, ...] = ()
) -> tuple[tuple[sa.Select, sa.Select, sa.Select], dict[str, Any]]:
    """The card statements and the bound values they add (``now`` when they read the price
    now)."""
    sort = sort if sort in _CARD_SORTS else DEFAULT_SORT
    if sort in _PRICED_SORTS or any(name in _PRICED_EXTRAS for name in extras):
        now = utcnow()
        return _card_statements(narrow, sort, extras, campaigns.sql_key(now)), {"now": now}
    return _card_statements(narrow, sort, extras), {}


def _card_list(narrow: str, sort: str, limit: int, **values: Any) -> list[ProductCard]:
    (_count, page, _counted), more = _statements(narrow, sort)
    rows = read_rows(page, {"limit": limit, "offset": 0, **values, **more})
    return _cards(rows)


def _card_page(
    narrow: str,
    page: int,
    per_page: int,
    sort: str,
    filters: ListFilters | None = None,
    **values: Any,
) -> Page:
    """Page ``page`` of the cards ``narrow`` selects, in the ``sort`` order (newest first when
    ``sort`` names none of :data:`SORTS`); a page before the first shows the first and one past
    the last shows the last (see :func:`app.core.pagination.page_of`).

    One statement reads the page and the count; only a page past the last needs two more (the
    count, then the last page)."""
    extras = filters.names() if filters else ()
    if filters:
        values = {**values, **filters.values()}
    (count, _page, counted), more = _statements(narrow, sort, extras)
    values = {**values, **more}
    page = max(page, 1)
    rows = read_rows(counted, {"limit": per_page, "offset": (page - 1) * per_page, **values})
    if rows:
        total = rows[0][-1]
    elif page == 1:
        total = 0  # nothing at the start: nothing at all
    else:
        total = read_rows(count, values)[0][0] or 0
        page = max(1, -(-total // per_page))
        if total:
            rows = read_rows(
                counted, {"limit": per_page, "offset": (page - 1) * per_page, **values}
            )
    return Page(items=_cards(rows), page=page, per_page=per_page, total=total)


def products_in_category(
    category: Any, page: int, per_page: int, sort: str, filters: ListFilters | None = None
) -> Page:
    """Page ``page`` of the public products of ``category`` and the categories below it (a
    :class:`Category`, or a :class:`CategoryNode` whose descendants are known), narrowed by
    the visitor's ``filters``."""
    ids = getattr(category, "subtree_ids", None)
    if ids is None:
        ids = category_and_descendant_ids(category)
    return _card_page("category", page, per_page, sort, filters, ids=ids)


def products_in_county(county: County, page: int, per_page: int, sort: str) -> Page:
    return _card_page("county", page, per_page, sort, owner=county.id)


def products_of_seller(seller: Seller, page: int, per_page: int, sort: str) -> Page:
    return _card_page("seller", page, per_page, sort, owner=seller.id)


def newest_products(limit: int) -> list[ProductCard]:
    return _card_list("all", "newest", limit)


def featured_products(limit: int) -> list[ProductCard]:
    return _card_list("featured", "newest", limit)


def more_from_seller(seller_id: int, product_id: int, limit: int = 8) -> list[ProductCard]:
    """Up to ``limit`` other public listings of the seller of ``product_id``, newest first."""
    return _card_list("seller_other", "newest", limit, owner=seller_id, exclude=product_id)


def related_products(category_id: int, seller_id: int, limit: int = 8) -> list[ProductCard]:
    """Up to ``limit`` public listings of the category from other sellers, newest first."""
    return _card_list("related", "newest", limit, category=category_id, owner=seller_id)


@dataclass(frozen=True, slots=True)
class CountyChoice:
    """A county as the home page's list and the category page's filter name it."""

    id: int
    slug: str
    name_fa: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


_COUNTIES_WITH_SELLERS = (
    sa.select(_C.id, _C.slug, _C.name_fa, _C.name_en, sa.func.count(_S.id))
    .select_from(
        County.__table__.join(
            Seller.__table__, sa.and_(_S.county_id == _C.id, _S.status == _fixed(_APPROVED))
        )
    )
    .group_by(_C.id, _C.slug, _C.name_fa, _C.name_en)
    .order_by(sa.func.count(_S.id).desc(), _C.name_fa)
)


def _read_counties_with_sellers() -> list[tuple[CountyChoice, int]]:
    return [(CountyChoice(*row[:4]), row[4]) for row in read_rows(_COUNTIES_WITH_SELLERS)]


def counties_with_sellers(version: int | None = None) -> list[tuple[CountyChoice, int]]:
    """Counties and how many approved sellers each has (the most first), for the home page and
    the category page's filter: one plain read, no ORM objects. With the committed catalogue
    ``version`` (read before this), the list is kept per process until the version changes: a
    seller's approval, suspension or move bumps it."""
    return by_version("counties_with_sellers", version, _read_counties_with_sellers)


def public_product(product_id: int) -> Product | None:
    return db.session.scalar(
        public_products()
        .where(Product.id == product_id)
        .options(joinedload(Product.category), joinedload(Product.seller).joinedload(Seller.sector))
    )


def public_seller(slug: str) -> Seller | None:
    return db.session.scalar(
        sa.select(Seller)
        .where(Seller.slug == slug, Seller.status == SellerStatus.APPROVED)
        .options(joinedload(Seller.county), joinedload(Seller.sector))
    )


@dataclass(eq=False, slots=True)
class CategoryNode:
    """A category as the category page shows it: names, its sub-categories (in their order),
    its parent (the breadcrumbs') and the ids of it and every category below it."""

    id: int
    parent_id: int | None
    slug: str
    name_fa: str
    name_en: str
    parent: CategoryNode | None = None
    children: list[CategoryNode] = field(default_factory=list)
    subtree_ids: list[int] = field(default_factory=list)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa


_CAT = Category.__table__.c
_CATEGORY_ROWS = sa.select(_CAT.id, _CAT.parent_id, _CAT.slug, _CAT.name_fa, _CAT.name_en).order_by(
    _CAT.position, _CAT.id
)


def _category_nodes() -> dict[str, CategoryNode]:
    """Every category by its slug, linked to its parent and sub-categories, each with the ids
    of its subtree, from one read of the category table (a few dozen rows)."""
    nodes = {row[0]: CategoryNode(*row) for row in read_rows(_CATEGORY_ROWS)}
    by_slug: dict[str, CategoryNode] = {}
    for node in nodes.values():
        if node.parent_id is not None and (parent := nodes.get(node.parent_id)) is not None:
            node.parent = parent
            parent.children.append(node)
        by_slug[node.slug] = node
    for node in by_slug.values():
        # Its subtree, walked breadth first; a loop in the parents ends where it closes.
        seen = {node.id}
        level = [node]
        while level:
            level = [c for n in level for c in n.children if c.id not in seen]
            seen.update(c.id for c in level)
        node.subtree_ids = sorted(seen)
    return by_slug


def category_by_slug(slug: str, version: int | None = None) -> CategoryNode | None:
    """The category named ``slug`` with its sub-categories, its ancestors and the ids of its
    subtree, from one read of the category table (a few dozen rows). With the committed
    catalogue ``version`` (read before this), the table is read once per process until the
    version changes (every change of a category bumps it); the nodes are then shared by the
    requests: read them, never change them."""
    return by_version("category_nodes", version, _category_nodes).get(slug)


def county_by_slug(slug: str) -> County | None:
    return db.session.scalar(sa.select(County).where(County.slug == slug))


class _Folded(FunctionElement[Any]):
    """A text column through the search normaliser, so the database fallback matches what the
    index would: on PostgreSQL ``translate`` by its character table
    (:func:`app.search.normalize.fold_pairs`: letters and presentation forms folded, joiners,
    bidi marks, tatweel and diacritics removed, digits ASCII) after ``lower``; on SQLite
    :func:`app.search.normalize.fold` itself, a function registered on the connection."""

    type = sa.Text()
    inherit_cache = True


@compiles(_Folded, "postgresql")
def _folded_postgresql(element: _Folded, compiler: Any, **kw: Any) -> str:
    from app.search.normalize import fold_pairs

    pairs = fold_pairs()
    mapped = [(c, r) for c, r in pairs if len(r) == 1]
    gone = [c for c, r in pairs if not r]
    source = "".join(c for c, _ in mapped) + "".join(gone)
    target = "".join(r for _, r in mapped)
    inner = compiler.process(element.clauses, **kw)
    source_sql = compiler.process(sa.literal(source, sa.Text()), **kw)
    target_sql = compiler.process(sa.literal(target, sa.Text()), **kw)
    return f"translate(lower({inner}), {source_sql}, {target_sql})"


@compiles(_Folded)
def _folded_other(element: _Folded, compiler: Any, **kw: Any) -> str:
    return f"search_fold({compiler.process(element.clauses, **kw)})"


def _fold_in_python(text: str | None) -> str | None:
    from app.search.normalize import fold

    return None if text is None else fold(text)


def _install_fold() -> None:
    """SQLite: the ``search_fold`` function :class:`_Folded` calls (the normaliser itself), on
    this session's connection."""
    conn = db.session.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        raw.create_function("search_fold", 1, _fold_in_python, deterministic=True)  # type: ignore[union-attr]


def attach_ratings(products: list[Any]) -> None:
    """Give loaded ``Product`` objects the rating summary a card shows (``review_count``,
    ``stars_sum``), in one query for all."""
    ids = [p.id for p in products]
    found = (
        dict(
            (pid, (count, total))
            for pid, count, total in db.session.execute(
                sa.select(_R.product_id, _R.review_count, _R.stars_sum).where(
                    _R.product_id.in_(ids)
                )
            )
        )
        if ids
        else {}
    )
    for product in products:
        product.review_count, product.stars_sum = found.get(product.id, (0, 0))


def ids_by_rating(ids: list[int]) -> list[int]:
    """``ids`` of public products, best rated first (see :data:`SORTS` ``rating``)."""
    if not ids:
        return []
    stmt = (
        sa.select(_P.id)
        .select_from(Product.__table__.join(Seller.__table__, _S.id == _P.seller_id))
        .outerjoin(ProductRating.__table__, _R.product_id == _P.id)
        .where(_P.id.in_(ids), _P.status == _PUBLISHED, _S.status == _APPROVED)
        .order_by(*_CARD_SORTS["rating"](None))
    )
    return list(db.session.scalars(stmt))


def search_products(
    text: str,
    page: int,
    per_page: int,
    sort: str,
    filters: Any = None,
    synonyms: Any = None,
) -> Page:
    """Plain database search over titles and descriptions (the fallback when no index answers).

    The query goes through the search normaliser (:func:`app.search.normalize.parse_query`,
    with the staff's ``synonyms``) and the text through its character table in SQL: each
    query word must occur, in one of its forms (stems, the word under an ezafe, synonyms, the
    first Persian spellings of a Latin word), in the title, the English title, the description
    or the names of the product's category. ``filters`` is a SearchQuery-like object
    (category, county, sector, min/max price, in stock).
    """
    from app.search.normalize import parse_query, transliterate

    stmt = public_products()
    qwords = parse_query(text[:200], max_words=8, synonyms=synonyms)
    if qwords:
        _install_fold()
        category_names = (
            sa.select(Category.name_fa + " " + Category.name_en)
            .where(Category.id == Product.category_id)
            .scalar_subquery()
        )
        haystack = _Folded(
            Product.title
            + " "
            + sa.func.coalesce(Product.title_en, "")
            + " "
            + sa.func.coalesce(category_names, "")
            + " "
            + sa.func.substr(Product.description, 1, 4000)
        )
        for w in qwords:
            forms = [f for f in w.loose if f][:12] + list(transliterate(w.word)[:16])
            stmt = stmt.where(
                sa.or_(*(haystack.like(contains_pattern(f), escape="\\") for f in forms))
            )
    if filters is not None:
        if getattr(filters, "category", None):
            category = db.session.get(Category, filters.category)
            ids = category_and_descendant_ids(category) if category else [-1]
            stmt = stmt.where(Product.category_id.in_(ids))
        if getattr(filters, "county", None):
            stmt = stmt.join(County, County.id == Seller.county_id).where(
                County.slug == filters.county
            )
        if getattr(filters, "sector", None):
            stmt = stmt.join(Sector, Sector.id == Seller.sector_id).where(
                Sector.slug == filters.sector
            )
        if getattr(filters, "min_price", None) is not None:
            stmt = stmt.where(campaigns.sql_price_now(Product) >= filters.min_price)
        if getattr(filters, "max_price", None) is not None:
            stmt = stmt.where(campaigns.sql_price_now(Product) <= filters.max_price)
        if getattr(filters, "in_stock", False):
            stmt = stmt.where(Product.stock > 0)
        for name, values in (getattr(filters, "options", None) or {}).items():
            stmt = stmt.where(_has_option(name, values))
    return _sorted_page(stmt, page, per_page, sort)


def _has_option(name: str, values: Any) -> sa.ColumnElement[bool]:
    """The product offers (an active variant with) one of ``values`` of its option ``name``,
    as the seller wrote them (the index also forgives spellings; this fallback does not)."""
    value = sa.case(
        (ProductOption.position == 0, ProductVariant.value1),
        (ProductOption.position == 1, ProductVariant.value2),
        else_=ProductVariant.value3,
    )
    return sa.exists(
        sa.select(1)
        .select_from(ProductOption)
        .join(ProductVariant, ProductVariant.product_id == ProductOption.product_id)
        .where(
            ProductOption.product_id == Product.id,
            ProductOption.name == name,
            ProductVariant.active.is_(True),
            value.in_(list(values)),
        )
    )
