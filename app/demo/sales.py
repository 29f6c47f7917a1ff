"""The demo market's sales history: cash orders over the past months, offline sales at fairs and
product-page views, all from one ``random.Random(seed)``.

The orders are planned first (day, seller, lines, fate), then placed and moved through the shop's
own cart, checkout and status services (so stock, payments, status rows and sales summaries are
what the shop makes), then moved into the past.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from app.accounts.models import Role, User
from app.accounts.services import hash_password
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus
from app.core.db import transaction
from app.core.extensions import db
from app.core.formatting import TEHRAN
from app.core.timeutil import utcnow
from app.demo import data
from app.demo.users import DEMO_PASSWORD, demo_user
from app.orders import cart as carts
from app.orders import completion
from app.orders import services as order_services
from app.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from app.orders.placing import Address
from app.payments import checkout as payment_checkout
from app.payments import state as payment_state
from app.payments.models import Payment, Provider
from app.payouts.models import LedgerEntry
from app.program import offline
from app.program.calendar import jalali_month_of, jalali_month_start, tehran_today
from app.program.models import ProductViewDay
from app.program.rebuild import rebuild as rebuild_summaries
from app.reference.models import County
from app.reviews import services as reviews
from app.reviews.models import Review

SALES_MONTHS = 8
ORDERS_PER_SELLER_MONTH = 1.7  # the demo history's average, before each seller's own weight
CANCEL_EVERY = 14  # one planned order in fourteen was cancelled
ONLINE_SHARE = 0.6  # of the demo orders, paid online through the bank gateway (the rest cash)
RNG_SEED = 1399

Moves = list[tuple[OrderStatus, datetime]]  # status moves of one order, in order, with times


class _Item(NamedTuple):
    id: int
    price_amount: int
    stock: int


@dataclass
class _Market:
    """The demo sellers who can sell now (approved), with their published products."""

    products_of: dict[int, list[_Item]]  # seller id: products, in id order
    county_of: dict[int, str]  # seller id: county slug

    def active(self) -> list[int]:
        """The sellers outside the quiet counties (who sell all along)."""
        return [s for s, slug in self.county_of.items() if slug not in data.QUIET_COUNTIES]


@dataclass
class _Calendar:
    """The days of the history, ``first`` to ``today`` (Tehran), with their weights: the market
    grows over the months, and Fridays are busier."""

    now: datetime
    today: date
    first: date
    days: list[date]
    weights: list[float]

    @classmethod
    def of(cls, months: int) -> _Calendar:
        today = tehran_today()
        year, month = jalali_month_of(today)
        first = jalali_month_start(year, month - months + 1)
        days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
        weights = [
            (0.5 + n / len(days)) * (1.3 if day.weekday() == 4 else 1.0)
            for n, day in enumerate(days)
        ]
        return cls(utcnow(), today, first, days, weights)

    def first_month(self) -> list[date]:
        month = jalali_month_of(self.first)
        return [d for d in self.days if jalali_month_of(d) == month]


@dataclass
class _PlannedOrder:
    at: datetime  # when it was placed (UTC)
    seller_id: int
    lines: list[tuple[int, int]]  # product id, quantity
    moves: Moves  # the moves that had happened by now
    cancelled_by_customer: bool = False
    online: bool = False  # paid through the bank gateway at checkout (else cash on delivery)


def seed_demo_sales(
    rng_seed: int = RNG_SEED,
    months: int = SALES_MONTHS,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Give the demo market a deterministic sales history over the last ``months`` Jalali months
    (ending today, Tehran time); does nothing when any order exists. Returns counts of what it
    made: ``orders``, ``offline_sales``, ``reviews``, ``view_rows``.

    Orders of demo customers (paid online through the bank gateway, or cash on delivery) go
    through the real cart, checkout and status moves, then
    their timestamps are moved into the past and the sales summary rows are rebuilt from them.
    Adds a few offline sales at fairs and product-page views per day (about 1 to 5 paid orders
    per 100 views). The sellers of ``data.QUIET_COUNTIES`` barely sell, so the county report
    flags their counties.
    """
    done = {"orders": 0, "offline_sales": 0, "reviews": 0, "view_rows": 0}
    if db.session.scalar(sa.select(Order.id).limit(1)) is not None:
        return done
    rng = random.Random(rng_seed)
    calendar = _Calendar.of(months)
    market = _market()
    if not market.county_of:
        return done
    plan = _plan(market, calendar, months, rng)
    _stock_for(plan, market, rng)
    customers = _customers(calendar.first, rng)
    history = _place(plan, customers, rng, f"demo-sales-{rng_seed}", progress)
    done["orders"] = len(history)
    done["offline_sales"] = _offline_sales(market, calendar, rng)
    _into_the_past(history)
    done["reviews"] = _reviews(random.Random(rng_seed + 1))
    rebuild_summaries()
    done["view_rows"] = _views(plan, market, calendar, rng)
    progress(
        f"sales: {done['orders']} orders, {done['offline_sales']} offline sales, "
        f"{done['view_rows']} days of product views"
    )
    return done


