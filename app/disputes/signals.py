"""Events of the disputes package that layers above it act on (e-mails), sent after the commit."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

problem_event = _signals.signal(
    "problem-event",
    doc="Something happened to a problem reported on an order; sent with ``kind`` (reported, "
    "answered, escalated, withdrawn, decided) and ``problem_id``.",
)
