"""Fixtures: the same suite runs on SQLite and, with TEST_DATABASE_URL set, on PostgreSQL.

The schema is created once per test session; after each test every table is emptied, so each
test starts from an empty database of the real kind (never a mock of our own database).

Under pytest-xdist (``make test`` runs most of the suite in several processes) every process has
a database of its own: a SQLite file in its own temporary folder, or, on PostgreSQL, a database
named after TEST_DATABASE_URL's with the process's id appended (``mydb_gw0``), created when the
process starts and dropped when it ends. Tests that drive the live gunicorn with bursts of
requests are marked ``serial``: ``make test`` runs them afterwards, one at a time.
"""

from __future__ import annotations

import os
import shutil
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

# "gw0", "gw1"... in a pytest-xdist worker process; empty in a run without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

_tmp = Path(tempfile.mkdtemp(prefix=f"bazarche-tests-{WORKER}-" if WORKER else "bazarche-tests-"))
_GIVEN_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_tmp / 'test.sqlite3'}"
if _GIVEN_URL.startswith(("postgres://", "postgresql://")):
    _GIVEN_URL = "postgresql+psycopg://" + _GIVEN_URL.split("://", 1)[1]


def _worker_database_url(url: str) -> str:
    """``url`` itself, or in an xdist worker on PostgreSQL the URL of the worker's own database."""
    if not (WORKER and url.startswith("postgresql")):
        return url
    parsed = sa.engine.make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


DATABASE_URL = _worker_database_url(_GIVEN_URL)
_OWN_DATABASE = DATABASE_URL != _GIVEN_URL  # created at the session's start, dropped at its end

_schema_ready = False


def _on_postgres_server(*statements: str) -> None:
    """Run ``statements`` outside a transaction, connected to the database TEST_DATABASE_URL
    names (CREATE and DROP DATABASE cannot run in one)."""
    admin = sa.create_engine(_GIVEN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def pytest_sessionstart(session: pytest.Session) -> None:
    """In an xdist worker on PostgreSQL: a new, empty database of the worker's own (one left by
    an interrupted run is dropped first)."""
    if _OWN_DATABASE:
        name = sa.engine.make_url(DATABASE_URL).database
        _on_postgres_server(
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the worker's own database (connections still open to it are ended) and remove the
    process's temporary folder (the SQLite database)."""
    if _OWN_DATABASE:
        name = sa.engine.make_url(DATABASE_URL).database
        _on_postgres_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(_tmp, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``serial`` every test that uses the live gunicorn (``server``): its bursts of
    simultaneous requests and its four workers want the machine to themselves, so ``make test``
    runs them after the parallel pass, one at a time (``-m serial -p no:xdist``)."""
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.serial)


def settings(tmp_path: Path, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "INSTANCE_DIR": str(tmp_path),
        "MEDIA_DIR": str(tmp_path / "media"),
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "MAIL_DIR": str(tmp_path / "mail"),
        "SMS_DIR": str(tmp_path / "sms"),
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
