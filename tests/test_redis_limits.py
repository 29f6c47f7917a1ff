"""The README's production setting: rate limits kept in Redis (``RATELIMIT_STORAGE_URI=redis://…``).

The app must start with it and the limiter must really count in Redis. The test skips only when
no Redis answers on 127.0.0.1:6379 (``.ci/run`` starts one, so CI never skips it).
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.core.extensions import db
from tests import factories
from tests.conftest import make_app, settings

pytestmark = pytest.mark.slow

REDIS_URI = "redis://127.0.0.1:6379/15"
LIMITS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": REDIS_URI,
    "LOGIN_RATE_LIMIT": "3 per minute",
}


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_app(tmp_path):  # type: ignore[no-untyped-def]
    if not _redis_answers():
        pytest.skip("no Redis answers on 127.0.0.1:6379 (start redis-server to run this test)")
    import redis

    prefix = f"bazarche-test-{uuid.uuid4().hex}"
    app = make_app(tmp_path, **LIMITS, RATELIMIT_KEY_PREFIX=prefix)
    store = redis.Redis.from_url(REDIS_URI)
    try:
        with app.app_context():
            yield app, store, prefix
            db.session.remove()
            db.engine.dispose()
    finally:
        keys = list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()


def test_the_app_starts_with_redis_storage_and_counts_login_attempts_there(redis_app):
    app, store, prefix = redis_app
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URI
    client = app.test_client()
    for _ in range(3):
        assert factories.login(client, "nobody@example.com", "wrong password!!").status_code == 400
    assert factories.login(client, "nobody@example.com", "wrong password!!").status_code == 429
    # The counter lives in Redis, not in this process.
    assert list(store.scan_iter(f"*{prefix}*")), "the limiter wrote no key to Redis"
    # A second app (another worker) shares the count through Redis.
    other = create_app(
        settings(Path(app.config["INSTANCE_DIR"]), **LIMITS, RATELIMIT_KEY_PREFIX=prefix)
    )
    with other.app_context():
        response = factories.login(other.test_client(), "nobody@example.com", "wrong password!!")
        assert response.status_code == 429
        db.session.remove()
        db.engine.dispose()
