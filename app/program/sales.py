"""Sales volume per seller: the programme's metric, its summary rows, periods and reports.

What counts: an online order from the moment it is paid (card: the provider confirmed it; cash on
delivery: delivered) until it is cancelled or refunded, on the local (Tehran) day of ``paid_at``;
and every offline sale (a fair, an exhibition) on the day it was made. Amounts are the sums of
the order lines (snapshots), in rials.

The reports read only summary rows (``sales_order``, ``sales_daily``, ``sales_daily_product``).
They are kept up to date in the same transaction as the change: a session listener notes every
order whose status moved (a new ``OrderStatusChange``, a new or changed ``Order``), and before the
transaction commits compares what each such order should count with what it counts now
(``sales_order``), adding or taking back the difference with upserts. Comparing with the truth
instead of interpreting each move keeps every path exact (cash delivered, card paid, late payment
after an expiry, cancel, refund) and makes the work idempotent. ``rebuild`` recomputes every
summary row from the orders; ``verify`` compares.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import jdatetime
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.catalog.models import Category, Product, Seller, SellerStatus
from app.catalog.queries import category_and_descendant_ids
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.formatting import (
    JALALI_MONTHS_EN,
    JALALI_MONTHS_FA,
    TEHRAN,
    format_date,
    persian_digits,
)
from app.core.inputs import ascii_digits, lenient_int
from app.core.pagination import Page
from app.orders.errors import OutOfStock
from app.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, Provider
from app.program.sales_models import (
    CARD,
    CASH,
    OFFLINE,
    OfflineSale,
    OfflineSaleLine,
    SalesDaily,
    SalesDailyProduct,
    SalesOrder,
    SalesPeriod,
    SalesPeriodBuyer,
)
from app.reference.models import County, Sector

COUNTED = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
_PENDING_KEY = "sales_orders_touched"

SEASONS_FA = ("بهار", "تابستان", "پاییز", "زمستان")
SEASONS_EN = ("Spring", "Summer", "Autumn", "Winter")


def tehran_day(moment: datetime) -> date:
    """The local (Tehran) calendar day of an aware moment."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TEHRAN).date()


def tehran_today() -> date:
    return datetime.now(UTC).astimezone(TEHRAN).date()


def day_start_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TEHRAN).astimezone(UTC)


def jalali_month_of(day: date) -> tuple[int, int]:
    j = jdatetime.date.fromgregorian(date=day)
    return j.year, j.month


def jalali_month_start(year: int, month: int) -> date:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return jdatetime.date(year, month, 1).togregorian()


def month_label(year: int, month: int, locale: str) -> str:
    if locale == "fa":
        return persian_digits(f"{JALALI_MONTHS_FA[month - 1]} {year}")
    start = jalali_month_start(year, month)
    return f"{JALALI_MONTHS_EN[month - 1]} {year} ({start.strftime('%b %Y')})"


# ---- periods ----------------------------------------------------------------------------------

