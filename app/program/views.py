"""Product-page views: one view per visitor, product and local (Tehran) day.

"Orders per 100 views" means orders per 100 visitors of the day: a visitor who reloads a page
300 times counts once that day, and again the next day. The visitor is the logged-in user, else
the client's address and user agent; what is kept is only a keyed hash of it and the day
(different every day, so it cannot follow anyone across days), for a few days.

A page view never writes to the database: each process keeps the (product, day, visitor) it saw
in memory, and they go to ``product_view_visitor`` in one batch (``INSERT … ON CONFLICT DO
NOTHING``, so a visitor already counted by another worker or an earlier batch is not counted
again); the rows that were new are added to ``product_view_day`` (``views = views +
excluded.views``) in the same transaction. A batch is written when ``VIEW_FLUSH_SECONDS`` have
passed since the last attempt or ``VIEW_FLUSH_VIEWS`` new views are waiting, after the response
that made it due has been sent, and once more when the process exits. A batch that fails (the
database is locked, or down) is put back and tried again with the next one, and the visitor
never sees it; views still in memory when a process is killed (not stopped) are lost, which a
view counter can afford. Visitor rows older than ``VISITOR_DAYS`` days are deleted by the
batches.

Obvious robots (a user agent with "bot", "crawl" or "spider") and prefetches are not counted.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import logging
import os
import threading
import time
import weakref
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite

from app.catalog.models import Product
from app.core.db import SQLITE_BEGIN_OPTION
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.program.calendar import tehran_day
from app.program.models import ProductViewDay, ProductViewVisitor
from app.program.summaries import table_of

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 60
DEFAULT_FLUSH_VIEWS = 1000
# How long a batch waits for a lock before it gives up until the next one (milliseconds).
DEFAULT_LOCK_TIMEOUT_MS = 2000
# After a failed batch, the next try waits at least this long even when many views wait.
_RETRY_SECONDS = 1.0
_BATCH_ROWS = 1000
_EXTENSION_KEY = "bazarche_view_counter"
# Visitor rows are kept this many days (a batch can still be written a day or two late).
VISITOR_DAYS = 3
_ROBOT_WORDS = ("bot", "crawl", "spider")


def is_robot(user_agent: str | None) -> bool:
    """An obvious robot by its own account (search engines, link previews and crawlers)."""
    agent = (user_agent or "").lower()
    return any(word in agent for word in _ROBOT_WORDS)


class ViewCounter:
    """One process's views of one app, waiting to be written."""

    def __init__(self, app: Flask) -> None:
        self._app = weakref.ref(app)
        self.seconds = float(app.config.get("VIEW_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))
        self.max_views = int(app.config.get("VIEW_FLUSH_VIEWS", DEFAULT_FLUSH_VIEWS))
        self.lock_timeout_ms = int(
            app.config.get("VIEW_FLUSH_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS)
        )
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        # (product, day) → the visitors (hashes) seen and not written yet
        self._counts: dict[tuple[int, date], set[str]] = defaultdict(set)
        self._waiting = 0
        self._last_try = time.monotonic()
        self._retry_after = 0.0

    # ---- counting (memory only) ----

    def add(self, product_id: int, day: date, visitor: str) -> bool:
        """Note one visitor's view (a visitor already waiting adds nothing); True when a batch is
        due."""
        with self._lock:
            seen = self._counts[(product_id, day)]
            if visitor not in seen:
                seen.add(visitor)
                self._waiting += 1
            return self._due()

    def _due(self) -> bool:
        if not self._waiting:
            return False
        now = time.monotonic()
        return now - self._last_try >= self.seconds or (
            self._waiting >= self.max_views and now >= self._retry_after
        )

    def due(self) -> bool:
        with self._lock:
            return self._due()

    def waiting(self) -> dict[tuple[int, date], int]:
        """How many visitors per (product, day) wait to be written (some may turn out to be
        counted already)."""
        with self._lock:
            return {key: len(seen) for key, seen in self._counts.items() if seen}

    def _take(self) -> dict[tuple[int, date], set[str]]:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(set)
            self._waiting = 0
            self._last_try = time.monotonic()
            return {key: seen for key, seen in counts.items() if seen}

    def _give_back(self, counts: dict[tuple[int, date], set[str]]) -> None:
        with self._lock:
            self._retry_after = time.monotonic() + _RETRY_SECONDS
            for key, visitors in counts.items():
                seen = self._counts[key]
                before = len(seen)
                seen.update(visitors)
                self._waiting += len(seen) - before

    # ---- writing ----

    def flush(self, only_if_due: bool = False) -> int:
        """Write the waiting counts; returns how many views were written. Never raises: on any
        failure the counts wait for the next batch."""
        app = self._app()
        if app is None:
            return 0
        # One batch at a time per process; a thread that finds one running leaves it the work.
        if not self._writing.acquire(blocking=False):
            return 0
        try:
            if only_if_due and not self.due():
                return 0
            counts = self._take()
            if not counts:
                return 0
            try:
                with app.app_context():
                    return _write(counts, self.lock_timeout_ms)
            except Exception as exc:  # noqa: BLE001 - a view counter must never break a page
                self._give_back(counts)
                waiting = sum(len(v) for v in counts.values())
                log.warning("%d product views kept for the next batch: %s", waiting, exc)
                return 0
        finally:
            self._writing.release()


_counters: weakref.WeakSet[ViewCounter] = weakref.WeakSet()
_counters_lock = threading.Lock()


def counter(app: Flask | None = None) -> ViewCounter:
    """The view counter of ``app`` (the current app by default), created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION_KEY)
    if found is None:
        with _counters_lock:
            found = app.extensions.get(_EXTENSION_KEY)
            if found is None:
                found = app.extensions[_EXTENSION_KEY] = ViewCounter(app)
                # A test's app keeps its counts to itself: writing them when the test run ends
                # would put them in whatever database the last test left behind.
                if app.config.get("VIEW_FLUSH_AT_EXIT", not app.testing):
                    _counters.add(found)
    return found


def visitor_identity(user_id: int | None, address: str | None, user_agent: str | None) -> str:
    """Who is looking, before hashing: the logged-in user, else the address and user agent."""
    if user_id:
        return f"user:{user_id}"
    return f"anonymous:{address or ''}|{user_agent or ''}"


def visitor_hash(identity: str, day: date, secret: str | bytes) -> str:
    """A keyed hash of ``identity`` for ``day``: the same all day in every worker, a different
    one the next day, and nothing that can be turned back into the identity."""
    key = secret.encode() if isinstance(secret, str) else secret
    message = f"{day.isoformat()}|{identity}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def record_view(
    product_id: int,
    *,
    visitor: str = "",
    user_agent: str | None = "",
    prefetch: bool = False,
    app: Flask | None = None,
) -> bool:
    """Note one view of a product page by ``visitor`` (see :func:`visitor_identity`) now, in
    memory; the same visitor counts once per product and day. Returns True when a batch is due:
    the caller then runs :func:`flush` once the visitor has the page."""
    if prefetch or is_robot(user_agent):
        return False
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    day = tehran_day(utcnow())
    identity = visitor or visitor_identity(None, None, user_agent)
    return counter(app).add(product_id, day, visitor_hash(identity, day, app.secret_key or ""))


def flush(app: Flask | None = None, *, only_if_due: bool = False) -> int:
    """Write this process's waiting views of ``app`` (tests force a batch with it)."""
    return counter(app).flush(only_if_due=only_if_due)


def _existing(conn: sa.Connection, ids: list[int]) -> set[int]:
    """Which of ``ids`` are products still (in batches of ``_BATCH_ROWS``)."""
    existing: set[int] = set()
    for start in range(0, len(ids), _BATCH_ROWS):
        chunk = ids[start : start + _BATCH_ROWS]
        existing.update(conn.scalars(sa.select(Product.id).where(Product.id.in_(chunk))))
    return existing


def _insert_visitors(conn: sa.Connection, rows: list[dict]) -> Counter[tuple[int, date]]:
    """Insert the visitor rows not there yet; returns how many were new per (product, day)."""
    table = table_of(ProductViewVisitor)
    new: Counter[tuple[int, date]] = Counter()
    for start in range(0, len(rows), _BATCH_ROWS):
        stmt = (
            _insert(conn)(table)
            .values(rows[start : start + _BATCH_ROWS])
            .on_conflict_do_nothing()
            .returning(table.c.product_id, table.c.day)
        )
        new.update((row.product_id, row.day) for row in conn.execute(stmt))
    return new


def _add_day_views(conn: sa.Connection, new: Counter[tuple[int, date]]) -> None:
    table = table_of(ProductViewDay)
    day_rows = [
        {"product_id": product_id, "day": day, "views": views}
        for (product_id, day), views in sorted(new.items())
    ]
    for start in range(0, len(day_rows), _BATCH_ROWS):
        stmt = _insert(conn)(table).values(day_rows[start : start + _BATCH_ROWS])
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["product_id", "day"],
                set_={"views": table.c.views + stmt.excluded.views},
            )
        )


def _insert(conn: sa.Connection) -> Any:
    """The dialect's INSERT (both have ON CONFLICT)."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _write_batch(conn: sa.Connection, counts: dict[tuple[int, date], set[str]]) -> int:
    """The batch's statements, inside the caller's transaction; returns the views added."""
    existing = _existing(conn, sorted({product_id for product_id, _day in counts}))
    rows = [
        {"day": day, "product_id": product_id, "visitor": visitor}
        for (product_id, day), visitors in sorted(counts.items())
        if product_id in existing
        for visitor in sorted(visitors)
    ]
    new = _insert_visitors(conn, rows)
    _add_day_views(conn, new)
    oldest = tehran_day(utcnow()) - timedelta(days=VISITOR_DAYS)
    visitors = table_of(ProductViewVisitor)
    conn.execute(sa.delete(visitors).where(visitors.c.day < oldest))
    return sum(new.values())


def _write(counts: dict[tuple[int, date], set[str]], lock_timeout_ms: int) -> int:
    """Count the new visitors of ``counts`` in one transaction; returns the views added.

    Each (day, product, visitor) row is inserted unless it is there already (another worker or
    an earlier batch counted that visitor); only the rows that were new are added to
    ``product_view_day``. Products deleted since their views were noted are skipped (checked in
    the same transaction). Rows go in key order, so two processes writing at once never
    deadlock. Visitor rows older than :data:`VISITOR_DAYS` days are deleted.
    """
    engine = db.engine
    sqlite_db = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None  # a connection just opened
        if sqlite_db:
            # A short wait for the lock (not the pages' busy timeout, which would hold the
            # worker), and a write transaction from the start: it reads before it writes.
            previous = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute(f"PRAGMA busy_timeout={int(lock_timeout_ms)}")
            conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        try:
            with conn.begin():
                if not sqlite_db:
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
                return _write_batch(conn, counts)
        finally:
            if sqlite_db:
                raw.execute(f"PRAGMA busy_timeout={int(previous)}")


def _flush_all() -> None:
    """At exit: write what every live counter of this process still holds."""
    for item in list(_counters):
        with contextlib.suppress(Exception):  # the process is ending; nothing else to do
            item.flush()


def _after_fork_in_child() -> None:
    # The parent's counts are the parent's to write; a lock held during the fork stays held.
    for item in list(_counters):
        item._reset()


atexit.register(_flush_all)
os.register_at_fork(after_in_child=_after_fork_in_child)
