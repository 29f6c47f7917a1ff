"""Back-in-stock alerts: a signed-in customer asks to be told when a sold-out product is back.

Asking again, or cancelling what is not there, changes nothing (one waiting alert per user and
product: a partial unique index). Any stock write that may bring a product back
(:func:`app.orders.stock.give_back`, a seller's edit, a CSV import) calls :func:`note_restock`
inside its transaction; once that transaction commits, the ids move to the committed list, and
:func:`send_restocked` (run after each request and each job) claims every waiting alert of those
products still in stock with one conditional UPDATE (``notified_at IS NULL``: two restocks at
once claim each alert once) in its own transaction, then sends
:data:`app.catalog.signals.back_in_stock`, which the notifications turn into messages. Per
product today; a variant column can join the key later.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from app.accounts.models import User
from app.catalog.models import Product, ProductStatus, Seller, SellerStatus, StockAlert
from app.catalog.signals import back_in_stock
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

_NOTED = "bazarche_restocked"  # product ids whose stock rose in the open transaction
_COMMITTED = "bazarche_restocked_committed"  # ... whose transaction committed


def find_public_product(product_id: int) -> Product | None:
    """The product if it is public (published, of an approved shop)."""
    return db.session.scalar(
        sa.select(Product)
        .join(Seller, Seller.id == Product.seller_id)
        .where(
            Product.id == product_id,
            Product.status == ProductStatus.PUBLISHED,
            Seller.status == SellerStatus.APPROVED,
        )
    )


def is_waiting(user: User, product_id: int) -> bool:
    return (
        db.session.scalar(
            sa.select(StockAlert.id).where(
                StockAlert.user_id == user.id,
                StockAlert.product_id == product_id,
                StockAlert.notified_at.is_(None),
            )
        )
        is not None
    )


def ask(user: User, product: Product) -> None:
    """Keep a waiting alert of ``user`` for ``product`` (sold out and public); idempotent."""
    if product.stock > 0:
        raise ValidationFailed({"product": ["stock_alert_in_stock"]})
    with transaction():
        dialect = db.engine.dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            insert(StockAlert)
            .values(user_id=user.id, product_id=product.id, created_at=utcnow())
            .on_conflict_do_nothing(
                index_elements=[StockAlert.user_id, StockAlert.product_id],
                index_where=sa.and_(
                    StockAlert.notified_at.is_(None), StockAlert.variant_id.is_(None)
                ),
            )
        )


def cancel(user: User, product_id: int) -> None:
    """Drop ``user``'s waiting alert for ``product_id``; idempotent."""
    with transaction():
        db.session.execute(
            sa.delete(StockAlert).where(
                StockAlert.user_id == user.id,
                StockAlert.product_id == product_id,
                StockAlert.notified_at.is_(None),
            )
        )


def waiting_ids(user: User | None) -> list[int]:
    """The ids of the products ``user`` waits for."""
    if user is None:
        return []
    return list(
        db.session.scalars(
            sa.select(StockAlert.product_id)
            .where(StockAlert.user_id == user.id, StockAlert.notified_at.is_(None))
            .order_by(StockAlert.id)
        )
    )


def alerts_of(user: User) -> list[StockAlert]:
    """``user``'s alerts, waiting first, then those told (newest first)."""
    return list(
        db.session.scalars(
            sa.select(StockAlert)
            .where(StockAlert.user_id == user.id)
            .options(joinedload(StockAlert.product))
            .order_by(StockAlert.notified_at.is_not(None), StockAlert.id.desc())
        )
    )


# ---- restocks --------------------------------------------------------------------------------


def note_restock(session: Session, product_ids: Any) -> None:
    """Inside a write transaction: the stock of ``product_ids`` rose from zero."""
    session.info.setdefault(_NOTED, set()).update(int(i) for i in product_ids)


def install(session_class: object) -> None:
    """Move the noted ids to the committed list when their transaction commits, forget them
    when it rolls back (listeners on the app's session class; idempotent)."""
    for name, listener in (
        ("after_commit", _committed),
        ("after_transaction_end", _forget),
    ):
        if not sa.event.contains(session_class, name, listener):
            sa.event.listen(session_class, name, listener)


def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    noted = session.info.pop(_NOTED, None)
    if noted:
        session.info.setdefault(_COMMITTED, set()).update(noted)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NOTED, None)


def send_restocked() -> int:
    """Tell the waiting customers of every product restocked by a committed transaction of this
    session. Returns how many alerts were claimed; never raises (logged)."""
    if not db.session.registry.has():
        return 0
    ids = db.session.info.pop(_COMMITTED, None)
    if not ids:
        return 0
    try:
        return sum(claim_and_send(product_id) for product_id in sorted(ids))
    except Exception:
        log.exception("could not send the back-in-stock alerts of %s", sorted(ids))
        return 0


def claim_and_send(product_id: int) -> int:
    """Claim the waiting alerts of ``product_id`` if it is in stock and public (one conditional
    UPDATE: an alert is claimed by one transaction only), commit, then send the signal."""
    with transaction():
        in_stock = (
            sa.select(Product.id)
            .join(Seller, Seller.id == Product.seller_id)
            .where(
                Product.id == product_id,
                Product.stock > 0,
                Product.status == ProductStatus.PUBLISHED,
                Seller.status == SellerStatus.APPROVED,
            )
        )
        claimed = list(
            db.session.scalars(
                sa.update(StockAlert)
                .where(
                    StockAlert.product_id == product_id,
                    StockAlert.notified_at.is_(None),
                    sa.exists(in_stock),
                )
                .values(notified_at=utcnow())
                .returning(StockAlert.id)
                .execution_options(synchronize_session=False)
            )
        )
    if claimed:
        back_in_stock.send(None, product_id=product_id, alert_ids=sorted(claimed))
    return len(claimed)


def personal_data(user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The user's back-in-stock alerts, for their data download."""
    rows = db.session.execute(
        sa.select(
            StockAlert.product_id, Product.title, StockAlert.created_at, StockAlert.notified_at
        )
        .join(Product, Product.id == StockAlert.product_id)
        .where(StockAlert.user_id == user_id)
        .order_by(StockAlert.id)
    ).tuples()
    return {
        "stock_alerts": [
            {
                "product_id": pid,
                "title": title,
                "asked_at": asked.isoformat(),
                "notified_at": told.isoformat() if told is not None else None,
            }
            for pid, title, asked, told in rows
        ]
    }


def forget_user(user_id: int) -> None:
    """Account deletion: remove the user's alerts (inside the caller's transaction)."""
    db.session.execute(sa.delete(StockAlert).where(StockAlert.user_id == user_id))
