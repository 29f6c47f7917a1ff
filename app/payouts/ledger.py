"""The sellers' ledger: entries written inside the transaction of the event that causes them.

- completion of an order: SALE (+ its total) and COMMISSION (− its commission); a cash order also
  CASH_COLLECTED (− its total: the seller holds the customer's money and owes the commission);
- a refund of a completed order (:func:`record_refund`): REFUND (− the amount), the commission's
  share of it given back (COMMISSION_REVERSAL, +), and on a cash order CASH_RETURNED (+ the
  amount: the seller gave the cash back);
- a settlement batch marked paid: PAYOUT (− the amount transferred) per seller;
- completion of an order with a discount of a campaign the market pays: CAMPAIGN_CREDIT (+ the
  order's ``market_discount_amount``: the seller is owed as if sold at the pre-campaign price,
  and that credit is the market's cost), and on a refund its share back, CAMPAIGN_REVERSAL (−,
  in the same proportion as the commission's).

Every entry has a unique key naming its event, so a replayed or concurrent event writes it once.
The invariant :func:`verify` checks for every seller, computed from the orders and the batches,
not from the entries: balance = Σ entries = sales − commission − refunds + commission given back
− cash kept by the seller − payouts + campaign credits − campaign credits given back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, page_of
from app.core.timeutil import utcnow
from app.orders.models import Order
from app.payouts.models import BatchStatus, EntryKind, LedgerEntry, SettlementBatch, SettlementLine

# Payments sit above this package: the one column the invariant needs (is an order cash?) is
# read through a bare table clause, never the payments model.
_payment = sa.table("payment", sa.column("id"), sa.column("provider"))
_CASH = "cash"


def _add(seller_id: int, kind: EntryKind, amount: int, key: str, **refs: int | None) -> bool:
    """Add one entry unless its key is there already; True when added."""
    if db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.key == key)) is not None:
        return False
    db.session.add(
        LedgerEntry(seller_id=seller_id, kind=kind, amount=amount, key=key, created_at=utcnow(),
                    **refs)
    )  # fmt: skip
    db.session.flush()
    return True


def record_completion(order: Order, *, cash: bool) -> None:
    """Credit the seller for a completed order (its commission must be set): SALE, COMMISSION
    and, for cash, CASH_COLLECTED. Runs inside the completion's transaction; writes each entry
    once, however often it is called."""
    commission = order.commission_amount or 0
    s, o = order.seller_id, order.id
    _add(s, EntryKind.SALE, order.total_amount, f"sale:order:{o}", order_id=o)
    if commission:
        _add(s, EntryKind.COMMISSION, -commission, f"commission:order:{o}", order_id=o)
    if cash:
        _add(s, EntryKind.CASH_COLLECTED, -order.total_amount, f"cash:order:{o}", order_id=o)
    if order.market_discount_amount:
        _add(s, EntryKind.CAMPAIGN_CREDIT, order.market_discount_amount, f"campaign:order:{o}",
             order_id=o)  # fmt: skip


def _is_cash(order_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(LedgerEntry.id).where(
                LedgerEntry.order_id == order_id, LedgerEntry.kind == EntryKind.CASH_COLLECTED
            )
        )
        is not None
    )


def record_refund(order: Order, amount: int, *, ref: str | None = None) -> int:
    """Money given back to the customer of a completed order: its credit is reversed in
    proportion (REFUND −amount, the commission's share given back, a cash order's cash returned).
    Returns the amount recorded: 0 when the order was never completed (nothing was credited) or
    when the refund ``ref`` (the provider's refund id, say) was recorded before.

    The order's ``refunded_amount`` grows by a conditional UPDATE that never passes its total:
    ValidationFailed(amount: refund_too_large) otherwise, and nothing changes. The commission
    given back is ``floor(C × refunded so far / T) − floor(C × refunded before / T)``, so a
    series of partial refunds that reaches the total gives back exactly the commission. Runs
    inside the caller's transaction (the refund's)."""
    if order.completed_at is None or amount == 0:
        return 0
    if amount < 0:
        raise ValidationFailed({"amount": ["refund_negative"]})
    o = order.id
    if ref is None:
        count = db.session.scalar(
            sa.select(sa.func.count()).where(
                LedgerEntry.order_id == o, LedgerEntry.kind == EntryKind.REFUND
            )
        )
        ref = f"n{(count or 0) + 1}"
    key = f"refund:order:{o}:{ref}"
    if db.session.scalar(sa.select(LedgerEntry.id).where(LedgerEntry.key == key)) is not None:
        return 0
    before = db.session.scalar(sa.select(Order.refunded_amount).where(Order.id == o)) or 0
    grown = db.session.execute(
        sa.update(Order)
        .where(Order.id == o, Order.refunded_amount == before,
               Order.refunded_amount + amount <= Order.total_amount)
        .values(refunded_amount=Order.refunded_amount + amount)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if cast("sa.CursorResult[Any]", grown).rowcount != 1:
        raise ValidationFailed({"amount": ["refund_too_large"]})
    order.refunded_amount = before + amount
    s = order.seller_id
    _add(s, EntryKind.REFUND, -amount, key, order_id=o)
    given_back = _commission_given_back(order.commission_amount or 0, order.total_amount,
                                        before + amount) - _commission_given_back(
        order.commission_amount or 0, order.total_amount, before)  # fmt: skip
    if given_back:
        _add(s, EntryKind.COMMISSION_REVERSAL, given_back, f"commission_back:order:{o}:{ref}",
             order_id=o)  # fmt: skip
    if _is_cash(o):
        _add(s, EntryKind.CASH_RETURNED, amount, f"cash_back:order:{o}:{ref}", order_id=o)
    credit = order.market_discount_amount
    credit_back = _commission_given_back(credit, order.total_amount, before + amount) - (
        _commission_given_back(credit, order.total_amount, before))  # fmt: skip
    if credit_back:
        _add(s, EntryKind.CAMPAIGN_REVERSAL, -credit_back, f"campaign_back:order:{o}:{ref}",
             order_id=o)  # fmt: skip
    return amount


def _commission_given_back(commission: int, total: int, refunded: int) -> int:
    return commission * refunded // total if total else 0


# ---- reading ----------------------------------------------------------------------------------


def balance(seller_id: int, until: Any = None) -> int:
    """The seller's balance: the sum of their entries (before ``until``, when given)."""
    stmt = sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.seller_id == seller_id
    )
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < until)
    return int(db.session.scalar(stmt) or 0)


