"""The bank gateway's REST API (Zarinpal's v4), as plain functions over one transport.

The transport is HTTP (``requests``, with connect and read timeouts) against ``IPG_API_BASE``,
or, while ``PAYMENT_SANDBOX`` is on, :class:`SandboxGateway`: an in-process implementation of the
same four calls that keeps its state in the database, so the sandbox runs the very same provider
code without the app calling itself over HTTP (a single sync worker would wait on itself).

Gateway answers are ``{"data": {...}, "errors": [...]}``; ``data.code`` 100 is success, 101 a
payment verified before; a negative code is the gateway's refusal (-50: the amount is not the
one paid, -51: not paid, -54: unknown authority...). Everything returned is plain data.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import sqlalchemy as sa
from flask import current_app

from app.core import metrics
from app.core.db import transaction
from app.core.extensions import db
from app.core.links import site_url_for
from app.payments.models import PaymentEvent, Provider

log = logging.getLogger(__name__)

# Connect timeout (seconds); the read timeout is IPG_TIMEOUT_SECONDS (a worker must not hang on
# a slow gateway for long).
CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 20.0
OK = 100
ALREADY_VERIFIED = 101
AMOUNT_MISMATCH = -50
NOT_PAID = -51
UNKNOWN_AUTHORITY = -54
SANDBOX_MERCHANT = "sandbox"


class GatewayError(Exception):
    """The gateway could not be reached, timed out, or answered something unreadable.
    ``timeout`` is True when the answer may still come (the call may have acted)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass(frozen=True, slots=True)
class Answer:
    """``data.code`` (or the error's code) and the rest of ``data``."""

    code: int
    data: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.code in (OK, ALREADY_VERIFIED)


class Transport(Protocol):
    def post(self, path: str, payload: dict[str, Any]) -> Answer: ...


def _answer(body: object) -> Answer:
    """The gateway's JSON body as an Answer (GatewayError when it is not one)."""
    if not isinstance(body, dict):
        raise GatewayError("not a JSON object")
    data = body.get("data")
    if isinstance(data, dict) and isinstance(data.get("code"), int):
        return Answer(int(data["code"]), data)
    errors = body.get("errors")
    if isinstance(errors, dict) and isinstance(errors.get("code"), int):
        return Answer(int(errors["code"]), errors)
    raise GatewayError("no code in the answer")