REVIEW_SHARE = 0.4  # of the completed order lines, reviewed by their customers
REVIEW_TEXTS = (
    "خیلی تمیز و باسلیقه کار شده بود، ممنون.",
    "همان‌طور که در عکس بود، بسته‌بندی هم خوب بود.",
    "کیفیت خوب، فقط ارسال کمی طول کشید.",
    "",
    "برای هدیه خریدم و خیلی پسندیدند.",
)


def _reviews(rng: random.Random) -> int:
    """Reviews of some completed order lines (the summaries follow through the services), dated
    a few days after their order completed."""
    rows = db.session.execute(
        sa.select(OrderLine.id, Order.customer_id, Order.completed_at)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status == OrderStatus.COMPLETED, OrderLine.product_id.is_not(None))
        .order_by(OrderLine.id)
    ).all()
    made = 0
    for line_id, customer_id, completed_at in rows:
        if rng.random() >= REVIEW_SHARE:
            continue
        customer = db.session.get(User, customer_id)
        assert customer is not None
        stars = rng.choice((5, 5, 5, 4, 4, 3, 2))
        review = reviews.write(line_id, customer, stars, rng.choice(REVIEW_TEXTS))
        when = (completed_at or utcnow()) + timedelta(hours=rng.uniform(6, 96))
        with transaction():
            db.session.execute(
                sa.update(Review)
                .where(Review.id == review.id)
                .values(created_at=min(when, utcnow()))
            )
        made += 1
    return made


def _market() -> _Market:
    market = _Market({}, {})
    for product, seller, county_slug in db.session.execute(
        sa.select(Product, Seller, County.slug)
        .join(Seller, Seller.id == Product.seller_id)
        .join(County, County.id == Seller.county_id)
        .join(User, User.id == Seller.user_id)
        .where(
            Product.status == ProductStatus.PUBLISHED,
            # The history sells single items; a product with options is bought by its variants.
            Product.has_variants.is_(False),
            Seller.status == SellerStatus.APPROVED,
            User.email.like("seller%@bazarche.example"),
        )
        .order_by(Seller.id, Product.id)
    ):
        item = _Item(product.id, product.price_amount, product.stock)
        market.products_of.setdefault(seller.id, []).append(item)
        market.county_of[seller.id] = county_slug
    return market


# ---- the plan: every order, its day and its fate, before anything is written -------------------


def _local(day: date, rng: random.Random) -> datetime:
    """A moment of the Tehran working day ``day``, in UTC."""
    local = datetime.combine(day, time(rng.randint(8, 22), rng.randint(0, 59)), tzinfo=TEHRAN)
    return local.astimezone(UTC)


def _moves(
    at: datetime, now: datetime, rng: random.Random, *, cancelled: bool
) -> tuple[Moves, bool, bool]:
    """The status moves of one order placed at ``at`` that are past by ``now``, whether the
    customer (rather than the seller) cancelled it, and whether it was paid online. Cancelled
    orders were cash orders (cancelling one paid online would refund it through the bank); of
    the others, ``ONLINE_SHARE`` were paid online, minutes after they were placed."""

    def hours(low: float, high: float) -> timedelta:
        return timedelta(hours=rng.uniform(low, high))

    online = False
    if cancelled:  # by the seller (with a reason) or by the customer
        by_customer = rng.random() < 0.4
        moves = [(OrderStatus.CANCELLED, at + hours(2, 30))]
    else:
        by_customer = False
        online = rng.random() < ONLINE_SHARE
        accepted = at + (hours(0.02, 0.2) if online else hours(1, 20))
        shipped = accepted + hours(12, 60)
        delivered = shipped + hours(24, 120)
        moves = [
            (OrderStatus.PAID if online else OrderStatus.CONFIRMED, accepted),
            (OrderStatus.SHIPPED, shipped),
            (OrderStatus.DELIVERED, delivered),
        ]
        if rng.random() < 0.85:  # most customers confirm receipt; the others wait for the clock
            moves.append((OrderStatus.COMPLETED, delivered + hours(6, 96)))
    return [(status, moment) for status, moment in moves if moment < now], by_customer, online


