"""Events of the payments package that layers above it act on (the order e-mails) without this
package importing them: blinker signals, sent after the commit (without a sender).
Receivers must not raise, but a sender still guards against one that does (a failed e-mail must
not undo or repeat a payment).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

order_event = _signals.signal(
    "order-event",
    doc="Something happened to orders that their customers and sellers are told of; sent with "
    "``kind`` (one of the ``NOTICE_*`` of :mod:`app.payments.events`) and ``order_ids``.",
)
