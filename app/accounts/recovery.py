"""A forgotten password: a link by e-mail that sets a new one, once, for a while.

The link carries a token signed with the market's secret key (``itsdangerous``, its own salt)
naming the account and a fingerprint of its password hash and session version. Setting the new
password changes both, so the link (and any other reset link of the account) stops working the
moment it has been used; it also stops working after ``PASSWORD_RESET_MINUTES``. The password
is replaced by one conditional UPDATE that still expects the fingerprinted state, so two
submissions of the same link at once cannot both succeed. Every login of the account ends with
it. Nothing is stored for a request, and a request for an address no account uses answers the
same (the caller says so): the page never tells whether an address has an account.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts import sessions
from app.accounts.models import User
from app.accounts.passwords import check_password_rules, hash_password
from app.accounts.services import normalise_email
from app.audit import log as audit
from app.core.db import begin_write, end_read, write_intent
from app.core.errors import ValidationFailed
from app.core.extensions import db

_SALT = "bazarche.password-reset"
INVALID = "reset_link_invalid"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=_SALT)


def _fingerprint(password_hash: str | None, session_version: int) -> str:
    secret = current_app.secret_key or ""
    key = secret if isinstance(secret, bytes) else secret.encode()
    state = f"{password_hash or ''}|{session_version}".encode()
    return hmac.new(key, state, hashlib.sha256).hexdigest()[:32]


def account_for_email(email: str) -> User | None:
    """The active account that uses ``email``; None for an address no active account uses
    (or that is no address at all)."""
    try:
        address = normalise_email(email)
    except ValidationFailed:
        return None
    user = db.session.scalar(sa.select(User).where(User.email == address))
    return user if user is not None and user.active else None


def reset_token(user: User) -> str:
    """A token for :func:`reset_password` that works until the password changes or the time
    runs out."""
    return _signer().dumps(
        {"u": user.id, "f": _fingerprint(user.password_hash, user.session_version)}
    )


def account_for_token(token: str) -> User | None:
    """The active account ``token`` may set a new password for; None when the token is
    forged, expired or used (the password changed since)."""
    try:
        data = _signer().loads(token, max_age=current_app.config["PASSWORD_RESET_MINUTES"] * 60)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active:
        return None
    expected = _fingerprint(user.password_hash, user.session_version)
    return user if hmac.compare_digest(str(data.get("f", "")), expected) else None


def reset_password(token: str, new: str) -> User:
    """Set ``new`` as the password of the account ``token`` names and end all its logins.

    Raises ValidationFailed: ``token: reset_link_invalid`` (forged, expired, used: also when
    another submission of the same link won a moment before), or the rules of a new password
    (``new_password``). Nothing changes then."""
    with write_intent(False):
        user = account_for_token(token)
        if user is None:
            raise ValidationFailed({"token": [INVALID]})
    return _replace_password(user, new)


def reset_password_of(user: User, new: str) -> User:
    """Set ``new`` as ``user``'s password (who proved the account another way: a code texted to
    its verified mobile number) and end all its logins. Raises ValidationFailed for the rules
    of a new password (``new_password``)."""
    return _replace_password(user, new)


def _replace_password(user: User, new: str) -> User:
    with write_intent(False):
        user_id, email = user.id, user.email
        old_hash, old_version = user.password_hash, user.session_version
    end_read()
    try:
        check_password_rules(new, email)
    except ValidationFailed as exc:
        raise ValidationFailed(
            {
                "new_password" if field == "password" else field: codes
                for field, codes in exc.errors.items()
            }
        ) from exc
    new_hash = hash_password(new)  # holding no lock
    begin_write()
    changed = cast(
        "sa.CursorResult[Any]",
        db.session.execute(
            sa.update(User)
            .where(
                User.id == user_id,
                User.password_hash == old_hash,
                User.session_version == old_version,
            )
            .values(password_hash=new_hash, session_version=User.session_version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise ValidationFailed({"token": [INVALID]})
    changed_user = db.session.get(User, user_id, populate_existing=True)
    assert changed_user is not None  # the UPDATE just found it
    sessions.end_other_logins(changed_user)
    audit.record(user_id, "account.password_reset", "user", user_id)
    db.session.commit()
    return changed_user
