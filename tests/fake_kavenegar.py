"""A local fake of Kavenegar's HTTP API (``/v1/<API key>/sms/send.json``) for the real client code.

A threaded HTTP server on 127.0.0.1 (a random port) that the app reaches through
``KAVENEGAR_URL``. It checks the API key, the method (POST) and the required fields as the
provider does and answers its JSON (``return.status`` and ``entries``, the HTTP status the same).
It records every call, and can be told to answer its next calls with a given error status, to
answer slowly (longer than the app's timeout) or with something that is not its JSON.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API_KEY = "4B7A2F5231384156456E6743733D"
SENDER = "10004346"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeKavenegar:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []  # the messages it took
        self.calls = 0
        self.errors: list[int] = []  # statuses of the next answers, first first
        self.delay = 0.0
        self.garbage = False
        self.lock = threading.Lock()
        self._ids = itertools.count(8792343)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeKavenegar:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, status: int, message: str, entries: Any = None) -> Response:
        body = {"return": {"status": status, "message": message}, "entries": entries}
        return Response(
            json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
        )

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.calls += 1
            error = self.errors.pop(0) if self.errors else None
        if self.delay:
            time.sleep(self.delay)
        if self.garbage:
            return Response("<html>Bad gateway</html>", status=200)(environ, start_response)
        parts = request.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "v1" or parts[2:] != ["sms", "send.json"]:
            return self._answer(404, "method not found")(environ, start_response)
        if parts[1] != API_KEY:
            return self._answer(403, "invalid API key")(environ, start_response)
        if request.method != "POST":
            return self._answer(405, "use POST")(environ, start_response)
        receptor, message = request.form.get("receptor", ""), request.form.get("message", "")
        if not receptor or not message:
            return self._answer(406, "required parameters missing")(environ, start_response)
        if error is not None:
            return self._answer(error, f"error {error}")(environ, start_response)
        entry = {
            "messageid": next(self._ids),
            "message": message,
            "status": 1,
            "statustext": "در صف ارسال",
            "sender": request.form.get("sender", ""),
            "receptor": receptor,
            "date": int(time.time()),
            "cost": 120,
        }
        with self.lock:
            self.sent.append(dict(request.form.items()))
        return self._answer(200, "تایید شد", [entry])(environ, start_response)


@pytest.fixture
def fake_kavenegar() -> Iterator[FakeKavenegar]:
    fake = FakeKavenegar().start()
    yield fake
    fake.stop()
