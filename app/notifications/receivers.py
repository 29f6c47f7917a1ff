"""What the notifications do when a domain package sends one of its signals: each receiver turns
the signal's arguments into the notices of its event (:mod:`app.notifications.accounts`,
:mod:`app.notifications.alerts`, :mod:`app.notifications.orders`,
:mod:`app.notifications.payouts`,
:mod:`app.notifications.problems`). :func:`connect` (called by
:func:`app.notifications.init_app`) connects them; connecting again changes nothing.

Receivers never raise: whatever goes wrong is logged, so the sender (which has committed) goes on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from blinker import Signal

from app.accounts.signals import login_locked
from app.catalog.signals import back_in_stock, seller_details_changed, seller_status_changed
from app.disputes.signals import problem_event
from app.notifications import accounts, alerts, orders, payouts, problems
from app.orders.signals import orders_completed
from app.payments.signals import order_event
from app.payouts.signals import payout_made

log = logging.getLogger(__name__)

Receiver = Callable[..., None]


def _failure_proof(receiver: Receiver) -> Receiver:
    @functools.wraps(receiver)
    def guarded(sender: object, **kwargs: Any) -> None:
        try:
            receiver(sender, **kwargs)
        except Exception:
            log.exception("%s could not act on %s", receiver.__name__, kwargs)

    return guarded


@_failure_proof
def on_login_locked(sender: object, *, user_id: int, until: datetime, **_: object) -> None:
    """The owner hears that logins to their account are locked until ``until``."""
    accounts.send_login_locked(user_id, until)


@_failure_proof
def on_seller_details_changed(
    sender: object, *, user_id: int, changes: list[accounts.Change], **_: object
) -> None:
    """The seller hears which details of their shop changed, old and new."""
    accounts.send_account_notice("seller_profile_changed", user_id, changes=changes)


@_failure_proof
def on_seller_status_changed(
    sender: object,
    *,
    user_id: int,
    status: str,
    previous: str | None,
    reason: str | None,
    **_: object,
) -> None:
    """The applicant hears that their application was received, or what staff decided (with
    the reason)."""
    accounts.send_seller_status(user_id, status, previous, reason)


@_failure_proof
def on_order_event(sender: object, *, kind: str, order_ids: list[int], **_: object) -> None:
    """The customers and sellers of ``order_ids`` hear that ``kind`` happened."""
    orders.send_order_event(kind, order_ids)


@_failure_proof
def on_orders_completed(sender: object, *, order_ids: list[int], **_: object) -> None:
    """The customers and sellers of ``order_ids`` hear that the orders are complete."""
    orders.send_order_event("completed", order_ids)


@_failure_proof
def on_payout_made(sender: object, *, batch_id: int, **_: object) -> None:
    """Each seller paid in the batch hears how much went to their account."""
    payouts.send_payout_made(batch_id)


@_failure_proof
def on_problem_event(sender: object, *, kind: str, problem_id: int, **_: object) -> None:
    """The seller or the customer of a reported problem hears what happened to it."""
    problems.send_problem_event(kind, problem_id)


@_failure_proof
def on_back_in_stock(sender: object, *, product_id: int, alert_ids: list[int], **_: object) -> None:
    """Each customer whose alert was claimed hears that the product is back."""
    alerts.send_back_in_stock(product_id, alert_ids)


CONNECTIONS: tuple[tuple[Signal, Receiver], ...] = (
    (login_locked, on_login_locked),
    (seller_details_changed, on_seller_details_changed),
    (seller_status_changed, on_seller_status_changed),
    (order_event, on_order_event),
    (problem_event, on_problem_event),
    (orders_completed, on_orders_completed),
    (payout_made, on_payout_made),
    (back_in_stock, on_back_in_stock),
)


def connect() -> None:
    """Connect every receiver to its signal (from any sender), once per process."""
    for signal, receiver in CONNECTIONS:
        signal.connect(receiver)