class HttpTransport:
    """JSON over HTTPS to ``{base}/pg/v4/payment/<path>``; one requests session per thread."""

    _local = threading.local()

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, path: str, payload: dict[str, Any]) -> Answer:
        url = f"{self.base}/pg/v4/payment/{path}"
        try:
            response = self._session().post(
                url,
                json=payload,
                timeout=(CONNECT_TIMEOUT, read_timeout()),
                headers={"Accept": "application/json"},
            )
        except requests.Timeout as exc:
            metrics.PAYMENT_ERRORS.labels("ipg").inc()
            raise GatewayError(f"{path}: timed out", timeout=True) from exc
        except requests.RequestException as exc:
            metrics.PAYMENT_ERRORS.labels("ipg").inc()
            raise GatewayError(f"{path}: {exc.__class__.__name__}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            metrics.PAYMENT_ERRORS.labels("ipg").inc()
            raise GatewayError(f"{path}: HTTP {response.status_code}, not JSON") from exc
        return _answer(body)


def read_timeout() -> float:
    """How long a call waits for the gateway's answer (``IPG_TIMEOUT_SECONDS``)."""
    return float(current_app.config.get("IPG_TIMEOUT_SECONDS") or DEFAULT_READ_TIMEOUT)


def transport() -> Transport:
    """The sandbox while ``PAYMENT_SANDBOX`` is on, else HTTP to ``IPG_API_BASE``."""
    cfg = current_app.config
    if cfg.get("PAYMENT_SANDBOX"):
        return SandboxGateway()
    return HttpTransport(str(cfg.get("IPG_API_BASE") or "https://payment.zarinpal.com"))


def merchant_id() -> str:
    cfg = current_app.config
    return str(
        cfg.get("IPG_MERCHANT_ID") or (SANDBOX_MERCHANT if cfg.get("PAYMENT_SANDBOX") else "")
    )


def start_url(authority: str) -> str:
    """Where the customer pays: the gateway's StartPay page (the sandbox's page of the app)."""
    cfg = current_app.config
    if cfg.get("PAYMENT_SANDBOX"):
        return site_url_for("shop.sandbox_gateway", authority=authority)
    base = str(cfg.get("IPG_START_BASE") or "https://payment.zarinpal.com").rstrip("/")
    return f"{base}/pg/StartPay/{authority}"


# ---- the four calls ---------------------------------------------------------------------------


def request_payment(
    *, amount: int, callback_url: str, description: str, mobile: str | None, email: str | None
) -> Answer:
    """A new payment at the gateway; ``data.authority`` names it when the code is 100."""
    metadata = {key: value for key, value in (("mobile", mobile), ("email", email)) if value}
    return transport().post(
        "request.json",
        {
            "merchant_id": merchant_id(),
            "amount": amount,
            "callback_url": callback_url,
            "description": description[:255],
            "metadata": metadata,
        },
    )


def verify(*, amount: int, authority: str) -> Answer:
    """Settle a payment the customer made: 100 (now) or 101 (before) with ``ref_id``,
    ``card_pan`` and ``fee``; a negative code when it was not paid (or not this amount)."""
    return transport().post(
        "verify.json", {"merchant_id": merchant_id(), "amount": amount, "authority": authority}
    )


def unverified() -> list[dict[str, Any]]:
    """Payments the customers made that we have not verified yet (``authority``, ``amount``)."""
    answer = transport().post("unVerified.json", {"merchant_id": merchant_id()})
    if answer.code != OK:
        raise GatewayError(f"unVerified: code {answer.code}")
    rows = answer.data.get("authorities")
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def refund(*, authority: str, amount: int, key: str) -> Answer:
    """Give ``amount`` of a verified payment back; ``key`` (our idempotency key) makes a repeat
    return the same refund.

    Modelled as ``refund.json`` beside the other calls. Zarinpal's real refund service is a
    GraphQL mutation with an access token (transaction number, amount of at least 20,000 rials,
    method PAYA or CARD, a reason); connecting it changes this function only."""
    return transport().post(
        "refund.json",
        {"merchant_id": merchant_id(), "authority": authority, "amount": amount, "key": key},
    )


# ---- the sandbox ------------------------------------------------------------------------------

SANDBOX = "sandbox"  # PaymentEvent.type of the sandbox gateway's rows


class SandboxGateway:
    """The gateway's calls answered in-process, its state kept in ``payment_event`` rows of
    type ``sandbox`` (event id ``sandbox:<authority>``, payload amount/status/verified), so
    every worker sees the same gateway. Only ever used while ``PAYMENT_SANDBOX`` is on."""

    def post(self, path: str, payload: dict[str, Any]) -> Answer:
        handler = {
            "request.json": self._request,
            "verify.json": self._verify,
            "unVerified.json": self._unverified,
            "refund.json": self._refund,
        }[path]
        with transaction():
            return handler(payload)

    def _request(self, payload: dict[str, Any]) -> Answer:
        amount = payload.get("amount")
        if not isinstance(amount, int) or amount < 1000:
            return Answer(-9, {"message": "amount"})
        authority = "S" + secrets.token_hex(17).upper()
        db.session.add(
            PaymentEvent(
                provider=Provider.IPG,
                event_id=f"sandbox:{authority}",
                type=SANDBOX,
                payload={"amount": amount, "status": "started", "verified": False},
            )
        )
        return Answer(OK, {"code": OK, "authority": authority, "fee": 0})

    def _row(self, authority: object) -> PaymentEvent | None:
        if not isinstance(authority, str) or not authority:
            return None
        return db.session.scalar(
            sa.select(PaymentEvent)
            .where(
                PaymentEvent.provider == Provider.IPG,
                PaymentEvent.event_id == f"sandbox:{authority}",
            )
            .with_for_update()
        )

    def _verify(self, payload: dict[str, Any]) -> Answer:
        row = self._row(payload.get("authority"))
        if row is None:
            return Answer(UNKNOWN_AUTHORITY, {"message": "unknown authority"})
        state = dict(row.payload or {})
        if state.get("status") != "paid":
            return Answer(NOT_PAID, {"message": "not paid"})
        if payload.get("amount") != state.get("amount"):
            return Answer(AMOUNT_MISMATCH, {"message": "amount"})
        code = ALREADY_VERIFIED if state.get("verified") else OK
        state["verified"] = True
        row.payload = state
        ref_id = int(row.id) + 100000
        return Answer(
            code, {"code": code, "ref_id": ref_id, "card_pan": "502229******5995", "fee": 0}
        )

    def _unverified(self, payload: dict[str, Any]) -> Answer:
        rows = db.session.scalars(
            sa.select(PaymentEvent).where(
                PaymentEvent.provider == Provider.IPG, PaymentEvent.type == SANDBOX
            )
        )
        found = [
            {
                "authority": row.event_id.removeprefix("sandbox:"),
                "amount": (row.payload or {}).get("amount"),
            }
            for row in rows
            if (row.payload or {}).get("status") == "paid"
            and not (row.payload or {}).get("verified")
        ]
        return Answer(OK, {"code": OK, "authorities": found})

    def _refund(self, payload: dict[str, Any]) -> Answer:
        row = self._row(payload.get("authority"))
        if row is None or not (row.payload or {}).get("verified"):
            return Answer(UNKNOWN_AUTHORITY, {"message": "not a verified payment"})
        return Answer(
            OK, {"code": OK, "refund_id": f"R{payload.get('key')}", "amount": payload.get("amount")}
        )


def sandbox_amount(authority: str) -> int | None:
    """The amount of a sandbox payment still open for the customer, or None."""
    with transaction(write=False):
        row = db.session.scalar(
            sa.select(PaymentEvent).where(
                PaymentEvent.provider == Provider.IPG,
                PaymentEvent.event_id == f"sandbox:{authority}",
            )
        )
        if row is None or (row.payload or {}).get("status") != "started":
            return None
        amount = (row.payload or {}).get("amount")
        return amount if isinstance(amount, int) else None


def sandbox_decide(authority: str, outcome: str) -> bool:
    """The sandbox customer pressed Pay (``paid``), Cancel or Fail: the gateway records it once.
    False when the authority is unknown or was decided before."""
    with transaction():
        row = db.session.scalar(
            sa.select(PaymentEvent)
            .where(
                PaymentEvent.provider == Provider.IPG,
                PaymentEvent.event_id == f"sandbox:{authority}",
            )
            .with_for_update()
        )
        if row is None or (row.payload or {}).get("status") != "started":
            return False
        row.payload = {**(row.payload or {}), "status": outcome}
        return True
