"""The SMS channel: one short text in its recipient's language (Persian digits in Persian),
written while the caller's reading transaction is open and handed to the provider after it has
ended, the way :mod:`app.notifications.mail` sends e-mail.

A text comes from ``templates/sms/<template>.txt`` rendered inside ``force_locale(locale)``
(numbers through the ``num`` filter, so a Persian text has Persian digits). When a job worker
runs the tasks the messages go through the outbox (:func:`app.notifications.queued.deliver_sms`:
retried with a growing wait while the provider fails, given up at once when it refuses the
message for good); in immediate mode (the embedded default) they are sent at once. Either way
an SMS is a side effect nothing may depend on: a failure is logged, never raised.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import render_template

from app import jobs
from app.core import metrics
from app.core.db import end_read, transaction
from app.notifications import sms_gateway

log = logging.getLogger(__name__)

# The recipient's user id (None: a number with no account yet), their number, the language the
# text is in, the text.
Outgoing = tuple[int | None, str, str, str]


def compose(
    recipient_id: int | None, number: str, locale: str, template: str, context: dict[str, Any]
) -> Outgoing:
    """The text ``sms/<template>.txt`` rendered with ``context``, for ``number``. Call inside
    ``force_locale(locale)`` (and :func:`app.notifications.mail.link_context` for links)."""
    text = render_template(f"sms/{template}.txt", **context).strip()
    return recipient_id, number, locale, text


def send(messages: list[Outgoing], kind: str) -> None:
    """Hand written texts to the provider, having ended the session's reading transaction
    first, or, when a job worker runs the tasks, to the worker through the outbox. One
    recipient's failure is logged and is not another's."""
    end_read()
    if messages and not jobs.queue.immediate:
        _to_the_outbox(messages, kind)
        return
    gateway = sms_gateway.backend()
    for recipient_id, number, _locale, text in messages:
        try:
            gateway.send(number, text)
        except Exception:
            log.exception("could not send the %r text to user %s", kind, recipient_id)
            metrics.SMS_FAILED.inc()


def _to_the_outbox(messages: list[Outgoing], kind: str) -> None:
    """Store the texts (one transaction), then give each to the worker."""
    from app.notifications import queued

    try:
        with transaction():
            ids = [queued.store_sms(kind, *message) for message in messages]
    except Exception:
        log.exception("could not keep the %r texts for the worker", kind)
        metrics.SMS_FAILED.inc()
        return
    for sms_id in ids:
        jobs.submit(queued.deliver_sms, sms_id)
