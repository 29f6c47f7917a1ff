"""Loading the Persian demo market (``flask seed-demo``): reference data and quotas, the demo
accounts, home-business sellers with their products and photos, then a sales history
(:mod:`app.demo.sales`).

Idempotent: rows are found by their natural keys (slugs, e-mails, seller + title) and only
missing ones are created. Deterministic: one ``random.Random`` drives every choice, so an empty
database always gets the same market (its times follow the day it is loaded).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.accounts.services import hash_password
from app.catalog import synonyms, variants
from app.catalog.models import Category, Product, ProductImage, ProductStatus, Seller, SellerStatus
from app.catalog.sellers import SellerProfile, apply_to_sell, review_seller, suggest_slug
from app.catalog.slugs import slugify
from app.core.db import transaction
from app.core.extensions import db
from app.demo import data
from app.demo.sales import SALES_MONTHS, seed_demo_sales
from app.demo.users import DEMO_PASSWORD, demo_user
from app.program import price_hints, quotas
from app.program.models import Quota
from app.reference.models import County, Province, Sector
from app.shipping import services as shipping
from app.shipping.models import Carrier

__all__ = ["DEMO_PASSWORD", "ImageMaker", "seed_demo"]

# ``make_image(title, kind, seed)`` stores a drawn picture; returns what ProductImage keeps:
# ``(storage_key, variants, width, height)``.
ImageMaker = Callable[[str, str, int], tuple[str, list, int, int]]

SELLER_COUNT = 28
PRODUCTS_PER_SELLER = 8
RNG_SEED = 1399
QUOTA_YEARS = (1404, 1405)
SUSPENSION_REASON = "عدم پاسخ‌گویی به سفارش‌ها"

_Named = TypeVar("_Named", Province, County, Sector, Category)


@dataclass
class _Reference:
    counties: list[County]
    sectors: dict[str, Sector]
    categories: dict[str, Category]


@dataclass
class _Loader:
    """What every seller's step needs: the reference rows, the reviewer, the shared password
    hash, the random source, the moment the market is loaded, and the sizes asked for."""

    ref: _Reference
    staff: User
    password_hash: str
    rng: random.Random
    now: datetime
    sellers: int
    products_per_seller: int
    make_image: ImageMaker | None


def seed_demo(
    make_image: ImageMaker | None = None,
    *,
    sellers: int = SELLER_COUNT,
    products_per_seller: int = PRODUCTS_PER_SELLER,
    progress: Callable[[str], None] = lambda _msg: None,
    sales_months: int = SALES_MONTHS,
) -> dict[str, int]:
    """Create what is missing of the demo market; returns counts of rows created (``sellers``,
    ``products``, ``orders``, ``offline_sales``, ``view_rows``).

    Without ``make_image`` products get no photo. When it created sellers, it also gives the
    market a sales history of ``sales_months`` Jalali months (:func:`seed_demo_sales`; nothing
    when any order exists).
    """
    rng = random.Random(RNG_SEED)
    password_hash = hash_password(DEMO_PASSWORD)
    with transaction():
        ref = _reference_data()
        staff = demo_user("staff@bazarche.example", "کارشناس طرح", Role.STAFF, password_hash)
        demo_user("customer@bazarche.example", "مشتری نمونه", Role.CUSTOMER, password_hash)
        synonyms.seed()
    _quotas(ref.counties, staff, rng)
    loader = _Loader(
        ref, staff, password_hash, rng, datetime.now(UTC), sellers, products_per_seller, make_image
    )
    lines = list(data.PRODUCT_LINES.items())
    created = {"sellers": 0, "products": 0}
    for index in range(sellers):
        seller, new = _seller(loader, index, lines[index % len(lines)])
        _shipping(seller, index)
        created["sellers"] += new
        created["products"] += _products(loader, seller, index, lines[index % len(lines)])
        progress(f"{index + 1}/{sellers} {seller.display_name}")
    created.update(orders=0, offline_sales=0, view_rows=0)
    if created["sellers"] and sales_months > 0:
        created.update(seed_demo_sales(months=sales_months, progress=progress))
    if created["products"]:
        price_hints.refresh()  # the listing form's hints, before the first hourly rebuild
    return created


# ---- reference data and quotas ------------------------------------------------------------------


def _upsert_named(
    model: type[_Named], slug: str, name_fa: str, name_en: str, **extra: int | None
) -> _Named:
    # Written directly: reference rows come with the data, no service creates them.
    row = db.session.scalar(sa.select(model).where(model.slug == slug))
    if row is None:
        row = model(slug=slug, name_fa=name_fa, name_en=name_en, **extra)
        db.session.add(row)
        db.session.flush()
    return row


def _reference_data() -> _Reference:
    """The province, its counties, the programme's sectors and the category tree."""
    province = _upsert_named(Province, *data.PROVINCE)
    counties = [
        _upsert_named(County, slug, fa, en, province_id=province.id)
        for slug, fa, en in data.COUNTIES
    ]
    sectors = {slug: _upsert_named(Sector, slug, fa, en) for slug, fa, en in data.SECTORS}
    categories: dict[str, Category] = {}
    for position, (key, parent, fa, en) in enumerate(data.CATEGORIES):
        parent_id = categories[parent].id if parent else None
        # Addressed by the Persian name (a database from before Persian addresses holds the
        # data's Latin key, kept as an old address by the migration that renamed it).
        slug = slugify(fa)
        categories[key] = _upsert_named(
            Category, slug, fa, en, position=position, parent_id=parent_id
        )
    return _Reference(counties, sectors, categories)


