"""What customers, sellers and account owners are told, and how: one module per channel, one
module per subject.

- Channels: :mod:`app.notifications.mail` (e-mail: compose in the recipient's language, send
  after the reading transaction ended, log failures and never raise),
  :mod:`app.notifications.sms` (text messages, the same shape; the providers are in
  :mod:`~app.notifications.sms_gateway`) and, for development, :mod:`app.notifications.outbox`
  (the file backends' messages at ``/dev/mail`` and ``/dev/sms``).
- Subjects: :mod:`~app.notifications.orders` (order steps, to customers and sellers),
  :mod:`~app.notifications.accounts` (login locked, password and shop details changed),
  :mod:`~app.notifications.moderation` (listings hidden or released by staff).
- :mod:`~app.notifications.queued`: when a job worker runs the tasks, e-mails and texts go
  through a stored outbox and a task that retries them with a growing wait.
- :mod:`~app.notifications.receivers`: the domain packages never import this package; they send
  blinker signals (``app.accounts.signals``, ``app.catalog.signals``, ``app.payments.signals``)
  after their commit, and the receivers there turn them into messages. Blueprints, which sit
  above, call the subject modules directly.

A subject module (or a receiver) writes one event's messages inside
:func:`app.notifications.events.dispatch`: a builder per channel (``mail.compose``,
``sms.compose`` rendering ``templates/sms/<template>.txt``, a notice's title and path), called
by :meth:`~app.notifications.events.Batch.add` for the channels the recipient gets the event by
(the table :data:`~app.notifications.events.TABLE`). A new event of a domain package is a new
signal in that package's ``signals.py``, a receiver in ``receivers.py``'s ``CONNECTIONS`` and a
row in the table.
"""

from __future__ import annotations

from flask import Flask

# queued and digests: their tasks must be known to every process that runs the job worker.
from app.notifications import digests, outbox, queued, receivers  # noqa: F401


def init_app(app: Flask) -> None:
    """Connect the receivers to the domain packages' signals and, in debug mode or with
    ``DEV_OUTBOX`` (``make run``), serve ``/dev/mail`` and ``/dev/sms`` on ``app``."""
    receivers.connect()
    if app.debug or app.config.get("DEV_OUTBOX"):
        outbox.register(app)
