"""Accounts: registration, authentication, passwords, staff creation."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.models import Role, User
from app.errors import ValidationFailed
from app.extensions import db
from app.timeutil import utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a hash method name, not a password)
# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method=PASSWORD_METHOD)


class AuthenticationFailed(Exception):
    """Unknown e-mail or wrong password: deliberately the same error."""


def normalise_email(email: str) -> str:
    """A canonical, lower-cased address; raises ValidationFailed when it is not an address."""
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": ["email_invalid"]}) from exc
    return info.normalized.lower()


def hash_password(password: str) -> str:
    """scrypt with werkzeug's default cost; ``PASSWORD_HASH_METHOD`` may change it (tests lower it)."""
    from flask import current_app, has_app_context

    method = PASSWORD_METHOD
    if has_app_context():
        method = current_app.config.get("PASSWORD_HASH_METHOD") or PASSWORD_METHOD
    return generate_password_hash(password, method=method)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": ["too_short"]})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed({"password": ["too_long"]})


def register_user(
    email: str, password: str, name: str, *, locale: str = "fa", role: Role = Role.CUSTOMER
) -> User:
    """Create an account. Raises ValidationFailed (``email: taken`` when the address is in use)."""
    address = normalise_email(email)
    check_password_rules(password)
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": ["required"]})
    if db.session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        raise ValidationFailed({"email": ["taken"]})
    user = User(email=address, password_hash=hash_password(password), name=name[:120])
    user.locale = locale if locale in ("fa", "en") else "fa"
    user.role = role
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # a concurrent registration won
        db.session.rollback()
        raise ValidationFailed({"email": ["taken"]}) from exc
    return user


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials, or AuthenticationFailed (same for every cause)."""
    from app.db import begin_write

    begin_write()  # reads the user, then records the login time
    try:
        address = normalise_email(email)
    except ValidationFailed:
        address = None
    user = db.session.scalar(sa.select(User).where(User.email == address)) if address else None
    if user is None or len(password) > MAX_PASSWORD_LENGTH:
        check_password_hash(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
        raise AuthenticationFailed()
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise AuthenticationFailed()
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password; other sessions of the user stop working."""
    if not check_password_hash(user.password_hash, current):
        raise ValidationFailed({"current_password": ["wrong"]})
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.commit()


def create_staff(email: str, password: str | None = None, name: str = "") -> tuple[User, str]:
    """Create a staff account (or promote an existing one). Returns the user and the password."""
    address = normalise_email(email)
    password = password or secrets.token_urlsafe(18)
    check_password_rules(password)
    user = db.session.scalar(sa.select(User).where(User.email == address))
    if user is None:
        user = User(email=address, name=name or address.split("@")[0])
        db.session.add(user)
    promoted_from = user.role.value if user.role is not None else None
    user.password_hash = hash_password(password)
    user.role = Role.STAFF
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    # Who holds staff powers is itself a staff-relevant fact: the audit log shows it.
    from app.program import audit

    audit.record(
        None, "user.make_staff", "user", user.id, data={"email": address, "from": promoted_from}
    )
    db.session.commit()
    return user, password


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: the id carries the session version, so old sessions end."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user


def set_locale(user: User, locale: str) -> None:
    if locale in ("fa", "en") and user.locale != locale:
        user.locale = locale
        db.session.commit()