def _quotas(counties: list[County], staff: User, rng: random.Random) -> None:
    """A seller quota per county and programme year, where none is set; saved as staff would
    (with an audit event each)."""
    have = set(db.session.execute(sa.select(Quota.county_id, Quota.programme_year)).tuples())
    missing = [
        quotas.QuotaInput(county.id, year, rng.randint(40, 250))
        for county in counties
        for year in QUOTA_YEARS
        if (county.id, year) not in have
    ]
    if missing:
        quotas.save_quotas(staff.id, missing, source="demo")


# ---- sellers ------------------------------------------------------------------------------------


def _status(index: int, count: int) -> SellerStatus:
    """The last three applications wait for staff; the one before them is suspended."""
    if index >= count - 3:
        return SellerStatus.APPLIED
    if index == count - 4:
        return SellerStatus.SUSPENDED
    return SellerStatus.APPROVED


def _seller(loader: _Loader, index: int, line: tuple[str, data.ProductLine]) -> tuple[Seller, bool]:
    """The ``index``-th demo seller, and whether it was created now.

    A new one applies, and staff approve (and suspend) it, through the catalogue's services, as
    in the market; its application and approval are then moved into the past.
    """
    line_key, (_category, _kind, sector_slug, _templates) = line
    county = loader.ref.counties[index % len(loader.ref.counties)]
    email = f"seller{index + 1}@bazarche.example"
    seller = db.session.scalar(
        sa.select(Seller).join(User, User.id == Seller.user_id).where(User.email == email)
    )
    if seller is not None:
        return seller, False
    first = data.FIRST_NAMES[index % len(data.FIRST_NAMES)]
    person = f"{first} {data.FAMILY_NAMES[index % len(data.FAMILY_NAMES)]}"
    user = demo_user(email, person, Role.SELLER, loader.password_hash)
    applied_at = loader.now - timedelta(days=320 - index)
    patterns = data.BUSINESS_PATTERNS[line_key]
    display_name = patterns[index % len(patterns)].format(
        name=person.split()[-1], county=county.name_fa
    )
    profile = SellerProfile(
        display_name=display_name,
        slug=suggest_slug(display_name),  # a Persian shop address, as the market makes one
        bio=data.BIOS[line_key],
        county_id=county.id,
        sector_id=loader.ref.sectors[sector_slug].id,
        phone=f"0915{1000000 + index:07d}",  # one number per seller: its verified mobile
        registration_code=f"SB-{1400 + index % 5}-{10000 + index * 37}",
        # Trained before applying (a long list of sellers would otherwise train in the future).
        training_completed_on=min(
            date(2024, 1, 15) + timedelta(days=23 * index), applied_at.date()
        ),
        training_provider=data.TRAINING_PROVIDERS[index % len(data.TRAINING_PROVIDERS)],
        permit_number=f"{98000 + index * 13}",
    )
    logo_key = None
    if loader.make_image is not None:
        logo_key = loader.make_image(profile.display_name, "logo", 5000 + index)[0]
    with transaction():  # proved by a texted code in the market
        user.mobile, user.mobile_verified_at = profile.phone, loader.now
    seller = apply_to_sell(user, profile, logo_key)
    status = _status(index, loader.sellers)
    if status != SellerStatus.APPLIED:
        review_seller(seller, SellerStatus.APPROVED, loader.staff)
    if status == SellerStatus.SUSPENDED:
        review_seller(seller, SellerStatus.SUSPENDED, loader.staff, SUSPENSION_REASON)
    # Written directly: the services stamp the present; the demo's sellers joined months ago.
    with transaction():
        seller.created_at = applied_at
        if status != SellerStatus.APPLIED:
            seller.approved_at = loader.now - timedelta(days=300 - index)
    return seller, True


