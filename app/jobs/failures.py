"""Failed task runs, recorded by the worker and read by the staff page."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from huey import signals

from app.core.db import transaction
from app.core.extensions import db
from app.core.pagination import Page, page_of
from app.core.timeutil import utcnow
from app.jobs import app_for_tasks, queue
from app.jobs.models import JobFailure

log = logging.getLogger(__name__)


@queue.signal(signals.SIGNAL_ERROR)
def _record(signal: str, task: Any, exc: BaseException | None = None) -> None:
    """Keep a failed run (the error, and whether the task will be tried again). A failure to
    record is logged and never stops the worker."""
    try:
        with app_for_tasks().app_context(), transaction():
            db.session.add(
                JobFailure(
                    task=str(getattr(task, "name", task))[:120],
                    task_id=str(getattr(task, "id", ""))[:64],
                    retrying=bool(getattr(task, "retries", 0)),
                    error=f"{type(exc).__name__}: {exc}"[:4000] if exc else signal,
                )
            )
    except Exception:
        log.exception("could not record the failure of task %s", getattr(task, "name", task))


def recent(page: int, per_page: int = 20) -> Page:
    stmt = sa.select(JobFailure).order_by(JobFailure.created_at.desc(), JobFailure.id.desc())
    total = db.session.scalar(sa.select(sa.func.count(JobFailure.id))) or 0
    return page_of(stmt, total, page, per_page)


def last_day_count() -> int:
    """Failed runs in the last 24 hours."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(JobFailure.id)).where(
                JobFailure.created_at >= utcnow() - timedelta(days=1)
            )
        )
        or 0
    )
