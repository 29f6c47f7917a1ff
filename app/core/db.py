"""Database helpers: SQLite settings for several workers, and write transactions.

On SQLite one writer at a time holds the database's write lock. A transaction that reads first
and writes later cannot wait for it (SQLite refuses at once with "database is locked", whatever
the busy timeout), so every transaction that may write takes the lock when it begins
(``BEGIN IMMEDIATE``) and waits up to ``SQLITE_BUSY_TIMEOUT_SECONDS`` for it:

- every transaction opened while handling an unsafe-method request (POST, PUT, PATCH, DELETE);
- every transaction inside :func:`write_intent` (CLI commands that write, batches after a
  response);
- the session's transaction after :func:`begin_write` (services that write).

Services write through :func:`transaction` (a block) or :func:`transactional` (a whole function,
with an optional retry when the database says "busy, try again"): begin as a write, commit, or
roll back and re-raise. Routes never commit or roll back.

A wait that runs out raises OperationalError "database is locked"; :func:`is_busy_error` tells it
(and PostgreSQL's lock and statement timeouts, deadlocks and serialization failures) apart, and
the app answers it with a 503 "busy, try again" page instead of a 500. A database that cannot be
reached at all (:func:`is_unavailable_error`) gets a 503 "temporarily unavailable" page too.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import click
import sqlalchemy as sa
from flask import Flask, has_request_context, request

from app.core.extensions import db
from app.core.inputs import parse_local_int

SQLITE_BEGIN_OPTION = "bazarche_sqlite_begin"
_BEGIN_MODE = "bazarche_begin_mode"
_CHANGES_AT_BEGIN = "bazarche_changes_at_begin"
# The largest id (and any other INTEGER column's value) both databases store: ids are 32-bit.
MAX_DATABASE_ID = 2**31 - 1
DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# True: transactions may write; False: they only read (even in a POST); None: by the request.
_write_intent: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "bazarche_write_intent", default=None
)
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# deadlock_detected, serialization_failure. Each means "try again", not a bug.
_POSTGRES_BUSY_STATES = frozenset({"55P03", "57014", "40P01", "40001"})
# PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now (starting or stopping),
# too_many_connections; with the connection_exception class (08...), "unavailable, try later".
_POSTGRES_GONE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# The SQLite connection on which this thread holds the write lock, if any.
_lock_holder = threading.local()
_SQLITE_BUSY_WORDS = ("database is locked", "database is busy", "database table is locked")


@contextlib.contextmanager
def write_intent(writes: bool = True) -> Iterator[None]:
    """Inside this block every new SQLite transaction begins IMMEDIATE (it may write), or,
    with ``writes=False``, deferred even in a POST (it only reads: pages shown after the
    database was found busy, which must not wait for the lock again)."""
    token = _write_intent.set(writes)
    try:
        yield
    finally:
        _write_intent.reset(token)


def write_intent_command(command: click.Command) -> None:
    """Run ``command`` (and every subcommand of a group) inside :func:`write_intent`; calling
    it again on the same command changes nothing."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            write_intent_command(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_bazarche_write_intent", False):
        return

    @functools.wraps(callback)
    def run(*args: object, **kwargs: object) -> object:
        with write_intent():
            return callback(*args, **kwargs)

    run._bazarche_write_intent = True  # type: ignore[attr-defined]
    command.callback = run


def wants_write_lock() -> bool:
    """True when a transaction beginning now may write: an unsafe-method request or
    :func:`write_intent`."""
    intent = _write_intent.get()
    if intent is not None:
        return intent
    return has_request_context() and request.method in UNSAFE_METHODS


def is_busy_error(exc: BaseException | None) -> bool:
    """True for a database error that means "busy, try again": SQLite's lock wait ran out, or
    PostgreSQL's lock or statement timeout, a deadlock or a serialization failure."""
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in _POSTGRES_BUSY_STATES:
        return True
    module = type(orig).__module__ or ""
    if module.startswith("sqlite3") and isinstance(exc, sa.exc.OperationalError):
        text = str(orig).lower()
        return any(words in text for words in _SQLITE_BUSY_WORDS)
    return False


