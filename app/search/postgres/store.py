"""The PostgreSQL backend's footing: its engine and tables, connections, the writers' lock,
and the state every process reads (existence, health, the degraded mark).

:class:`_PostgresStore` is the base of :class:`~app.search.postgres.PostgresBackend`; the writing and
the searching halves (:mod:`~app.search.postgres.writer`, :mod:`~app.search.postgres.reader`)
build on it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from app.search.backend import IndexBusy, IndexUnavailable
from app.search.postgres.schema import schema_ddl

log = logging.getLogger(__name__)

_DEGRADED = "bazarche-search degraded - "  # the schema's comment while marked degraded
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_NO_TABLE = {"42P01", "3F000"}  # undefined_table, invalid_schema_name
_LOCK_NOT_AVAILABLE = "55P03"
_RETRY = {"40P01", "40001"}  # deadlock_detected, serialization_failure


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


class _PostgresStore:
    """The engine, the schema's tables, connections, locks and the index's state."""

    def __init__(
        self, engine: sa.Engine | str, schema: str = "search", lock_timeout: float = 1.0
    ) -> None:
        if not _IDENT.fullmatch(schema):
            raise ValueError(f"not a plain schema name: {schema!r}")
        if isinstance(engine, str):
            url = engine
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    url = "postgresql+psycopg://" + url[len(prefix) :]
            self.engine = sa.create_engine(url)
            self._owns_engine = True
        else:
            self.engine = engine
            self._owns_engine = False
        if self.engine.dialect.name != "postgresql":
            raise IndexUnavailable(
                f"the PostgreSQL search backend needs a PostgreSQL database, "
                f"not {self.engine.dialect.name}"
            )
        self.schema = schema
        self.lock_timeout = lock_timeout
        self._doc = f"{schema}.document"
        self._term = f"{schema}.term"
        digest = hashlib.blake2b(f"bazarche-search:{schema}".encode(), digest_size=8).digest()
        self._lock_key = int.from_bytes(digest, "big", signed=True)

    @property
    def path(self) -> str:
        """Where the index lives, for messages: database and schema (no password)."""
        return f"{self.engine.url.render_as_string(hide_password=True)} ({self.schema})"

    def close(self) -> None:
        """Dispose of the engine if the backend created it (a shared one is left alone)."""
        if self._owns_engine:
            self.engine.dispose()

    # --- connections --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        """A connection for one read; a missing table or a database failure becomes
        :class:`IndexUnavailable` (the search page then answers from the catalogue)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            if _sqlstate(exc) in _NO_TABLE:
                raise IndexUnavailable(f"no search index in {self.path}") from exc
            raise IndexUnavailable(f"search index in {self.path} failed: {exc.orig}") from exc

    def _lock_shared(self, conn: sa.Connection) -> None:
        """Take the writers' (shared) lock for this transaction, waiting up to
        ``lock_timeout`` for a rebuild to finish. A polling try rather than a blocking wait:
        a blocked writer would queue ahead of the other writers behind the rebuild."""
        deadline = time.monotonic() + self.lock_timeout
        stmt = sa.text("SELECT pg_try_advisory_xact_lock_shared(:key)")
        while not conn.execute(stmt, {"key": self._lock_key}).scalar():
            if time.monotonic() >= deadline:
                raise IndexBusy(f"the search index in {self.path} is being rebuilt")
            time.sleep(0.05)

    def _lock_exclusive(self, conn: sa.Connection) -> None:
        """Take the rebuild (exclusive) lock for this transaction: waits up to
        ``lock_timeout`` for running writers, then raises :class:`IndexBusy`."""
        ms = max(1, int(self.lock_timeout * 1000))
        conn.execute(sa.text(f"SET LOCAL lock_timeout = {ms}"))
        try:
            with conn.begin_nested():
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
        except sa.exc.OperationalError as exc:
            if _sqlstate(exc) == _LOCK_NOT_AVAILABLE:
                raise IndexBusy(f"the search index in {self.path} is being written") from exc
            raise
        conn.execute(sa.text("SET LOCAL lock_timeout = 0"))

    def _write(self, work: Callable[[sa.Connection], object], retries: int = 3) -> None:
        """Run ``work(conn)`` in a transaction holding the writers' lock; retry deadlocks and
        serialisation failures (never expected — rows are locked in id order — but cheap to
        survive); a database failure becomes :class:`IndexUnavailable`."""
        for attempt in range(retries + 1):
            try:
                with self.engine.begin() as conn:
                    self._lock_shared(conn)
                    work(conn)
                return
            except sa.exc.DBAPIError as exc:
                if _sqlstate(exc) in _RETRY and attempt < retries:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise IndexUnavailable(f"search index in {self.path} failed: {exc.orig}") from exc

    # --- tables ---------------------------------------------------------------------------------

    def _tables_exist(self, conn: sa.Connection) -> bool:
        row = conn.execute(
            sa.text("SELECT to_regclass(:d) IS NOT NULL AND to_regclass(:t) IS NOT NULL"),
            {"d": self._doc, "t": self._term},
        ).scalar()
        return bool(row)

    def _prepare_schema(self, conn: sa.Connection) -> None:
        """Create the ``pg_trgm`` extension (if it is missing) and the schema."""
        has_trgm = conn.execute(
            sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        ).scalar()
        if not has_trgm:
            try:
                with conn.begin_nested():
                    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            except sa.exc.DBAPIError as exc:
                raise IndexUnavailable(
                    "the PostgreSQL search backend needs the pg_trgm extension: run "
                    "'flask db upgrade' (or CREATE EXTENSION pg_trgm) as a database owner"
                ) from exc
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {self.schema}"))

    def _ensure_tables(self) -> None:
        """Create empty tables if there are none (under the rebuild lock: two processes
        creating them at once would collide)."""
        try:
            with self.engine.connect() as conn:
                if self._tables_exist(conn):
                    return
            with self.engine.begin() as conn:
                self._lock_exclusive(conn)
                if self._tables_exist(conn):
                    return
                self._prepare_schema(conn)
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {self._doc}, {self._term}"))
                for stmt in schema_ddl(self.schema):
                    conn.execute(sa.text(stmt))
        except sa.exc.DBAPIError as exc:
            raise IndexUnavailable(f"cannot create the search tables: {exc.orig}") from exc

    def drop(self) -> None:
        """Drop the schema and everything in it (tests, or leaving PostgreSQL search)."""
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))

    # --- state --------------------------------------------------------------------------------

    def mark_degraded(self, reason: str) -> None:
        """See :meth:`app.search.backend.SearchBackend.mark_degraded`: the schema's comment
        (nothing is recorded when the schema itself is gone)."""
        # plain words only: the comment is a literal in the statement (no quotes, no ``:``)
        text = _DEGRADED + " ".join(re.sub(r"[^\w\s.,()/-]", " ", reason).split())[:900]
        literal = "'" + text + "'"
        try:
            with self.engine.begin() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": self.schema}
                ).scalar()
                if exists:
                    conn.execute(sa.text(f"COMMENT ON SCHEMA {self.schema} IS {literal}"))
        except Exception as exc:  # noqa: BLE001  (never raises: the caller is already failing)
            log.warning("search: cannot mark the index in %s degraded: %s", self.path, exc)

    def degraded(self) -> str | None:
        """See :meth:`app.search.backend.SearchBackend.degraded`."""
        try:
            with self.engine.connect() as conn:
                return self._marked(conn)
        except sa.exc.DBAPIError as exc:
            return f"cannot read the degraded mark: {exc.orig}"

    def _marked(self, conn: sa.Connection) -> str | None:
        comment = conn.execute(
            sa.text(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = :s"
            ),
            {"s": self.schema},
        ).scalar()
        if comment and comment.startswith(_DEGRADED):
            return comment[len(_DEGRADED) :] or "marked degraded"
        return None

    def exists(self) -> bool:
        """See :meth:`app.search.backend.SearchBackend.exists`."""
        try:
            with self._reading() as conn:
                return self._tables_exist(conn)
        except IndexUnavailable:
            return False

    def health(self) -> dict[str, object]:
        """See :meth:`app.search.backend.SearchBackend.health`; also ``size`` (bytes of both
        tables and their indexes) and ``terms`` (vocabulary size)."""
        info: dict[str, object] = {"ok": False, "docs": 0, "path": self.path, "error": None}
        try:
            with self._reading() as conn:
                if not self._tables_exist(conn):
                    raise IndexUnavailable(f"no search index in {self.path}")
                docs, terms = conn.execute(
                    sa.text(
                        f"SELECT (SELECT count(*) FROM {self._doc}), (SELECT count(*) FROM {self._term})"
                    )
                ).one()
                info.update(ok=True, docs=int(docs), terms=int(terms), size=self._size(conn))
        except IndexUnavailable as exc:
            info["error"] = str(exc)
        return info

    def _size(self, conn: sa.Connection) -> int:
        return int(
            conn.execute(
                sa.text(
                    "SELECT pg_total_relation_size(CAST(:d AS regclass))"
                    " + pg_total_relation_size(CAST(:t AS regclass))"
                ),
                {"d": self._doc, "t": self._term},
            ).scalar()
            or 0
        )

    def index_size(self) -> int:
        """Bytes of the tables and their indexes (0 when there are none)."""
        try:
            with self._reading() as conn:
                return self._size(conn) if self._tables_exist(conn) else 0
        except IndexUnavailable:
            return 0

    def all_ids_with_stamp(self) -> dict[int, str]:
        """See :meth:`app.search.backend.SearchBackend.all_ids_with_stamp`."""
        with self._reading() as conn:
            rows = conn.execute(sa.text(f"SELECT id, stamp FROM {self._doc}"))
            return {int(pid): stamp for pid, stamp in rows}
