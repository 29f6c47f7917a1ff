"""Read-only statements of the public lists, outside the request's transaction on PostgreSQL.

psycopg keeps a statement prepared once a connection has run it five times (PostgreSQL then
neither parses nor plans it again), but forgets every prepared statement on ``ROLLBACK``; a
request's ORM session always ends with one, so on the session's connection nothing is ever
prepared, and every storefront page paid for planning its statements again. The storefront's
list reads (the category table, a page of cards with its count) are single statements that need
no transaction of their own: PostgreSQL's READ COMMITTED gives each statement its own snapshot
inside a transaction too. So on PostgreSQL (through psycopg) they run on a small autocommit
engine of their own, shared by the apps of one process that use the same database: no
``BEGIN``, no ``ROLLBACK``, no ping, and their plans are kept. A statement whose values are all
whole numbers (ids, page limits) is compiled to SQL with its values written in, once for each
set of values (a bounded table), and run on the driver's own cursor (SQLAlchemy's work on every
execution cost as much as the driver's): PostgreSQL plans a statement with no parameters once
and keeps that plan while psycopg keeps it prepared (after five runs), where a bound value
(a LIMIT, an array of ids) made it plan every run or settle on a poor generic plan. A connection
the server closed (a restart) is replaced once; any other error is raised as SQLAlchemy's, so
the app's database error pages answer it like any other query's. Elsewhere (SQLite), or with
other values, they run through SQLAlchemy.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Flask, current_app

from app.core.extensions import db

T = TypeVar("T")
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
            engine = _engines[name] = sa.create_engine(
                url,
                connect_args=connect_args,
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                max_overflow=8,
                pool_reset_on_return=None,
            )
    return engine


# SQL of the statements read_rows ran, with their values written in: (statement id, values)
# -> (statement, SQL). Bounded: the values come from requests (page numbers).
_compiled: dict[tuple[int, tuple[Any, ...]], tuple[sa.Executable, str]] = {}
_MAX_COMPILED = 1024


def _whole_numbers(params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """``params`` as a key when every value is an int or a list of ints, else None."""
    key: list[tuple[str, Any]] = []
    for name, value in sorted(params.items()):
        if type(value) is int:
            key.append((name, value))
        elif type(value) is list and all(type(item) is int for item in value):
            key.append((name, tuple(value)))
        else:
            return None
    return tuple(key)


def _literal_sql(
    engine: sa.Engine, statement: sa.Executable, params: Mapping[str, Any], values: tuple
) -> str:
    key = (id(statement), values)
    entry = _compiled.get(key)
    if entry is None or entry[0] is not statement:
        bound: Any = statement.params(**params) if params else statement  # type: ignore[attr-defined]
        sql = bound.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}).string
        if len(_compiled) >= _MAX_COMPILED:
            _compiled.clear()
        entry = _compiled[key] = (statement, sql)
    return entry[1]


def read_rows(statement: sa.Executable, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """All rows (tuples) of the read-only ``statement`` (see the module's docstring)."""
    engine = read_engine(current_app)
    values = _whole_numbers(params or {}) if engine is not None else None
    if engine is None or values is None:
        if engine is None:
            return db.session.connection().execute(statement, params).all()
        with engine.connect() as connection:
            return connection.execute(statement, params).all()
    # psycopg: "%" in a query without parameters is sent as it is.
    sql = _literal_sql(engine, statement, params or {}, values)
    return _on_driver(engine, sql, None, lambda conn: _driver(conn).execute(sql).fetchall())


_MEMO_KEY = "bazarche_by_version"


def by_version(name: str, version: int | None, load: Callable[[], T]) -> T:
    """``load()``, kept by the current app in this process under ``name`` while ``version``
    stays the same; with ``version`` None, read afresh.

    For small reads many pages repeat (a table of a few dozen rows) whose every change bumps a
    version the caller already read in this request: the version must be read before
    ``load`` would run, so a value kept under a version is never older than that version (a
    change commits its rows and its version bump together). Kept per app, not per database
    address: each app (and each test's app) starts empty."""
    if version is None:
        return load()
    memo: dict[str, tuple[int, Any]] = current_app.extensions.setdefault(_MEMO_KEY, {})
    kept = memo.get(name)
    if kept is not None and kept[0] == version:
        return cast(T, kept[1])
    value = load()
    memo[name] = (version, value)
    return value


def first_row(engine: sa.Engine, sql: str, params: dict[str, Any] | None = None) -> tuple | None:
    """The first row of ``sql`` (the driver's own parameter style) run on ``engine``'s
    driver, on a cursor kept with the connection, prepared (no ``BEGIN``): the page cache's
    one read of the versions (and of a signed-in visitor) per request."""

    def run(conn: Any) -> tuple | None:
        cursor = conn.info.get("own_cursor")
        if cursor is None:
            cursor = conn.info["own_cursor"] = _driver(conn).cursor()
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()

    return _on_driver(engine, sql, params, run)


def _driver(conn: Any) -> Any:
    driver = conn.driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    return driver


def _on_driver(
    engine: sa.Engine, sql: str, params: dict[str, Any] | None, run: Callable[[Any], T]
) -> T:
    """``run`` on a pooled connection of ``engine`` (autocommit); a connection the server
    closed (a restart, an idle timeout) is replaced once. The driver's errors are raised as
    SQLAlchemy's, so the app's database error pages answer them (a 503 while the server is
    down) like any other query's."""
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        for attempt in (1, 2):
            conn = engine.raw_connection()  # a refused connection raises the driver's error
            try:
                return run(conn)
            except dbapi_error as error:
                closed = engine.dialect.is_disconnect(error, conn.dbapi_connection, None)
                if attempt == 2 or not closed:
                    raise
                conn.invalidate(error)
                engine.dispose()
            finally:
                conn.close()
    except dbapi_error as error:
        raise sa.exc.DBAPIError.instance(
            sql, params, error, dbapi_error, dialect=engine.dialect
        ) from error
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
