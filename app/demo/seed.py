"""Loading the Persian demo market (``flask seed-demo``). Idempotent: rows are found by their
natural keys (slugs, e-mails, seller + title) and only missing ones are created.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

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
from app.core.extensions import db
from app.core.formatting import TEHRAN
from app.core.timeutil import utcnow
from app.demo import data
from app.orders.models import Order, OrderStatus, OrderStatusChange
from app.program.models import ProductViewDay, Quota
from app.reference.models import County, Province, Sector

DEMO_PASSWORD = "bazarche-demo-1234"  # noqa: S105  (demo accounts only; in the README)
SELLER_COUNT = 28
PRODUCTS_PER_SELLER = 8
SALES_MONTHS = 8
ORDERS_PER_SELLER_MONTH = 1.7  # the demo history's average, before each seller's own weight


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


def seed_demo(  # noqa: C901 (demo data only; moves to its own package in #11)
    make_image: Callable[[str, str, int], tuple[str, list, int, int]] | None = None,
    *,
    sellers: int = SELLER_COUNT,
    products_per_seller: int = PRODUCTS_PER_SELLER,
    progress: Callable[[str], None] = lambda _msg: None,
    sales_months: int = SALES_MONTHS,
) -> dict[str, int]:
    """Create what is missing of the demo market; returns counts of rows created.

    ``make_image(title, kind, seed)`` stores a drawn picture and returns
    ``(storage_key, variants, width, height)``; without it products get no photo. When it created
    sellers, it also gives the market a sales history of ``sales_months`` Jalali months
    (:func:`seed_demo_sales`; nothing when any order exists).
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
    created.update(orders=0, offline_sales=0, view_rows=0)
    if created["sellers"] and sales_months > 0:
        created.update(seed_demo_sales(months=sales_months, progress=progress))
    return created


# ---- the sales history ------------------------------------------------------------------------


class _Item(NamedTuple):
    id: int
    price_amount: int
    stock: int


@dataclass
class _PlannedOrder:
    at: datetime  # when it was placed (UTC)
    seller_id: int
    lines: list[tuple[int, int]]  # product id, quantity
    moves: list[tuple[OrderStatus, datetime]]  # the moves that had happened by now, in order
    cancelled_by_customer: bool = False


def _local(day: date, rng: random.Random) -> datetime:
    """A moment of the Tehran working day ``day``, in UTC."""
    local = datetime.combine(day, time(rng.randint(8, 22), rng.randint(0, 59)), tzinfo=TEHRAN)
    return local.astimezone(UTC)


def _moves(at: datetime, now: datetime, rng: random.Random) -> tuple[list, bool]:
    """The status moves of one cash order placed at ``at``: those already past by ``now``."""

    def hours(low: float, high: float) -> timedelta:
        return timedelta(hours=rng.uniform(low, high))

    if rng.random() < 0.07:  # cancelled: by the seller (with a reason) or by the customer
        by_customer = rng.random() < 0.4
        moves = [(OrderStatus.CANCELLED, at + hours(2, 30))]
    else:
        by_customer = False
        confirmed = at + hours(1, 20)
        shipped = confirmed + hours(12, 60)
        moves = [
            (OrderStatus.CONFIRMED, confirmed),
            (OrderStatus.SHIPPED, shipped),
            (OrderStatus.DELIVERED, shipped + hours(24, 120)),
        ]
    return [(status, moment) for status, moment in moves if moment < now], by_customer


