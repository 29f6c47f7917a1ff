"""Fixtures: the same suite runs on SQLite and, with TEST_DATABASE_URL set, on PostgreSQL.

The schema is created once per test session; after each test every table is emptied, so each
test starts from an empty database of the real kind (never a mock of our own database).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request_started

from app import create_app
from app.core.extensions import db

# The live gunicorn fixtures (server, live, fake_stripe_server) for any test module.
pytest_plugins = ["tests.live_server"]

_tmp = Path(tempfile.mkdtemp(prefix="bazarche-tests-"))
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_tmp / 'test.sqlite3'}"
if DATABASE_URL.startswith(("postgres://", "postgresql://")):
    DATABASE_URL = "postgresql+psycopg://" + DATABASE_URL.split("://", 1)[1]

_schema_ready = False


def settings(tmp_path: Path, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "INSTANCE_DIR": str(tmp_path),
        "MEDIA_DIR": str(tmp_path / "media"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "MAIL_DIR": str(tmp_path / "mail"),
        # The test client's host: links in messages are built from this address.
        "SITE_URL": "http://localhost",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SERVER_NAME": None,
        # A cheaper scrypt keeps the suite fast; production uses werkzeug's default cost.
        "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        # Indexing after each request is switched on by the tests of search consistency.
        "SEARCH_SYNC_ON_REQUEST": False,
        "SEARCH_REBUILD_IN_BACKGROUND": False,
    }
    base.update(extra)
    return base


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())
            has_seq = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'"
            ).first()
            if has_seq:
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")


def make_app(tmp_path: Path, **extra: object):  # type: ignore[no-untyped-def]
    global _schema_ready
    app = create_app(settings(tmp_path, **extra))

    # Tests hold an app context open around requests, and Flask then reuses it (and its ``g``)
    # for every request; production gets a fresh ``g`` per request, so give the tests one too,
    # before anything of the request runs (the page cache answers from a before_request hook).
    def _fresh_request_globals(sender, **extra) -> None:  # type: ignore[no-untyped-def]
        from flask import g

        g.__dict__.clear()

    request_started.connect(_fresh_request_globals, app, weak=False)

    with app.app_context():
        if not _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready = True
        _empty_all_tables()
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator:
    yield from running_app(tmp_path)


def running_app(
    tmp_path: Path, cleanup: Callable[[], None] | None = None, **extra: object
) -> Iterator:
    """A fresh app on the test database for one test (fixtures ``yield from`` it): the page
    cache emptied, the app context open while the test runs; afterwards ``cleanup`` (inside the
    app context), then the session, the search backend's files and the engine's connections
    are closed."""
    from app.shop import cache

    cache.clear()
    app = make_app(tmp_path, **extra)
    with app.app_context():
        yield app
        db.session.remove()
        if cleanup is not None:
            cleanup()
    close_search(app)
    with app.app_context():
        db.engine.dispose()
    cache.clear()


def close_search(app) -> None:  # type: ignore[no-untyped-def]
    """Close the app's search backend (its open index files) when a test ends."""
    backend = app.extensions.pop("bazarche_search", None)
    if backend is not None and hasattr(backend, "close"):
        backend.close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def runner(app):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def csrf_app(tmp_path: Path) -> Iterator:
    """An app with CSRF protection on, as in production."""
    yield from running_app(tmp_path, WTF_CSRF_ENABLED=True)


def count_queries(engine: sa.Engine):  # type: ignore[no-untyped-def]
    """Context manager collecting the SQL statements run on ``engine``."""
    from contextlib import contextmanager

    @contextmanager
    def counter():  # type: ignore[no-untyped-def]
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counter()
