"""Settlement batches: staff pay sellers what the market owes them, by bank transfer.

A batch covers the entries up to the end of a Tehran day (``period_end``). Creating it lists
every seller with a ledger entry by then: a seller owed money who has a valid Sheba number is
included for ``min(balance at the period's end, balance now)`` (never more than is owed today:
a refund or a payout since the period's end is taken into account); the others are listed as
skipped with why. Staff review the batch, download the transfer file (CSV) for the bank, and
mark it paid: one transaction writes a PAYOUT entry per included seller (keyed by batch and
seller) and closes the batch, once however often it is posted. At most one batch is open at a
time, so a balance is never put in two transfer files.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.audit import log as audit
from app.catalog.models import Seller
from app.catalog.sheba import is_valid_sheba
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, page_of
from app.core.timeutil import REPORT_TIMEZONE, utcnow
from app.payouts import ledger
from app.payouts.models import BatchStatus, EntryKind, LedgerEntry, SettlementBatch, SettlementLine
from app.payouts.signals import payout_made

log = logging.getLogger(__name__)

NO_SHEBA = "no_sheba"
NOT_OWED = "not_owed"
CSV_HEADER = ["sheba", "name", "amount_rial", "reference"]


def period_end_of(day: date) -> datetime:
    """The end of the Tehran day ``day`` (the next day's midnight there), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=REPORT_TIMEZONE).astimezone(
        UTC
    )


def open_batch() -> SettlementBatch | None:
    """The batch under review, if any."""
    return db.session.scalar(sa.select(SettlementBatch).where(SettlementBatch.open_slot == 1))


def create_batch(day: date, staff_id: int, *, today: date | None = None) -> SettlementBatch:
    """Make the batch of the entries up to the end of ``day`` (not later than ``today``) and
    commit. Raises ValidationFailed (day: future_date), or NotAllowed("batch_open") while another
    batch is open; then nothing changes."""
    today = today or datetime.now(REPORT_TIMEZONE).date()
    if day > today:
        raise ValidationFailed({"day": ["future_date"]})
    period_end = period_end_of(day)
    try:
        with transaction():
            batch = SettlementBatch(
                reference="pending", period_end=period_end, status=BatchStatus.OPEN, open_slot=1,
                created_by=staff_id, created_at=utcnow(),
            )  # fmt: skip
            db.session.add(batch)
            db.session.flush()
            batch.reference = f"BZ-{day:%Y%m%d}-{batch.id:05d}"
            _fill(batch, period_end)
            audit.record(staff_id, "settlement.create", "settlement_batch", batch.id,
                         data={"reference": batch.reference})  # fmt: skip
    except sa.exc.IntegrityError as exc:  # the open slot is taken: another batch is open
        raise NotAllowed("batch_open") from exc
    log.info("settlement batch %s made with %s lines", batch.id, len(batch.lines))
    return batch


def _fill(batch: SettlementBatch, period_end: datetime) -> None:
    then = ledger.balances(until=period_end)
    now = ledger.balances()
    sellers = {
        s.id: s for s in db.session.scalars(sa.select(Seller).where(Seller.id.in_(list(then))))
    }
    for seller_id in sorted(then):
        seller = sellers[seller_id]
        amount = min(then[seller_id], now.get(seller_id, 0))
        if amount == 0 and then[seller_id] == 0:
            continue  # settled: nothing to say
        reason = None
        if amount <= 0:
            reason = NOT_OWED
        elif not (seller.sheba and is_valid_sheba(seller.sheba)):
            reason = NO_SHEBA
        batch.lines.append(
            SettlementLine(
                seller_id=seller_id, amount=max(amount, 0), sheba=seller.sheba,
                account_name=seller.display_name[:120], skip_reason=reason,
            )
        )  # fmt: skip


def batch(batch_id: int) -> SettlementBatch:
    """The batch with its lines and their sellers; NotFound."""
    found = db.session.scalar(
        sa.select(SettlementBatch)
        .where(SettlementBatch.id == batch_id)
        .options(selectinload(SettlementBatch.lines).selectinload(SettlementLine.seller))
    )
    if found is None:
        raise NotFound("settlement batch")
    return found


def included(b: SettlementBatch) -> list[SettlementLine]:
    return [line for line in b.lines if line.skip_reason is None]


def batches_page(page: int, per_page: int) -> Page:
    """The batches, newest first."""
    total = db.session.scalar(sa.select(sa.func.count(SettlementBatch.id))) or 0
    return page_of(
        sa.select(SettlementBatch).order_by(SettlementBatch.id.desc()), total, page, per_page
    )


def transfer_rows(b: SettlementBatch) -> list[list[object]]:
    """The bank transfer file's rows: Sheba, account name, amount in rial, batch reference."""
    return [[line.sheba, line.account_name, line.amount, b.reference] for line in included(b)]


def _close(batch_id: int, status: BatchStatus, staff_id: int) -> None:
    """Close the open batch ``batch_id`` by a conditional UPDATE; InvalidTransition when it is
    not open (closed by someone else meanwhile)."""
    done = db.session.execute(
        sa.update(SettlementBatch)
        .where(SettlementBatch.id == batch_id, SettlementBatch.status == BatchStatus.OPEN)
        .values(status=status, open_slot=None, closed_by=staff_id, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", done).rowcount != 1:
        raise InvalidTransition(BatchStatus.OPEN, status)


def mark_paid(batch_id: int, staff_id: int) -> int:
    """The transfers of the open batch were made: write one PAYOUT entry per included seller and
    close the batch, in one transaction, once. Returns the total paid. Raises NotFound, or
    InvalidTransition when the batch is not open (already paid or discarded); then nothing
    changes."""
    with transaction():
        b = batch(batch_id)
        _close(batch_id, BatchStatus.PAID, staff_id)
        total = 0
        for line in included(b):
            db.session.add(
                LedgerEntry(
                    seller_id=line.seller_id, kind=EntryKind.PAYOUT, amount=-line.amount,
                    key=f"payout:batch:{b.id}:seller:{line.seller_id}", batch_id=b.id,
                    created_at=utcnow(),
                )
            )  # fmt: skip
            total += line.amount
        audit.record(staff_id, "settlement.paid", "settlement_batch", b.id,
                     data={"reference": b.reference, "amount": total})  # fmt: skip
    log.info("settlement batch %s marked paid", batch_id)
    payout_made.send(batch_id=batch_id)
    return total


def discard(batch_id: int, staff_id: int) -> None:
    """Give up the open batch (nothing was paid): it stays listed as discarded. Raises NotFound
    or InvalidTransition."""
    with transaction():
        b = batch(batch_id)
        _close(b.id, BatchStatus.DISCARDED, staff_id)
        audit.record(staff_id, "settlement.discard", "settlement_batch", b.id,
                     data={"reference": b.reference})  # fmt: skip


def seller_balances(page: int, per_page: int) -> Page:
    """Every seller with their balance now, largest first; a page of (seller, balance) pairs."""
    total_col = sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0).label("balance")
    stmt = (
        sa.select(Seller, total_col)
        .outerjoin(LedgerEntry, LedgerEntry.seller_id == Seller.id)
        .group_by(Seller.id)
        .order_by(total_col.desc(), Seller.id)
    )
    total = db.session.scalar(sa.select(sa.func.count(Seller.id))) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=[(r[0], int(r[1])) for r in rows], page=page, per_page=per_page, total=total)