PERIOD_KINDS = ("month", "season", "year", "programme", "custom")
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """A span of local days, ``start`` to ``end`` inclusive, and how it was chosen."""

    kind: str
    start: date
    end: date
    year: int | None = None  # Jalali year (month, season, year, programme)
    number: int | None = None  # Jalali month 1–12 or season 1–4

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(
            "month",
            jalali_month_start(year, month),
            jalali_month_start(year, month + 1) - timedelta(days=1),
            year,
            month,
        )

    @classmethod
    def season(cls, year: int, season: int) -> Period:
        first = (season - 1) * 3 + 1
        return cls(
            "season",
            jalali_month_start(year, first),
            jalali_month_start(year, first + 3) - timedelta(days=1),
            year,
            season,
        )

    @classmethod
    def jalali_year(cls, year: int, kind: str = "year") -> Period:
        """A Jalali year; the programme year is the Jalali year (from 1 Farvardin)."""
        return cls(
            kind, jalali_month_start(year, 1), jalali_month_start(year + 1, 1) - timedelta(1), year
        )

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start:
            start, end = end, start
        end = min(end, start + timedelta(days=MAX_CUSTOM_DAYS))
        return cls("custom", start, end)

    @property
    def key(self) -> str | None:
        """The ``sales_period`` key of a month, season or (programme) year; None for custom."""
        if self.kind == "month":
            return f"M{self.year}{self.number:02d}"
        if self.kind == "season":
            return f"S{self.year}{self.number}"
        if self.kind in ("year", "programme"):
            return f"Y{self.year}"
        return None

    def bounds_utc(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments: local midnight of ``start`` to that after ``end``."""
        return day_start_utc(self.start), day_start_utc(self.end + timedelta(days=1))

    def months(self) -> list[tuple[int, int]]:
        """The Jalali months the period touches, in order."""
        out = []
        year, month = jalali_month_of(self.start)
        while jalali_month_start(year, month) <= self.end:
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def query_args(self) -> dict[str, str]:
        args = {"period": self.kind}
        if self.kind == "custom":
            args.update(start=self.start.isoformat(), end=self.end.isoformat())
        else:
            args["y"] = str(self.year)
            if self.kind == "month":
                args["m"] = str(self.number)
            elif self.kind == "season":
                args["s"] = str(self.number)
        return args

    def label(self, locale: str) -> str:
        """Jalali with Persian digits in ``fa``; Gregorian dates in ``en``."""
        if locale == "fa":
            if self.kind == "month":
                return month_label(self.year or 0, self.number or 1, "fa")
            if self.kind == "season":
                return persian_digits(f"{SEASONS_FA[(self.number or 1) - 1]} {self.year}")
            if self.kind == "year":
                return persian_digits(f"سال {self.year}")
            if self.kind == "programme":
                return persian_digits(f"سال برنامه {self.year}")
        return f"{format_date(self.start, locale)} – {format_date(self.end, locale)}"

    def file_slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def _int(value: object, default: int | None = None) -> int | None:
    """A small non-negative integer from a query value (any digits), else ``default``: never an
    error for ``²``, a thousand digits or text."""
    number = lenient_int(str(value or "")[:20], None, max_digits=9)
    return number if number is not None and number >= 0 else default


def parse_day(text: str | None) -> date | None:
    """``2026-11-21`` (Gregorian) or ``1405-08-30`` / ``1405/8/30`` (Jalali, any digits)."""
    raw = ascii_digits(text or "").strip()
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", raw)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    try:
        if y < 1700:
            return jdatetime.date(y, mo, d).togregorian()
        return date(y, mo, d)
    except ValueError:
        return None


def parse_period(args: Mapping[str, Any], today: date | None = None) -> Period:
    """The period of a query string; anything missing or wrong falls back to this Jalali month."""
    today = today or tehran_today()
    this_year, this_month = jalali_month_of(today)
    kind = args.get("period", "month")
    year = _int(args.get("y"), this_year) or this_year
    if not 1300 <= year <= 1500:
        year = this_year
    if kind == "season":
        season = _int(args.get("s"), (this_month - 1) // 3 + 1) or 1
        return Period.season(year, min(max(season, 1), 4))
    if kind in ("year", "programme"):
        return Period.jalali_year(year, kind)
    if kind == "custom":
        start, end = parse_day(args.get("start")), parse_day(args.get("end"))
        if start and end:
            return Period.custom(start, end)
    month = _int(args.get("m"), this_month) or this_month
    return Period.month(year, min(max(month, 1), 12))


# ---- keeping the summary rows up to date --------------------------------------------------------


def _channel(provider: Provider | str) -> str:
    return CARD if provider == Provider.STRIPE else CASH


def _upsert(session: Session, table: sa.Table, rows: list[dict], keys: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(rows)
    adds = {
        name: table.c[name] + stmt.excluded[name]
        for name in ("orders", "units", "amount")
        if name in table.c
    }
    for name in ("title", "category_id"):
        if name in table.c:
            adds[name] = stmt.excluded[name]
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=adds))


def period_keys(day: date) -> tuple[str, str, str]:
    """The keys of the Jalali month, season and year of a day: ``M140409``, ``S14043``, ``Y1404``."""
    year, month = jalali_month_of(day)
    return f"M{year}{month:02d}", f"S{year}{(month - 1) // 3 + 1}", f"Y{year}"


def _period_bounds(key: str) -> tuple[date, date]:
    year = int(key[1:5])
    if key[0] == "M":
        first, count = int(key[5:]), 1
    elif key[0] == "S":
        first, count = (int(key[5:]) - 1) * 3 + 1, 3
    else:
        first, count = 1, 12
    return jalali_month_start(year, first), jalali_month_start(year, first + count) - timedelta(1)


_PERIOD_SUMS = ("card_amount", "cash_amount", "offline_amount", "orders", "units")


@dataclass
class _Deltas:
    """Changes to the summary rows, applied in one key order (no deadlocks between writers)."""

    daily: dict[tuple[int, date, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    product: dict[tuple[int, date, str, int], list] = field(default_factory=dict)
    # (seller, period key) -> [card, cash, offline, orders, units, first day, last day]
    period: dict[tuple[int, str], list] = field(default_factory=dict)
    # (seller, period key, customer) -> change in the customer's orders
    buyers: dict[tuple[int, str, int], int] = field(default_factory=lambda: defaultdict(int))
    # (seller, period key) whose first and last sale must be looked up again
    shrunk: set[tuple[int, str]] = field(default_factory=set)

    def add(
        self,
        seller_id: int,
        day: date,
        channel: str,
        lines: Iterable[tuple[int | None, str, int | None, int, int]],
        sign: int,
        customer_id: int | None = None,
    ) -> tuple[int, int]:
        """Add (sign +1) or take back (-1) one sale of ``lines``
        (product_id, title, category_id, quantity, amount); returns its units and amount."""
        units = amount = 0
        for product_id, title, category_id, quantity, line_amount in lines:
            key = (seller_id, day, channel, product_id or 0)
            row = self.product.setdefault(key, [0, 0, title, category_id])
            row[0] += sign * quantity
            row[1] += sign * line_amount
            row[2], row[3] = title, category_id
            units += quantity
            amount += line_amount
        total = self.daily[(seller_id, day, channel)]
        total[0] += sign
        total[1] += sign * units
        total[2] += sign * amount
        slot = {CARD: 0, CASH: 1, OFFLINE: 2}[channel]
        for key in period_keys(day):
            row = self.period.setdefault((seller_id, key), [0, 0, 0, 0, 0, None, None])
            row[slot] += sign * amount
            row[3] += sign
            row[4] += sign * units
            if sign > 0:
                row[5] = day if row[5] is None else min(row[5], day)
                row[6] = day if row[6] is None else max(row[6], day)
            else:
                self.shrunk.add((seller_id, key))
            if customer_id is not None:
                self.buyers[(seller_id, key, customer_id)] += sign
        return units, amount

    def apply(self, session: Session) -> None:
        daily_rows = [
            {"seller_id": k[0], "day": k[1], "channel": k[2], "orders": v[0], "units": v[1],
             "amount": v[2]}
            for k, v in sorted(self.daily.items())
            if any(v)
        ]  # fmt: skip
        product_rows = [
            {"seller_id": k[0], "day": k[1], "channel": k[2], "product_key": k[3],
             "units": v[0], "amount": v[1], "title": v[2][:200], "category_id": v[3]}
            for k, v in sorted(self.product.items())
            if v[0] or v[1]
        ]  # fmt: skip
        _upsert(session, SalesDaily.__table__, daily_rows, ["seller_id", "day", "channel"])
        _upsert(
            session,
            SalesDailyProduct.__table__,
            product_rows,
            ["seller_id", "day", "channel", "product_key"],
        )
        # Rows brought back to nothing go, so that "first and last sale" read existing rows.
        if any(r["orders"] < 0 for r in daily_rows):
            keys = [(r["seller_id"], r["day"], r["channel"]) for r in daily_rows]
            session.execute(
                sa.delete(SalesDaily)
                .where(
                    sa.tuple_(SalesDaily.seller_id, SalesDaily.day, SalesDaily.channel).in_(keys),
                    SalesDaily.orders == 0,
                )
                .execution_options(synchronize_session=False)
            )
            pkeys = [
                (r["seller_id"], r["day"], r["channel"], r["product_key"])
                for r in product_rows
                if r["units"] < 0
            ]
            if pkeys:
                session.execute(
                    sa.delete(SalesDailyProduct)
                    .where(
                        sa.tuple_(
                            SalesDailyProduct.seller_id,
                            SalesDailyProduct.day,
                            SalesDailyProduct.channel,
                            SalesDailyProduct.product_key,
                        ).in_(pkeys),
                        SalesDailyProduct.units == 0,
                    )
                    .execution_options(synchronize_session=False)
                )
        self._apply_periods(session)

    def _apply_periods(self, session: Session) -> None:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        # Buyers: the per-customer counts first; a count crossing 0↔1 changes the distinct
        # buyers, one crossing 1↔2 the repeat buyers.
        buyer_change: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        buyer_rows = [
            {"seller_id": k[0], "period_key": k[1], "customer_id": k[2], "orders": d}
            for k, d in sorted(self.buyers.items())
            if d
        ]
        if buyer_rows:
            table = SalesPeriodBuyer.__table__
            stmt = insert(table).values(buyer_rows)
            stmt = stmt.on_conflict_do_update(
                index_elements=["seller_id", "period_key", "customer_id"],
                set_={"orders": table.c.orders + stmt.excluded.orders},
            ).returning(table.c.seller_id, table.c.period_key, table.c.customer_id, table.c.orders)
            emptied = []
            for seller_id, key, customer_id, now in session.execute(stmt):
                before = now - self.buyers[(seller_id, key, customer_id)]
                change = buyer_change[(seller_id, key)]
                change[0] += (now > 0) - (before > 0)
                change[1] += (now > 1) - (before > 1)
                if now == 0:
                    emptied.append((seller_id, key, customer_id))
            if emptied:
                session.execute(
                    sa.delete(SalesPeriodBuyer)
                    .where(
                        sa.tuple_(
                            SalesPeriodBuyer.seller_id,
                            SalesPeriodBuyer.period_key,
                            SalesPeriodBuyer.customer_id,
                        ).in_(emptied),
                        SalesPeriodBuyer.orders == 0,
                    )
                    .execution_options(synchronize_session=False)
                )
        period_rows = []
        for (seller_id, key), v in sorted(self.period.items()):
            b = buyer_change.get((seller_id, key), [0, 0])
            period_rows.append(
                {"seller_id": seller_id, "period_key": key, "card_amount": v[0],
                 "cash_amount": v[1], "offline_amount": v[2], "orders": v[3], "units": v[4],
                 "buyers": b[0], "repeat_buyers": b[1], "first_day": v[5], "last_day": v[6]}
            )  # fmt: skip
        if not period_rows:
            return
        table = SalesPeriod.__table__
        stmt = insert(table).values(period_rows)
        ex = stmt.excluded

        def earliest(cur: Any, new: Any) -> Any:
            return sa.case((new.is_(None), cur), (sa.or_(cur.is_(None), new < cur), new), else_=cur)

        def latest(cur: Any, new: Any) -> Any:
            return sa.case((new.is_(None), cur), (sa.or_(cur.is_(None), new > cur), new), else_=cur)

        sets = {name: table.c[name] + ex[name] for name in (*_PERIOD_SUMS, "buyers",
                                                            "repeat_buyers")}  # fmt: skip
        sets["first_day"] = earliest(table.c.first_day, ex.first_day)
        sets["last_day"] = latest(table.c.last_day, ex.last_day)
        session.execute(
            stmt.on_conflict_do_update(index_elements=["seller_id", "period_key"], set_=sets)
        )
        for seller_id, key in sorted(self.shrunk):
            lo, hi = _period_bounds(key)
            days = sa.select(SalesDaily.day).where(
                SalesDaily.seller_id == seller_id, SalesDaily.day >= lo, SalesDaily.day <= hi
            )
            session.execute(
                sa.update(SalesPeriod)
                .where(SalesPeriod.seller_id == seller_id, SalesPeriod.period_key == key)
                .values(
                    first_day=days.with_only_columns(sa.func.min(SalesDaily.day)).scalar_subquery(),
                    last_day=days.with_only_columns(sa.func.max(SalesDaily.day)).scalar_subquery(),
                )
                .execution_options(synchronize_session=False)
            )
        if self.shrunk:
            session.execute(
                sa.delete(SalesPeriod)
                .where(
                    sa.tuple_(SalesPeriod.seller_id, SalesPeriod.period_key).in_(
                        sorted(self.shrunk)
                    ),
                    SalesPeriod.orders == 0,
                )
                .execution_options(synchronize_session=False)
            )


def sync_orders(session: Session, order_ids: Iterable[int]) -> int:
    """Make the summary rows of these orders match their state; returns how many changed."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    want: dict[int, tuple[int, int, date, str]] = {}
    for row in session.execute(
        sa.select(
            Order.id,
            Order.seller_id,
            Order.customer_id,
            Order.status,
            Order.paid_at,
            Payment.provider,
        )
        .join(Payment, Payment.id == Order.payment_id)
        .where(Order.id.in_(ids))
    ):
        if row.status in COUNTED and row.paid_at is not None:
            want[row.id] = (
                row.seller_id,
                row.customer_id,
                tehran_day(row.paid_at),
                _channel(row.provider),
            )
    have = {
        r.order_id: r
        for r in session.execute(
            sa.select(SalesOrder.__table__).where(SalesOrder.order_id.in_(ids))
        )
    }
    changed = [
        i
        for i in ids
        if want.get(i)
        != ((have[i].seller_id, have[i].customer_id, have[i].day, have[i].channel) if i in have else None)
    ]  # fmt: skip
    if not changed:
        return 0
    lines: dict[int, list[tuple]] = defaultdict(list)
    for r in session.execute(
        sa.select(
            OrderLine.order_id,
            OrderLine.product_id,
            OrderLine.product_title,
            OrderLine.category_id,
            OrderLine.quantity,
            OrderLine.line_total_amount,
        )
        .where(OrderLine.order_id.in_(changed))
        .order_by(OrderLine.id)
    ):
        lines[r.order_id].append(tuple(r)[1:])
    deltas = _Deltas()
    gone, new = [], []
    for order_id in changed:
        if order_id in have:
            h = have[order_id]
            deltas.add(h.seller_id, h.day, h.channel, lines[order_id], -1, h.customer_id)
            gone.append(order_id)
        if order_id in want:
            seller_id, customer_id, day, channel = want[order_id]
            units, amount = deltas.add(seller_id, day, channel, lines[order_id], +1, customer_id)
            new.append(
                {"order_id": order_id, "seller_id": seller_id, "customer_id": customer_id,
                 "day": day, "channel": channel, "units": units, "amount": amount}
            )  # fmt: skip
    if gone:
        session.execute(
            sa.delete(SalesOrder)
            .where(SalesOrder.order_id.in_(gone))
            .execution_options(synchronize_session=False)
        )
    if new:
        session.execute(sa.insert(SalesOrder), new)
    deltas.apply(session)
    return len(changed)


def _after_flush(session: Session, _context: object) -> None:
    touched: set[int] = session.info.setdefault(_PENDING_KEY, set())
    for obj in session.new:
        if isinstance(obj, OrderStatusChange) and obj.order_id is not None:
            touched.add(obj.order_id)
        elif isinstance(obj, Order) and obj.id is not None:
            touched.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Order) and obj.id is not None:
            attrs = sa.inspect(obj).attrs
            if attrs.status.history.has_changes() or attrs.paid_at.history.has_changes():
                touched.add(obj.id)
    for obj in session.deleted:
        if isinstance(obj, Order) and obj.id is not None:
            touched.discard(obj.id)


