"""Logs one can follow: a request id on every line and in the response, JSON lines on request,
one line per checkout naming its payment; shown times follow DEFAULT_TIMEZONE."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from flask import g, request_started

from app import create_app
from app.core import logs
from app.core.extensions import db
from app.core.formatting import format_date
from tests import factories
from tests.conftest import make_app, settings
from tests.test_checkout import buyer, checkout, fill, shop  # noqa: F401


def _clear_g(sender, **extra):  # type: ignore[no-untyped-def]
    g.__dict__.clear()


@pytest.fixture(autouse=True)
def fresh_g():  # type: ignore[no-untyped-def]
    """A cache hit is served before make_app's own hook empties ``g`` (see test_page_cache)."""
    request_started.connect(_clear_g)
    yield
    request_started.disconnect(_clear_g)


@pytest.fixture
def json_lines():  # type: ignore[no-untyped-def]
    """Records of the ``bazarche.test`` logger, written by our JSON handler into a buffer."""
    stream = io.StringIO()
    handler = logs.make_handler(stream, "json")
    logger = logging.getLogger("bazarche.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


@pytest.fixture
def proxied_app(tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path, PROXY_FIX=1)
    with app.app_context():
        yield app
        db.session.remove()
    with app.app_context():
        db.engine.dispose()


def _route_that_logs(app):  # type: ignore[no-untyped-def]
    def hello() -> str:
        logging.getLogger("bazarche.test").info("hello from %s", "a view")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bazarche.test").exception("it failed")
        return "ok"

    app.add_url_rule("/_log_test", "log_test", hello)


def test_json_lines_parse_and_carry_the_request_id_of_the_response_header(app, json_lines):
    logger, stream = json_lines
    _route_that_logs(app)
    response = app.test_client().get("/_log_test")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 16 and int(request_id, 16) >= 0

    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["message"] for e in entries] == ["hello from a view", "it failed"]
    assert {e["request_id"] for e in entries} == {request_id}
    assert entries[0]["level"] == "INFO" and entries[0]["logger"] == "bazarche.test"
    assert "exception" not in entries[0]
    assert "ValueError: boom" in entries[1]["exception"]
    moment = datetime.fromisoformat(entries[0]["time"])
    assert moment.utcoffset().total_seconds() == 0

    # Outside a request the id is empty; every request gets its own.
    logger.info("outside")
    assert json.loads(stream.getvalue().splitlines()[-1])["request_id"] == ""
    assert app.test_client().get("/_log_test").headers["X-Request-ID"] != request_id


def test_an_incoming_request_id_is_ignored_without_a_trusted_proxy(client):
    response = client.get("/", headers={"X-Request-ID": "edge-1234"})
    assert response.headers["X-Request-ID"] != "edge-1234"


def test_a_well_formed_incoming_request_id_is_kept_behind_a_trusted_proxy(proxied_app):
    client = proxied_app.test_client()
    assert client.get("/", headers={"X-Request-ID": "edge-1234.a_b"}).headers["X-Request-ID"] == (
        "edge-1234.a_b"
    )
    for bad in ("x" * 65, "has space", "a/b", "ناشناس"):
        shown = client.get("/", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert shown != bad and len(shown) == 16


def test_a_page_cache_hit_has_a_request_id(client, app):
    app.config["PAGE_CACHE_ENABLED"] = True
    item = factories.product(title="سفال کلپورگان", price_amount=1_250_000, stock=5)
    first = client.get(f"/p/{item.id}")
    second = client.get(f"/p/{item.id}")
    assert second.headers["X-Page-Cache"] == "hit"
    assert second.headers["X-Request-ID"] and first.headers["X-Request-ID"]
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


def test_a_checkout_logs_one_info_line_naming_the_payment(client, shop, buyer, caplog):  # noqa: F811
    fill(client, (shop["cloth"], 1), (shop["bowl"], 1))
    with caplog.at_level(logging.INFO, logger="app.payments.checkout"):
        response = checkout(client)
    assert response.status_code == 303
    payment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    placed = [
        r for r in caplog.records if r.name == "app.payments.checkout" and "checkout" in r.message
    ]
    assert len(placed) == 1 and placed[0].levelno == logging.INFO
    assert f"payment {payment_id}," in placed[0].getMessage()
    assert "mina" not in placed[0].getMessage().lower()  # no personal data
    assert placed[0].request_id  # the filter named the request


def test_default_timezone_changes_a_shown_time(tmp_path):
    moment = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    tehran = create_app(settings(tmp_path))
    london = create_app(settings(tmp_path, BABEL_DEFAULT_TIMEZONE="Europe/London"))
    with tehran.app_context():
        assert format_date(moment, "en", with_time=True).endswith("15:30")
    with london.app_context():
        assert format_date(moment, "en", with_time=True).endswith("12:00")
        from flask_babel import get_timezone

        with london.test_request_context("/"):
            assert str(get_timezone()) == "Europe/London"
    # Outside an app: the market's default, Tehran.
    assert format_date(moment, "en", with_time=True).endswith("15:30")


def test_creating_apps_again_does_not_stack_handlers(tmp_path):
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        for _ in range(3):
            create_app(settings(tmp_path, TESTING=False, LOG_FORMAT="json", LOG_LEVEL="warning"))
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1 and isinstance(ours[0].formatter, logs.JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_an_unknown_default_timezone_stops_the_start(tmp_path):
    with pytest.raises(ValueError, match="DEFAULT_TIMEZONE"):
        create_app(settings(tmp_path, BABEL_DEFAULT_TIMEZONE="Asia/Tehrn"))
