"""Logins as rows: a cookie (session or remember-me) works only while its login row is open.

Each successful password check opens a :class:`LoginSession` with a random id. Flask-Login keeps
``"<user id>:<login id>"`` (``User.get_id``) in the session and in the remember cookie, and
:func:`load_user` accepts it only when that row belongs to the user, is not ended and is younger
than ``REMEMBER_COOKIE_DURATION``. Logging out ends the row, so replaying the old session or
remember cookie afterwards logs nobody in; a password change ends every other row of the user.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import LoginSession, User
from app.core.db import wants_write_lock
from app.core.extensions import db
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = timedelta(days=30)
# last_seen_at is written at most this often per login (a write on every request would cost more
# than the information is worth).
SEEN_EVERY = timedelta(minutes=5)


def lifetime() -> timedelta:
    """How long a login lasts at most: the remember cookie's lifetime (30 days by default)."""
    from flask import current_app, has_app_context

    if has_app_context():
        value = current_app.config.get("REMEMBER_COOKIE_DURATION")
        if isinstance(value, timedelta):
            return value
        if isinstance(value, int | float):
            return timedelta(seconds=value)
    return DEFAULT_LIFETIME


def open_login(user: User, user_agent: str | None = None) -> LoginSession:
    """Add a new open login of ``user`` to the transaction (the caller commits) and mark ``user``
    with its id, so ``login_user(user)`` stores it."""
    # Logins older than the lifetime can log nobody in: drop the user's as a new one opens (ended
    # ones younger than that stay, a record of recent logins).
    db.session.execute(
        sa.delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.created_at <= utcnow() - lifetime()
        )
    )
    row = LoginSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        user_agent=(user_agent or "")[:255] or None,
    )
    db.session.add(row)
    user.login_id = row.id
    return row


def end_login(login_id: str | None) -> None:
    """End the login ``login_id`` (nothing when it is unknown or already ended); commits."""
    if not login_id:
        return
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.id == login_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    db.session.commit()


def end_other_logins(user: User, keep: str | None = None) -> None:
    """End every open login of ``user`` except ``keep`` (in the caller's transaction)."""
    statement = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    if keep:
        statement = statement.where(LoginSession.id != keep)
    db.session.execute(statement.values(ended_at=utcnow()))


def parse_user_id(user_id: str) -> tuple[int, str] | None:
    """``(user id, login id)`` from Flask-Login's ``"<user id>:<login id>"``; None for anything
    else (old formats, garbage)."""
    try:
        raw_id, login_id = user_id.split(":", 1)
        uid = int(raw_id)
    except ValueError:
        return None
    if not login_id or len(login_id) > 64:
        return None
    return uid, login_id


def open_login_where(
    uid: int | sa.ColumnElement[int], login_id: str | sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """The rows of user ``uid`` joined to their login ``login_id`` while it is open (use with a
    join of :class:`LoginSession` on its user); its age is checked by :func:`accept_login`."""
    return sa.and_(User.id == uid, LoginSession.id == login_id, LoginSession.ended_at.is_(None))


def accept_login(login_id: str, created_at: datetime, last_seen_at: datetime) -> bool:
    """Is the open login ``login_id`` (opened ``created_at``) still young enough to log its user
    in? Records its use when the last record is older than :data:`SEEN_EVERY`."""
    now = utcnow()
    if created_at <= now - lifetime():
        return False
    if last_seen_at <= now - SEEN_EVERY:
        _touch(login_id, now)
    return True


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user of an open, unexpired login named by ``user_id``, with
    ``login_id`` set; None for anything else (old formats, ended or unknown logins)."""
    parsed = parse_user_id(user_id)
    if parsed is None:
        return None
    uid, login_id = parsed
    found = db.session.execute(
        sa.select(User, LoginSession.created_at, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(open_login_where(uid, login_id))
    ).first()
    if found is None:
        return None
    user, created_at, last_seen_at = found
    if not accept_login(login_id, created_at, last_seen_at):
        return None
    user.login_id = login_id
    return user


def _touch(login_id: str, now: datetime) -> None:
    """Record that the login was used, on a connection of its own (the request's transaction
    stays as it is); a busy database only skips the note. In a request that writes, the
    request's own transaction already holds SQLite's write lock (``app.db``): the note goes
    into that transaction instead (kept if the request commits)."""

    if db.engine.dialect.name == "sqlite" and wants_write_lock():
        db.session.execute(
            sa.update(LoginSession).where(LoginSession.id == login_id).values(last_seen_at=now)
        )
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(LoginSession).where(LoginSession.id == login_id).values(last_seen_at=now)
            )
    except sa.exc.OperationalError:
        log.warning("could not record the use of a login", exc_info=True)