def balances(until: Any = None) -> dict[int, int]:
    """Seller id -> balance, for every seller with an entry (before ``until``, when given)."""
    stmt = sa.select(LedgerEntry.seller_id, sa.func.sum(LedgerEntry.amount)).group_by(
        LedgerEntry.seller_id
    )
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < until)
    return {seller_id: int(total) for seller_id, total in db.session.execute(stmt).tuples()}


@dataclass(frozen=True)
class StatementRow:
    entry: LedgerEntry
    running: int  # the balance after this entry


def statement(seller_id: int, page: int, per_page: int) -> Page:
    """The seller's entries, newest first, each with the balance after it; one page of them."""
    running = sa.func.sum(LedgerEntry.amount).over(order_by=LedgerEntry.id).label("running")
    inner = sa.select(LedgerEntry.id, running).where(LedgerEntry.seller_id == seller_id).subquery()
    total = (
        db.session.scalar(sa.select(sa.func.count()).where(LedgerEntry.seller_id == seller_id)) or 0
    )
    ids = page_of(sa.select(inner.c.id).order_by(inner.c.id.desc()), total, page, per_page)
    wanted = list(ids.items)
    run = dict(
        db.session.execute(sa.select(inner.c.id, inner.c.running).where(inner.c.id.in_(wanted)))
        .tuples()
        .all()
    )
    entries = {
        e.id: e
        for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.id.in_(wanted)))
    }
    rows = [StatementRow(entries[i], int(run[i])) for i in wanted]
    return Page(items=rows, page=ids.page, per_page=per_page, total=total)


def all_entries(seller_id: int) -> list[StatementRow]:
    """Every entry of the seller, oldest first, with the running balance (for the CSV)."""
    rows, run = [], 0
    for entry in db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.seller_id == seller_id).order_by(LedgerEntry.id)
    ):
        run += entry.amount
        rows.append(StatementRow(entry, run))
    return rows


# ---- the invariant ----------------------------------------------------------------------------


