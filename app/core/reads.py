"""Read-only statements of the public lists, outside the request's transaction on PostgreSQL.

psycopg keeps a statement prepared once a connection has run it five times (PostgreSQL then
neither parses nor plans it again), but forgets every prepared statement on ``ROLLBACK``; a
request's ORM session always ends with one, so on the session's connection nothing is ever
prepared, and every storefront page paid for planning its statements again. The storefront's
list reads (the category table, a page of cards with its count) are single statements that need
no transaction of their own: PostgreSQL's READ COMMITTED gives each statement its own snapshot
inside a transaction too. So on PostgreSQL (through psycopg) they run on a small autocommit
engine of their own, shared by the apps of one process that use the same database: no
``BEGIN``, no ``ROLLBACK``, no ping, and their plans are kept. A connection the server closed
(a restart) is replaced once; any other error is raised as the session's would be, so the
app's database error pages answer it. Elsewhere (SQLite) they run through the session.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from app.core.extensions import db

_KEY = "bazarche_read_engine"
_UNSET = object()
_engines: dict[str, sa.Engine] = {}
_engines_lock = threading.Lock()


def read_engine(app: Flask) -> sa.Engine | None:
    """``app``'s autocommit engine for public reads; None unless PostgreSQL through psycopg."""
    engine = app.extensions.get(_KEY, _UNSET)
    if engine is _UNSET:
        engine = app.extensions[_KEY] = _make_engine(app)
    return engine


def _make_engine(app: Flask) -> sa.Engine | None:
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if (url.get_backend_name(), url.get_driver_name()) != ("postgresql", "psycopg"):
        return None
    name = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(name)
        if engine is None:
            options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
            engine = _engines[name] = sa.create_engine(
                url,
                connect_args=dict(options.get("connect_args") or {}),
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                max_overflow=8,
                pool_reset_on_return=None,
            )
    return engine


def read_rows(
    statement: sa.Executable, params: Mapping[str, Any] | None = None
) -> Sequence[sa.Row]:
    """All rows of the read-only ``statement`` (see the module's docstring for where it runs)."""
    engine = read_engine(current_app)
    if engine is None:
        return db.session.connection().execute(statement, params).all()
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return conn.execute(statement, params).all()
        except sa.exc.DBAPIError as error:
            # SQLAlchemy has dropped the pool's connections if the server closed this one.
            if attempt == 2 or not error.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def _forget_inherited_connections() -> None:
    # A forked worker must not share its parent's sockets.
    for engine in list(_engines.values()):
        engine.dispose(close=False)


def _close_all() -> None:
    for engine in list(_engines.values()):
        engine.dispose()


os.register_at_fork(after_in_child=_forget_inherited_connections)
atexit.register(_close_all)