def _plan(
    market: _Market, calendar: _Calendar, months: int, rng: random.Random
) -> list[_PlannedOrder]:
    """The orders of each seller with stock: a seller of a quiet county sells once, in the first
    month; the others about ``ORDERS_PER_SELLER_MONTH`` a month, each with a weight of its own."""
    plan: list[_PlannedOrder] = []
    for seller_id, county_slug in market.county_of.items():
        sellable = [p for p in market.products_of[seller_id] if p.stock > 0]
        if not sellable:
            continue
        popularity = [rng.uniform(0.2, 1.0) ** 2 for _ in sellable]
        if county_slug in data.QUIET_COUNTIES:
            days = rng.choices(calendar.first_month(), k=1)
        else:
            count = round(ORDERS_PER_SELLER_MONTH * months * rng.uniform(0.3, 1.7))
            days = rng.choices(calendar.days, weights=calendar.weights, k=count)
        for day in days:
            at = min(_local(day, rng), calendar.now - timedelta(minutes=rng.randint(5, 90)))
            lines = _lines(sellable, popularity, rng)
            cancelled = len(plan) % CANCEL_EVERY == CANCEL_EVERY - 1
            moves, by_customer, online = _moves(at, calendar.now, rng, cancelled=cancelled)
            plan.append(_PlannedOrder(at, seller_id, lines, moves, by_customer, online))
    plan.sort(key=lambda o: (o.at, o.seller_id))
    return plan


def _lines(
    sellable: list[_Item], popularity: list[float], rng: random.Random
) -> list[tuple[int, int]]:
    """One or (now and then) two products, the popular ones more often; quantities mostly 1."""
    k = 2 if rng.random() < 0.15 else 1
    picked = rng.choices(sellable, weights=popularity, k=k)
    quantities: dict[int, int] = {}
    for product in picked:
        quantities[product.id] = quantities.get(product.id, 0) + rng.choice(
            (1, 1, 1, 1, 1, 2, 2, 3)
        )
    return [(p.id, quantities.pop(p.id)) for p in picked if p.id in quantities]


def _stock_for(plan: list[_PlannedOrder], market: _Market, rng: random.Random) -> None:
    """Enough stock for the plan (the sold-out products were left out of it), and a little more.

    Written directly, as a seller's stock edit would be, without the edit form's checks.
    """
    wanted: dict[int, int] = {}
    for order in plan:
        for product_id, qty in order.lines:
            wanted[product_id] = wanted.get(product_id, 0) + qty
    with transaction():
        for products in market.products_of.values():
            for item in products:
                if item.id in wanted:
                    product = db.session.get_one(Product, item.id)
                    product.stock = max(product.stock, wanted[item.id] + rng.randint(2, 12))


def _customers(first: date, rng: random.Random) -> list[tuple[int, Address]]:
    """The demo customers (accounts made some weeks before the history starts), each with a
    shipping address: ``(user id, address)``."""
    customers = []
    password_hash = None
    with transaction():
        for index, (name, email, city, province) in enumerate(data.CUSTOMERS):
            user = db.session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                password_hash = password_hash or hash_password(DEMO_PASSWORD)
                user = demo_user(email, name, Role.CUSTOMER, password_hash)
                user.created_at = _local(first - timedelta(days=rng.randint(5, 90)), rng)
            address = Address(
                recipient_name=name,
                mobile=f"091{index % 10}{rng.randint(1000000, 9999999)}",
                province=province,
                city=city,
                address=f"{city}، {rng.choice(data.STREETS)}، پلاک {rng.randint(1, 180)}",
                postal_code=f"{rng.randint(1000000000, 9999999999)}",
            )
            customers.append((user.id, address))
    return customers


# ---- the orders, through the shop's own cart, checkout and moves -------------------------------


