"""Events of the catalog package that layers above it act on (the seller's e-mail, say) without
this package importing them: blinker signals, sent after the commit of the change (without a
sender). Receivers must not raise.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

seller_details_changed = _signals.signal(
    "seller-details-changed",
    doc="A seller's sensitive details (county, phone, registration code, permit) were saved; "
    "sent with ``user_id`` (the seller's user) and ``changes`` (a list of (field name, old "
    "value, new value)).",
)

seller_status_changed = _signals.signal(
    "seller-status-changed",
    doc="A seller's application was filed, or staff approved, rejected, suspended or reinstated "
    "the seller; sent with ``user_id`` (the seller's user), ``status`` (the new SellerStatus "
    "value), ``previous`` (the old value, None for a first application) and ``reason`` (staff's "
    "reason, or None).",
)

back_in_stock = _signals.signal(
    "back-in-stock",
    doc="A sold-out product is back in stock and its waiting alerts were marked told (committed); "
    "sent with ``product_id`` and ``alert_ids`` (the stock_alert rows to tell, each once).",
)
