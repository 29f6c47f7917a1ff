"""Deleting one's account: the person is gone, what the law and the programme's figures need stays,
without them.

Refused (ValidationFailed on ``form``) while the account still has something going on: a staff
account (another staff member removes the role first), a shop that is not a rejected application
(its closing is a programme matter: staff), or an order not yet completed, cancelled or refunded.

Otherwise, in one transaction: the name, e-mail, phone, mobile and password are replaced (the
account can never log in again and its address and number are free for a new account), every
login ends, the cart, the favourites and followed shops, the back-in-stock alerts, the saved addresses and the one-time codes of its number go, and its orders keep their amounts,
lines, dates, province and city (sales figures, the sellers' invoices) but lose the recipient's
name, street address, postal code and mobile. The messages it wrote in conversations stay, with
their photos (the other party's record of the conversation; the sender shows under the replaced
name). The deletion is audited (the account id only).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.accounts import sessions
from app.accounts.models import OneTimeCode, Role, User
from app.audit import log as audit
from app.catalog import favourites, stock_alerts
from app.catalog.models import Seller, SellerStatus
from app.core.db import begin_write
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.orders.models import CartLine, Order, OrderStatus, SavedAddress

FINISHED = (OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDED)
DELETED_NAME = "—"
UNUSABLE_PASSWORD = "!"  # noqa: S105 - no password hashes to this: the account cannot log in


def refusal(user: User) -> str | None:
    """Why ``user`` cannot delete their account now (an error code), or None."""
    if user.role == Role.STAFF:
        return "delete_staff"
    shop = db.session.scalar(sa.select(Seller.status).where(Seller.user_id == user.id))
    if shop is not None and shop != SellerStatus.REJECTED:
        return "delete_has_shop"
    open_order = db.session.scalar(
        sa.select(Order.id)
        .where(Order.customer_id == user.id, Order.status.not_in(FINISHED))
        .limit(1)
    )
    return "delete_open_orders" if open_order is not None else None


def delete_account(user: User) -> None:
    """Delete ``user``'s account as the module says; ValidationFailed (``form``) when refused."""
    begin_write()
    user = db.session.get(User, user.id, with_for_update=True) or user
    code = refusal(user)
    if code is not None:
        db.session.rollback()
        raise ValidationFailed({"form": [code]})
    user_id, mobile = user.id, user.mobile
    user.name = DELETED_NAME
    user.email = f"deleted-{user_id}-{secrets.token_hex(4)}@deleted.invalid"
    user.email_verified_at = None
    user.phone = None
    user.mobile = None
    user.mobile_verified_at = None
    user.password_hash = UNUSABLE_PASSWORD
    user.session_version += 1
    user.active = False
    sessions.end_other_logins(user)
    db.session.execute(sa.delete(CartLine).where(CartLine.user_id == user_id))
    favourites.forget_user(user_id)
    stock_alerts.forget_user(user_id)
    db.session.execute(sa.delete(SavedAddress).where(SavedAddress.user_id == user_id))
    if mobile:
        db.session.execute(sa.delete(OneTimeCode).where(OneTimeCode.mobile == mobile))
    db.session.execute(
        sa.update(Order)
        .where(Order.customer_id == user_id)
        .values(recipient_name=DELETED_NAME, address=DELETED_NAME, postal_code="", mobile="")
        .execution_options(synchronize_session=False)
    )
    audit.record(user_id, "account.deleted", "user", user_id, data={"at": utcnow().isoformat()})
    db.session.commit()
