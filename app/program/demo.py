"""Loading the Persian demo market (``flask seed-demo``). Idempotent: rows are found by their
natural keys (slugs, e-mails, seller + title) and only missing ones are created.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.accounts.services import hash_password
from app.catalog.models import (
    Category,
    Product,
    ProductImage,
    ProductStatus,
    Seller,
    SellerStatus,
    SellerStatusChange,
)
from app.extensions import db
from app.program import demo_data as data
from app.program.models import County, Province, Quota, Sector

DEMO_PASSWORD = "bazarche-demo-1234"  # noqa: S105  (demo accounts only; in the README)
SELLER_COUNT = 28
PRODUCTS_PER_SELLER = 8


def _upsert_named(model: type, slug: str, name_fa: str, name_en: str, **extra: object) -> object:
    row = db.session.scalar(sa.select(model).where(model.slug == slug))
    if row is None:
        row = model(slug=slug, name_fa=name_fa, name_en=name_en, **extra)
        db.session.add(row)
        db.session.flush()
    return row


def _user(email: str, name: str, role: Role, password_hash: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name, role=role, password_hash=password_hash, locale="fa")
        db.session.add(user)
        db.session.flush()
    return user


def seed_demo(
    make_image: Callable[[str, str, int], tuple[str, list, int, int]] | None = None,
    *,
    sellers: int = SELLER_COUNT,
    products_per_seller: int = PRODUCTS_PER_SELLER,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Create what is missing of the demo market; returns counts of rows created.

    ``make_image(title, kind, seed)`` stores a drawn picture and returns
    ``(storage_key, variants, width, height)``; without it products get no photo.
    """
    rng = random.Random(1399)
    created = {"sellers": 0, "products": 0}
    province = _upsert_named(Province, *data.PROVINCE)
    counties = [
        _upsert_named(County, slug, fa, en, province_id=province.id)
        for slug, fa, en in data.COUNTIES
    ]
    sectors = {slug: _upsert_named(Sector, slug, fa, en) for slug, fa, en in data.SECTORS}
    categories: dict[str, Category] = {}
    for position, (slug, parent, fa, en) in enumerate(data.CATEGORIES):
        cat = _upsert_named(
            Category,
            slug,
            fa,
            en,
            position=position,
            parent_id=categories[parent].id if parent else None,
        )
        categories[slug] = cat
    for county in counties:
        for year in (1404, 1405):
            exists = db.session.scalar(
                sa.select(Quota.id).where(
                    Quota.county_id == county.id, Quota.programme_year == year
                )
            )
            if exists is None:
                db.session.add(
                    Quota(
                        county_id=county.id,
                        programme_year=year,
                        target_sellers=rng.randint(40, 250),
                    )
                )

    demo_hash = hash_password(DEMO_PASSWORD)
    staff = _user("staff@bazarche.example", "کارشناس طرح", Role.STAFF, demo_hash)
    _user("customer@bazarche.example", "مشتری نمونه", Role.CUSTOMER, demo_hash)
    db.session.commit()

    lines = list(data.PRODUCT_LINES.items())
    now = datetime.now(UTC)
    for index in range(sellers):
        line_key, (cat_slug, kind, sector_slug, templates) = lines[index % len(lines)]
        county = counties[index % len(counties)]
        person = f"{data.FIRST_NAMES[index % len(data.FIRST_NAMES)]} {data.FAMILY_NAMES[index % len(data.FAMILY_NAMES)]}"
        slug = f"{line_key}-{county.slug}-{index + 1}"
        seller = db.session.scalar(sa.select(Seller).where(Seller.slug == slug))
        if seller is None:
            user = _user(f"seller{index + 1}@bazarche.example", person, Role.SELLER, demo_hash)
            pattern = data.BUSINESS_PATTERNS[line_key][
                index % len(data.BUSINESS_PATTERNS[line_key])
            ]
            # The last three applications wait for staff; one seller is suspended.
            if index >= sellers - 3:
                status = SellerStatus.APPLIED
            elif index == sellers - 4:
                status = SellerStatus.SUSPENDED
            else:
                status = SellerStatus.APPROVED
            seller = Seller(
                user_id=user.id,
                slug=slug,
                display_name=pattern.format(name=person.split()[-1], county=county.name_fa),
                bio=data.BIOS[line_key],
                county_id=county.id,
                sector_id=sectors[sector_slug].id,
                registration_code=f"SB-{1400 + index % 5}-{10000 + index * 37}",
                training_completed_on=date(2024, 1, 15) + timedelta(days=23 * index),
                training_provider=data.TRAINING_PROVIDERS[index % len(data.TRAINING_PROVIDERS)],
                permit_number=f"{98000 + index * 13}",
                phone=f"0915{rng.randint(1000000, 9999999)}",
                status=status,
                approved_at=now - timedelta(days=300 - index)
                if status != SellerStatus.APPLIED
                else None,
                created_at=now - timedelta(days=320 - index),
            )
            if make_image is not None:
                seller.logo_key = make_image(seller.display_name, "logo", 5000 + index)[0]
            db.session.add(seller)
            db.session.flush()
            db.session.add(SellerStatusChange(seller_id=seller.id, to_status=SellerStatus.APPLIED))
            if status != SellerStatus.APPLIED:
                db.session.add(
                    SellerStatusChange(
                        seller_id=seller.id,
                        from_status=SellerStatus.APPLIED,
                        to_status=SellerStatus.APPROVED,
                        actor_id=staff.id,
                    )
                )
            if status == SellerStatus.SUSPENDED:
                seller.status_reason = "عدم پاسخ‌گویی به سفارش‌ها"
                db.session.add(
                    SellerStatusChange(
                        seller_id=seller.id,
                        from_status=SellerStatus.APPROVED,
                        to_status=SellerStatus.SUSPENDED,
                        actor_id=staff.id,
                        reason=seller.status_reason,
                    )
                )
            created["sellers"] += 1

        existing = set(
            db.session.scalars(sa.select(Product.title).where(Product.seller_id == seller.id))
        )
        for n in range(products_per_seller):
            base_title, description, low, high = templates[n % len(templates)]
            variant = data.VARIANTS[(n // len(templates) + index) % len(data.VARIANTS)]
            title = f"{base_title} {variant}".strip()
            if title in existing:
                continue
            existing.add(title)
            toman = rng.randrange(low, high + 1, 10_000)
            product = Product(
                seller_id=seller.id,
                category_id=categories[cat_slug].id,
                title=title,
                description=description,
                price_amount=toman * 10,  # stored in rials
                stock=0 if rng.random() < 0.08 else rng.randint(1, 40),
                status=ProductStatus.DRAFT
                if n == products_per_seller - 1
                else ProductStatus.PUBLISHED,
                featured=rng.random() < 0.06,
                created_at=now - timedelta(days=rng.randint(0, 280), minutes=rng.randint(0, 1440)),
            )
            if product.status == ProductStatus.PUBLISHED:
                product.published_at = product.created_at
            if make_image is not None:
                key, variants, width, height = make_image(title, kind, index * 100 + n)
                product.images.append(
                    ProductImage(
                        position=0,
                        storage_key=key,
                        variants=variants,
                        width=width,
                        height=height,
                        alt_text=title,
                    )
                )
            db.session.add(product)
            created["products"] += 1
        db.session.commit()
        progress(f"{index + 1}/{sellers} {seller.display_name}")
    return created
