"""The addresses a customer shipped to, offered again at checkout.

An address is remembered when a checkout is placed with it (the same address again only moves up
the list), at most :data:`MAX_SAVED` per customer (the least recently used goes); the customer
may remove one from their account page. A customer only ever reads or removes their own.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.db import transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders.models import SavedAddress
from app.orders.placing import Address

MAX_SAVED = 8
_FIELDS = ("recipient_name", "mobile", "province", "city", "address", "postal_code")


def saved(user_id: int) -> list[SavedAddress]:
    """The customer's addresses, the most recently used first."""
    return list(
        db.session.scalars(
            sa.select(SavedAddress)
            .where(SavedAddress.user_id == user_id)
            .order_by(SavedAddress.last_used_at.desc(), SavedAddress.id.desc())
        )
    )


def own(user_id: int, address_id: int) -> SavedAddress | None:
    """One of the customer's addresses (None for another's or a missing one)."""
    row = db.session.get(SavedAddress, address_id)
    return row if row is not None and row.user_id == user_id else None


def as_address(row: SavedAddress) -> Address:
    return Address(**{name: getattr(row, name) for name in _FIELDS})


def remember(user_id: int, address: Address) -> None:
    """Keep ``address`` (already cleaned by the checkout) at the top of the customer's list."""
    values = {name: getattr(address, name) for name in _FIELDS}
    with transaction():
        same = db.session.scalar(
            sa.select(SavedAddress).where(
                SavedAddress.user_id == user_id,
                *(getattr(SavedAddress, name) == value for name, value in values.items()),
            )
        )
        if same is not None:
            same.last_used_at = utcnow()
            return
        db.session.add(SavedAddress(user_id=user_id, last_used_at=utcnow(), **values))
        db.session.flush()
        extra = saved(user_id)[MAX_SAVED:]
        for row in extra:
            db.session.delete(row)


def forget(user_id: int, address_id: int) -> bool:
    """Remove one of the customer's addresses; False when there is no such address of theirs."""
    with transaction():
        row = own(user_id, address_id)
        if row is None:
            return False
        db.session.delete(row)
    return True
