"""Proving an e-mail address: a link sent to it, to verify the account's own address or to move
the account to a new one.

The link carries a token signed with the market's secret key (its own salt) naming the account,
the address it proves and an HMAC of the address the account has now, so a link stops working
once the account's address has changed (by this link or another) and after
``EMAIL_LINK_HOURS``. Moving to a new address needs a fresh login (the blueprint's); the old
address is told (the caller sends the notice). Nothing is stored until the link is opened.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts.models import User
from app.accounts.services import normalise_email
from app.core.db import begin_write
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow

_SALT = "bazarche.email-link"
INVALID = "email_link_invalid"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SALT)


def _fingerprint(address: str) -> str:
    secret = current_app.secret_key or ""
    key = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def new_address(user: User, typed: str) -> str:
    """``typed`` as an address ``user`` may move to: ValidationFailed (``email: email_invalid``,
    ``email: same_email``, ``email: email_taken``) otherwise."""
    address = normalise_email(typed)
    if address == user.email:
        raise ValidationFailed({"email": ["same_email"]})
    if db.session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        raise ValidationFailed({"email": ["email_taken"]})
    return address


def link_token(user: User, address: str) -> str:
    """A token proving ``address`` for ``user`` (their own address: verification; another:
    the move), while the account's address stays what it is now."""
    return _signer().dumps({"u": user.id, "e": address, "f": _fingerprint(user.email or "")})


def confirm(token: str) -> tuple[User, str | None]:
    """Apply a link: the account's address becomes the proved one (verified now). Returns the
    account and its former address (None when the link verified the address it has). Raises
    ValidationFailed (``token: email_link_invalid``) for a forged, expired or spent link, or an
    address another account took meanwhile; then nothing changes."""
    try:
        data = _signer().loads(token, max_age=current_app.config["EMAIL_LINK_HOURS"] * 3600)
    except (SignatureExpired, BadSignature):
        raise ValidationFailed({"token": [INVALID]}) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise ValidationFailed({"token": [INVALID]})
    address = str(data.get("e", ""))
    begin_write()
    user = db.session.get(User, data["u"], with_for_update=True)
    if (
        user is None
        or not user.active
        or not hmac.compare_digest(str(data.get("f", "")), _fingerprint(user.email or ""))
    ):
        db.session.rollback()
        raise ValidationFailed({"token": [INVALID]})
    before = None if address == user.email else user.email
    now: datetime = utcnow()
    user.email, user.email_verified_at = address, now
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # another account took the address since the link was sent
        db.session.rollback()
        raise ValidationFailed({"token": [INVALID]}) from None
    return user, before
