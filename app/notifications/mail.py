"""The e-mail channel: one message in its recipient's language (plain text with an HTML
alternative, from the market), written while the caller's reading transaction is open and sent
after it has ended (a slow mail server must not keep the database's writers waiting).

Mail is a side effect nothing may depend on: a failure is logged with its trace, never raised.
An account without an address (made with a mobile number) gets no mail: nothing is written or
sent to it, and that is no failure (:func:`address_of`).
In development and tests the file backend writes each message under ``MAIL_DIR``
(:mod:`app.notifications.outbox` shows them).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from flask import current_app, has_request_context, render_template
from flask_mailman import EmailMultiAlternatives

from app import jobs
from app.accounts.models import User
from app.core import metrics
from app.core.db import end_read, transaction
from app.core.extensions import db, mail
from app.core.links import site_url

log = logging.getLogger(__name__)

Outgoing = tuple[int, EmailMultiAlternatives]  # the recipient's user id, their message


def recipient_locale(user: User) -> str:
    """The language ``user`` reads mail in: theirs when the market has it, else the default."""
    languages = current_app.config["LANGUAGES"]
    return str(
        user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def address_of(recipient: User, to: str | None = None) -> str | None:
    """Where ``recipient``'s message goes: ``to`` when given, else their address; None when
    they have none (the caller writes nothing)."""
    return to or recipient.email or None


def link_context() -> AbstractContextManager[Any]:
    """Templates render in a request: the current one, or one on the site address outside
    requests (CLI, jobs). Links in messages never come from it: they are built by
    :func:`app.core.links.site_url_for` from ``SITE_URL`` alone (a request's host is the
    client's)."""
    if has_request_context():
        return nullcontext()
    return current_app.test_request_context(base_url=site_url() + "/")


def compose(
    recipient: User,
    locale: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    to: str | None = None,
) -> Outgoing:
    """``recipient``'s message: ``emails/<template>.html`` with its plain-text twin
    ``emails/<template>_text.html``, rendered with ``context``, to their address (or ``to``:
    an address being proved, or the one they left). Call inside ``force_locale(locale)`` and
    :func:`link_context`, having checked :func:`address_of` (a message without an address is
    dropped by :func:`send`)."""
    html = render_template(f"emails/{template}.html", **context)
    text = render_template(f"emails/{template}_text.html", **context)
    return recipient.id, message(address_of(recipient, to) or "", locale, subject, text, html)


def message(to: str, locale: str, subject: str, text: str, html: str) -> EmailMultiAlternatives:
    """One e-mail in ``locale``: plain text with an HTML alternative, from the market."""
    letter = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=current_app.config["MAIL_FROM"],
        to=[to],
        headers={"Content-Language": locale},
        connection=mail.get_connection(),
    )
    letter.attach_alternative(html, "text/html")
    return letter


def end_failed_read() -> None:
    """Roll back the reading transaction a failed write left (its connection may be gone), so
    the rest of the request works on a clean session."""
    try:
        db.session.rollback()
    except Exception:  # the connection died: drop it, the pool makes a new one
        db.session().invalidate()


def send(messages: list[Outgoing], kind: str) -> None:
    """Hand written messages to the mail backend, having ended the session's reading
    transaction first, or, when a job worker runs the tasks, to the worker through the outbox
    (:mod:`app.notifications.queued`). One recipient's failure is logged and is not another's.
    A message without an address is dropped (its recipient has none: no failure)."""
    end_read()
    messages = [(user_id, letter) for user_id, letter in messages if any(letter.to)]
    if messages and not jobs.queue.immediate:
        _to_the_outbox(messages, kind)
        return
    for recipient_id, letter in messages:
        try:
            letter.send()
        except Exception:
            log.exception("could not send the %r e-mail to user %s", kind, recipient_id)
            metrics.EMAILS_FAILED.inc()


def _to_the_outbox(messages: list[Outgoing], kind: str) -> None:
    """Store the messages (one transaction), then give each to the worker."""
    from app.notifications import queued

    try:
        with transaction():
            ids = [queued.store(kind, recipient_id, letter) for recipient_id, letter in messages]
    except Exception:
        log.exception("could not keep the %r e-mails for the worker", kind)
        return
    for mail_id in ids:
        jobs.submit(queued.deliver, mail_id)
