"""A local fake of the part of Stripe's HTTP API the market uses, for the real ``stripe`` library.

It is a real HTTP server on 127.0.0.1 (a random port) that the app reaches through
``STRIPE_API_BASE``: the library encodes the requests, sends the idempotency keys and parses the
answers exactly as it would with Stripe. It keeps its objects in memory and behaves like Stripe
where the market depends on it: API key check, form-encoded parameters, idempotency keys (the same
key returns the first answer; other parameters under it are refused), the 30-minute to 24-hour
window of ``expires_at``, refunds that cannot be made twice.

Test modules import the fixtures ``fake_stripe``, ``stripe_app`` and ``notices`` by their
function names (``fake_stripe_fixture``…). Tests drive the customer's side (pay, let expire, refund from the dashboard) with helper methods,
and sign webhook events with Stripe's scheme (``t=<time>,v1=<HMAC-SHA256 of "<time>.<body>">``),
computed here independently, so that the app's verification by the real library is what is tested.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from app.payments.signals import order_event

API_KEY = "sk_test_x"
WEBHOOK_SECRET = "whsec_test"
CURRENCIES = {"eur", "usd", "gbp", "aed", "try", "cad", "aud", "chf", "sek", "nok", "dkk"}


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class StripeError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.code = status, type_, code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": str(self)}
        if self.code:
            error["code"] = self.code
        return {"error": error}


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``line_items[0][price_data][currency]=eur``) back to objects."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


class FakeStripe:
    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.session_params: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}  # by PaymentIntent id
        self.refunds: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self._idempotent: dict[tuple[str, str], tuple[dict[str, Any], int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.fail_next: StripeError | None = None
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # ---- server -----------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            status, body = self._dispatch(request)
        except StripeError as exc:
            status, body = exc.status, exc.body()
        response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["Request-Id"] = f"req_{next(self._ids)}"
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            raise StripeError(401, "Invalid API Key provided", type_="invalid_request_error")
        if request.method == "GET":
            params = decode_form(
                list(parse_qsl(request.query_string.decode(), keep_blank_values=True))
            )
        else:
            params = decode_form(
                list(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
            )
        key = request.headers.get("Idempotency-Key")
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "params": params,
                    "idempotency_key": key,
                }
            )
            if self.fail_next is not None:
                failure, self.fail_next = self.fail_next, None
                raise failure
            if request.method == "POST" and key:
                seen = self._idempotent.get((request.path, key))
                if seen is not None:
                    first_params, status, body = seen
                    if first_params != params:
                        raise StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            type_="idempotency_error",
                        )
                    return status, body
            status, body = self._route(request.method, request.path, params)
            if request.method == "POST" and key:
                self._idempotent[(request.path, key)] = (params, status, body)
            return status, body

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path == "/v1/checkout/sessions":
            if method == "POST":
                return 200, self._create_session(params)
            found = [
                dict(s)
                for s in self.sessions.values()
                if not params.get("payment_intent")
                or s["payment_intent"] == params["payment_intent"]
            ]
            return 200, {
                "object": "list",
                "url": path,
                "has_more": False,
                "data": found[: int(params.get("limit", 10))],
            }
        match = re.fullmatch(r"/v1/checkout/sessions/([\w-]+)(/expire)?", path)
        if match:
            session = self.sessions.get(match.group(1))
            if session is None:
                raise StripeError(404, "No such checkout.session", code="resource_missing")
            if match.group(2) and method == "POST":
                if session["status"] != "open":
                    raise StripeError(
                        400, "Only open sessions can be expired.", code="checkout_session_not_open"
                    )
                session["status"] = "expired"
                session["url"] = None
            return 200, dict(session)
        if path == "/v1/refunds" and method == "POST":
            return 200, self._create_refund(params)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        if params.get("mode") != "payment":
            raise StripeError(400, "mode must be payment", code="parameter_invalid")
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing")
        items = params.get("line_items") or []
        if not items:
            raise StripeError(400, "line_items is required", code="parameter_missing")
        total, currencies = 0, set()
        for item in items:
            data = item.get("price_data") or {}
            unit, quantity = int(data.get("unit_amount", -1)), int(item.get("quantity", 0))
            if unit < 0 or quantity < 1 or not (data.get("product_data") or {}).get("name"):
                raise StripeError(400, "Invalid line item", code="parameter_invalid")
            currencies.add(data.get("currency"))
            total += unit * quantity
        if len(currencies) != 1 or not currencies <= CURRENCIES:
            raise StripeError(400, f"Invalid currency: {currencies}", code="parameter_invalid")
        expires_at = int(params.get("expires_at", now + 86400))
        if not now + 1800 <= expires_at <= now + 86400:
            raise StripeError(
                400, "expires_at must be 30 minutes to 24 hours from now", code="parameter_invalid"
            )
        session_id = f"cs_test_{next(self._ids)}"
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currencies.pop(),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.url}/pay/{session_id}",
            "expires_at": expires_at,
            "created": now,
            "livemode": False,
        }
        self.sessions[session_id] = session
        self.session_params[session_id] = params
        return dict(session)

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        charge = self.charges.get(params.get("payment_intent", ""))
        if charge is None:
            raise StripeError(400, "No such payment_intent", code="resource_missing")
        if charge["refunded"]:
            raise StripeError(
                400, "Charge has already been refunded.", code="charge_already_refunded"
            )
        left = charge["amount"] - charge.get("amount_refunded", 0)
        amount = int(params.get("amount", left))
        if not 0 < amount <= left:
            raise StripeError(
                400, "Refund amount is more than what is left.", code="amount_too_large"
            )
        refund = {
            "id": f"re_test_{next(self._ids)}",
            "object": "refund",
            "amount": amount,
            "currency": charge["currency"],
            "charge": charge["id"],
            "payment_intent": charge["payment_intent"],
            "metadata": params.get("metadata") or {},
            "status": "succeeded",
        }
        self.refunds.append(refund)
        charge["amount_refunded"] = charge.get("amount_refunded", 0) + amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return dict(refund)

    # ---- what customers and staff do at Stripe ----------------------------------------------

    def only_session(self) -> dict[str, Any]:
        assert len(self.sessions) == 1, self.sessions
        return dict(next(iter(self.sessions.values())))

    def pay(
        self, session_id: str, *, amount_total: int | None = None, delayed: bool = False
    ) -> dict[str, Any]:
        """The customer pays (``delayed``: with a method that settles later)."""
        with self.lock:
            session = self.sessions[session_id]
            assert session["status"] == "open", session["status"]
            intent = f"pi_test_{next(self._ids)}"
            if amount_total is not None:
                session["amount_total"] = amount_total
            session.update(
                status="complete",
                payment_intent=intent,
                url=None,
                payment_status="unpaid" if delayed else "paid",
            )
            params = self.session_params[session_id]
            self.charges[intent] = {
                "id": f"ch_test_{next(self._ids)}",
                "object": "charge",
                "amount": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
                "payment_intent": intent,
                "refunded": False,
                "metadata": (params.get("payment_intent_data") or {}).get("metadata") or {},
            }
            return dict(session)

    def settle(self, session_id: str) -> dict[str, Any]:
        """A delayed payment method succeeded."""
        with self.lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid"
            return dict(session)

    def expire(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="expired", url=None)
            return dict(session)

    def refund_in_dashboard(self, intent: str) -> dict[str, Any]:
        """Staff refund the whole charge by hand; returns the refunded charge."""
        with self.lock:
            charge = self.charges[intent]
            charge["refunded"], charge["amount_refunded"] = True, charge["amount"]
            return dict(charge)

    def charge(self, intent: str) -> dict[str, Any]:
        return dict(self.charges[intent])

    def event(self, type_: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "id": event_id or f"evt_test_{next(self._ids)}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": type_,
            "data": {"object": obj},
        }


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def signed(event: dict[str, Any], **kw: Any) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    return body, sign(body, **kw)


@pytest.fixture(name="fake_stripe")
def fake_stripe_fixture() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    yield fake
    fake.stop()


def stripe_settings(fake: FakeStripe) -> dict[str, object]:
    return {
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url,
        "MARKET_CURRENCY": "EUR",
        "CHECKOUT_EXPIRY_MINUTES": 60,
    }


@contextmanager
def app_with(tmp_path: Path, **settings: object) -> Iterator:
    """An app with these settings, inside its context; its connections are closed after."""
    from app.core.extensions import db
    from app.shop import cache
    from tests.conftest import make_app

    cache.clear()
    app = make_app(tmp_path, **settings)
    try:
        with app.app_context():
            yield app
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(name="stripe_app")
def stripe_app_fixture(tmp_path: Path, fake_stripe: FakeStripe) -> Iterator:
    """The app with card payments on, talking to the fake."""
    with app_with(tmp_path, **stripe_settings(fake_stripe)) as app:
        yield app


# ---- helpers of the payment tests -----------------------------------------------------------

RETURN_URL = "http://127.0.0.1/payments/return"
CANCEL_URL = "http://127.0.0.1/cart"


def card_checkout(customer: Any, lines: list[tuple[Any, int]], token: str | None = None) -> Any:
    """Put (product, quantity) pairs in the customer's cart and check out by card (EUR)."""
    import secrets

    from app.orders import cart
    from app.orders.placing import Address
    from app.payments.checkout import place_checkout
    from app.payments.models import Provider

    for product, quantity in lines:
        cart.add(customer, None, product.id, quantity)
    address = Address(
        recipient_name="مریم رضایی",
        mobile="09121234567",
        province="تهران",
        city="تهران",
        address="خیابان آزادی، پلاک ۱",
        postal_code="1234567890",
    )
    return place_checkout(
        customer,
        address,
        Provider.STRIPE,
        token or secrets.token_urlsafe(24),
        currency="EUR",
        expiry_minutes=60,
        max_open_cash_orders=3,
    ).payment


def start(payment: Any) -> str:
    from app.payments.services import start_card_payment

    return start_card_payment(payment, success_url=RETURN_URL, cancel_url=CANCEL_URL)


def deliver(client: Any, event: dict[str, Any], **sign_kw: Any) -> Any:
    """POST the event to the webhook, signed as Stripe would."""
    body, header = signed(event, **sign_kw)
    return client.post(
        "/payments/stripe/webhook",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


class Notices:
    """Listens to the payment side's ``order_event`` signal (beside the order e-mails that
    ``create_app`` connects to it): records what customers and sellers are told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[int]]] = []
        self.lock = threading.Lock()

    def receive(self, sender: object, *, kind: str, order_ids: list[int], **_: object) -> None:
        with self.lock:
            self.sent.append((kind, list(order_ids)))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.sent]


@pytest.fixture(name="notices")
def notices_fixture() -> Iterator[Notices]:
    recorder = Notices()
    with order_event.connected_to(recorder.receive):
        yield recorder