def _before_commit(session: Session) -> None:
    if not (session.new or session.dirty or session.info.get(_PENDING_KEY)):
        return
    session.flush()
    touched = session.info.pop(_PENDING_KEY, None)
    if touched:
        with session.no_autoflush:
            sync_orders(session, touched)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)


def install(session_factory: object) -> None:
    """Listen on the Flask-SQLAlchemy session class (idempotent)."""
    for name, fn in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not sa.event.contains(session_factory, name, fn):
            sa.event.listen(session_factory, name, fn)


# ---- offline sales ----------------------------------------------------------------------------


@dataclass
class OfflineLineInput:
    product_id: int | None
    title: str
    quantity: int
    amount: int


def _offline_lines(sale: OfflineSale) -> list[tuple]:
    return [(x.product_id, x.title, x.category_id, x.quantity, x.amount) for x in sale.lines]


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
) -> OfflineSale:
    """Record a sale made at a fair or an exhibition; it counts as offline sales volume at once.

    With ``take_stock`` the quantities leave the online stock (all or nothing; never below zero:
    raises OutOfStock). Raises ValidationFailed for bad input, NotAllowed for another seller's
    product. Commits.
    """
    from app.audit import log as audit
    from app.core.db import begin_write

    today = today or tehran_today()
    errors: dict[str, list[str]] = {}
    place = " ".join((place or "").split())[:200]
    if not place:
        errors["place"] = ["required"]
    if sold_on > today:
        errors["sold_on"] = ["in_future"]
    elif sold_on < today - timedelta(days=3 * 366):
        errors["sold_on"] = ["too_old"]
    clean = [x for x in lines if x.product_id or (x.title or "").strip()]
    if not clean:
        errors["lines"] = ["required"]
    for x in clean:
        if x.quantity is None or x.quantity <= 0:
            errors.setdefault("lines", []).append("quantity_positive")
        if x.amount is None or x.amount < 0:
            errors.setdefault("lines", []).append("amount_non_negative")
    if take_stock and any(x.product_id is None for x in clean):
        errors.setdefault("lines", []).append("stock_needs_product")
    if errors:
        raise ValidationFailed(errors)
    begin_write()
    try:
        ids = {x.product_id for x in clean if x.product_id}
        products = {
            p.id: p for p in db.session.scalars(sa.select(Product).where(Product.id.in_(ids)))
        }
        if any(products.get(pid) is None or products[pid].seller_id != seller.id for pid in ids):
            raise NotAllowed("product of another seller")
        sale = OfflineSale(
            seller_id=seller.id,
            recorded_by_id=actor_id,
            sold_on=sold_on,
            place=place,
            note=(note or "").strip()[:2000],
            amount=sum(x.amount for x in clean),
            took_stock=take_stock,
        )
        for x in clean:
            product = products.get(x.product_id) if x.product_id else None
            sale.lines.append(
                OfflineSaleLine(
                    product_id=x.product_id,
                    title=(product.title if product else " ".join(x.title.split()))[:200],
                    category_id=product.category_id if product else None,
                    quantity=x.quantity,
                    amount=x.amount,
                )
            )
        if take_stock:
            _take_stock([(x.product_id, x.quantity) for x in clean if x.product_id])
        db.session.add(sale)
        db.session.flush()
        deltas = _Deltas()
        deltas.add(seller.id, sold_on, OFFLINE, _offline_lines(sale), +1)
        deltas.apply(db.session)
        audit.record(
            actor_id,
            "offline_sale.create",
            "offline_sale",
            sale.id,
            data={"seller_id": seller.id, "amount": sale.amount, "took_stock": take_stock},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return sale


def _take_stock(wanted: list[tuple[int, int]]) -> None:
    from app.catalog.changes import mark_catalog_changed

    totals: dict[int, int] = defaultdict(int)
    for product_id, quantity in wanted:
        totals[product_id] += quantity
    for product_id, quantity in sorted(totals.items()):  # one lock order, as at checkout
        taken = db.session.execute(
            sa.update(Product)
            .where(Product.id == product_id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity, search_dirty=True)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            title = db.session.scalar(sa.select(Product.title).where(Product.id == product_id))
            raise OutOfStock(product_id, title or "")
    mark_catalog_changed(db.session)


def delete_offline_sale(sale: OfflineSale, actor_id: int | None) -> None:
    """Remove a mistaken record: its figures leave the reports and taken stock goes back."""
    from app.audit import log as audit
    from app.catalog.changes import mark_catalog_changed
    from app.core.db import begin_write

    begin_write()
    try:
        sale = db.session.get(OfflineSale, sale.id, populate_existing=True)
        if sale is None:
            db.session.rollback()
            return
        deltas = _Deltas()
        deltas.add(sale.seller_id, sale.sold_on, OFFLINE, _offline_lines(sale), -1)
        deltas.apply(db.session)
        if sale.took_stock:
            for line in sale.lines:
                if line.product_id is not None:
                    db.session.execute(
                        sa.update(Product)
                        .where(Product.id == line.product_id)
                        .values(stock=Product.stock + line.quantity, search_dirty=True)
                        .execution_options(synchronize_session=False)
                    )
            mark_catalog_changed(db.session)
        audit.record(
            actor_id,
            "offline_sale.delete",
            "offline_sale",
            sale.id,
            data={"seller_id": sale.seller_id, "amount": sale.amount, "sold_on": str(sale.sold_on)},
        )
        db.session.delete(sale)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# ---- rebuild and verify -------------------------------------------------------------------------


def _py_tehran_day(value: str | None) -> str | None:
    if value is None:
        return None
    return tehran_day(datetime.fromisoformat(value)).isoformat()


def _day_of(column: Any, session: Session) -> Any:
    """SQL for the Tehran day of a UTC timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone(TEHRAN.key, column), sa.Date)
    raw = session.connection().connection.dbapi_connection
    raw.create_function("tehran_day", 1, _py_tehran_day, deterministic=True)
    return sa.func.tehran_day(column, type_=sa.Date)


def _truth_orders(session: Session) -> sa.Select:
    line_sums = (
        sa.select(
            OrderLine.order_id,
            sa.func.sum(OrderLine.quantity).label("units"),
            sa.func.sum(OrderLine.line_total_amount).label("amount"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )
    return (
        sa.select(
            Order.id.label("order_id"),
            Order.seller_id,
            Order.customer_id,
            _day_of(Order.paid_at, session).label("day"),
            sa.case((Payment.provider == Provider.STRIPE, CARD), else_=CASH).label("channel"),
            line_sums.c.units,
            line_sums.c.amount,
        )
        .join(Payment, Payment.id == Order.payment_id)
        .join(line_sums, line_sums.c.order_id == Order.id)
        .where(Order.status.in_(COUNTED), Order.paid_at.is_not(None))
    )


def _truth_daily(orders: Any) -> sa.Select:
    """(seller, day, channel, orders, units, amount) from a sales_order-shaped table, plus
    the offline sales."""
    online = sa.select(
        orders.c.seller_id,
        orders.c.day,
        orders.c.channel,
        sa.func.count().label("orders"),
        sa.func.sum(orders.c.units).label("units"),
        sa.func.sum(orders.c.amount).label("amount"),
    ).group_by(orders.c.seller_id, orders.c.day, orders.c.channel)
    units = (
        sa.select(OfflineSaleLine.sale_id, sa.func.sum(OfflineSaleLine.quantity).label("units"))
        .group_by(OfflineSaleLine.sale_id)
        .subquery()
    )
    offline = (
        sa.select(
            OfflineSale.seller_id,
            OfflineSale.sold_on.label("day"),
            sa.literal(OFFLINE, sa.String(10)).label("channel"),
            sa.func.count().label("orders"),
            sa.func.sum(units.c.units).label("units"),
            sa.func.sum(OfflineSale.amount).label("amount"),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .group_by(OfflineSale.seller_id, OfflineSale.sold_on)
    )
    return sa.union_all(online, offline)


def _truth_products(orders: Any) -> sa.Select:
    # One expression object for the select list and GROUP BY (PostgreSQL compares them).
    line_key = sa.func.coalesce(OrderLine.product_id, sa.literal_column("0"))
    offline_key = sa.func.coalesce(OfflineSaleLine.product_id, sa.literal_column("0"))
    online = (
        sa.select(
            orders.c.seller_id,
            orders.c.day,
            orders.c.channel,
            line_key.label("product_key"),
            sa.func.max(OrderLine.category_id).label("category_id"),
            sa.func.max(OrderLine.product_title).label("title"),
            sa.func.sum(OrderLine.quantity).label("units"),
            sa.func.sum(OrderLine.line_total_amount).label("amount"),
        )
        .join(OrderLine, OrderLine.order_id == orders.c.order_id)
        .group_by(
            orders.c.seller_id,
            orders.c.day,
            orders.c.channel,
            line_key,
        )
    )
    offline = (
        sa.select(
            OfflineSale.seller_id,
            OfflineSale.sold_on.label("day"),
            sa.literal(OFFLINE, sa.String(10)).label("channel"),
            offline_key.label("product_key"),
            sa.func.max(OfflineSaleLine.category_id).label("category_id"),
            sa.func.max(OfflineSaleLine.title).label("title"),
            sa.func.sum(OfflineSaleLine.quantity).label("units"),
            sa.func.sum(OfflineSaleLine.amount).label("amount"),
        )
        .join(OfflineSaleLine, OfflineSaleLine.sale_id == OfflineSale.id)
        .group_by(
            OfflineSale.seller_id,
            OfflineSale.sold_on,
            offline_key,
        )
    )
    return sa.union_all(online, offline)


def _calendar(session: Session, first: date | None, last: date | None) -> sa.Table:
    """A temporary table of (day, period_key), three rows a day from ``first`` to ``last``."""
    table = sa.Table(
        "tmp_sales_calendar",
        sa.MetaData(),
        sa.Column("day", sa.Date),
        sa.Column("period_key", sa.String(8)),
        prefixes=["TEMPORARY"],
    )
    conn = session.connection()
    conn.exec_driver_sql("DROP TABLE IF EXISTS tmp_sales_calendar")
    table.create(conn)
    if first is not None and last is not None:
        rows = []
        day = _as_date(first)
        while day <= _as_date(last):
            rows.extend({"day": day, "period_key": key} for key in period_keys(day))
            day += timedelta(days=1)
        session.execute(table.insert(), rows)
    if session.get_bind().dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE tmp_sales_calendar")  # a temporary table has no statistics
    return table


def _period_rows(daily: Any, orders: Any, cal: sa.Table) -> tuple[sa.Select, sa.Select]:
    """SELECTs of the sales_period and sales_period_buyer rows, from a sales_daily-shaped and a
    sales_order-shaped source."""

    def channel_sum(channel: str) -> Any:
        return sa.func.sum(sa.case((daily.c.channel == channel, daily.c.amount), else_=0))

    sums = (
        sa.select(
            daily.c.seller_id,
            cal.c.period_key,
            channel_sum(CARD).label("card_amount"),
            channel_sum(CASH).label("cash_amount"),
            channel_sum(OFFLINE).label("offline_amount"),
            sa.func.sum(daily.c.orders).label("orders"),
            sa.func.sum(daily.c.units).label("units"),
            sa.func.min(daily.c.day).label("first_day"),
            sa.func.max(daily.c.day).label("last_day"),
        )
        .join(cal, cal.c.day == daily.c.day)
        .group_by(daily.c.seller_id, cal.c.period_key)
        .subquery()
    )
    per_buyer = (
        sa.select(
            orders.c.seller_id,
            cal.c.period_key,
            orders.c.customer_id,
            sa.func.count().label("orders"),
        )
        .join(cal, cal.c.day == orders.c.day)
        .group_by(orders.c.seller_id, cal.c.period_key, orders.c.customer_id)
    )
    pb = per_buyer.subquery()
    buyers = (
        sa.select(
            pb.c.seller_id,
            pb.c.period_key,
            sa.func.count().label("buyers"),
            sa.func.sum(sa.case((pb.c.orders > 1, 1), else_=0)).label("repeat_buyers"),
        )
        .group_by(pb.c.seller_id, pb.c.period_key)
        .subquery()
    )
    periods = sa.select(
        sums.c.seller_id,
        sums.c.period_key,
        sums.c.card_amount,
        sums.c.cash_amount,
        sums.c.offline_amount,
        sums.c.orders,
        sums.c.units,
        sa.func.coalesce(buyers.c.buyers, 0),
        sa.func.coalesce(buyers.c.repeat_buyers, 0),
        sums.c.first_day,
        sums.c.last_day,
    ).outerjoin(
        buyers,
        sa.and_(buyers.c.seller_id == sums.c.seller_id, buyers.c.period_key == sums.c.period_key),
    )
    return periods, per_buyer


PERIOD_COLUMNS = ["seller_id", "period_key", "card_amount", "cash_amount", "offline_amount",
                  "orders", "units", "buyers", "repeat_buyers", "first_day", "last_day"]  # fmt: skip


def rebuild() -> dict[str, int]:
    """``flask reports rebuild``: recompute every summary row from the orders and offline sales."""
    from app.core.db import begin_write

    session = db.session
    begin_write()
    try:
        for model in (SalesPeriodBuyer, SalesPeriod, SalesDailyProduct, SalesDaily, SalesOrder):
            session.execute(sa.delete(model).execution_options(synchronize_session=False))
        truth = _truth_orders(session)
        cols = ["order_id", "seller_id", "customer_id", "day", "channel", "units", "amount"]
        session.execute(sa.insert(SalesOrder).from_select(cols, truth))
        orders_t = SalesOrder.__table__
        session.execute(
            sa.insert(SalesDaily).from_select(
                ["seller_id", "day", "channel", "orders", "units", "amount"], _truth_daily(orders_t)
            )
        )
        session.execute(
            sa.insert(SalesDailyProduct).from_select(
                ["seller_id", "day", "channel", "product_key", "category_id", "title", "units",
                 "amount"],
                _truth_products(orders_t),
            )
        )  # fmt: skip
        span = session.execute(
            sa.select(sa.func.min(SalesDaily.day), sa.func.max(SalesDaily.day))
        ).one()
        cal = _calendar(session, *span)
        periods, per_buyer = _period_rows(SalesDaily.__table__, orders_t, cal)
        session.execute(sa.insert(SalesPeriod).from_select(PERIOD_COLUMNS, periods))
        session.execute(
            sa.insert(SalesPeriodBuyer).from_select(
                ["seller_id", "period_key", "customer_id", "orders"], per_buyer
            )
        )
        session.execute(sa.text("DROP TABLE tmp_sales_calendar"))
        counts = {
            "orders": session.scalar(sa.select(sa.func.count()).select_from(SalesOrder)) or 0,
            "daily": session.scalar(sa.select(sa.func.count()).select_from(SalesDaily)) or 0,
            "products": session.scalar(sa.select(sa.func.count()).select_from(SalesDailyProduct))
            or 0,
        }
        session.commit()
    except Exception:
        session.rollback()
        raise
    return counts


def verify() -> list[str]:
    """``flask reports verify``: the differences between the summary rows and the truth."""
    session = db.session
    problems: list[str] = []
    truth = _truth_orders(session).subquery()

    def table(stmt: Any, width: int) -> dict[tuple, tuple]:
        return {tuple(r[:width]): tuple(r[width:]) for r in session.execute(stmt)}

    checks = [
        (
            "sales_order",
            sa.select(truth.c.order_id, truth.c.seller_id, truth.c.customer_id, truth.c.day,
                      truth.c.channel, truth.c.units, truth.c.amount),
            sa.select(SalesOrder.order_id, SalesOrder.seller_id, SalesOrder.customer_id,
                      SalesOrder.day, SalesOrder.channel, SalesOrder.units, SalesOrder.amount),
            5,
        ),
        (
            "sales_daily",
            _truth_daily(truth),
            sa.select(SalesDaily.seller_id, SalesDaily.day, SalesDaily.channel, SalesDaily.orders,
                      SalesDaily.units, SalesDaily.amount),
            3,
        ),
        (
            "sales_daily_product",
            sa.select(*[c for c in _truth_products(truth).subquery().c
                        if c.name not in ("title", "category_id")]),
            sa.select(SalesDailyProduct.seller_id, SalesDailyProduct.day,
                      SalesDailyProduct.channel, SalesDailyProduct.product_key,
                      SalesDailyProduct.units, SalesDailyProduct.amount),
            4,
        ),
    ]  # fmt: skip
    truth_daily = _truth_daily(truth).subquery()
    span = session.execute(
        sa.select(sa.func.min(truth_daily.c.day), sa.func.max(truth_daily.c.day))
    ).one()
    cal = _calendar(session, *span)
    periods, per_buyer = _period_rows(truth_daily, truth, cal)
    checks.append(
        (
            "sales_period",
            periods,
            sa.select(*[SalesPeriod.__table__.c[n] for n in PERIOD_COLUMNS]),
            2,
        )
    )
    checks.append(
        (
            "sales_period_buyer",
            per_buyer,
            sa.select(SalesPeriodBuyer.seller_id, SalesPeriodBuyer.period_key,
                      SalesPeriodBuyer.customer_id, SalesPeriodBuyer.orders),
            3,
        )
    )  # fmt: skip
    for name, expected_stmt, actual_stmt, width in checks:
        expected = table(expected_stmt, width)
        actual = table(actual_stmt, width)
        for key in sorted(expected.keys() | actual.keys(), key=str):
            want = tuple(int(v) if isinstance(v, int | float) else v for v in expected.get(key, ()))
            got = tuple(int(v) if isinstance(v, int | float) else v for v in actual.get(key, ()))
            if want != got:
                problems.append(f"{name} {key}: expected {want or None}, found {got or None}")
    session.rollback()
    return problems


# ---- reports --------------------------------------------------------------------------------------

SORT_COLUMNS = (
    "seller", "county", "sector", "registration_code", "card_amount", "cash_amount",
    "offline_amount", "total_amount", "orders", "units", "buyers", "repeat_buyers",
    "first_sale", "last_sale",
)  # fmt: skip


@dataclass
class Filters:
    county_id: int | None = None
    sector_id: int | None = None
    category_id: int | None = None
    cohort: int | None = None  # Jalali year in which training was completed
    seller_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Filters:
        return cls(
            county_id=_int(args.get("county")),
            sector_id=_int(args.get("sector")),
            category_id=_int(args.get("category")),
            cohort=_int(args.get("cohort")),
        )

    def query_args(self) -> dict[str, str]:
        out = {}
        for key, value in (
            ("county", self.county_id),
            ("sector", self.sector_id),
            ("category", self.category_id),
            ("cohort", self.cohort),
        ):
            if value:
                out[key] = str(value)
        return out


@dataclass
class SellerSales:
    seller_id: int
    seller: str
    slug: str
    county: str
    sector: str
    registration_code: str | None
    card_amount: int
    cash_amount: int
    offline_amount: int
    total_amount: int
    orders: int | None
    units: int
    buyers: int | None
    repeat_buyers: int | None
    first_sale: date | None
    last_sale: date | None


@dataclass(frozen=True)
class SalesPage(Page):
    """A page of the per-seller report, with the totals of every matching seller."""

    totals: dict[str, int] = field(default_factory=dict)


def category_subtree(category_id: int) -> list[int]:
    """The category and its descendants (a missing category matches nothing)."""
    category = db.session.get(Category, category_id)
    return sorted(category_and_descendant_ids(category)) if category else [category_id]


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _figures(period: Period, category_ids: list[int] | None) -> sa.Subquery:
    source = SalesDailyProduct if category_ids is not None else SalesDaily

    def channel_sum(channel: str) -> Any:
        return sa.func.sum(sa.case((source.channel == channel, source.amount), else_=0))

    cols = [
        source.seller_id.label("seller_id"),
        channel_sum(CARD).label("card_amount"),
        channel_sum(CASH).label("cash_amount"),
        channel_sum(OFFLINE).label("offline_amount"),
        sa.func.sum(source.amount).label("total_amount"),
        sa.func.sum(source.units).label("units"),
        sa.func.min(source.day).label("first_sale"),
        sa.func.max(source.day).label("last_sale"),
    ]
    if category_ids is None:
        cols.append(sa.func.sum(SalesDaily.orders).label("orders"))
    stmt = sa.select(*cols).where(source.day >= period.start, source.day <= period.end)
    if category_ids is not None:
        stmt = stmt.where(SalesDailyProduct.category_id.in_(category_ids))
    return stmt.group_by(source.seller_id).subquery("figures")


def _buyers(period: Period) -> sa.Subquery:
    per_buyer = (
        sa.select(SalesOrder.seller_id, sa.func.count().label("n"))
        .where(SalesOrder.day >= period.start, SalesOrder.day <= period.end)
        .group_by(SalesOrder.seller_id, SalesOrder.customer_id)
        .subquery()
    )
    return (
        sa.select(
            per_buyer.c.seller_id,
            sa.func.count().label("buyers"),
            sa.func.sum(sa.case((per_buyer.c.n > 1, 1), else_=0)).label("repeat_buyers"),
        )
        .group_by(per_buyer.c.seller_id)
        .subquery("buyers")
    )


def seller_sales(
    period: Period,
    filters: Filters | None = None,
    sort: str = "-total_amount",
    page: int | None = 1,
    per_page: int = 50,
    locale: str = "fa",
) -> SalesPage:
    """Sales of every approved seller in ``period`` (sellers without sales too), filtered,
    sorted by any column (``-`` first for descending) and paged (``page=None``: every row).

    Reads only the summary rows. ``orders`` counts online orders and offline sale records;
    buyers are online customers (an offline sale has no known buyer); a repeat buyer bought
    twice or more in the period. With a category filter the amounts and units are those of the
    category's products, and orders and buyers (not kept per category) are None.
    """
    filters = filters or Filters()
    category_ids = category_subtree(filters.category_id) if filters.category_id else None
    if category_ids is None and period.key is not None:
        # A month, season or year: one summary row per seller holds it all.
        figures = (
            sa.select(
                SalesPeriod.seller_id,
                SalesPeriod.card_amount,
                SalesPeriod.cash_amount,
                SalesPeriod.offline_amount,
                (
                    SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount
                ).label("total_amount"),
                SalesPeriod.units,
                SalesPeriod.orders,
                SalesPeriod.first_day.label("first_sale"),
                SalesPeriod.last_day.label("last_sale"),
                SalesPeriod.buyers,
                SalesPeriod.repeat_buyers,
            )
            .where(SalesPeriod.period_key == period.key)
            .subquery("figures")
        )
        buyers = figures
    else:
        figures = _figures(period, category_ids)
        buyers = _buyers(period) if category_ids is None else None
    county_name = County.name_en if locale == "en" else County.name_fa
    sector_name = Sector.name_en if locale == "en" else Sector.name_fa
    zero = sa.literal(0, sa.BigInteger)
    columns = {
        "seller": Seller.display_name,
        "county": county_name,
        "sector": sector_name,
        "registration_code": Seller.registration_code,
        "card_amount": sa.func.coalesce(figures.c.card_amount, zero),
        "cash_amount": sa.func.coalesce(figures.c.cash_amount, zero),
        "offline_amount": sa.func.coalesce(figures.c.offline_amount, zero),
        "total_amount": sa.func.coalesce(figures.c.total_amount, zero),
        "orders": sa.func.coalesce(figures.c.orders, zero) if buyers is not None else sa.null(),
        "units": sa.func.coalesce(figures.c.units, zero),
        "buyers": sa.func.coalesce(buyers.c.buyers, zero) if buyers is not None else sa.null(),
        "repeat_buyers": sa.func.coalesce(buyers.c.repeat_buyers, zero)
        if buyers is not None
        else sa.null(),
        "first_sale": figures.c.first_sale,
        "last_sale": figures.c.last_sale,
    }
    conditions = [Seller.status == SellerStatus.APPROVED]
    if filters.county_id:
        conditions.append(Seller.county_id == filters.county_id)
    if filters.sector_id:
        conditions.append(Seller.sector_id == filters.sector_id)
    if filters.seller_id:
        conditions.append(Seller.id == filters.seller_id)
    if filters.cohort:
        conditions.append(Seller.training_completed_on >= jalali_month_start(filters.cohort, 1))
        conditions.append(Seller.training_completed_on < jalali_month_start(filters.cohort + 1, 1))
    stmt = (
        sa.select(Seller.id, Seller.slug, *[c.label(k) for k, c in columns.items()])
        .join(County, County.id == Seller.county_id)
        .join(Sector, Sector.id == Seller.sector_id)
        .outerjoin(figures, figures.c.seller_id == Seller.id)
        .where(*conditions)
    )
    if buyers is not None and buyers is not figures:
        stmt = stmt.outerjoin(buyers, buyers.c.seller_id == Seller.id)
    key = sort.lstrip("-")
    if key not in columns:
        key, sort = "total_amount", "-total_amount"
    order = columns[key].desc() if sort.startswith("-") else columns[key].asc()
    if key in ("first_sale", "last_sale"):
        order = order.nulls_last()
    stmt = stmt.order_by(order, Seller.id)
    total = db.session.scalar(sa.select(sa.func.count(Seller.id)).where(*conditions)) or 0
    if page is not None:
        page = min(max(page, 1), max(1, -(-total // per_page)))
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    items = []
    # Positional unpacking: attribute access on 2,500 result rows is measurably slow.
    for (seller_id, slug, name, county, sector, code, card, cash, offline, amount, orders,
         units, buyers_n, repeat, first, last) in db.session.execute(stmt).tuples():  # fmt: skip
        items.append(
            SellerSales(
                seller_id=seller_id,
                slug=slug,
                seller=name,
                county=county,
                sector=sector,
                registration_code=code,
                card_amount=int(card),
                cash_amount=int(cash),
                offline_amount=int(offline),
                total_amount=int(amount),
                orders=None if orders is None else int(orders),
                units=int(units),
                buyers=None if buyers_n is None else int(buyers_n),
                repeat_buyers=None if repeat is None else int(repeat),
                first_sale=_as_date(first),
                last_sale=_as_date(last),
            )
        )
    totals_row = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(figures.c.card_amount), 0),
            sa.func.coalesce(sa.func.sum(figures.c.cash_amount), 0),
            sa.func.coalesce(sa.func.sum(figures.c.offline_amount), 0),
            sa.func.coalesce(sa.func.sum(figures.c.total_amount), 0),
            sa.func.coalesce(sa.func.sum(figures.c.units), 0),
        )
        .select_from(Seller)
        .join(figures, figures.c.seller_id == Seller.id)
        .where(*conditions)
    ).one()
    totals = dict(
        zip(
            ("card_amount", "cash_amount", "offline_amount", "total_amount", "units"),
            (int(v) for v in totals_row),
            strict=True,
        )
    )
    return SalesPage(
        items=items,
        page=page or 1,
        per_page=per_page if page is not None else max(total, 1),
        total=total,
        totals=totals,
    )


@dataclass
class MonthFigures:
    year: int
    month: int
    card_amount: int = 0
    cash_amount: int = 0
    offline_amount: int = 0
    orders: int = 0
    units: int = 0

    @property
    def total_amount(self) -> int:
        return self.card_amount + self.cash_amount + self.offline_amount

    def label(self, locale: str) -> str:
        return month_label(self.year, self.month, locale)


@dataclass
class SellerDetail:
    row: SellerSales
    months: list[MonthFigures]
    top_products: list[dict[str, Any]]


def series_months(period: Period) -> list[tuple[int, int]]:
    """The months of the period; for a period within one month, the 12 months ending with it."""
    months = period.months()
    if len(months) >= 2:
        return months
    year, month = months[-1]
    out = []
    for back in range(11, -1, -1):
        y, m = year, month - back
        while m < 1:
            y, m = y - 1, m + 12
        out.append((y, m))
    return out


def seller_detail(seller: Seller, period: Period, locale: str = "fa") -> SellerDetail:
    """One seller's figures in the period, a monthly series (Jalali months) and top products."""
    page = seller_sales(period, Filters(seller_id=seller.id), page=None, locale=locale)
    if not page.items:
        raise NotAllowed("seller not approved")
    months = series_months(period)
    first = jalali_month_start(*months[0])
    last = jalali_month_start(months[-1][0], months[-1][1] + 1) - timedelta(days=1)
    by_month = {m: MonthFigures(*m) for m in months}
    for r in db.session.execute(
        sa.select(
            SalesDaily.day,
            SalesDaily.channel,
            SalesDaily.orders,
            SalesDaily.units,
            SalesDaily.amount,
        ).where(SalesDaily.seller_id == seller.id, SalesDaily.day >= first, SalesDaily.day <= last)
    ):
        figures = by_month.get(jalali_month_of(_as_date(r.day)))
        if figures is None:
            continue
        setattr(
            figures,
            f"{r.channel}_amount",
            getattr(figures, f"{r.channel}_amount") + int(r.amount),
        )
        figures.orders += int(r.orders)
        figures.units += int(r.units)
    top = [
        {"product_id": r.product_key or None, "title": r.title, "units": int(r.units),
         "amount": int(r.amount)}
        for r in db.session.execute(
            sa.select(
                SalesDailyProduct.product_key,
                sa.func.max(SalesDailyProduct.title).label("title"),
                sa.func.sum(SalesDailyProduct.units).label("units"),
                sa.func.sum(SalesDailyProduct.amount).label("amount"),
            )
            .where(
                SalesDailyProduct.seller_id == seller.id,
                SalesDailyProduct.day >= period.start,
                SalesDailyProduct.day <= period.end,
            )
            .group_by(SalesDailyProduct.product_key)
            .order_by(sa.func.sum(SalesDailyProduct.amount).desc(), SalesDailyProduct.product_key)
            .limit(10)
        )
    ]  # fmt: skip
    return SellerDetail(page.items[0], list(by_month.values()), top)


def county_monthly(period: Period) -> dict[tuple[int, int, int], dict[str, int]]:
    """(county_id, Jalali year, month) -> orders, units, amount; from the summary rows (the
    monthly rows when the period is made of whole Jalali months, else the daily rows)."""
    out: dict[tuple[int, int, int], dict[str, int]] = {}
    months = period.months()
    whole = (
        jalali_month_start(*months[0]) == period.start
        and jalali_month_start(months[-1][0], months[-1][1] + 1) - timedelta(days=1) == period.end
    )
    if whole:
        keys = {f"M{y}{m:02d}": (y, m) for y, m in months}
        for county_id, key, orders, units, amount in db.session.execute(
            sa.select(
                Seller.county_id,
                SalesPeriod.period_key,
                sa.func.sum(SalesPeriod.orders),
                sa.func.sum(SalesPeriod.units),
                sa.func.sum(
                    SalesPeriod.card_amount + SalesPeriod.cash_amount + SalesPeriod.offline_amount
                ),
            )
            .join(Seller, Seller.id == SalesPeriod.seller_id)
            .where(SalesPeriod.period_key.in_(keys))
            .group_by(Seller.county_id, SalesPeriod.period_key)
        ):
            out[(county_id, *keys[key])] = {
                "orders": int(orders),
                "units": int(units),
                "amount": int(amount),
            }
        return out
    month_of: dict[Any, tuple[int, int]] = {}
    for r in db.session.execute(
        sa.select(
            Seller.county_id,
            SalesDaily.day,
            sa.func.sum(SalesDaily.orders),
            sa.func.sum(SalesDaily.units),
            sa.func.sum(SalesDaily.amount),
        )
        .join(Seller, Seller.id == SalesDaily.seller_id)
        .where(SalesDaily.day >= period.start, SalesDaily.day <= period.end)
        .group_by(Seller.county_id, SalesDaily.day)
    ):
        if r[1] not in month_of:
            month_of[r[1]] = jalali_month_of(_as_date(r[1]))
        key = (r[0], *month_of[r[1]])
        row = out.setdefault(key, {"orders": 0, "units": 0, "amount": 0})
        row["orders"] += int(r[2])
        row["units"] += int(r[3])
        row["amount"] += int(r[4])
    return out


# ---- the same figures straight from the order lines (benchmarks and tests) -----------------------


def plain_seller_sales(period: Period) -> dict[int, dict[str, Any]]:
    """Per seller with sales in ``period``: the report's figures by a plain GROUP BY over the
    order lines (and offline sale lines), without the summary rows."""
    lo, hi = period.bounds_utc()
    in_period = (Order.status.in_(COUNTED), Order.paid_at >= lo, Order.paid_at < hi)
    out: dict[int, dict[str, Any]] = {}

    def row(seller_id: int) -> dict[str, Any]:
        return out.setdefault(
            seller_id,
            {"card_amount": 0, "cash_amount": 0, "offline_amount": 0, "total_amount": 0,
             "orders": 0, "units": 0, "buyers": 0, "repeat_buyers": 0, "first_sale": None,
             "last_sale": None},
        )  # fmt: skip

    def seen(r: dict[str, Any], first: date, last: date) -> None:
        r["first_sale"] = min(filter(None, (r["first_sale"], first)))
        r["last_sale"] = max(filter(None, (r["last_sale"], last)))

    for seller_id, provider, orders, units, amount, first, last in db.session.execute(
        sa.select(
            Order.seller_id,
            Payment.provider,
            sa.func.count(sa.distinct(Order.id)),
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.line_total_amount),
            sa.func.min(Order.paid_at),
            sa.func.max(Order.paid_at),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Payment, Payment.id == Order.payment_id)
        .where(*in_period)
        .group_by(Order.seller_id, Payment.provider)
    ):
        r = row(seller_id)
        r[f"{_channel(provider)}_amount"] += int(amount)
        r["total_amount"] += int(amount)
        r["orders"] += int(orders)
        r["units"] += int(units)
        seen(r, tehran_day(first), tehran_day(last))
    per_buyer = (
        sa.select(Order.seller_id, sa.func.count().label("n"))
        .where(*in_period)
        .group_by(Order.seller_id, Order.customer_id)
        .subquery()
    )
    for seller_id, buyers, repeat in db.session.execute(
        sa.select(
            per_buyer.c.seller_id,
            sa.func.count(),
            sa.func.sum(sa.case((per_buyer.c.n > 1, 1), else_=0)),
        ).group_by(per_buyer.c.seller_id)
    ):
        r = row(seller_id)
        r["buyers"], r["repeat_buyers"] = int(buyers), int(repeat)
    units = (
        sa.select(OfflineSaleLine.sale_id, sa.func.sum(OfflineSaleLine.quantity).label("units"))
        .group_by(OfflineSaleLine.sale_id)
        .subquery()
    )
    for seller_id, sales, units_sum, amount, first, last in db.session.execute(
        sa.select(
            OfflineSale.seller_id,
            sa.func.count(),
            sa.func.sum(units.c.units),
            sa.func.sum(OfflineSale.amount),
            sa.func.min(OfflineSale.sold_on),
            sa.func.max(OfflineSale.sold_on),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .where(OfflineSale.sold_on >= period.start, OfflineSale.sold_on <= period.end)
        .group_by(OfflineSale.seller_id)
    ):
        r = row(seller_id)
        r["offline_amount"] += int(amount)
        r["total_amount"] += int(amount)
        r["orders"] += int(sales)
        r["units"] += int(units_sum)
        seen(r, _as_date(first), _as_date(last))
    return out


def plain_county_monthly(period: Period) -> dict[tuple[int, int, int], dict[str, int]]:
    """``county_monthly`` by a plain GROUP BY over the order lines and offline sales."""
    lo, hi = period.bounds_utc()
    day = _day_of(Order.paid_at, db.session)
    out: dict[tuple[int, int, int], dict[str, int]] = {}
    month_of: dict[Any, tuple[int, int]] = {}

    def add(county_id: int, d: Any, orders: int, units: int, amount: int) -> None:
        if d not in month_of:
            month_of[d] = jalali_month_of(_as_date(d))
        row = out.setdefault((county_id, *month_of[d]), {"orders": 0, "units": 0, "amount": 0})
        row["orders"] += int(orders)
        row["units"] += int(units)
        row["amount"] += int(amount)

    for r in db.session.execute(
        sa.select(
            Seller.county_id,
            day,
            sa.func.count(sa.distinct(Order.id)),
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.line_total_amount),
        )
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Seller, Seller.id == Order.seller_id)
        .where(Order.status.in_(COUNTED), Order.paid_at >= lo, Order.paid_at < hi)
        .group_by(Seller.county_id, day)
    ):
        add(*r)
    units = (
        sa.select(OfflineSaleLine.sale_id, sa.func.sum(OfflineSaleLine.quantity).label("units"))
        .group_by(OfflineSaleLine.sale_id)
        .subquery()
    )
    for r in db.session.execute(
        sa.select(
            Seller.county_id,
            OfflineSale.sold_on,
            sa.func.count(),
            sa.func.sum(units.c.units),
            sa.func.sum(OfflineSale.amount),
        )
        .join(units, units.c.sale_id == OfflineSale.id)
        .join(Seller, Seller.id == OfflineSale.seller_id)
        .where(OfflineSale.sold_on >= period.start, OfflineSale.sold_on <= period.end)
        .group_by(Seller.county_id, OfflineSale.sold_on)
    ):
        add(*r)
    return out
