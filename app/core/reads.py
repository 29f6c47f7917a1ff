"""Read-only statements of the public lists, outside the request's transaction on PostgreSQL.

psycopg keeps a statement prepared once a connection has run it five times (PostgreSQL then
neither parses nor plans it again), but forgets every prepared statement on ``ROLLBACK``; a
request's ORM session always ends with one, so on the session's connection nothing is ever
prepared, and every storefront page paid for planning its statements again. The storefront's
list reads (the category table, a page of cards with its count) are single statements that need
no transaction of their own: PostgreSQL's READ COMMITTED gives each statement its own snapshot
inside a transaction too. So on PostgreSQL (through psycopg) they run on a small autocommit
engine of their own, shared by the apps of one process that use the same database: no
``BEGIN``, no ``ROLLBACK``, no ping, and their plans are kept. Each statement is compiled to SQL
once and run on the driver's own cursor, prepared (SQLAlchemy's work on every execution cost
as much as the driver's); its connections keep PostgreSQL's generic plan of a prepared
statement (``plan_cache_mode``), as the values bound to these statements (ids, page limits) do
not change which plan is best. A connection the server closed (a restart) is replaced once;
any other error is raised as SQLAlchemy's, so the app's database error pages answer it like
any other query's. Elsewhere (SQLite) they run through the session.
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
            connect_args = dict(options.get("connect_args") or {})
            connect_args["options"] = (
                connect_args.get("options", "") + " -c plan_cache_mode=force_generic_plan"
            ).strip()
            engine = _engines[name] = sa.create_engine(
                url,
                connect_args=connect_args,
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                max_overflow=8,
                pool_reset_on_return=None,
            )
    return engine


def reads_on_postgres() -> bool:
    """Do :func:`read_rows` calls of this app run on PostgreSQL's read engine?"""
    return read_engine(current_app) is not None


# Compiled SQL of the statements read_rows ran (they are built once per process; bounded all
# the same): statement id -> (statement, SQL, values bound by the statement itself).
_compiled: dict[int, tuple[sa.Executable, str, dict[str, Any]]] = {}
_MAX_COMPILED = 256


def _sql_of(engine: sa.Engine, statement: sa.Executable) -> tuple[str, dict[str, Any]]:
    entry = _compiled.get(id(statement))
    if entry is None or entry[0] is not statement:
        compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("read_rows: a statement with values written at execution")
        fixed = {key: value for key, value in compiled.params.items() if value is not None}
        if len(_compiled) >= _MAX_COMPILED:
            _compiled.clear()
        entry = _compiled[id(statement)] = (statement, compiled.string, fixed)
    return entry[1], entry[2]


def read_rows(statement: sa.Executable, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """All rows (tuples) of the read-only ``statement`` (see the module's docstring)."""
    engine = read_engine(current_app)
    if engine is None:
        return db.session.connection().execute(statement, params).all()
    sql, fixed = _sql_of(engine, statement)
    values = {**fixed, **(params or {})}
    dbapi_error = engine.dialect.loaded_dbapi.Error
    for attempt in (1, 2):
        conn = engine.raw_connection()
        try:
            driver = conn.driver_connection
            assert driver is not None  # a checked-out connection has its driver's
            return driver.execute(sql, values, prepare=True).fetchall()
        except dbapi_error as error:
            if attempt == 1 and engine.dialect.is_disconnect(error, conn.dbapi_connection, None):
                conn.invalidate(error)
                engine.dispose()
                continue
            raise sa.exc.DBAPIError.instance(
                sql, values, error, dbapi_error, dialect=engine.dialect
            ) from error
        finally:
            conn.close()
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
