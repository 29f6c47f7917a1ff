"""The app as the concurrency tests run it under gunicorn: ``gunicorn tests.concurrency_app:app``.

Every worker builds the same app from environment variables set by the test that starts
gunicorn, so all workers and the test process share one database:

- ``BAZARCHE_TEST_DATABASE_URL`` (required): the test process's database (SQLite file or
  PostgreSQL);
- ``BAZARCHE_TEST_INSTANCE_DIR`` (required): instance directory (mail, media, search index);
- ``BAZARCHE_TEST_STRIPE_URL`` (optional): a local fake of Stripe's API; card payments in EUR
  are on when it is set.

CSRF and rate limits are off, password hashing is cheap and the search index is not touched
after requests, as in ``tests.conftest.settings``. The schema is made by the test process.
``BAZARCHE_TEST_SETTINGS`` (optional, JSON) adds or replaces settings for one test module.

Test-only hooks, inert unless a module's settings turn them on:

- ``TEST_HOLD_CHECKOUT``: a checkout that finds the file ``hold-checkout`` in the instance
  folder, once it has taken the stock and made its payment and orders but before its
  transaction commits, renames the file ``held-checkout-<worker pid>`` (one checkout only) and
  waits there, holding the transaction, until the test kills the worker.
- ``TEST_HOLD_MAIL``: the same for handing an e-mail to the mail backend (a job worker's
  delivery task): the file ``hold-mail`` becomes ``held-mail-<pid>``, and the process waits
  before the message is sent.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from app import create_app

HOLD_SECONDS = 120  # longer than any test waits: the worker is killed first (or timed out)


def hold_checkouts(instance: Path) -> None:
    """Install the ``TEST_HOLD_CHECKOUT`` hook (see the module's docstring)."""
    from app.payments import checkout

    place = checkout._place
    armed = instance / "hold-checkout"

    def place_and_hold(wanted: Any) -> Any:
        made = place(wanted)
        try:
            armed.rename(instance / f"held-checkout-{os.getpid()}")  # atomic: one checkout
        except FileNotFoundError:
            return made
        time.sleep(HOLD_SECONDS)
        return made

    checkout._place = place_and_hold


def hold_mail(instance: Path) -> None:
    """Install the ``TEST_HOLD_MAIL`` hook (see the module's docstring)."""
    from flask_mailman import EmailMultiAlternatives

    send = EmailMultiAlternatives.send
    armed = instance / "hold-mail"

    def hold_and_send(self: EmailMultiAlternatives, *args: Any, **kwargs: Any) -> int:
        try:
            armed.rename(instance / f"held-mail-{os.getpid()}")
        except FileNotFoundError:
            return int(send(self, *args, **kwargs))
        time.sleep(HOLD_SECONDS)
        return int(send(self, *args, **kwargs))

    EmailMultiAlternatives.send = hold_and_send  # type: ignore[method-assign]


def build():  # type: ignore[no-untyped-def]
    instance = Path(os.environ["BAZARCHE_TEST_INSTANCE_DIR"])
    settings: dict[str, object] = {
        "TESTING": False,  # errors become 500 answers, as in production
        "SECRET_KEY": "concurrency-test-secret-key",  # one key: any worker reads any session
        "SQLALCHEMY_DATABASE_URI": os.environ["BAZARCHE_TEST_DATABASE_URL"],
        "INSTANCE_DIR": str(instance),
        "MEDIA_DIR": str(instance / "media"),
        "SEARCH_INDEX_DIR": str(instance / "search"),
        "MAIL_DIR": str(instance / "mail"),
        "MAIL_FILE_PATH": str(instance / "mail"),
        "MAIL_BACKEND": "file",
        "SITE_URL": "http://127.0.0.1",  # the host the tests connect to
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PAGE_CACHE_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        "SEARCH_SYNC_ON_REQUEST": False,
        "SEARCH_REBUILD_IN_BACKGROUND": False,
        "MAX_OPEN_CASH_ORDERS": 3,
        "CHECKOUT_EXPIRY_MINUTES": 60,
    }
    stripe_url = os.environ.get("BAZARCHE_TEST_STRIPE_URL")
    if stripe_url:
        from tests.fake_stripe import API_KEY, WEBHOOK_SECRET

        settings.update(
            STRIPE_SECRET_KEY=API_KEY,
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=stripe_url,
            MARKET_CURRENCY="EUR",
        )
    else:
        settings.update(STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="", STRIPE_API_BASE="")
    settings.update(json.loads(os.environ.get("BAZARCHE_TEST_SETTINGS") or "{}"))
    if settings.get("TEST_HOLD_CHECKOUT"):
        hold_checkouts(instance)
    if settings.get("TEST_HOLD_MAIL"):
        hold_mail(instance)
    return create_app(settings)


app = build()
