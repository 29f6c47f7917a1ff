"""Events of the orders package that layers above it act on (the notifications) without this
package importing them: blinker signals, sent after the commit (without a sender). Receivers
must not raise (:mod:`app.notifications.receivers` guards its own)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

orders_completed = _signals.signal(
    "orders-completed",
    doc="Orders completed (received by the customer, or their receipt window ran out): the "
    "sale is final; sent with ``order_ids``.",
)
