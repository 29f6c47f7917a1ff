"""Problems customers report with a shipped order (not received, damaged, not as described), with
photos; the seller's reply; what the order service must know of them.

While a problem is open the order does not complete by the clock: :func:`holds_completion` is
the hold registered with :func:`app.orders.completion.on_completion_hold` by ``create_app``.
Staff decide a problem (money back in full or part, or close it) through
:mod:`app.payments.problems`, which moves money and writes the seller's ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import IO

import sqlalchemy as sa

from app.accounts.models import User
from app.catalog.models import Seller
from app.catalog.photos import store_picture
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, page_of
from app.core.timeutil import utcnow
from app.media.images import ImageRejected
from app.orders.models import Order, OrderStatus, ProblemKind, ProblemReport, ProblemStatus

log = logging.getLogger(__name__)

REPORTABLE = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)
MAX_PHOTOS = 4
PHOTO_WIDTHS = (640, 1280)
OPEN = (ProblemStatus.OPEN, ProblemStatus.ANSWERED)


def holds_completion(order: Order) -> bool:
    """Whether an open problem holds ``order`` back from completion by the clock."""
    return (
        db.session.scalar(
            sa.select(ProblemReport.id).where(ProblemReport.open_order_id == order.id)
        )
        is not None
    )


def may_report(order: Order) -> bool:
    """Whether the customer may report a problem with the order as it is now."""
    return order.status in REPORTABLE and not holds_completion(order)


def store_photos(uploads: Sequence[IO[bytes]]) -> list[str]:
    """Validate and store up to ``MAX_PHOTOS`` pictures (no database lock held); their keys.
    ValidationFailed(photos: ...) for too many or a picture that is not acceptable."""
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationFailed({"photos": ["too_many_problem_photos"]})
    keys = []
    for upload in uploads:
        try:
            keys.append(store_picture(upload, widths=PHOTO_WIDTHS).largest.key)
        except ImageRejected as exc:
            raise ValidationFailed({"photos": [exc.code]}) from exc
    return keys


def report_problem(
    order: Order, customer: User, kind: str, description: str, photo_keys: Sequence[str] = ()
) -> ProblemReport:
    """The customer reports a problem with their shipped or delivered order and commits; the
    order stops completing by the clock until staff decide. Raises NotAllowed (not theirs),
    ValidationFailed (kind, description) or InvalidTransition (not shipped yet, completed, or a
    problem already open); then nothing changes."""
    if order.customer_id != customer.id:
        raise NotAllowed("not your order")
    errors: dict[str, list[str]] = {}
    if kind not in {k.value for k in ProblemKind}:
        errors["kind"] = ["required"]
    description = (description or "").strip()[:4000]
    if not description:
        errors["description"] = ["required"]
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction():
            db.session.refresh(order)
            if order.status not in REPORTABLE:
                raise InvalidTransition(order.status, "problem")
            problem = ProblemReport(
                order_id=order.id, open_order_id=order.id, customer_id=customer.id,
                kind=ProblemKind(kind), description=description,
                photo_keys=list(photo_keys)[:MAX_PHOTOS], status=ProblemStatus.OPEN,
            )  # fmt: skip
            db.session.add(problem)
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # a problem is already open for this order
        raise InvalidTransition(order.status, "problem") from exc
    log.info("problem %s reported on order %s", problem.id, order.id)
    return problem


def seller_reply(problem: ProblemReport, seller: Seller, text: str) -> None:
    """The seller answers an open problem of their order (a later answer replaces the earlier
    one) and commits. Raises NotAllowed, ValidationFailed or InvalidTransition (decided)."""
    if problem.order.seller_id != seller.id:
        raise NotAllowed("not your order")
    text = (text or "").strip()[:4000]
    if not text:
        raise ValidationFailed({"reply": ["required"]})
    with transaction():
        db.session.refresh(problem)
        if problem.status not in OPEN:
            raise InvalidTransition(problem.status, ProblemStatus.ANSWERED)
        problem.seller_reply = text
        problem.replied_at = utcnow()
        problem.status = ProblemStatus.ANSWERED


def problems_of(order_id: int) -> list[ProblemReport]:
    """The order's problems, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ProblemReport)
            .where(ProblemReport.order_id == order_id)
            .order_by(ProblemReport.id)
        )
    )


def problem(problem_id: int) -> ProblemReport | None:
    return db.session.get(ProblemReport, problem_id)


def problems_page(open_only: bool, page: int, per_page: int) -> Page:
    """Problems for staff, open ones (oldest first) or all (newest first)."""
    stmt = sa.select(ProblemReport)
    count = sa.select(sa.func.count(ProblemReport.id))
    if open_only:
        stmt = stmt.where(ProblemReport.status.in_(OPEN)).order_by(ProblemReport.id)
        count = count.where(ProblemReport.status.in_(OPEN))
    else:
        stmt = stmt.order_by(ProblemReport.id.desc())
    return page_of(stmt, db.session.scalar(count) or 0, page, per_page)


def close_in_transaction(problem: ProblemReport, status: ProblemStatus, staff_id: int,
                         note: str | None, refund_amount: int | None) -> None:  # fmt: skip
    """Decide an open problem inside the caller's transaction (a conditional UPDATE: decided
    once); InvalidTransition when it was decided meanwhile."""
    done = db.session.execute(
        sa.update(ProblemReport)
        .where(ProblemReport.id == problem.id, ProblemReport.status.in_(OPEN))
        .values(status=status, open_order_id=None, decided_by=staff_id, decided_at=utcnow(),
                decision_note=note, refund_amount=refund_amount)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTransition(problem.status, status)
    db.session.expire(problem)