def is_unavailable_error(exc: BaseException | None) -> bool:
    """True for an error that means "the database cannot be reached now": a connection that
    could not be made (the server is down, restarting, or refuses more connections) or was lost
    (the server went away in the middle). ``exc`` is SQLAlchemy's wrapped error or the driver's
    own (the page cache reads through a raw connection). The same workers serve again once the
    server is back: the pool's pre-ping replaces the connections that died."""
    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, sa.exc.OperationalError):
            return False
        orig: BaseException | None = exc.orig
    else:
        orig = exc
    if orig is None or not _is_driver_operational_error(orig):
        return False
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    # psycopg gives no state to a connection that failed or broke (refused, reset, closed).
    return state is None or state.startswith("08") or state in _POSTGRES_GONE_STATES


def _is_driver_operational_error(orig: BaseException) -> bool:
    """PostgreSQL's driver's OperationalError (or a subclass), without importing the driver."""
    return any(
        cls.__name__ == "OperationalError" and (cls.__module__ or "").startswith("psycopg")
        for cls in type(orig).__mro__
    )


def database_id(text: object) -> int | None:
    """An id typed in a query string or a form (Persian digits too): a whole number from 1 to
    :data:`MAX_DATABASE_ID`, else None. Every id read from a request goes through here, so none
    outside the columns' range ever reaches the database (PostgreSQL refuses it with an error)."""

    raw = str(text if text is not None else "").strip()[:40]
    try:
        value = parse_local_int(raw)
    except ValueError:
        return None
    return value if 1 <= value <= MAX_DATABASE_ID else None


def sqlite_busy_timeout(app: Flask) -> float:
    """The seconds a SQLite connection waits for the write lock (``SQLITE_BUSY_TIMEOUT_SECONDS``)."""
    value = app.config.get("SQLITE_BUSY_TIMEOUT_SECONDS", DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS)
    return max(float(value), 0.0)


def configure_engine_options(app: Flask) -> None:
    """SQLite under several gunicorn workers: WAL, a busy timeout, explicit BEGIN. PostgreSQL:
    the same wait (``SQLITE_BUSY_TIMEOUT_SECONDS``) as its ``lock_timeout``."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", sqlite_busy_timeout(app))
        # Let SQLAlchemy emit BEGIN itself (the driver's own handling would defer it).
        connect_args.setdefault("isolation_level", None)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
    else:
        options.setdefault("pool_pre_ping", True)
        if uri.startswith("postgresql"):
            # A wait for a row lock ends like SQLite's busy wait: an error the app answers with
            # the 503 page, well before the worker's timeout.
            connect_args = dict(options.get("connect_args") or {})
            wait_ms = int(sqlite_busy_timeout(app) * 1000)
            connect_args.setdefault("options", f"-c lock_timeout={wait_ms}")
            options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def install_sqlite_hooks(
    engine: sa.Engine, busy_timeout_seconds: float = DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS
) -> None:
    """On SQLite: pragmas on each connection, and a BEGIN that takes the write lock up front
    for every transaction that may write (see the module's docstring)."""
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(busy_timeout_seconds * 1000)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION)
        if mode is None:
            mode = "IMMEDIATE" if wants_write_lock() else ""
        dbapi_conn = conn.connection.dbapi_connection
        holder = getattr(_lock_holder, "connection", None)
        if mode == "IMMEDIATE" and holder is not None and holder is not dbapi_conn:
            # This thread already holds the write lock on another connection (a request's
            # side connection): waiting would be waiting for itself. Fail at once instead.
            dbapi_conn.execute("PRAGMA busy_timeout=0")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                dbapi_conn.execute(f"PRAGMA busy_timeout={busy_ms}")
        else:
            conn.exec_driver_sql(f"BEGIN {mode}".strip())
        if mode == "IMMEDIATE":
            _lock_holder.connection = dbapi_conn
        # What begin_write() needs to know later: was this a write transaction from the start,
        # and how many rows had the connection changed before it (to see whether it wrote).
        conn.info[_BEGIN_MODE] = mode
        conn.info[_CHANGES_AT_BEGIN] = dbapi_conn.total_changes

    def _released(conn):
        dbapi_conn = getattr(getattr(conn, "connection", None), "dbapi_connection", None)
        if getattr(_lock_holder, "connection", None) is dbapi_conn:
            _lock_holder.connection = None

    sa.event.listen(engine, "commit", _released)
    sa.event.listen(engine, "rollback", _released)

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, _record):
        if getattr(_lock_holder, "connection", None) is dbapi_conn:
            _lock_holder.connection = None