class _Buyers:
    """Who places the next order: customers drawn by weight (a few buy often), skipping those
    with as many open cash orders as the shop allows."""

    def __init__(self, customers: list[tuple[int, Address]], max_open: int) -> None:
        self.customers = customers
        self.max_open = max_open
        self.weights = [1 / (n + 1) ** 0.7 for n in range(len(customers))]
        self.open = [0] * len(customers)

    def pick(self, rng: random.Random) -> int | None:
        count = len(self.customers)
        start = rng.choices(range(count), weights=self.weights)[0]
        return next(
            (
                (start + k) % count
                for k in range(count)
                if self.open[(start + k) % count] < self.max_open
            ),
            None,
        )


def _place(
    plan: list[_PlannedOrder],
    customers: list[tuple[int, Address]],
    rng: random.Random,
    token_prefix: str,
    progress: Callable[[str], None],
) -> dict[int, tuple[datetime, Moves]]:
    """Place and move the planned orders; returns ``order id: (placed at, moves)`` as planned."""
    buyers = _Buyers(customers, int(current_app.config["MAX_OPEN_CASH_ORDERS"]))
    history: dict[int, tuple[datetime, Moves]] = {}
    for number, planned in enumerate(plan):
        pick = buyers.pick(rng)
        if pick is None:
            continue
        # Each commit expires what the session holds: keep it to this order's rows.
        db.session.expunge_all()
        customer_id, address = customers[pick]
        customer = db.session.get_one(User, customer_id)
        order = _checkout(customer, address, planned, f"{token_prefix}-{number:05d}", buyers)
        _move(order, customer, planned, rng)
        if not planned.online and order.status in order_services.OPEN_CASH:
            buyers.open[pick] += 1
        history[order.id] = (planned.at, planned.moves)
        if number % 100 == 99:
            progress(f"sales: {number + 1}/{len(plan)} orders")
    return history


def _checkout(
    customer: User, address: Address, planned: _PlannedOrder, token: str, buyers: _Buyers
) -> Order:
    """The planned lines in the customer's cart, checked out as one order: cash on delivery, or
    paid online (the bank's word is taken as given: this is history, no gateway is asked)."""
    config = current_app.config
    for product_id, qty in planned.lines:
        carts.add(customer, None, product_id, qty)
    checkout = payment_checkout.place_checkout(
        customer,
        address,
        Provider.IPG if planned.online else Provider.CASH,
        token,
        currency=config["MARKET_CURRENCY"],
        expiry_minutes=int(config["CHECKOUT_EXPIRY_MINUTES"]),
        max_open_cash_orders=buyers.max_open,
    )
    payment_id = checkout.payment.id
    if planned.online:
        with transaction():
            payment = db.session.get_one(Payment, payment_id, with_for_update=True)
            payment.provider_reference = f"demo-{token}"
            payment_state.mark_payment_paid(payment)
    return db.session.scalars(sa.select(Order).where(Order.payment_id == payment_id)).one()


def _move(order: Order, customer: User, planned: _PlannedOrder, rng: random.Random) -> None:
    """The planned moves of the order, by its seller (or a cancellation by its customer)."""
    seller = db.session.get_one(Seller, planned.seller_id)
    actor = db.session.get_one(User, seller.user_id)
    for status, _at in planned.moves:
        if status == OrderStatus.PAID:
            continue  # paid at checkout (_checkout)
        if status == OrderStatus.CANCELLED and planned.cancelled_by_customer:
            order_services.cancel_by_customer(order, customer)
            continue
        if status == OrderStatus.COMPLETED:
            completion.complete_by_customer(order, customer)
            continue
        shipped = status == OrderStatus.SHIPPED
        reason = rng.choice(data.CANCEL_REASONS) if status == OrderStatus.CANCELLED else None
        carrier = rng.choice(data.CARRIERS) if shipped else None
        tracking = f"{rng.randint(10**11, 10**12 - 1)}" if shipped else None
        order_services.seller_move(
            order, seller, actor, status, reason=reason, carrier=carrier, tracking_code=tracking
        )


# ---- offline sales, the past, product views ------------------------------------------------------


