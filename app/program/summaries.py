"""The sales summary rows, kept exact in the transaction of every change that moves them.

What counts: an online order from the moment it is paid (card: the provider confirmed it; cash on
delivery: completed — the customer confirmed receipt or the receipt window ran out) until it is cancelled or refunded, on the local (Tehran) day of ``paid_at``;
and every offline sale (a fair, an exhibition) on the day it was made. Amounts are the sums of
the order lines (snapshots), in rials.

The reports read only summary rows (``sales_order``, ``sales_daily``, ``sales_daily_product``,
``sales_period``, ``sales_period_buyer``). A session listener notes every order whose status
moved (a new ``OrderStatusChange``, a new or changed ``Order``), and before the transaction
commits compares what each such order should count with what it counts now (``sales_order``),
adding or taking back the difference with upserts. Comparing with the truth instead of
interpreting each move keeps every path exact (cash completed, card paid, late payment after an
expiry, cancel, refund) and makes the work idempotent. Offline sales add and take back their own
figures through :class:`Deltas`. ``app.program.rebuild`` recomputes every row and checks them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from app.payments.models import Payment, Provider
from app.program import self_dealing
from app.program.calendar import period_key_bounds, period_keys, tehran_day
from app.program.sales_models import (
    CARD,
    CASH,
    OFFLINE,
    SalesDaily,
    SalesDailyProduct,
    SalesOrder,
    SalesPeriod,
    SalesPeriodBuyer,
)

# Statuses in which an order with a ``paid_at`` counts. A cash order gets its ``paid_at`` only at
# completion, so a delivered cash order is not yet sold; a card order counts from its payment.
COUNTED = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED)
_PENDING_KEY = "sales_orders_touched"
_PERIOD_SUMS = ("card_amount", "cash_amount", "offline_amount", "orders", "units")

# One sale's line: (product_id, title, category_id, quantity, amount).
SaleLine = tuple[int | None, str, int | None, int, int]


def channel_of(provider: Provider | str) -> str:
    """The summary rows' channel of an online order paid through ``provider``."""
    return CASH if provider == Provider.CASH else CARD


def table_of(model: type) -> sa.Table:
    """A model's table (typed as the Table it is)."""
    return cast("sa.Table", model.__table__)  # type: ignore[attr-defined]


