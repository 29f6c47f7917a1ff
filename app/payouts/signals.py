"""Events of the payouts package that layers above it act on (the notifications) without this
package importing them: blinker signals, sent after the commit (without a sender)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

payout_made = _signals.signal(
    "payout-made",
    doc="A settlement batch was marked paid: its included sellers were paid; sent with "
    "``batch_id``.",
)
