"""What every online payment provider offers the market: one protocol, plain data in and out.

A provider is one module of this package holding one object that satisfies
:class:`PaymentProvider`, listed in :data:`app.payments.providers.PROVIDERS`, and switched on by
its own setting(s) (``enabled``). The checkout offers every enabled provider that serves the
market currency; the commands (``flask payments reconcile``, ``flask orders expire``) run every
enabled provider's catch-up; refunds go through the provider of the payment.

Every method runs outside a transaction of the caller's and leaves the session clean: the
providers read and write in transactions of their own, and never hold one open across the
network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.payments.models import Payment, Provider


class ProviderFailure(Exception):
    """The provider refused a request or could not be reached (nothing was changed here)."""


@dataclass(frozen=True, slots=True)
class Start:
    """Where to send the customer to pay: a GET redirect to ``url``, or, when ``fields`` is
    given, a form with those hidden fields posted to ``url``."""

    url: str
    fields: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Returned:
    """What a customer's return (or a server-to-server notice) did: ``payment_id`` when it named
    one of our payments, and ``result`` (paid, in_review, confirming, failed, refund_due,
    unchanged, duplicate, unknown, ...)."""

    payment_id: int | None
    result: str


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund the provider made (or had made before under the same key)."""

    reference: str | None
    amount: int
    status: str = "succeeded"
    extra: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    """One online payment provider of the market."""

    #: The value stored in ``Payment.provider``.
    key: Provider
    #: The value of the checkout form's radio button for this provider.
    form_value: str
    #: What the checkout's radio button says (a lazy translated string).
    label: Any

    def currencies(self) -> frozenset[str]:
        """The currencies (ISO codes, upper case) this provider settles."""
        ...

    def enabled(self, config: Mapping[str, Any]) -> bool:
        """True when the settings switch it on (credentials present) — currency aside."""
        ...

    def available(self, config: Mapping[str, Any]) -> bool:
        """True when the checkout may offer it: enabled, and it serves ``MARKET_CURRENCY``."""
        ...

    def start(self, payment: Payment) -> Start:
        """Begin paying ``payment`` (committed, pending): where the customer goes now. Calling
        it again for the same payment returns the same payment page. Raises PaymentUnavailable
        (``app.payments.services``) when it cannot."""
        ...

    def handle_return(self, args: Mapping[str, str]) -> Returned:
        """The customer's browser came back with ``args`` (query string): act on it, once."""
        ...

    def handle_notice(self, body: bytes, headers: Mapping[str, str]) -> Returned:
        """A server-to-server notice from the provider: act on it, once."""
        ...

    def verify(self, payment_id: int) -> str:
        """Ask the provider what became of ``payment_id`` and apply it, once."""
        ...

    def refund(self, payment_id: int, amount: int, *, key: str) -> Refund:
        """Give ``amount`` of the payment back (all of it or one seller's order); ``key`` makes a
        repeated call return the same refund. Raises ProviderFailure."""
        ...

    def unfinished(self, older_than: datetime) -> list[int]:
        """Ids of payments created before ``older_than`` still waiting for this provider."""
        ...

    def reconcile(self, older_than: datetime, now: datetime | None = None) -> dict[str, int]:
        """Catch up with the provider (lost notices and returns, refunds owed); counts."""
        ...

    def expire_overdue(self, now: datetime, limit: int) -> int:
        """Close unpaid payments past their time at the provider; how many expired."""
        ...
