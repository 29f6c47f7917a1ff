"""A local fake of the bank gateway's REST API (Zarinpal's v4 flow) for the real client code.

A threaded HTTP server on 127.0.0.1 (a random port) that the app reaches through
``IPG_API_BASE`` over HTTP with ``requests``: ``request.json`` hands out authorities,
``verify.json`` settles a payment the customer made (100, then 101), ``unVerified.json`` lists the
paid but unverified ones and ``refund.json`` refunds, once per key. It records every call and can
be told to answer slowly (longer than the app's timeout), fail (HTTP 500), report another amount
than the one paid, or have been paid another amount. The customer's side is driven by helper
methods (``pay``, ``cancel``); the browser's way back is the ``callback`` URL the test sends (or
drops, to simulate a lost callback).

Test modules import the fixtures ``fake_ipg`` and ``ipg_app`` by their function names.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

MERCHANT_ID = "0f3e4c2a-1b2c-4d5e-8f90-123456789abc"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def _error(code: int, message: str) -> dict[str, Any]:
    return {"data": [], "errors": {"code": code, "message": message, "validations": []}}


class FakeIPG:
    def __init__(self, merchant_id: str = MERCHANT_ID) -> None:
        self.merchant_id = merchant_id
        self.payments: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.refunds: dict[str, dict[str, Any]] = {}
        self.delay: dict[str, float] = {}  # path -> seconds before answering
        self.fail: dict[str, int] = {}  # path -> HTTP status of a broken answer
        self.report_amount: int | None = None  # verify's data.amount (a gateway that lies)
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeIPG:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- HTTP ------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path.rsplit("/", 1)[-1]
        try:
            payload = json.loads(request.get_data() or b"{}")
        except ValueError:
            payload = None
        with self.lock:
            self.calls.append({"path": path, "payload": payload, "at": time.monotonic()})
        if path in self.delay:
            time.sleep(self.delay[path])
        if path in self.fail:
            response = Response("<html>Bad gateway</html>", status=self.fail[path])
            return response(environ, start_response)
        if not isinstance(payload, dict) or not request.path.startswith("/pg/v4/payment/"):
            body = _error(-9, "validation error")
        elif payload.get("merchant_id") != self.merchant_id:
            body = _error(-11, "merchant not active")
        else:
            with self.lock:
                body = self._route(path, payload)
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)

    def _route(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        handler = {
            "request.json": self._request,
            "verify.json": self._verify,
            "unVerified.json": self._unverified,
            "refund.json": self._refund,
        }.get(path)
        return handler(payload) if handler else _error(-9, "no such call")

    def _request(self, p: dict[str, Any]) -> dict[str, Any]:
        amount = p.get("amount")
        if not isinstance(amount, int) or amount < 1000 or not p.get("callback_url"):
            return _error(-9, "validation error")
        authority = f"A{next(self._ids):035d}"
        self.payments[authority] = {
            "amount": amount,
            "paid_amount": None,
            "callback_url": p["callback_url"],
            "description": p.get("description"),
            "metadata": p.get("metadata"),
            "status": "started",
            "verified": False,
            "ref_id": None,
        }
        data = {"code": 100, "message": "Success", "authority": authority, "fee_type": "Merchant"}
        return {"data": {**data, "fee": 0}, "errors": []}

    def _verify(self, p: dict[str, Any]) -> dict[str, Any]:
        payment = self.payments.get(str(p.get("authority")))
        if payment is None:
            return _error(-54, "invalid authority")
        if payment["status"] != "paid":
            return _error(-51, "session is not active paid try")
        if p.get("amount") != payment["paid_amount"]:
            return _error(-50, "amounts values is not the same")
        code = 101 if payment["verified"] else 100
        payment["verified"] = True
        payment["ref_id"] = payment["ref_id"] or 20000 + next(self._ids)
        data: dict[str, Any] = {
            "code": code,
            "message": "Verified" if code == 100 else "Verified before",
            "card_hash": "1EBE3EBEBE35C7EC0F8D6EE4F2F859107A87822CA179BC9528767EA7B5489B69",
            "card_pan": "502229******5995",
            "ref_id": payment["ref_id"],
            "fee_type": "Merchant",
            "fee": 0,
        }
        if self.report_amount is not None:
            data["amount"] = self.report_amount
        return {"data": data, "errors": []}

    def _unverified(self, p: dict[str, Any]) -> dict[str, Any]:
        rows = [
            {"authority": a, "amount": x["paid_amount"], "callback_url": x["callback_url"]}
            for a, x in self.payments.items()
            if x["status"] == "paid" and not x["verified"]
        ]
        return {"data": {"code": 100, "message": "Success", "authorities": rows}, "errors": []}

    def _refund(self, p: dict[str, Any]) -> dict[str, Any]:
        key = str(p.get("key"))
        if key in self.refunds:
            return {"data": {"code": 100, **self.refunds[key]}, "errors": []}
        payment = self.payments.get(str(p.get("authority")))
        if payment is None or not payment["verified"]:
            return _error(-54, "not a verified payment")
        amount = p.get("amount")
        taken = sum(r["amount"] for r in self.refunds.values() if r["authority"] == p["authority"])
        if not isinstance(amount, int) or amount < 1 or taken + amount > payment["paid_amount"]:
            return _error(-9, "refund amount")
        refund = {
            "refund_id": f"RF{next(self._ids)}",
            "amount": amount,
            "authority": p["authority"],
        }
        self.refunds[key] = refund
        return {"data": {"code": 100, **refund}, "errors": []}

    # ---- the customer's side and what the tests look at --------------------------------------

    def only_authority(self) -> str:
        assert len(self.payments) == 1, self.payments
        return next(iter(self.payments))

    def pay(self, authority: str, amount: int | None = None) -> None:
        """The customer pays at the gateway (``amount``: a gateway that charged another one)."""
        with self.lock:
            payment = self.payments[authority]
            payment["status"] = "paid"
            payment["paid_amount"] = payment["amount"] if amount is None else amount

    def cancel(self, authority: str) -> None:
        with self.lock:
            self.payments[authority]["status"] = "cancelled"

    def callback(self, authority: str, status: str = "OK") -> str:
        """The path and query the gateway sends the customer's browser back to."""
        parts = urlsplit(self.payments[authority]["callback_url"])
        return f"{parts.path}?{urlencode({'Authority': authority, 'Status': status})}"

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for call in self.calls if call["path"] == path)

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()
            self.calls.clear()
            self.refunds.clear()
            self.delay.clear()
            self.fail.clear()
            self.report_amount = None


def ipg_settings(fake: FakeIPG, **extra: object) -> dict[str, object]:
    return {
        "IPG_MERCHANT_ID": fake.merchant_id,
        "IPG_API_BASE": fake.url,
        "IPG_START_BASE": fake.url,
        "IPG_TIMEOUT_SECONDS": 1,
        "MARKET_CURRENCY": "IRR",
        "STRIPE_SECRET_KEY": "",
        "CHECKOUT_EXPIRY_MINUTES": 60,
        **extra,
    }


@pytest.fixture(name="fake_ipg")
def fake_ipg_fixture() -> Iterator[FakeIPG]:
    fake = FakeIPG().start()
    yield fake
    fake.stop()


@pytest.fixture(name="ipg_app")
def ipg_app_fixture(tmp_path: Path, fake_ipg: FakeIPG) -> Iterator:
    """The app with the bank gateway on (rials), talking to the fake over HTTP."""
    from tests.fake_stripe import app_with

    with app_with(tmp_path, **ipg_settings(fake_ipg)) as app:
        yield app
