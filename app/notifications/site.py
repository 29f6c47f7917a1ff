"""The in-site channel: a user's list of what happened to them (``/notifications``), newest
first, with the count of unread lines in the header.

A notice is written in the recipient's language when the event happens (as its e-mail is) and
stored after the caller's reading transaction ended, in a transaction of its own; like the
other channels it is a side effect nothing may depend on: a failure is logged, never raised.
The header's count is the owning clause :func:`unread_of` (the page cache reads it with the
signed-in visitor in its one round trip) or :func:`unread_count`; the header shows more than
:data:`MOST_COUNTED` as "99+".
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from app.core.db import end_read, transaction
from app.core.extensions import db
from app.core.pagination import Page, paginate
from app.core.timeutil import utcnow
from app.notifications.models import Notice

log = logging.getLogger(__name__)

# The recipient's user id, the event's kind, the title in their language, the path it opens.
Outgoing = tuple[int, str, str, str]

MOST_COUNTED = 99
# Notices older than the newest KEPT of a user are removed when new ones are written.
KEPT = 500


def store(notices: list[Outgoing], kind: str) -> None:
    """Keep written notices, having ended the session's reading transaction first."""
    end_read()
    if not notices:
        return
    try:
        with transaction():
            now = utcnow()
            for user_id, event, title, link in notices:
                db.session.add(
                    Notice(
                        user_id=user_id, kind=event, title=title[:500], link=link, created_at=now
                    )
                )
            for user_id in {n[0] for n in notices}:
                _trim(user_id)
    except Exception:
        log.exception("could not keep the %r notices", kind)


def _trim(user_id: int) -> None:
    """Forget a user's notices beyond the newest :data:`KEPT` (read or not)."""
    cutoff = db.session.scalar(
        sa.select(Notice.id)
        .where(Notice.user_id == user_id)
        .order_by(Notice.id.desc())
        .offset(KEPT)
        .limit(1)
    )
    if cutoff is not None:
        db.session.execute(sa.delete(Notice).where(Notice.user_id == user_id, Notice.id <= cutoff))


def unread_of(user_id: Any) -> sa.ScalarSelect:
    """The number of ``user_id``'s unread notices, as a clause (correlated when ``user_id`` is
    a column of the enclosing statement; at most :data:`KEPT` rows to count, on an index)."""
    return (
        sa.select(sa.func.count(Notice.id))
        .where(Notice.user_id == user_id, Notice.read_at.is_(None))
        .scalar_subquery()
    )


def unread_count(user_id: int) -> int:
    return int(db.session.scalar(sa.select(unread_of(user_id))) or 0)


def page(user_id: int, number: int, per_page: int = 20) -> Page:
    """A page of the user's notices, newest first."""
    query = sa.select(Notice).where(Notice.user_id == user_id)
    return paginate(
        query, Notice.id, (Notice.created_at.desc(), Notice.id.desc()), number, per_page
    )


def open_notice(user_id: int, notice_id: int) -> str | None:
    """Mark the user's notice read and return the path it opens; None when it is not theirs."""
    with transaction():
        notice = db.session.get(Notice, notice_id)
        if notice is None or notice.user_id != user_id:
            return None
        if notice.read_at is None:
            notice.read_at = utcnow()
        return notice.link


def mark_all_read(user_id: int) -> int:
    """Mark every unread notice of the user read; returns how many were unread."""
    with transaction():
        done = db.session.execute(
            sa.update(Notice)
            .where(Notice.user_id == user_id, Notice.read_at.is_(None))
            .values(read_at=utcnow())
        )
        return int(done.rowcount or 0)  # type: ignore[attr-defined]
