"""The market's online payment providers (see :mod:`app.payments.providers.base`).

Adding one: write a module here with an object satisfying ``PaymentProvider``, add a value to
``app.payments.models.Provider`` (and recreate the CHECK constraints in a migration), list the
object in :data:`PROVIDERS` and read its enabling setting in ``config.py``.
"""

from __future__ import annotations

from app.payments.providers.base import PaymentProvider
from app.payments.providers.ipg import PROVIDER as IPG
from app.payments.providers.stripe_card import PROVIDER as STRIPE

#: Every provider, in the order the checkout lists them.
PROVIDERS: tuple[PaymentProvider, ...] = (IPG, STRIPE)