# ---- shipping ------------------------------------------------------------------------------------

DEMO_PROVINCE = "سیستان و بلوچستان"  # the demo's sellers live there: their parcels cost less


def _shipping(seller: Seller, index: int) -> None:
    """One or two shipping methods for a demo seller who has none: Iran Post for everyone
    (cheaper in the home province, free over an amount for every other seller), and Tipax or
    pickup from the seller for some."""
    if shipping.methods_of(seller.id):
        return
    shipping.save_method(
        seller,
        shipping.MethodData(
            carrier=Carrier.POST_PISHTAZ.value,
            flat_amount=450_000,
            province_amounts={DEMO_PROVINCE: 300_000},
            per_extra_item_amount=50_000,
            free_over_amount=25_000_000 if index % 2 == 0 else None,
            processing_days=1 + index % 4,  # made to order: some need a few days
        ),
    )
    second = {0: Carrier.PICKUP, 1: Carrier.TIPAX}.get(index % 3)
    if second is not None:
        shipping.save_method(
            seller,
            shipping.MethodData(
                carrier=second.value,
                flat_amount=0 if second == Carrier.PICKUP else 750_000,
            ),
        )


# ---- products and photos ------------------------------------------------------------------------


def _products(
    loader: _Loader, seller: Seller, index: int, line: tuple[str, data.ProductLine]
) -> int:
    """The seller's missing listings (all published but the last, a draft), each with a drawn
    photo when there is an image maker; returns how many were created.

    Written directly, not through ``create_product``: the listing rules publish nothing without
    a photo, and the demo without pictures (``--no-images``, the tests) is still a market; the
    listings also date from the past months. The catalogue's listeners mark them for the search
    index and the page cache as for any listing.
    """
    _line_key, (cat_slug, kind, _sector, templates) = line
    category = loader.ref.categories[cat_slug]
    rng = loader.rng
    with transaction():
        existing = set(
            db.session.scalars(sa.select(Product.title).where(Product.seller_id == seller.id))
        )
        made = 0
        for n in range(loader.products_per_seller):
            base_title, description, low, high = templates[n % len(templates)]
            variant = data.VARIANTS[(n // len(templates) + index) % len(data.VARIANTS)]
            title = f"{base_title} {variant}".strip()
            if title in existing:
                continue
            existing.add(title)
            toman = rng.randrange(low, high + 1, 10_000)
            product = Product(
                seller_id=seller.id,
                category_id=category.id,
                title=title,
                description=description,
                price_amount=toman * 10,  # stored in rials
                stock=0 if rng.random() < 0.08 else rng.randint(1, 40),
                status=ProductStatus.DRAFT
                if n == loader.products_per_seller - 1
                else ProductStatus.PUBLISHED,
                featured=rng.random() < 0.06,
                created_at=loader.now
                - timedelta(days=rng.randint(0, 280), minutes=rng.randint(0, 1440)),
            )
            if product.status == ProductStatus.PUBLISHED:
                product.published_at = product.created_at
            if loader.make_image is not None:
                product.images.append(_photo(loader.make_image, title, kind, index * 100 + n))
            db.session.add(product)
            options = data.OPTIONS.get(base_title)
            if options:
                db.session.flush()
                variants.apply(product, _variants(options, toman, rng))
            made += 1
    return made


def _variants(
    options: list[tuple[str, list[str]]], toman: int, rng: random.Random
) -> variants.VariantsData:
    """Every combination of ``options``: the price grows by a tenth of ``toman`` per step of
    the first option's value, stock is drawn, and the last combination is sold out."""
    combos = list(itertools.product(*(values for _name, values in options)))
    step = toman // 10 // 1_000 * 1_000
    rows = [
        variants.VariantData(
            list(combo),
            (toman + options[0][1].index(combo[0]) * step) * 10,  # stored in rials
            0 if position == len(combos) - 1 else rng.randint(1, 15),
        )
        for position, combo in enumerate(combos)
    ]
    return variants.VariantsData(
        [variants.OptionData(name, list(values)) for name, values in options], rows
    )


def _photo(make_image: ImageMaker, title: str, kind: str, seed: int) -> ProductImage:
    key, variants, width, height = make_image(title, kind, seed)
    return ProductImage(
        position=0,
        storage_key=key,
        variants=variants,
        width=width,
        height=height,
        alt_text=title,
    )