@dataclass
class Expected:
    """What a seller's entries must add up to, from the orders and the batches."""

    sales: int = 0
    commission: int = 0
    refunds: int = 0
    commission_back: int = 0
    cash_kept: int = 0
    payouts: int = 0
    campaign: int = 0
    campaign_back: int = 0

    @property
    def balance(self) -> int:
        return (self.sales - self.commission - self.refunds + self.commission_back
                - self.cash_kept - self.payouts + self.campaign - self.campaign_back)  # fmt: skip


@dataclass
class Mismatch:
    seller_id: int
    expected: int
    ledger: int
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (expected, ledger)

    def describe(self) -> str:
        parts = ", ".join(
            f"{k}: expected {e}, ledger {g}" for k, (e, g) in sorted(self.kinds.items())
        )
        return (f"seller {self.seller_id}: balance expected {self.expected}, ledger {self.ledger}"
                + (f" ({parts})" if parts else ""))  # fmt: skip


def expected_by_seller() -> dict[int, Expected]:
    """The invariant's right-hand side per seller, computed from the orders (completed at some
    time, with their commission and refunds) and the paid batches, never from the entries."""
    out: dict[int, Expected] = defaultdict(Expected)
    rows = db.session.execute(
        sa.select(Order.seller_id, Order.total_amount, Order.commission_amount,
                  Order.refunded_amount, _payment.c.provider, Order.market_discount_amount)
        .join(_payment, _payment.c.id == Order.payment_id)
        .where(Order.completed_at.is_not(None))
    ).tuples()  # fmt: skip
    for seller_id, total, commission, refunded, provider, credit in rows:
        e = out[seller_id]
        e.campaign += credit or 0
        e.campaign_back += _commission_given_back(credit or 0, total, refunded)
        e.sales += total
        e.commission += commission or 0
        e.refunds += refunded
        e.commission_back += _commission_given_back(commission or 0, total, refunded)
        if provider == _CASH:
            e.cash_kept += total - refunded
    for seller_id, amount in db.session.execute(
        sa.select(SettlementLine.seller_id, sa.func.sum(SettlementLine.amount))
        .join(SettlementBatch, SettlementBatch.id == SettlementLine.batch_id)
        .where(SettlementBatch.status == BatchStatus.PAID, SettlementLine.skip_reason.is_(None))
        .group_by(SettlementLine.seller_id)
    ).tuples():
        out[seller_id].payouts += int(amount)
    return out


_KIND_SIGN = {
    EntryKind.SALE: ("sales", 1),
    EntryKind.COMMISSION: ("commission", -1),
    EntryKind.REFUND: ("refunds", -1),
    EntryKind.COMMISSION_REVERSAL: ("commission_back", 1),
    EntryKind.PAYOUT: ("payouts", -1),
    EntryKind.CAMPAIGN_CREDIT: ("campaign", 1),
    EntryKind.CAMPAIGN_REVERSAL: ("campaign_back", -1),
}


def verify() -> list[Mismatch]:
    """Every seller whose ledger breaks the invariant (empty when it holds for all), with the
    kinds of entry that disagree."""
    expected = expected_by_seller()
    got: dict[int, Expected] = defaultdict(Expected)
    for seller_id, kind, total in db.session.execute(
        sa.select(
            LedgerEntry.seller_id, LedgerEntry.kind, sa.func.sum(LedgerEntry.amount)
        ).group_by(LedgerEntry.seller_id, LedgerEntry.kind)
    ).tuples():
        g = got[seller_id]
        if kind in (EntryKind.CASH_COLLECTED, EntryKind.CASH_RETURNED):
            g.cash_kept -= int(total)
        else:
            name, sign = _KIND_SIGN[EntryKind(kind)]
            setattr(g, name, getattr(g, name) + sign * int(total))
    bad = []
    for seller_id in sorted(set(expected) | set(got)):
        e, g = expected[seller_id], got[seller_id]
        kinds = {
            name: (getattr(e, name), getattr(g, name))
            for name in ("sales", "commission", "refunds", "commission_back", "cash_kept",
                         "payouts", "campaign", "campaign_back")
            if getattr(e, name) != getattr(g, name)
        }  # fmt: skip
        if kinds or e.balance != g.balance:
            bad.append(Mismatch(seller_id, e.balance, g.balance, kinds))
    return bad
