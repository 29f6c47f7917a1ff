"""A web worker killed in the middle of a checkout (SIGKILL, after it took the stock and made
the payment and orders, before its transaction committed): nothing of that checkout remains —
no payment, no order, the stock and the cart as they were — gunicorn replaces the worker, and
the customer's retry of the same form (same checkout token) places the order exactly once.

The worker is held at that point by the ``TEST_HOLD_CHECKOUT`` hook of
:mod:`tests.concurrency_app`; runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from app.orders.models import CartLine, Order
from app.payments.models import Payment
from tests import factories
from tests.live_server import (
    Server,
    checkout_page,
    count,
    customers,
    fresh,
    log_in,
    put_in_cart,
    stock,
)

pytestmark = pytest.mark.slow

ALREADY = "This cart was already ordered"


@pytest.fixture(scope="module")
def server_settings() -> dict[str, Any]:
    return {"TEST_HOLD_CHECKOUT": True}


def wait_for_held(instance: Any, timeout: float = 30) -> int:
    """The pid of the worker holding a checkout, once it holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = list(instance.glob("held-checkout-*"))
        if held:
            held[0].unlink()
            return int(held[0].name.rsplit("-", 1)[1])
        time.sleep(0.05)
    raise AssertionError("no checkout reached the hold")


def test_a_worker_killed_mid_checkout_leaves_nothing_and_the_retry_places_once(
    live: Server,
) -> None:
    shop = factories.seller(name="Kalpurgan Pottery")
    bowl = factories.product(shop, title="Clay bowl", price_amount=450_000, stock=5)
    bowl_id = bowl.id
    (mina,) = customers(1)
    put_in_cart(mina, (bowl, 2))
    (browser,) = log_in(live, [mina])
    form = checkout_page(browser)
    fresh()
    workers = live.workers()

    (live.instance / "hold-checkout").touch()
    outcome: dict[str, Any] = {}

    def post() -> None:
        try:
            outcome["reply"] = browser.post("/checkout", form)
        except OSError as exc:  # the connection dies with the worker
            outcome["error"] = exc

    poster = threading.Thread(target=post)
    poster.start()
    pid = wait_for_held(live.instance)
    assert pid in workers
    # Held inside the transaction: the stock is taken there, not yet for anyone else.
    fresh()
    assert stock(bowl_id) == 5 and count(Payment) == 0
    os.kill(pid, signal.SIGKILL)
    poster.join(30)
    assert not poster.is_alive()
    assert "reply" not in outcome or outcome["reply"].status >= 500, outcome

    # Nothing of the killed checkout remains, and the cart is still there to retry.
    fresh()
    assert count(Payment) == 0 and count(Order) == 0
    assert stock(bowl_id) == 5
    assert count(CartLine, CartLine.user_id == mina.id) == 1
    # gunicorn replaced the worker; the others were not touched.
    deadline = time.monotonic() + 20
    while len(live.workers()) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    now = live.workers()
    assert pid not in now and len(now) == len(workers) and workers - {pid} <= now

    # The customer's retry of the same form places it, once.
    retry = browser.post("/checkout", form)
    assert retry.status == 303 and "/checkout/return/" in retry.location, retry
    again = browser.post("/checkout", form)
    assert again.status == 303 and again.location == retry.location
    fresh()
    assert count(Payment) == 1 and count(Order) == 1
    assert stock(bowl_id) == 3
    assert count(CartLine, CartLine.user_id == mina.id) == 0
    assert not list(live.instance.glob("held-checkout-*"))