def seed_demo_sales(  # noqa: C901 (demo data only; moves to its own package in #11)
    rng_seed: int = 1399,
    months: int = SALES_MONTHS,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Give the demo market a deterministic sales history over the last ``months`` Jalali months
    (ending today, Tehran time); does nothing when any order exists.

    Cash orders of demo customers go through the real cart, checkout and status moves (so stock,
    payments and status rows are what the shop makes), then their timestamps are moved into the
    past and the sales summary rows are rebuilt from them. Adds a few offline sales at fairs and
    product-page views per day (about 1 to 5 paid orders per 100 views). The sellers of
    ``demo_data.QUIET_COUNTIES`` barely sell, so the county report flags their counties.
    """
    from flask import current_app

    from app.orders import cart as carts
    from app.orders import services as order_services
    from app.payments.models import Payment, Provider
    from app.program import sales

    done = {"orders": 0, "offline_sales": 0, "view_rows": 0}
    if db.session.scalar(sa.select(Order.id).limit(1)) is not None:
        return done
    rng = random.Random(rng_seed)
    now = utcnow()
    today = sales.tehran_today()
    year, month = sales.jalali_month_of(today)
    first = sales.jalali_month_start(year, month - months + 1)
    days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    # The market grows over the months; Fridays are busier.
    day_weights = [
        (0.5 + n / len(days)) * (1.3 if day.weekday() == 4 else 1.0) for n, day in enumerate(days)
    ]
    first_month = [d for d in days if sales.jalali_month_of(d) == sales.jalali_month_of(first)]

    # The demo sellers who can sell now, with their published products.
    products_of: dict[int, list[_Item]] = {}
    sellers: dict[int, tuple[int, str]] = {}  # seller id: user id, county slug
    for product, seller, county_slug in db.session.execute(
        sa.select(Product, Seller, County.slug)
        .join(Seller, Seller.id == Product.seller_id)
        .join(County, County.id == Seller.county_id)
        .join(User, User.id == Seller.user_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
            User.email.like("seller%@bazarche.example"),
        )
        .order_by(Seller.id, Product.id)
    ):
        products_of.setdefault(seller.id, []).append(
            _Item(product.id, product.price_amount, product.stock)
        )
        sellers[seller.id] = (seller.user_id, county_slug)
    if not sellers:
        return done

    # The plan: every order, its day and its fate, before anything is written.
    plan: list[_PlannedOrder] = []
    for seller_id, (_user_id, county_slug) in sellers.items():
        sellable = [p for p in products_of[seller_id] if p.stock > 0]
        if not sellable:
            continue
        popularity = [rng.uniform(0.2, 1.0) ** 2 for _ in sellable]
        if county_slug in data.QUIET_COUNTIES:
            count, pool, weights = 1, first_month, None
        else:
            count = round(ORDERS_PER_SELLER_MONTH * months * rng.uniform(0.3, 1.7))
            pool, weights = days, day_weights
        for day in rng.choices(pool, weights=weights, k=count):
            at = min(_local(day, rng), now - timedelta(minutes=rng.randint(5, 90)))
            picked = rng.choices(sellable, weights=popularity, k=2 if rng.random() < 0.15 else 1)
            quantities: dict[int, int] = {}
            for product in picked:
                quantities[product.id] = quantities.get(product.id, 0) + rng.choice(
                    (1, 1, 1, 1, 1, 2, 2, 3)
                )
            lines = [(p.id, quantities.pop(p.id)) for p in picked if p.id in quantities]
            moves, by_customer = _moves(at, now, rng)
            plan.append(_PlannedOrder(at, seller_id, lines, moves, by_customer))
    plan.sort(key=lambda o: (o.at, o.seller_id))

    # Enough stock for the plan (the sold-out products were left out of it).
    wanted: dict[int, int] = {}
    for order in plan:
        for product_id, qty in order.lines:
            wanted[product_id] = wanted.get(product_id, 0) + qty
    for products in products_of.values():
        for item in products:
            if item.id in wanted:
                product = db.session.get(Product, item.id)
                product.stock = max(product.stock, wanted[item.id] + rng.randint(2, 12))

    customers = []
    demo_hash = None
    for index, (name, email, city, province) in enumerate(data.CUSTOMERS):
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            demo_hash = demo_hash or hash_password(DEMO_PASSWORD)
            user = _user(email, name, Role.CUSTOMER, demo_hash)
            user.created_at = _local(first - timedelta(days=rng.randint(5, 90)), rng)
        address = order_services.Address(
            recipient_name=name,
            mobile=f"091{index % 10}{rng.randint(1000000, 9999999)}",
            province=province,
            city=city,
            address=f"{city}، {rng.choice(data.STREETS)}، پلاک {rng.randint(1, 180)}",
            postal_code=f"{rng.randint(1000000000, 9999999999)}",
        )
        customers.append((user.id, address))
    db.session.commit()
    customer_weights = [1 / (n + 1) ** 0.7 for n in range(len(customers))]

    # The orders, through the shop's own cart, checkout and moves.
    config = current_app.config
    max_open = int(config["MAX_OPEN_CASH_ORDERS"])
    open_orders = [0] * len(customers)
    history: dict[int, tuple[datetime, list[tuple[OrderStatus, datetime]]]] = {}
    for number, planned in enumerate(plan):
        start = rng.choices(range(len(customers)), weights=customer_weights)[0]
        pick = next(
            (
                (start + k) % len(customers)
                for k in range(len(customers))
                if open_orders[(start + k) % len(customers)] < max_open
            ),
            None,
        )
        if pick is None:
            continue
        # Each commit expires what the session holds: keep it to this order's rows.
        db.session.expunge_all()
        customer_id, address = customers[pick]
        customer = db.session.get(User, customer_id)
        seller = db.session.get(Seller, planned.seller_id)
        actor = db.session.get(User, seller.user_id)
        for product_id, qty in planned.lines:
            carts.add(customer, None, product_id, qty)
        checkout = order_services.place_checkout(
            customer,
            address,
            Provider.CASH,
            f"demo-sales-{rng_seed}-{number:05d}",
            currency=config["MARKET_CURRENCY"],
            expiry_minutes=int(config["CHECKOUT_EXPIRY_MINUTES"]),
            max_open_cash_orders=max_open,
        )
        order = db.session.scalar(sa.select(Order).where(Order.payment_id == checkout.payment.id))
        for status, _at in planned.moves:
            if status == OrderStatus.CANCELLED and planned.cancelled_by_customer:
                order_services.cancel_by_customer(order, customer)
            else:
                order_services.seller_move(
                    order,
                    seller,
                    actor,
                    status,
                    reason=rng.choice(data.CANCEL_REASONS)
                    if status == OrderStatus.CANCELLED
                    else None,
                    carrier=rng.choice(data.CARRIERS) if status == OrderStatus.SHIPPED else None,
                    tracking_code=f"{rng.randint(10**11, 10**12 - 1)}"
                    if status == OrderStatus.SHIPPED
                    else None,
                )
        if order.status in order_services.OPEN_CASH:
            open_orders[pick] += 1
        history[order.id] = (planned.at, planned.moves)
        if number % 100 == 99:
            progress(f"sales: {number + 1}/{len(plan)} orders")
    done["orders"] = len(history)

    # A few offline sales at fairs, on past days.
    db.session.expunge_all()
    active = [s for s, (_u, slug) in sellers.items() if slug not in data.QUIET_COUNTIES]
    for seller_id in rng.sample(active, k=max(1, len(active) // 3)):
        seller = db.session.get(Seller, seller_id)
        for _ in range(rng.randint(1, 2)):
            sold_on = rng.choice(days[:-1] or days)
            goods = rng.sample(products_of[seller_id], k=min(len(products_of[seller_id]), 2))
            lines = []
            for product in goods:
                qty = rng.randint(2, 8)
                price = product.price_amount * rng.choice((0.85, 0.9, 1.0))
                lines.append(
                    sales.OfflineLineInput(product.id, "", qty, int(round(price, -4)) * qty)
                )
            sale = sales.record_offline_sale(
                seller,
                seller.user_id,
                sold_on=sold_on,
                place=rng.choice(data.FAIRS),
                lines=lines,
                today=today,
            )
            sale.created_at = datetime.combine(sold_on, time(21), tzinfo=TEHRAN).astimezone(UTC)
            done["offline_sales"] += 1
    db.session.commit()

    # Move the orders into the past: every timestamp as planned.
    order_rows, payment_rows, change_rows = [], [], []
    payments = {o: p for o, p in db.session.execute(sa.select(Order.id, Order.payment_id))}
    for order_id, (at, moves) in history.items():
        last = moves[-1][1] if moves else at
        paid = next((m for s, m in moves if s == OrderStatus.DELIVERED), None)
        order_rows.append({"id": order_id, "created_at": at, "updated_at": last, "paid_at": paid})
        payment_rows.append({"id": payments[order_id], "created_at": at, "updated_at": last})
    for change_id, order_id, to_status in db.session.execute(
        sa.select(OrderStatusChange.id, OrderStatusChange.order_id, OrderStatusChange.to_status)
    ):
        at, moves = history[order_id]
        change_rows.append({"id": change_id, "created_at": dict(moves).get(to_status, at)})
    if order_rows:
        db.session.execute(sa.update(Order), order_rows)
        db.session.execute(sa.update(Payment), payment_rows)
        db.session.execute(sa.update(OrderStatusChange), change_rows)
    db.session.commit()
    sales.rebuild()

    # Product-page views: busier for products that sell, about 1-5 paid orders per 100 views.
    sold: dict[int, int] = {}
    for planned in plan:
        for product_id, _qty in planned.lines:
            sold[product_id] = sold.get(product_id, 0) + 1
    mean_weight = sum(day_weights) / len(day_weights)
    seen = {
        (product_id, day)
        for product_id, day in db.session.execute(
            sa.select(ProductViewDay.product_id, ProductViewDay.day).where(
                ProductViewDay.day >= first
            )
        )
    }
    rows = []
    for products in products_of.values():
        for product in products:
            per_day = (sold.get(product.id, 0) * rng.uniform(10, 30)) / len(days)
            per_day += rng.uniform(0.03, 0.25)
            for day, weight in zip(days, day_weights, strict=True):
                views = int(per_day * weight / mean_weight * rng.uniform(0.6, 1.4) + rng.random())
                if views and (product.id, day) not in seen:
                    rows.append({"product_id": product.id, "day": day, "views": views})
    if rows:
        db.session.execute(sa.insert(ProductViewDay), rows)
    db.session.commit()
    done["view_rows"] = len(rows)
    progress(
        f"sales: {done['orders']} orders, {done['offline_sales']} offline sales, "
        f"{len(rows)} days of product views"
    )
    return done
