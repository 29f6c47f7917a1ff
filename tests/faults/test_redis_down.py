"""Redis, where the rate limits are counted (``RATELIMIT_STORAGE_URI=redis://…``), goes down:
the market keeps serving, limited forms included (never a 500), a warning is logged, and the
limits are counted in each process's memory until Redis answers again (docs/deploy.md, "When a
server is down"); then they are counted in Redis again.

The Redis is a private ``redis-server`` the test starts and stops (never the shared one)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from app.core.extensions import db
from tests import factories
from tests.conftest import make_app
from tests.faults.services import PrivateRedis, private_redis

pytestmark = pytest.mark.slow

WRONG = "wrong password!!"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[Any, PrivateRedis]]:
    """An app whose limits live in a private Redis: three login attempts a minute."""
    with private_redis() as server:
        app = make_app(
            tmp_path,
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=server.url(),
            LOGIN_RATE_LIMIT="3 per minute",
        )
        with app.app_context():
            yield app, server
            db.session.remove()
            db.engine.dispose()


def visitor(app: Any, address: str) -> Any:
    """A test client whose requests come from ``address`` (the limits key on it)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def attempt(client: Any) -> int:
    """A failed login to an account of its own each time: the per-account throttle never
    answers, so a 429 is the per-address rate limit."""
    return int(factories.login(client, f"{secrets.token_hex(6)}@example.com", WRONG).status_code)


def keys(server: PrivateRedis) -> list[bytes]:
    with redis.Redis.from_url(server.url()) as store:
        return list(store.scan_iter("*"))


def test_with_redis_down_limits_are_counted_in_memory_and_nothing_fails(
    limited: tuple[Any, PrivateRedis], caplog: pytest.LogCaptureFixture
) -> None:
    app, server = limited
    factories.product(title="کوزهٔ سفالی")
    client = app.test_client()
    for _ in range(3):
        assert attempt(client) == 400
    assert attempt(client) == 429
    assert keys(server), "the limiter counts in Redis"

    server.stop()
    caplog.set_level(logging.INFO)
    assert client.get("/").status_code == 200
    assert client.get("/auth/login").status_code == 200
    # Another visitor: the limited form answers, counted in this process's memory now.
    other = visitor(app, "10.0.0.7")
    replies = [attempt(other) for _ in range(6)]
    # Answered, and still limited: no more than three tries pass in this process.
    assert replies[0] == 400 and replies[-1] == 429, replies
    assert set(replies) == {400, 429} and replies.count(400) <= 3, replies
    assert "Rate limit storage unreachable - falling back to in-memory storage" in caplog.text
    assert any(r.levelno == logging.WARNING for r in caplog.records if "unreachable" in r.message)

    # Redis returns (empty): within seconds the limits are counted there again.
    server.start()
    third = visitor(app, "10.0.0.8")
    deadline = time.monotonic() + 15
    while "Rate limit storage recovered" not in caplog.text:
        assert time.monotonic() < deadline, "the limiter did not go back to Redis"
        assert third.get("/auth/login").status_code == 200
        attempt(third)
        time.sleep(0.5)
    fourth = visitor(app, "10.0.0.9")
    assert attempt(fourth) == 400
    assert any(b"10.0.0.9" in key for key in keys(server))