def _offline_sales(market: _Market, calendar: _Calendar, rng: random.Random) -> int:
    """A third of the active sellers recorded one or two sales at fairs on past days, through
    the offline-sales service; returns how many."""
    db.session.expunge_all()
    active = market.active()
    if not active:
        return 0
    made = 0
    for seller_id in rng.sample(active, k=max(1, len(active) // 3)):
        seller = db.session.get_one(Seller, seller_id)
        for _ in range(rng.randint(1, 2)):
            sold_on = rng.choice(calendar.days[:-1] or calendar.days)
            goods = market.products_of[seller_id]
            lines = []
            for product in rng.sample(goods, k=min(len(goods), 2)):
                qty = rng.randint(2, 8)
                price = product.price_amount * rng.choice((0.85, 0.9, 1.0))
                amount = int(round(price, -4)) * qty
                lines.append(offline.OfflineLineInput(product.id, "", qty, amount))
            sale = offline.record_offline_sale(
                seller,
                seller.user_id,
                sold_on=sold_on,
                place=rng.choice(data.FAIRS),
                lines=lines,
                today=calendar.today,
            )
            # Written directly: recorded that evening, not now.
            with transaction():
                evening = datetime.combine(sold_on, time(21), tzinfo=TEHRAN)
                sale.created_at = evening.astimezone(UTC)
            made += 1
    return made


def _into_the_past(history: dict[int, tuple[datetime, Moves]]) -> None:
    """Every order, payment and status row at its planned time.

    Written directly (bulk updates by id): the services stamp the present; the sales summaries
    are rebuilt from the moved rows afterwards.
    """
    order_rows, payment_rows, change_rows = [], [], []
    ledger_rows: list[dict[str, object]] = []
    with transaction():
        payments = dict(db.session.execute(sa.select(Order.id, Order.payment_id)).tuples().all())
        for order_id, (at, moves) in history.items():
            last = moves[-1][1] if moves else at
            when = dict(moves)
            # An order paid online counts as sold from its payment, a cash order from its
            # completion; the ledger credits both at completion.
            completed = when.get(OrderStatus.COMPLETED)
            paid = when.get(OrderStatus.PAID, completed)
            order_rows.append(
                {"id": order_id, "created_at": at, "updated_at": last, "paid_at": paid,
                 "shipped_at": when.get(OrderStatus.SHIPPED), "completed_at": completed}
            )  # fmt: skip
            if completed is not None:
                ledger_rows.extend(
                    {"id": entry_id, "created_at": completed}
                    for entry_id in db.session.scalars(
                        sa.select(LedgerEntry.id).where(LedgerEntry.order_id == order_id)
                    )
                )
            payment_rows.append({"id": payments[order_id], "created_at": at, "updated_at": last})
        for change_id, order_id, to_status in db.session.execute(
            sa.select(OrderStatusChange.id, OrderStatusChange.order_id, OrderStatusChange.to_status)
        ):
            at, moves = history[order_id]
            change_rows.append({"id": change_id, "created_at": dict(moves).get(to_status, at)})
        if order_rows:
            db.session.execute(sa.update(Order), order_rows)
            db.session.execute(sa.update(Payment), payment_rows)
        if ledger_rows:
            db.session.execute(sa.update(LedgerEntry), ledger_rows)
            db.session.execute(sa.update(OrderStatusChange), change_rows)


def _views(
    plan: list[_PlannedOrder], market: _Market, calendar: _Calendar, rng: random.Random
) -> int:
    """Product-page views per day: busier for products that sell, about 1-5 paid orders per 100
    views; returns how many (product, day) rows were added.

    Written directly (one bulk insert): the view counter records one visitor at a time.
    """
    sold: dict[int, int] = {}
    for planned in plan:
        for product_id, _qty in planned.lines:
            sold[product_id] = sold.get(product_id, 0) + 1
    mean_weight = sum(calendar.weights) / len(calendar.weights)
    with transaction():
        seen = set(
            db.session.execute(
                sa.select(ProductViewDay.product_id, ProductViewDay.day).where(
                    ProductViewDay.day >= calendar.first
                )
            ).tuples()
        )
        rows = []
        for products in market.products_of.values():
            for product in products:
                per_day = (sold.get(product.id, 0) * rng.uniform(10, 30)) / len(calendar.days)
                per_day += rng.uniform(0.03, 0.25)
                for day, weight in zip(calendar.days, calendar.weights, strict=True):
                    share = per_day * weight / mean_weight
                    views = int(share * rng.uniform(0.6, 1.4) + rng.random())
                    if views and (product.id, day) not in seen:
                        rows.append({"product_id": product.id, "day": day, "views": views})
        if rows:
            db.session.execute(sa.insert(ProductViewDay), rows)
    return len(rows)
