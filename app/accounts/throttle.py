"""Per-account login limits, kept in the database so every worker and machine shares them.

Every password attempt for an account (the e-mail as typed, normalised; unknown addresses too,
so a lock tells nothing about whether an account exists) is counted *before* the password is
checked, under a row lock: attempts running at the same time in several workers cannot slip past
the limit. The :data:`MAX_FAILURES`-th attempt in a :data:`WINDOW` locks the account; the
lock lasts 1, 2, 4… minutes for each lock in a row (capped at :data:`MAX_LOCK`). While locked,
every attempt is refused without looking at the password, right or wrong, with the same answer.
A successful login clears the account's record; a day without attempts forgets earlier locks.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.accounts.models import LoginThrottle
from app.core.db import begin_write
from app.core.extensions import db
from app.core.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(minutes=60)
FORGET_AFTER = timedelta(days=1)


class AccountLocked(Exception):
    """Too many attempts for this account: refused until ``until`` (whatever the password)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class Attempt:
    """A counted attempt. ``locked_now``: this attempt started a lock (the owner is told if the
    password turns out wrong)."""

    account: str
    locked_now: bool
    until: datetime | None = None


def lock_length(locks: int) -> timedelta:
    """The length of the ``locks``-th lock in a row: 1, 2, 4, 8… minutes, at most MAX_LOCK."""
    return min(FIRST_LOCK * (2 ** max(locks - 1, 0)), MAX_LOCK)


def _locked_row(account: str) -> LoginThrottle:
    """The account's row, created if missing, locked for this transaction."""

    begin_write()
    dialect = db.engine.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        db.session.execute(
            insert(LoginThrottle)
            .values(
                account=account, failures=0, locks=0, window_started_at=now, last_attempt_at=now
            )
            .on_conflict_do_nothing(index_elements=["account"])
        )
    row = db.session.scalar(
        sa.select(LoginThrottle)
        .where(LoginThrottle.account == account)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:  # another database: plain insert
        row = LoginThrottle(account=account, failures=0, locks=0)
        db.session.add(row)
        db.session.flush()
    return row


def count_attempt(account: str) -> Attempt:
    """Count one password attempt for ``account`` and commit; raise AccountLocked when the
    account is locked (the attempt must then not be evaluated)."""
    row = _locked_row(account)
    now = utcnow()
    if row.locked_until is not None and row.locked_until > now:
        locked_until = row.locked_until
        db.session.commit()
        raise AccountLocked(locked_until)
    if row.last_attempt_at is not None and row.last_attempt_at <= now - FORGET_AFTER:
        row.locks = 0
    if row.window_started_at is None or row.window_started_at <= now - WINDOW:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    row.last_attempt_at = now
    locked_now = False
    if row.failures >= MAX_FAILURES:
        row.locks += 1
        row.locked_until = now + lock_length(row.locks)
        row.failures = 0
        row.window_started_at = now
        locked_now = True
    until = row.locked_until
    locks = row.locks
    db.session.commit()
    if locked_now and until is not None:
        log.info(
            "login locked: account ref %s, lock %s, until %s",
            account_ref(account),
            locks,
            until.isoformat(timespec="seconds"),
        )
    return Attempt(account=account, locked_now=locked_now, until=until)


def account_ref(account: str) -> str:
    """A short stand-in for an account name in the logs (never the address itself)."""
    return hashlib.sha256(account.encode()).hexdigest()[:12]


def clear(account: str) -> None:
    """Forget the account's attempts and locks (after a successful login; the caller commits),
    and the records of accounts nobody tried for a day (see :func:`prune`)."""
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.account == account))
    prune()


def prune() -> None:
    """Delete records that no longer count: no attempt for :data:`FORGET_AFTER` and no lock
    running (the caller commits). Keeps the table as small as the recent attempts."""
    now = utcnow()
    db.session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.last_attempt_at <= now - FORGET_AFTER,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
    )
