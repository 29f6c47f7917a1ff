"""Database helpers: SQLite settings for several workers, and write transactions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from app.extensions import db

SQLITE_BEGIN_OPTION = "bazarche_sqlite_begin"
_BEGIN_MODE = "bazarche_begin_mode"
_CHANGES_AT_BEGIN = "bazarche_changes_at_begin"


def configure_engine_options(app: Flask) -> None:
    """SQLite under several gunicorn workers: WAL, a busy timeout, explicit BEGIN."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", 30)
        # Let SQLAlchemy emit BEGIN itself (the driver's own handling would defer it).
        connect_args.setdefault("isolation_level", None)
        connect_args.setdefault("check_same_thread", False)
        options["connect_args"] = connect_args
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def install_sqlite_hooks(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())
        # What begin_write() needs to know later: was this a write transaction from the start,
        # and how many rows had the connection changed before it (to see whether it wrote).
        conn.info[_BEGIN_MODE] = mode
        conn.info[_CHANGES_AT_BEGIN] = conn.connection.dbapi_connection.total_changes


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
    changes = conn.connection.dbapi_connection.total_changes
    return conn.info.get(_CHANGES_AT_BEGIN) == changes
