"""Accounts: registration (with an e-mail address and a password, or with a mobile number proved
by a code: no address, no password), authentication, passwords, logins, staff creation.

Passwords (rules, normalisation, hashing) live in :mod:`app.accounts.passwords`, logins as rows
in :mod:`app.accounts.sessions`, per-account attempt limits in :mod:`app.accounts.throttle`.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts import passwords, sessions, signals, throttle
from app.accounts.models import Role, User
from app.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PASSWORD_METHOD,
    check_password_rules,
    hash_password,
)
from app.accounts.sessions import load_user
from app.accounts.throttle import AccountLocked
from app.audit import log as audit
from app.core.db import begin_write, end_read, write_intent
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.core.timeutil import utcnow

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_METHOD",
    "AccountLocked",
    "AuthenticationFailed",
    "authenticate",
    "change_password",
    "check_password_rules",
    "confirm_password",
    "create_staff",
    "hash_password",
    "load_user",
    "logout",
    "normalise_email",
    "register_user",
    "register_with_mobile",
    "set_locale",
]

_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash with the configured method, checked when the e-mail is unknown so both failures
    take the same time."""
    method = passwords.configured_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password-0000", method=method)
    return _dummy_hashes[method]


class AuthenticationFailed(Exception):
    """Unknown e-mail or wrong password: deliberately the same error."""


def normalise_email(email: str) -> str:
    """A canonical, lower-cased address; raises ValidationFailed when it is not an address."""
    try:
        info = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": ["email_invalid"]}) from exc
    return info.normalized.lower()


def register_user(
    email: str, password: str, name: str, *, locale: str = "fa", role: Role = Role.CUSTOMER
) -> User:
    """Create an account. Raises ValidationFailed; an address already in use gives the neutral
    form-level ``registration_refused`` (the answer does not confirm that the account exists)."""
    address = normalise_email(email)
    check_password_rules(password, address)
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": ["required"]})
    # Hash first, holding no lock, and whether or not the address is taken (the answer takes
    # as long either way).
    end_read()
    password_hash = hash_password(password)
    begin_write()
    if db.session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        db.session.rollback()
        raise ValidationFailed({"form": ["registration_refused"]})
    user = User(email=address, password_hash=password_hash, name=name[:120])
    user.locale = locale if locale in ("fa", "en") else "fa"
    user.role = role
    db.session.add(user)
    try:
        db.session.flush()
        sessions.open_login(user)
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # a concurrent registration won
        db.session.rollback()
        raise ValidationFailed({"form": ["registration_refused"]}) from exc
    return user


def _account_key(email: str) -> str:
    """What the per-account limit counts on: the normalised address, or the text as typed."""
    try:
        return normalise_email(email)
    except ValidationFailed:
        return " ".join(email.split()).casefold()[:254]


def _refused(attempt: throttle.Attempt, user: User | None) -> AuthenticationFailed:
    """End a failed attempt: nothing of it is written; the owner hears of a lock it started."""
    db.session.rollback()
    if attempt.locked_now and user is not None and attempt.until is not None:
        signals.login_locked.send(user_id=user.id, until=attempt.until)
    return AuthenticationFailed()


