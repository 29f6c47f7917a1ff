"""Back-in-stock alerts: a signed-in customer asks to be told when a sold-out product is back.

Asking again, or cancelling what is not there, changes nothing (one waiting alert per user and
product: a partial unique index). Any stock write that may bring a product back
(:func:`app.orders.stock.give_back`, a seller's edit, a CSV import) calls :func:`note_restock`
inside its transaction; once that transaction commits, the ids move to the committed list, and
:func:`send_restocked` (run after each request and each job) claims every waiting alert of those
products still in stock with one conditional UPDATE (``notified_at IS NULL``: two restocks at
once claim each alert once) in its own transaction, then sends
:data:`app.catalog.signals.back_in_stock`, which the notifications turn into messages.

A product with options is awaited per variant (size M in blue): one waiting alert per user and
variant, claimed when that variant's stock rises from zero (``give_back``, the seller's save of
the variants) while it is offered; the product-level alerts (no variant) are claimed when the
product's own stock does.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, joinedload

from app.accounts.models import User
from app.catalog.models import (
    Product,
    ProductStatus,
    ProductVariant,
    Seller,
    SellerStatus,
    StockAlert,
)
from app.catalog.signals import back_in_stock
from app.core.db import transaction
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

# (product id, variant id or None) whose stock rose from zero in the open transaction
_NOTED = "bazarche_restocked"
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


def find_variant(product: Product, variant_id: int) -> ProductVariant | None:
    """The offered variant ``variant_id`` of ``product`` (None for another product's, an
    unknown or a withdrawn one)."""
    return db.session.scalar(
        sa.select(ProductVariant).where(
            ProductVariant.id == variant_id,
            ProductVariant.product_id == product.id,
            ProductVariant.active.is_(True),
        )
    )


def _same_key(variant_id: int | None) -> sa.ColumnElement[bool]:
    if variant_id is None:
        return StockAlert.variant_id.is_(None)
    return StockAlert.variant_id == variant_id


def is_waiting(user: User, product_id: int, variant_id: int | None = None) -> bool:
    return (
        db.session.scalar(
            sa.select(StockAlert.id).where(
                StockAlert.user_id == user.id,
                StockAlert.product_id == product_id,
                _same_key(variant_id),
                StockAlert.notified_at.is_(None),
            )
        )
        is not None
    )


def ask(user: User, product: Product, variant: ProductVariant | None = None) -> None:
    """Keep a waiting alert of ``user`` for ``product`` (sold out and public), or for its
    ``variant`` (sold out; see :func:`find_variant`); idempotent. A product with options is
    awaited by its variants only."""
    if variant is None and product.has_variants:
        raise ValidationFailed({"variant_id": ["variant_required"]})
    if (variant.stock if variant is not None else product.stock) > 0:
        raise ValidationFailed({"product": ["stock_alert_in_stock"]})
    with transaction():
        dialect = db.engine.dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        values = {"user_id": user.id, "product_id": product.id, "created_at": utcnow()}
        if variant is None:
            statement = (
                insert(StockAlert)
                .values(**values)
                .on_conflict_do_nothing(
                    index_elements=[StockAlert.user_id, StockAlert.product_id],
                    index_where=sa.and_(
                        StockAlert.notified_at.is_(None), StockAlert.variant_id.is_(None)
                    ),
                )
            )
        else:
            statement = (
                insert(StockAlert)
                .values(**values, variant_id=variant.id)
                .on_conflict_do_nothing(
                    index_elements=[StockAlert.user_id, StockAlert.variant_id],
                    index_where=sa.and_(
                        StockAlert.notified_at.is_(None), StockAlert.variant_id.is_not(None)
                    ),
                )
            )
        db.session.execute(statement)


def cancel(user: User, product_id: int, variant_id: int | None = None) -> None:
    """Drop ``user``'s waiting alert for ``product_id`` (or its variant); idempotent."""
    with transaction():
        db.session.execute(
            sa.delete(StockAlert).where(
                StockAlert.user_id == user.id,
                StockAlert.product_id == product_id,
                _same_key(variant_id),
                StockAlert.notified_at.is_(None),
            )
        )


def waiting_ids(user: User | None) -> list[int]:
    """The ids of the products ``user`` waits for (as a whole: not those of a variant)."""
    if user is None:
        return []
    return list(
        db.session.scalars(
            sa.select(StockAlert.product_id)
            .where(
                StockAlert.user_id == user.id,
                StockAlert.notified_at.is_(None),
                StockAlert.variant_id.is_(None),
            )
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


def note_restock(session: Session, product_ids: Any, variants: Any = ()) -> None:
    """Inside a write transaction: the stock of ``product_ids`` (of ``variants``, ``(product id,
    variant id)`` pairs: variants of products with options) rose from zero."""
    noted = session.info.setdefault(_NOTED, set())
    noted.update((int(i), None) for i in product_ids)
    noted.update((int(pid), int(vid)) for pid, vid in variants)


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
        return sum(
            claim_and_send(product_id, variant_id)
            for product_id, variant_id in sorted(ids, key=lambda key: (key[0], key[1] or 0))
        )
    except Exception:
        log.exception("could not send the back-in-stock alerts of %s", sorted(ids))
        return 0


def claim_and_send(product_id: int, variant_id: int | None = None) -> int:
    """Claim the waiting alerts of ``product_id`` (its product-level ones; with ``variant_id``
    those of that variant) if it is in stock and public (one conditional UPDATE: an alert is
    claimed by one transaction only), commit, then send the signal."""
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
        if variant_id is not None:
            in_stock = in_stock.where(
                sa.exists().where(
                    ProductVariant.id == variant_id,
                    ProductVariant.product_id == product_id,
                    ProductVariant.active.is_(True),
                    ProductVariant.stock > 0,
                )
            )
        claimed = list(
            db.session.scalars(
                sa.update(StockAlert)
                .where(
                    StockAlert.product_id == product_id,
                    _same_key(variant_id),
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
            StockAlert.product_id,
            Product.title,
            StockAlert.variant_id,
            StockAlert.created_at,
            StockAlert.notified_at,
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
                **({"variant_id": vid} if vid is not None else {}),
                "asked_at": asked.isoformat(),
                "notified_at": told.isoformat() if told is not None else None,
            }
            for pid, title, vid, asked, told in rows
        ]
    }


def forget_user(user_id: int) -> None:
    """Account deletion: remove the user's alerts (inside the caller's transaction)."""
    db.session.execute(sa.delete(StockAlert).where(StockAlert.user_id == user_id))
