"""E-mail through the job queue: when a worker runs the tasks (``JOBS_BACKEND`` sqlite or
redis), each message is stored (:class:`~app.notifications.models.OutgoingMail`) and a task
sends it, retried with a growing wait (1, 2, 4, 8, 16 minutes) while the mail server fails.
A message is marked sent once it was handed to the server; a worker killed between the two
sends it again (mail is at least once, never lost)."""

from __future__ import annotations

import logging

from app.core import metrics
from app.core.db import transaction
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.jobs import in_app, queue
from app.notifications import mail
from app.notifications.models import OutgoingMail

log = logging.getLogger(__name__)

RETRIES = 5


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
