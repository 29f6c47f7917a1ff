"""Builders for test data: real rows in the real database, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.accounts.services import hash_password
from app.catalog import variants
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ProductVariant,
    Seller,
    SellerStatus,
)
from app.core.extensions import db
from app.reference.models import County, Province, Sector

PASSWORD = "correct horse battery"
_seq = itertools.count(1)
_HASH: str | None = None


def _password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def user(role: Role = Role.CUSTOMER, email: str | None = None, name: str = "کاربر") -> User:
    n = next(_seq)
    row = User(
        email=email or f"user{n}@example.com", name=name, role=role, password_hash=_password_hash()
    )
    db.session.add(row)
    db.session.commit()
    return row


def county(slug: str | None = None) -> County:
    province = db.session.scalar(sa.select(Province).where(Province.slug == "sb"))
    if province is None:
        province = Province(
            slug="sb", name_fa="سیستان و بلوچستان", name_en="Sistan and Baluchestan"
        )
        db.session.add(province)
        db.session.flush()
    n = next(_seq)
    row = County(
        province_id=province.id,
        slug=slug or f"county-{n}",
        name_fa=f"شهرستان {n}",
        name_en=f"County {n}",
    )
    db.session.add(row)
    db.session.commit()
    return row


def sector(slug: str | None = None) -> Sector:
    n = next(_seq)
    row = Sector(slug=slug or f"sector-{n}", name_fa=f"بخش {n}", name_en=f"Sector {n}")
    db.session.add(row)
    db.session.commit()
    return row


def category(slug: str | None = None, parent: Category | None = None) -> Category:
    n = next(_seq)
    row = Category(
        slug=slug or f"cat-{n}",
        name_fa=f"دسته {n}",
        name_en=f"Category {n}",
        parent_id=parent.id if parent else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def seller(
    status: SellerStatus = SellerStatus.APPROVED,
    owner: User | None = None,
    county_row: County | None = None,
    sector_row: Sector | None = None,
    name: str = "کارگاه سوزن‌دوزی",
) -> Seller:
    n = next(_seq)
    owner = owner or user(Role.SELLER)
    row = Seller(
        user_id=owner.id,
        slug=f"seller-{n}",
        display_name=name,
        county_id=(county_row or county()).id,
        sector_id=(sector_row or sector()).id,
        registration_code=f"SB-{n}",
        training_completed_on=date(2025, 5, 1),
        status=status,
    )
    db.session.add(row)
    db.session.commit()
    return row


def product(
    seller_row: Seller | None = None,
    *,
    title: str = "رومیزی سوزن‌دوزی",
    price_amount: int = 1_250_000,
    stock: int = 5,
    status: ProductStatus = ProductStatus.PUBLISHED,
    category_row: Category | None = None,
    with_image: bool = True,
) -> Product:
    row = Product(
        seller_id=(seller_row or seller()).id,
        category_id=(category_row or category()).id,
        title=title,
        description="توضیح محصول",
        price_amount=price_amount,
        stock=stock,
        status=status,
    )
    if with_image:
        row.images.append(
            ProductImage(
                position=0,
                storage_key="aa/bb/test-640.webp",
                variants=[[320, 240, "aa/bb/test-320.webp"], [640, 480, "aa/bb/test-640.webp"]],
                width=640,
                height=480,
                alt_text=title,
            )
        )
    db.session.add(row)
    db.session.commit()
    return row


SIZES_AND_COLOURS = (("سایز", ("S", "M", "L")), ("رنگ", ("آبی", "سبز")))


def product_with_variants(
    seller_row: Seller | None = None,
    *,
    title: str = "پیراهن نخی",
    options: tuple[tuple[str, tuple[str, ...]], ...] = SIZES_AND_COLOURS,
    price_amount: int = 900_000,
    stock: int = 3,
    **kwargs: object,
) -> Product:
    """A published product with options (sizes S, M, L by colours blue and green by default):
    one variant per combination, ``stock`` of each, the n-th priced ``price_amount + n * 10,000``
    with SKU ``V<product id>-<n>``; its row mirrors them (:func:`app.catalog.variants.save`)."""
    row = product(seller_row, title=title, price_amount=price_amount, stock=0, **kwargs)  # type: ignore[arg-type]
    combos = list(itertools.product(*(values for _name, values in options)))
    variants.save(
        row,
        variants.VariantsData(
            [variants.OptionData(name, list(values)) for name, values in options],
            [
                variants.VariantData(
                    list(values), price_amount + n * 10_000, stock, sku=f"V{row.id}-{n}"
                )
                for n, values in enumerate(combos)
            ],
        ),
    )
    db.session.refresh(row)
    return row


def variant_of(product_row: Product, *values: str) -> ProductVariant:
    """The variant of ``product_row`` with these option values ("M", "آبی")."""
    padded = [*values, "", "", ""][:3]
    return db.session.scalars(
        sa.select(ProductVariant).where(
            ProductVariant.product_id == product_row.id,
            ProductVariant.value1 == padded[0],
            ProductVariant.value2 == padded[1],
            ProductVariant.value3 == padded[2],
        )
    ).one()


def login_id(user: User) -> str:
    """What Flask-Login keeps in the session for ``user``, with an open login row behind it (for
    tests that put a logged-in user straight into a client's session)."""
    from app.accounts.sessions import open_login

    open_login(user)
    db.session.commit()
    return user.get_id()


def login(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/auth/login", data={"email": email, "password": password})


def pages_changed_count() -> int:
    """A number that grows with every bump of the catalogue's or any page scope's version (what
    makes some cached page stale), read in a fresh transaction."""
    from app.catalog.models import CatalogVersion, PageVersion

    db.session.rollback()
    catalog = db.session.scalar(sa.select(CatalogVersion.version).where(CatalogVersion.id == 1))
    pages = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(PageVersion.version), 0)))
    return (catalog or 1) + int(pages or 0)


def with_mobile(user: User, number: str = "09121234567") -> User:
    """``user`` with a verified mobile number (as proved by a texted code)."""
    from app.core.timeutil import utcnow

    user.mobile, user.mobile_verified_at = number, utcnow()
    db.session.commit()
    return user