def _insert(session: Session) -> Any:
    """The dialect's INSERT (both have ON CONFLICT)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _upsert(session: Session, table: sa.Table, rows: list[dict], keys: list[str]) -> None:
    """Insert ``rows``, adding their orders, units and amounts to rows already there."""
    if not rows:
        return
    stmt = _insert(session)(table).values(rows)
    adds = {
        name: table.c[name] + stmt.excluded[name]
        for name in ("orders", "units", "amount")
        if name in table.c
    }
    for name in ("title", "category_id"):
        if name in table.c:
            adds[name] = stmt.excluded[name]
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=adds))


def _delete_emptied(session: Session, columns: list[Any], keys: list[tuple], empty: Any) -> None:
    """Delete the rows of ``keys`` (values of ``columns``) that ``empty`` says hold nothing."""
    if keys:
        session.execute(
            sa.delete(columns[0].class_)
            .where(sa.tuple_(*columns).in_(keys), empty)
            .execution_options(synchronize_session=False)
        )


def _earliest(cur: Any, new: Any) -> Any:
    return sa.case((new.is_(None), cur), (sa.or_(cur.is_(None), new < cur), new), else_=cur)


def _latest(cur: Any, new: Any) -> Any:
    return sa.case((new.is_(None), cur), (sa.or_(cur.is_(None), new > cur), new), else_=cur)


@dataclass
class Deltas:
    """Changes to the summary rows, applied in one key order (no deadlocks between writers)."""

    daily: dict[tuple[int, date, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    # (seller, day, channel, product key) -> [units, amount, title, category]
    product: dict[tuple[int, date, str, int], list[Any]] = field(default_factory=dict)
    # (seller, period key) -> [card, cash, offline, orders, units, first day, last day]
    period: dict[tuple[int, str], list[Any]] = field(default_factory=dict)
    # (seller, period key, customer) -> change in the customer's orders
    buyers: dict[tuple[int, str, int], int] = field(default_factory=lambda: defaultdict(int))
    # (seller, period key) whose first and last sale must be looked up again
    shrunk: set[tuple[int, str]] = field(default_factory=set)

    def add(
        self,
        seller_id: int,
        day: date,
        channel: str,
        lines: Iterable[SaleLine],
        sign: int,
        customer_id: int | None = None,
    ) -> tuple[int, int]:
        """Add (sign +1) or take back (-1) one sale of ``lines``; returns its units and amount."""
        units = amount = 0
        for product_id, title, category_id, quantity, line_amount in lines:
            row = self.product.setdefault(
                (seller_id, day, channel, product_id or 0), [0, 0, title, category_id]
            )
            row[0] += sign * quantity
            row[1] += sign * line_amount
            row[2], row[3] = title, category_id
            units += quantity
            amount += line_amount
        total = self.daily[(seller_id, day, channel)]
        total[0] += sign
        total[1] += sign * units
        total[2] += sign * amount
        self._add_periods(seller_id, day, channel, sign, units, amount, customer_id)
        return units, amount

    def _add_periods(
        self,
        seller_id: int,
        day: date,
        channel: str,
        sign: int,
        units: int,
        amount: int,
        customer_id: int | None,
    ) -> None:
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

    def apply(self, session: Session) -> None:
        """Write the changes (upserts, then rows brought back to nothing deleted)."""
        daily_rows: list[dict[str, Any]] = [
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
        _upsert(session, table_of(SalesDaily), daily_rows, ["seller_id", "day", "channel"])
        _upsert(
            session,
            table_of(SalesDailyProduct),
            product_rows,
            ["seller_id", "day", "channel", "product_key"],
        )
        # Rows brought back to nothing go, so that "first and last sale" read existing rows.
        if any(r["orders"] < 0 for r in daily_rows):
            _delete_emptied(
                session,
                [SalesDaily.seller_id, SalesDaily.day, SalesDaily.channel],
                [(r["seller_id"], r["day"], r["channel"]) for r in daily_rows],
                SalesDaily.orders == 0,
            )
            _delete_emptied(
                session,
                [SalesDailyProduct.seller_id, SalesDailyProduct.day, SalesDailyProduct.channel,
                 SalesDailyProduct.product_key],
                [(r["seller_id"], r["day"], r["channel"], r["product_key"])
                 for r in product_rows if r["units"] < 0],
                SalesDailyProduct.units == 0,
            )  # fmt: skip
        buyer_change = self._apply_buyers(session)
        self._apply_periods(session, buyer_change)

    def _apply_buyers(self, session: Session) -> dict[tuple[int, str], list[int]]:
        """Upsert the per-customer counts; returns the change in (buyers, repeat buyers) per
        (seller, period): a count crossing 0↔1 changes the distinct buyers, 1↔2 the repeat ones."""
        buyer_change: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
        buyer_rows = [
            {"seller_id": k[0], "period_key": k[1], "customer_id": k[2], "orders": d}
            for k, d in sorted(self.buyers.items())
            if d
        ]
        if not buyer_rows:
            return buyer_change
        table = table_of(SalesPeriodBuyer)
        insert = _insert(session)(table).values(buyer_rows)
        upsert = insert.on_conflict_do_update(
            index_elements=["seller_id", "period_key", "customer_id"],
            set_={"orders": table.c.orders + insert.excluded.orders},
        ).returning(table.c.seller_id, table.c.period_key, table.c.customer_id, table.c.orders)
        emptied = []
        for seller_id, key, customer_id, now in session.execute(upsert):
            before = now - self.buyers[(seller_id, key, customer_id)]
            change = buyer_change[(seller_id, key)]
            change[0] += (now > 0) - (before > 0)
            change[1] += (now > 1) - (before > 1)
            if now == 0:
                emptied.append((seller_id, key, customer_id))
        _delete_emptied(
            session,
            [SalesPeriodBuyer.seller_id, SalesPeriodBuyer.period_key, SalesPeriodBuyer.customer_id],
            emptied,
            SalesPeriodBuyer.orders == 0,
        )
        return buyer_change

    def _apply_periods(
        self, session: Session, buyer_change: dict[tuple[int, str], list[int]]
    ) -> None:
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
        table = table_of(SalesPeriod)
        stmt = _insert(session)(table).values(period_rows)
        ex = stmt.excluded
        sets = {name: table.c[name] + ex[name] for name in (*_PERIOD_SUMS, "buyers",
                                                            "repeat_buyers")}  # fmt: skip
        sets["first_day"] = _earliest(table.c.first_day, ex.first_day)
        sets["last_day"] = _latest(table.c.last_day, ex.last_day)
        session.execute(
            stmt.on_conflict_do_update(index_elements=["seller_id", "period_key"], set_=sets)
        )
        self._recheck_shrunk(session)

    def _recheck_shrunk(self, session: Session) -> None:
        """Periods that lost a sale: look their first and last day up again; drop empty ones."""
        for seller_id, key in sorted(self.shrunk):
            lo, hi = period_key_bounds(key)
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
        _delete_emptied(
            session,
            [SalesPeriod.seller_id, SalesPeriod.period_key],
            sorted(self.shrunk),
            SalesPeriod.orders == 0,
        )


# ---- orders -----------------------------------------------------------------------------------


def _wanted(session: Session, ids: list[int]) -> dict[int, tuple[int, int, date, str]]:
    """Order id -> (seller, customer, day, channel) of each of ``ids`` that counts now."""
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
                channel_of(row.provider),
            )
    return want


def _lines_of(session: Session, order_ids: list[int]) -> dict[int, list[SaleLine]]:
    lines: dict[int, list[SaleLine]] = defaultdict(list)
    for r in session.execute(
        sa.select(
            OrderLine.order_id,
            OrderLine.product_id,
            OrderLine.product_title,
            OrderLine.category_id,
            OrderLine.quantity,
            OrderLine.line_total_amount,
        )
        .where(OrderLine.order_id.in_(order_ids))
        .order_by(OrderLine.id)
    ).tuples():
        lines[r[0]].append(cast(SaleLine, tuple(r)[1:]))
    return lines


def sync_orders(session: Session, order_ids: Iterable[int]) -> int:
    """Make the summary rows of these orders match their state; returns how many changed."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    want = _wanted(session, ids)
    have = {
        r.order_id: r
        for r in session.execute(
            sa.select(table_of(SalesOrder)).where(SalesOrder.order_id.in_(ids))
        )
    }

    def counted(i: int) -> tuple | None:
        h = have.get(i)
        return None if h is None else (h.seller_id, h.customer_id, h.day, h.channel)

    changed = [i for i in ids if want.get(i) != counted(i)]
    if not changed:
        return 0
    lines = _lines_of(session, changed)
    deltas = Deltas()
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
        # An order that starts to count is checked for self-dealing in the same transaction.
        self_dealing.check_orders(session, [cast(int, row["order_id"]) for row in new])
    deltas.apply(session)
    return len(changed)


# ---- the session listeners --------------------------------------------------------------------


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


def install(session_class: type[Session]) -> None:
    """Listen on the app's session class (``MarketSession``); calling it again adds nothing."""
    for name, fn in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not sa.event.contains(session_class, name, fn):
            sa.event.listen(session_class, name, fn)
