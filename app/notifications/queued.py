"""E-mail and SMS through the job queue: when a worker runs the tasks (``JOBS_BACKEND`` sqlite
or redis), each message is stored (:class:`~app.notifications.models.OutgoingMail`,
:class:`~app.notifications.models.OutgoingSms`) and a task sends it, retried with a growing wait
(1, 2, 4, 8, 16 minutes) while the mail server or the SMS provider fails. A text the provider
refuses for good (a number it does not serve, a text it cannot send) is given up at once and
kept with the reason. A message is marked sent once it was handed over; a worker killed between
the two sends it again (at least once, never lost).

The stored row, not the queue, is the record of the work: a task that never reached the queue
(the broker was down when the message was stored) or was lost with it (a worker killed while
running it takes the task with it; a broker restarted without persistence drops what it held)
is enqueued again by :func:`resend_unsent`, which the worker's schedule runs every 5 minutes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from huey import crontab

from app import jobs
from app.core import metrics
from app.core.db import transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.jobs import in_app, queue
from app.notifications import mail, sms_gateway
from app.notifications.models import OutgoingMail, OutgoingSms

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
        _record_try(OutgoingMail, mail_id, error=exc)
        metrics.EMAILS_FAILED.inc()
        log.warning("mail %s not sent (will be tried again): %s", mail_id, exc)
        raise
    _record_try(OutgoingMail, mail_id)
    return True


def _record_try(
    model: type[OutgoingMail | OutgoingSms],
    row_id: int,
    *,
    error: Exception | None = None,
    **changes: object,
) -> None:
    """Count one try of a stored message: sent (no ``error``), or failed with ``error``; set
    ``changes`` on the row too (one write transaction, the row locked)."""
    with transaction():
        row = cast(
            "OutgoingMail | OutgoingSms | None",
            db.session.get(model, row_id, with_for_update=True),
        )
        if row is None:
            return
        row.attempts += 1
        if error is None:
            row.sent_at = utcnow()
        else:
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
        for name, value in changes.items():
            setattr(row, name, value)


def lost(
    now: datetime, limit: int = RESEND_BATCH, model: type[OutgoingMail | OutgoingSms] = OutgoingMail
) -> list[int]:
    """The stored messages (e-mails, or texts with ``model=OutgoingSms``) whose delivery task
    was lost, oldest first: not sent, never tried and stored :data:`NEVER_TRIED_AFTER` ago, or
    tried but not given up (at most :data:`RETRIES` attempts) and stored
    :data:`RETRIES_LOST_AFTER` ago. A message the queue gave up on (every try failed, or a text
    the provider refused for good) is left for staff."""
    never_tried = sa.and_(model.attempts == 0, model.created_at < now - NEVER_TRIED_AFTER)
    retries_lost = sa.and_(
        model.attempts.between(1, RETRIES), model.created_at < now - RETRIES_LOST_AFTER
    )
    unsent = [model.sent_at.is_(None), sa.or_(never_tried, retries_lost)]
    if model is OutgoingSms:
        unsent.append(OutgoingSms.failed_at.is_(None))
    return list(
        db.session.scalars(sa.select(model.id).where(*unsent).order_by(model.id).limit(limit))
    )


@queue.periodic_task(crontab(minute="*/5"))
@in_app
def resend_unsent() -> int:
    """Enqueue again the delivery of every message whose task was lost (:func:`lost`); how
    many. Delivery acts once per message however often it is enqueued: a message sent
    meanwhile is skipped."""
    with transaction(write=False):
        now = utcnow()
        ids = lost(now)
        texts = lost(now, model=OutgoingSms)
    for mail_id in ids:
        jobs.submit(deliver, mail_id)
    for sms_id in texts:
        jobs.submit(deliver_sms, sms_id)
    if ids or texts:
        log.info(
            "job: enqueued again %s e-mails and %s texts whose delivery was lost",
            len(ids),
            len(texts),
        )
    return len(ids) + len(texts)


def store_sms(kind: str, recipient_id: int | None, number: str, locale: str, text: str) -> int:
    """Keep one written text for the worker; its id (inside the caller's transaction)."""
    row = OutgoingSms(
        kind=kind[:60], recipient_id=recipient_id, to=number[:20], locale=locale[:10], text=text
    )
    db.session.add(row)
    db.session.flush()
    return row.id


@queue.task(retries=RETRIES, retry_delay=60, retry_backoff=2)
@in_app
def deliver_sms(sms_id: int) -> bool:
    """Send one stored text unless it was sent or given up; True when this run sent it. A
    failure that may pass is counted on the row and raised, so the queue tries again later; a
    refusal for good marks the text failed and ends its tries."""
    with transaction(write=False):
        row = db.session.get(OutgoingSms, sms_id)
        if row is None or row.sent_at is not None or row.failed_at is not None:
            return False
        number, text = row.to, row.text
    try:
        provider_id = sms_gateway.backend().send(number, text)
    except Exception as exc:
        final = isinstance(exc, sms_gateway.SmsFailed) and not exc.retry
        _record_try(OutgoingSms, sms_id, error=exc, **({"failed_at": utcnow()} if final else {}))
        metrics.SMS_FAILED.inc()
        if final:
            log.warning("text %s refused by the provider (given up): %s", sms_id, exc)
            return False
        log.warning("text %s not sent (will be tried again): %s", sms_id, exc)
        raise
    _record_try(OutgoingSms, sms_id, provider_id=provider_id[:100] or None)
    return True