def begin_write() -> None:
    """Start the session's transaction as a write transaction.

    Services that read and then write call this first. On SQLite the transaction starts with
    ``BEGIN IMMEDIATE`` (a transaction that reads first and writes later fails with "database is
    locked" under concurrent writers, whatever the timeout). On PostgreSQL it does nothing special.

    A request has usually read already (the logged-in user, the cart, the order) when it calls a
    service, so on SQLite a transaction that has only read is ended here (its objects are expired
    and load again, fresh, inside the write transaction). A transaction that has written, holds
    unflushed changes, has a savepoint open or is already a write transaction is left as it is.
    """
    session = db.session()
    if session.in_transaction():
        if not _sqlite_read_only(session):
            return
        session.rollback()
    if db.engine.dialect.name == "sqlite":
        session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    else:
        session.connection()


def _sqlite_read_only(session: sa.orm.Session) -> bool:
    """True when the session's open SQLite transaction began deferred and has only read."""
    if db.engine.dialect.name != "sqlite":
        return False
    if session.new or session.dirty or session.deleted or session.in_nested_transaction():
        return False
    conn = session.connection()
    if conn.info.get(_BEGIN_MODE):
        return False  # began IMMEDIATE: already the write transaction
    return conn.info.get(_CHANGES_AT_BEGIN) == _total_changes(conn)


def _total_changes(conn: sa.Connection) -> int:
    """How many rows this SQLite connection has changed since it opened."""
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None  # a connection in use is open
    return int(dbapi_conn.total_changes)


def end_read() -> None:
    """Before slow work that needs no database (hashing a password, decoding an image, talking
    to a mail server): end the session's transaction if it has only read, so that on SQLite an
    unsafe-method request's transaction (which began IMMEDIATE) does not keep every other
    writer waiting meanwhile. Objects loaded so far are expired and load again on next use. A
    transaction that has written, holds unflushed changes or a savepoint is left alone; so is
    any transaction on PostgreSQL, where reading holds no lock that blocks writers."""
    if db.engine.dialect.name != "sqlite" or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted or session.in_nested_transaction():
        return
    conn = session.connection()
    if _total_changes(conn) == conn.info.get(_CHANGES_AT_BEGIN):
        session.rollback()


def end_request_write_transaction() -> None:
    """Roll back a SQLite write transaction a request left open (a form that failed to
    validate, say), so the write lock is never held past the request. Production ends the
    session with the app context anyway; tests keep one app context around many requests."""
    if db.engine.dialect.name != "sqlite" or not db.session.registry.has():
        return
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None:
        return
    # The connections the transaction holds (asking the session for one would begin one).
    held = getattr(transaction, "_connections", None)
    if held is None or any(entry[0].info.get(_BEGIN_MODE) for entry in held.values()):
        session.rollback()


_P = ParamSpec("_P")
_R = TypeVar("_R")


@contextlib.contextmanager
def transaction(*, write: bool = True) -> Iterator[sa.orm.Session]:
    """One unit of work: begins (as a write transaction unless ``write=False``), yields the
    session, commits when the block ends, and rolls back and re-raises when anything escapes it
    (a domain error included), so the session is clean for whatever the caller does next."""
    if write:
        begin_write()
    session = db.session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def transactional(
    retries: int = 0, *, write: bool = True, pause: float = 0.05
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Run the decorated service inside :func:`transaction`. With ``retries``, a busy database
    (:func:`is_busy_error`: a lock wait that ran out, a deadlock, a serialization failure) runs
    the whole function again, up to that many more times, after a short growing pause; any other
    error is raised at once. Only a function whose every effect is in the database may retry."""

    def decorate(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            attempt = 0
            while True:
                try:
                    with transaction(write=write):
                        return fn(*args, **kwargs)
                except sa.exc.DBAPIError as exc:
                    if attempt >= retries or not is_busy_error(exc):
                        raise
                    attempt += 1
                    time.sleep(pause * attempt)

        return run

    return decorate
