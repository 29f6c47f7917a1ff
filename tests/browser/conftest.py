"""A live Bazarche server on 127.0.0.1 and a headless Chromium driven through Playwright.

The server is the real app (CSRF on, as in production) in a background thread, on a free port,
with the Persian demo market loaded and indexed for search. Nothing but 127.0.0.1 is ever browsed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from app.core.extensions import db
from tests.conftest import close_search, make_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.fixture(scope="module")
def live_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's instance folder: the file backends write its e-mails under ``mail``
    and its texts under ``sms`` (read them with ``sent_mail`` and ``written_sms``)."""
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="module")
def live_server(live_dir: Path) -> Iterator[str]:
    """The base URL of a running server with demo data (6 sellers, 4 products each)."""
    from app.catalog import indexing
    from app.demo.seed import seed_demo
    from app.shop import cache

    cache.clear()
    # Search follows the catalogue after each request, as in the running market.
    app = make_app(live_dir, WTF_CSRF_ENABLED=True, SEARCH_SYNC_ON_REQUEST=True)
    with app.app_context():
        make_image = None
        if os.environ.get("SAVE_SCREENSHOT") == "1":
            from app.cli import demo_image_maker

            make_image = demo_image_maker()  # real photos, for a screenshot worth showing
        seed_demo(make_image, sellers=6, products_per_seller=4)
        indexing.reindex()  # as `flask seed-demo` does: search answers from the index
        db.session.remove()

    with serving(app, "live-server") as url:
        yield url


@contextmanager
def serving(app: object, name: str, handler: type = QuietHandler) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread named ``name`` while the block
    runs (its base URL); then stop it, close its search index and database connections, and
    forget the page cache."""
    from app.shop import cache

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        close_search(app)  # its open index files
        with app.app_context():  # type: ignore[attr-defined]
            db.engine.dispose()
        cache.clear()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """A browser tab on the live server, recording every request and every script error."""

    page: object
    base_url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def go(self, path: str) -> object:
        response = self.page.goto(self.base_url + path)  # type: ignore[attr-defined]
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        return response

    def js(self, expression: str) -> object:
        return self.page.evaluate(expression)  # type: ignore[attr-defined]


def open_visit(browser, live_server: str, **context_options: object) -> tuple[object, Visit]:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=context_options.pop("viewport", {"width": 1280, "height": 900}),
        **context_options,
    )
    page = context.new_page()
    visit = Visit(page=page, base_url=live_server)
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on("pageerror", lambda error: visit.errors.append(f"page error: {error}"))
    page.on("console", lambda msg: _console(visit, msg))
    page.on("response", lambda response: _response(visit, response))
    return context, visit


def _console(visit: Visit, msg) -> None:  # type: ignore[no-untyped-def]
    # Failed loads are judged by _response (a form answered with 400 is expected there).
    if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
        visit.errors.append(f"console: {msg.text}")  # e.g. a Content-Security-Policy refusal


def _response(visit: Visit, response) -> None:  # type: ignore[no-untyped-def]
    if response.status >= 400 and response.request.resource_type != "document":
        visit.errors.append(f"{response.status} for {response.url}")


def assert_only_loopback(visit: Visit) -> None:
    strays = [url for url in visit.requests if not url.startswith((visit.base_url + "/", "data:"))]
    assert not strays, f"requests left the test server: {strays}"


@contextmanager
def person(
    browser,
    live_server: str,
    phone_size: tuple[int, int] | None = None,
    timeout_ms: int | None = None,
):  # type: ignore[no-untyped-def]
    """One person's fresh browser context (no cookies): desktop width, or a touch phone of
    ``phone_size`` (width, height). On leaving, nothing left 127.0.0.1 and no page erred."""
    options: dict[str, object] = {}
    if phone_size is not None:
        width, height = phone_size
        options = {
            "viewport": {"width": width, "height": height},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
        }
    context, visit = open_visit(browser, live_server, **options)
    if timeout_ms is not None:
        context.set_default_timeout(timeout_ms)
    try:
        yield visit
    finally:
        context.close()
    assert_only_loopback(visit)
    assert not visit.errors, visit.errors


@pytest.fixture
def visit(browser, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) at desktop width."""
    with person(browser, live_server) as visit:
        yield visit


@pytest.fixture
def phone(browser, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    """A fresh browser context at phone size (375 x 740, touch)."""
    with person(browser, live_server, (375, 740)) as visit:
        yield visit


@pytest.fixture
def phone390(browser, live_server: str) -> Iterator[Visit]:  # type: ignore[no-untyped-def]
    """A fresh browser context at 390 x 844, touch (the phone the storefront is checked on)."""
    with person(browser, live_server, (390, 844)) as visit:
        yield visit
