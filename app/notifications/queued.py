"""E-mail through the job queue: when a worker runs the tasks (``JOBS_BACKEND`` sqlite or
redis), each message is stored (:class:`~app.notifications.models.OutgoingMail`) and a task
sends it, retried with a growing wait (1, 2, 4, 8, 16 minutes) while the mail server fails.
A message is marked sent once it was handed to the server; a worker killed between the two
sends it again (mail is at least once, never lost).

The stored row, not the queue, is the record of the work: a task that never reached the queue
(the broker was down when the message was stored) or was lost with it (a worker killed while
running it takes the task with it; a broker restarted without persistence drops what it held)
is enqueued again by :func:`resend_unsent`, which the worker's schedule runs every 5 minutes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from huey import crontab

from app import jobs
from app.core import metrics
from app.core.db import transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.jobs import in_app, queue
from app.notifications import mail
from app.notifications.models import OutgoingMail

log = logging.getLogger(__name__)

RETRIES = 5
# A message never tried this long after it was stored lost its task (a running task tries it
# within seconds); one tried but neither sent nor given up this long after lost its retries
# (they end 31 minutes after the first try).
NEVER_TRIED_AFTER = timedelta(minutes=5)
RETRIES_LOST_AFTER = timedelta(hours=1)
RESEND_BATCH = 500


def store(kind: str, recipient_id: int | None, letter: object) -> int:
    """Keep one written message for the worker; its id (inside the caller's transaction)."""
    html = next(
        (
            content
            for content, mimetype in getattr(letter, "alternatives", ())
            if mimetype == "text/html"
        ),
        "",
    )
    row = OutgoingMail(
        kind=kind[:60],
        recipient_id=recipient_id,
        to=str(getattr(letter, "to", [""])[0])[:254],
        locale=str(getattr(letter, "extra_headers", {}).get("Content-Language", ""))[:10],
        subject=str(getattr(letter, "subject", "")),
        text=str(getattr(letter, "body", "")),
        html=str(html),
    )
    db.session.add(row)
    db.session.flush()
    return row.id


@queue.task(retries=RETRIES, retry_delay=60, retry_backoff=2)
@in_app
def deliver(mail_id: int) -> bool:
    """Send one stored message unless it was sent; True when this run sent it. A failure is
    counted on the row and raised, so the queue tries again later."""
    with transaction(write=False):
        row = db.session.get(OutgoingMail, mail_id)
        if row is None or row.sent_at is not None:
            return False
        letter = mail.message(row.to, row.locale, row.subject, row.text, row.html)
    try:
        letter.send()
    except Exception as exc:
        with transaction():
            failed = db.session.get(OutgoingMail, mail_id, with_for_update=True)
            if failed is not None:
                failed.attempts += 1
                failed.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        metrics.EMAILS_FAILED.inc()
        log.warning("mail %s not sent (will be tried again): %s", mail_id, exc)
        raise
    with transaction():
        sent = db.session.get(OutgoingMail, mail_id, with_for_update=True)
        if sent is not None:
            sent.attempts += 1
            sent.sent_at = utcnow()
    return True


def lost(now: datetime, limit: int = RESEND_BATCH) -> list[int]:
    """The stored messages whose delivery task was lost, oldest first: not sent, never tried
    and stored :data:`NEVER_TRIED_AFTER` ago, or tried but not given up (at most
    :data:`RETRIES` attempts) and stored :data:`RETRIES_LOST_AFTER` ago. A message the queue
    gave up on (every try failed) is left for staff."""
    never_tried = sa.and_(
        OutgoingMail.attempts == 0, OutgoingMail.created_at < now - NEVER_TRIED_AFTER
    )
    retries_lost = sa.and_(
        OutgoingMail.attempts.between(1, RETRIES),
        OutgoingMail.created_at < now - RETRIES_LOST_AFTER,
    )
    return list(
        db.session.scalars(
            sa.select(OutgoingMail.id)
            .where(OutgoingMail.sent_at.is_(None), sa.or_(never_tried, retries_lost))
            .order_by(OutgoingMail.id)
            .limit(limit)
        )
    )


@queue.periodic_task(crontab(minute="*/5"))
@in_app
def resend_unsent() -> int:
    """Enqueue again the delivery of every message whose task was lost (:func:`lost`); how
    many. Delivery acts once per message however often it is enqueued: a message sent
    meanwhile is skipped."""
    with transaction(write=False):
        ids = lost(utcnow())
    for mail_id in ids:
        jobs.submit(deliver, mail_id)
    if ids:
        log.info("job: enqueued again %s e-mails whose delivery was lost", len(ids))
    return len(ids)
