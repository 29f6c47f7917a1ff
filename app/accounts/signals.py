"""Events of the accounts package that layers above it act on (the owner's e-mail, say) without
this package importing them: blinker signals, sent after the transaction that caused them has
ended (without a sender). Receivers must not raise.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

login_locked = _signals.signal(
    "login-locked",
    doc="Repeated wrong passwords locked logins to an account; sent once per lock with "
    "``user_id`` (int) and ``until`` (aware UTC datetime).",
)