def authenticate(email: str, password: str, user_agent: str | None = None) -> User:
    """The active user with these credentials, logged in: a new open login row (its id set on
    the user for ``login_user``). Raises AuthenticationFailed, the same for every cause, or
    AccountLocked while the account's attempts are locked (whatever the password).

    A hash with older parameters, or of the unnormalised password, is replaced on success. An
    account without a password (made with a mobile number) is refused as an unknown address is.
    """
    account = _account_key(email)
    attempt = throttle.count_attempt(account)  # raises AccountLocked; commits the count
    with write_intent(False):  # only reads: no write lock while the password is checked
        user = db.session.scalar(sa.select(User).where(User.email == account))
        stored, active = (user.password_hash, user.active) if user is not None else ("", False)
    end_read()
    if stored is None:  # an account without a password logs in by code: answered as unknown
        user = None
    if user is None or stored is None or len(password) > MAX_PASSWORD_LENGTH:
        check_password_hash(_dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        raise _refused(attempt, user)
    matches, rehash = passwords.verify(stored, password)
    if not matches or not active:
        raise _refused(attempt, user)
    new_hash = hash_password(password) if rehash else None
    begin_write()  # records the login
    throttle.clear(account)
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_login_at = utcnow()
    sessions.open_login(user, user_agent)
    db.session.commit()
    return user


def user_with_mobile(mobile: str) -> User | None:
    """The active account whose verified mobile number is ``mobile`` (``09xxxxxxxxx``)."""
    user = db.session.scalar(sa.select(User).where(User.mobile == mobile))
    return user if user is not None and user.active else None


def log_in_with_mobile(mobile: str, user_agent: str | None = None) -> User | None:
    """Log in the active account of a number whose code was just checked: a new open login row
    (its id set on the user for ``login_user``). None when no active account has the number."""
    begin_write()
    user = user_with_mobile(mobile)
    if user is None:
        db.session.rollback()
        return None
    user.last_login_at = utcnow()
    sessions.open_login(user, user_agent)
    db.session.commit()
    return user


def register_with_mobile(
    mobile: str,
    name: str,
    email: str | None = None,
    *,
    locale: str = "fa",
    user_agent: str | None = None,
) -> tuple[User, str | None]:
    """A customer account for ``mobile`` (``09xxxxxxxxx``, just proved by a code): the number
    verified now, no password, logged in (a new open login row). Returns the account and the
    address it may be given (normalised; the caller e-mails it a link that proves it: the
    account has no address until then). Raises ValidationFailed: ``name: required``,
    ``email: email_invalid`` / ``email_taken``, ``mobile: mobile_taken`` (another account has
    the number, also when it took it a moment ago); then nothing is stored."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed({"name": ["required"]})
    address = normalise_email(email) if email and email.strip() else None
    begin_write()
    if address is not None and (
        db.session.scalar(sa.select(User.id).where(User.email == address)) is not None
    ):
        db.session.rollback()
        raise ValidationFailed({"email": ["email_taken"]})
    if db.session.scalar(sa.select(User.id).where(User.mobile == mobile)) is not None:
        db.session.rollback()
        raise ValidationFailed({"mobile": ["mobile_taken"]})
    now = utcnow()
    user = User(
        email=None,
        password_hash=None,
        name=name[:120],
        phone=mobile,
        mobile=mobile,
        mobile_verified_at=now,
        locale=locale if locale in ("fa", "en") else "fa",
        role=Role.CUSTOMER,
        last_login_at=now,
    )
    db.session.add(user)
    try:
        db.session.flush()
        sessions.open_login(user, user_agent)
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # another account took the number a moment ago
        db.session.rollback()
        raise ValidationFailed({"mobile": ["mobile_taken"]}) from exc
    return user, address


def set_mobile(user: User, mobile: str) -> str | None:
    """Make ``mobile`` (checked by a code) the account's verified number; the number it had
    before (None). Raises ValidationFailed (``mobile: mobile_taken``) when another account has
    it; then nothing changes."""
    begin_write()
    taken = db.session.scalar(sa.select(User.id).where(User.mobile == mobile, User.id != user.id))
    if taken is not None:
        db.session.rollback()
        raise ValidationFailed({"mobile": ["mobile_taken"]})
    before = user.mobile
    user.mobile = mobile
    user.mobile_verified_at = utcnow()
    if not user.phone:
        user.phone = mobile
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # another account took it a moment ago
        db.session.rollback()
        raise ValidationFailed({"mobile": ["mobile_taken"]}) from exc
    return before


def _throttle_key(user: User) -> str:
    """What a signed-in account's password attempts count on: its address, else its id."""
    return user.email or f"user:{user.id}"


def confirm_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s, counted against the account's attempt limit like a
    login (a stolen session cannot be used to guess the password). Raises AccountLocked.
    Always False for an account without a password (nothing is counted)."""
    if user.password_hash is None:
        return False
    key = _throttle_key(user)
    attempt = throttle.count_attempt(key)
    with write_intent(False):  # only reads: no write lock while the password is checked
        stored, email = user.password_hash, key
    end_read()
    if stored is None:
        return False
    matches, rehash = passwords.verify(stored, password[:MAX_PASSWORD_LENGTH])
    if not matches or len(password) > MAX_PASSWORD_LENGTH:
        _refused(attempt, user)
        return False
    new_hash = hash_password(password) if rehash else None
    begin_write()
    throttle.clear(email)
    if new_hash is not None:
        user.password_hash = new_hash
    db.session.commit()
    return True


def logout(user: User) -> None:
    """End the login ``user`` was loaded for: its session and remember cookies stop working."""
    sessions.end_login(getattr(user, "login_id", None))


def change_password(user: User, current: str | None, new: str) -> None:
    """Replace the password; every other login of the user ends (this one stays open). An
    account without a password (made with a mobile number) sets its first one: ``current`` is
    not asked (the caller asks for a fresh login).

    Raises ValidationFailed (``current_password: wrong``, or the rules of a new password) or
    AccountLocked when the account's attempts are locked."""
    if user.password_hash is not None and not confirm_password(user, current or ""):
        raise ValidationFailed({"current_password": ["wrong"]})
    with write_intent(False):
        email = user.email
    end_read()
    check_password_rules(new, email)
    new_hash = hash_password(new)  # holding no lock
    begin_write()
    user.password_hash = new_hash
    user.session_version += 1
    sessions.end_other_logins(user, keep=user.login_id)
    db.session.commit()


def create_staff(email: str, password: str | None = None, name: str = "") -> tuple[User, str]:
    """Create a staff account (or promote an existing one). Returns the user and the password."""
    address = normalise_email(email)
    password = password or secrets.token_urlsafe(18)
    check_password_rules(password, address)
    user = db.session.scalar(sa.select(User).where(User.email == address))
    if user is None:
        user = User(email=address, name=name or address.split("@")[0])
        db.session.add(user)
    promoted_from = user.role.value if user.role is not None else None
    user.password_hash = hash_password(password)
    user.role = Role.STAFF
    user.session_version = (user.session_version or 1) + 1
    db.session.flush()
    sessions.end_other_logins(user)  # a promoted account logs in again with the new password
    # Who holds staff powers is itself a staff-relevant fact: the audit log shows it.
    audit.record(
        None, "user.make_staff", "user", user.id, data={"email": address, "from": promoted_from}
    )
    db.session.commit()
    return user, password


def set_locale(user: User, locale: str) -> None:
    if locale in ("fa", "en") and user.locale != locale:
        user.locale = locale
        db.session.commit()
