"""The PostgreSQL search backend: full-text search in the shop's own database.

For a shop that runs on several machines: every web worker and every ``flask search`` command
reads and writes the same tables, so there is no index directory to share or copy, and
PostgreSQL's row locks replace the single writer of the embedded backend.

Tables (in their own schema, ``search`` by default, outside the application's models: the
backend owns them, ``flask search reindex`` rebuilds them, and migration 0004 creates them for
deployments that run migrations)::

    search.document   one row per indexed product: the filter and sort columns, the display
                      strings (for highlights and completions), the doc_stamp, and ``terms``
    search.term       the vocabulary of titles, category paths and seller names with its
                      document frequency (for "did you mean"), under a trigram index

``terms`` is a ``tsvector`` built in Python from :func:`app.search.normalize.index_forms`, the
normaliser the Whoosh backend uses, and handed to PostgreSQL as an array of finished lexemes
(``array_to_tsvector``, not ``to_tsvector``: PostgreSQL's parser would split «500گرم» and knows
no Persian rules, whereas these terms are final). Each lexeme is tagged with where the term
comes from — ``T`` title, ``M`` category path and seller name, ``B`` description, ``U`` stem of
a title term, ``S`` stem of any other term (an upper-case letter, which the normaliser never
leaves in a term) — so an exact form and a stem of the same letters stay apart and exact matches
can rank first, as in the Whoosh backend. Tags rather than tsvector weights (A/B/C): the GIN
index stores no weights, so every match of a weighted query is rechecked against the row's
tsvector (decompressed, or read from TOAST, once per test), which made a common word cost a
second on 10,000 products; a tagged lexeme is answered by the index alone. For the same reason
rows are kept narrow where PostgreSQL lets us: ``toast_tuple_target = 128`` moves the tsvector
and the display strings of every row over the 2 kB TOAST threshold out of line, while the small
columns read for every match (filters, facets) are ``STORAGE PLAIN`` and always stay in the row.

Queries are built the same way: :func:`app.search.normalize.parse_query` gives the words, and
each word becomes a tsquery of its tagged, quoted forms, sent as a bound parameter and cast —
the user's text is never parsed as query syntax. A product matches when every word occurs in
some form. Ranking reproduces the Whoosh backend's tiers per word (exact title term 4, title
term of a compound 3.5, title stem or category/seller term 2, description term 1, anything else
0.5), weighted by the word's rarity when there are several words; ties go to the newest
product. With one word each tier is one index lookup, hashed and probed by the matches; with
several, the products that have them all (usually few) are scored from their own terms, and a
word's rarity comes from the planner's estimate (see :meth:`PostgresBackend._idf`).

One statement per search returns the page and, in one pass over the materialised matches
(grouping sets), the total and the three facet counts, each with every *other* filter applied,
so they agree with each other. Text searches run with sequential scans, JIT and parallel
workers off: a scan would read every row's tsvector where the index answers exactly, and
compiling or starting workers costs more than these queries. :meth:`PostgresBackend.rebuild`
fills new tables inside one transaction and swaps them in with renames: readers see the old
tables until the commit, then the new ones, never an empty index, and a failed rebuild leaves
nothing behind. Writers (:meth:`~PostgresBackend.index`, :meth:`~PostgresBackend.remove`) take a
shared advisory lock, so any number of processes write at once while a rebuild, which takes it
exclusively, makes them wait and then raise :class:`IndexBusy` (their callers keep the products
dirty, as with the Whoosh writer lock): a write into tables that are about to be replaced would
be lost.

"Did you mean" looks up unknown words in ``search.term`` with ``pg_trgm`` similarity and keeps
the most frequent term within one (two, for words of five letters or more) edits sharing the
first letter. ``pg_trgm`` only sees Persian letters as letters when the database's ``LC_CTYPE``
is not ``C`` (``C.UTF-8`` and the usual locales are fine).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa

from app.search.backend import (
    FACETS,
    IndexBusy,
    IndexUnavailable,
    SearchDoc,
    SearchQuery,
    SearchResult,
    doc_stamp,
)
from app.search.normalize import (
    QueryWord,
    completion_prefix,
    excerpt,
    index_forms,
    parse_query,
    rank_completions,
    typo_budget,
    typo_words,
)

__all__ = ["PostgresBackend", "document_terms", "schema_ddl"]

log = logging.getLogger(__name__)

TITLE, META, BODY, TITLE_STEM, STEM = "T", "M", "B", "U", "S"
"""Tags of the lexemes: where a term comes from (see the module docstring)."""

_MAX_LEXEME_BYTES = 2000  # PostgreSQL refuses lexemes of 2,047 bytes or more
_MAX_TERMS_BYTES = 512 * 1024  # a tsvector holds at most 1 MiB of lexemes
_SUGGEST_THRESHOLD = 3
_PREFIX_MIN = 2
_DEGRADED = "bazarche-search degraded - "  # the schema's comment while marked degraded
_BATCH = 1000
_IDENT = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_NO_TABLE = {"42P01", "3F000"}  # undefined_table, invalid_schema_name
_LOCK_NOT_AVAILABLE = "55P03"
_RETRY = {"40P01", "40001"}  # deadlock_detected, serialization_failure
_BIGINT = (-(2**63), 2**63 - 1)

_COLUMNS = (
    "id",
    "stamp",
    "leaf",
    "category_ids",
    "county",
    "sector",
    "price",
    "created_at",
    "in_stock",
    "title",
    "description",
    "category_path",
    "seller_name",
    "terms",
)


def schema_ddl(schema: str, suffix: str = "", indexes: bool = True) -> list[str]:
    """The statements that create the backend's tables (named ``document{suffix}`` and
    ``term{suffix}``) and, with ``indexes``, their indexes. Migration 0004 holds a frozen copy
    of the statements for ``suffix=""``; a test checks that both build the same tables."""
    s, d, t = schema, f"document{suffix}", f"term{suffix}"
    out = [
        f"""CREATE TABLE {s}.{d} (
            id bigint NOT NULL,
            stamp text NOT NULL,
            leaf bigint,
            category_ids bigint[] NOT NULL DEFAULT '{{}}',
            county text NOT NULL DEFAULT '',
            sector text NOT NULL DEFAULT '',
            price bigint NOT NULL DEFAULT 0,
            created_at timestamp with time zone NOT NULL,
            in_stock boolean NOT NULL DEFAULT true,
            title text NOT NULL DEFAULT '',
            description text NOT NULL DEFAULT '',
            category_path text NOT NULL DEFAULT '',
            seller_name text NOT NULL DEFAULT '',
            terms tsvector NOT NULL,
            CONSTRAINT {d}_pkey PRIMARY KEY (id)
        ) WITH (toast_tuple_target = 128)""",
        # the small columns read for every match (filters, facets, sorting) stay in the row
        f"""ALTER TABLE {s}.{d}
            ALTER COLUMN category_ids SET STORAGE PLAIN,
            ALTER COLUMN county SET STORAGE PLAIN,
            ALTER COLUMN sector SET STORAGE PLAIN,
            ALTER COLUMN stamp SET STORAGE PLAIN""",
        f"""CREATE TABLE {s}.{t} (
            term text NOT NULL,
            df integer NOT NULL DEFAULT 1,
            CONSTRAINT {t}_pkey PRIMARY KEY (term)
        )""",
    ]
    if indexes:
        out += index_ddl(schema, suffix)
    return out


def index_ddl(schema: str, suffix: str = "") -> list[str]:
    """The secondary indexes of the tables (built after a bulk load, which is faster)."""
    s, d, t = schema, f"document{suffix}", f"term{suffix}"
    return [
        f"CREATE INDEX {d}_terms_idx ON {s}.{d} USING gin (terms)",
        f"CREATE INDEX {d}_category_idx ON {s}.{d} USING gin (category_ids)",
        f"CREATE INDEX {d}_created_idx ON {s}.{d} (created_at DESC, id)",
        f"CREATE INDEX {t}_trgm_idx ON {s}.{t} USING gin (term gin_trgm_ops)",
    ]


_INDEX_NAMES = ("terms_idx", "category_idx", "created_idx")


# --- lexemes ---------------------------------------------------------------------------------


def _fits(lexeme: str) -> bool:
    return len(lexeme) * 4 <= _MAX_LEXEME_BYTES or len(lexeme.encode()) <= _MAX_LEXEME_BYTES


def _quote(term: str) -> str | None:
    """``term`` as a quoted tsquery operand; ``None`` when it is too long to be a lexeme
    (such a term can be neither stored nor found)."""
    if not _fits(term):
        return None
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def document_terms(doc: SearchDoc) -> tuple[list[str], set[str]]:
    """The tagged lexemes of ``doc`` (for ``array_to_tsvector``) and its vocabulary (title
    and category/seller terms, offered as corrections)."""
    title_exact, title_stems = index_forms(doc.title)
    meta_exact, meta_stems = index_forms(f"{doc.category_path} ; {doc.seller_name}")
    body_exact, body_stems = index_forms(doc.description)
    lexemes: dict[str, None] = {}
    size = 0
    for tag, terms in (
        (TITLE, title_exact),
        (META, meta_exact),
        (TITLE_STEM, title_stems),
        (STEM, meta_stems),
        (BODY, body_exact),
        (STEM, body_stems),
    ):
        for term in terms:
            lexeme = tag + term
            if lexeme in lexemes or not _fits(lexeme):
                continue
            size += len(lexeme) * 2 + 8
            if size > _MAX_TERMS_BYTES:
                break  # an absurdly long description: the rest is not indexed
            lexemes[lexeme] = None
    vocabulary = {t for t in (*title_exact, *meta_exact) if _fits(t)}
    return list(lexemes), vocabulary


def _clean(text: str) -> str:
    """Text PostgreSQL accepts: it stores no NUL character (SQLite and Whoosh do)."""
    return text.replace("\x00", "") if "\x00" in text else text


def _tagged(tags: str, forms: Iterable[str], suffix: str = "") -> list[str]:
    out = []
    for form in forms:
        for tag in tags:
            quoted = _quote(tag + form)
            if quoted is not None:
                out.append(quoted + suffix)
    return out


def _or(operands: list[str]) -> str | None:
    if not operands:
        return None
    return operands[0] if len(operands) == 1 else "(" + " | ".join(operands) + ")"


class _Word:
    """One query word as tsqueries: ``match`` (any form, anywhere) and ``tiers`` (weight,
    tsquery) from the best tier down, without the last (0.5: whatever else matched)."""

    def __init__(self, w: QueryWord) -> None:
        self.query = w
        extra = [f for f in w.loose if f not in w.exact]
        # a form too long to be a lexeme matches nothing; a word with no form left, nothing
        self.match = _or(_tagged(TITLE + META + BODY + TITLE_STEM + STEM, w.loose))
        tiers = [
            (4.0, _tagged(TITLE, [w.word])),
            (3.5, _tagged(TITLE, w.exact[1:])),
            (2.0, _tagged(TITLE, extra) + _tagged(TITLE_STEM, w.loose) + _tagged(META, w.exact)),
            (1.0, _tagged(BODY, w.exact)),
        ]
        self.tiers = [(weight, q) for weight, ops in tiers if (q := _or(ops)) is not None]


def _match_all(words: Sequence[_Word]) -> str | None:
    """The tsquery that every word must match; ``None`` when a word cannot match at all."""
    if any(w.match is None for w in words):
        return None
    return " & ".join(w.match for w in words if w.match is not None)


# --- edit distance (for "did you mean") -------------------------------------------------------


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# --- the backend -------------------------------------------------------------------------------


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


class PostgresBackend:
    """:class:`app.search.backend.SearchBackend` on PostgreSQL tables in ``schema``.

    ``engine`` is a SQLAlchemy engine (the application's ``db.engine``) or a database URL
    (the backend then owns an engine, disposed by :meth:`close`). Thread-safe and cheap: each
    call takes a pooled connection for one short transaction. ``lock_timeout`` is how long a
    writer waits for a rebuild elsewhere (and a rebuild for the writers) before raising
    :class:`IndexBusy`.
    """

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

    def _write(self, work, retries: int = 3) -> None:  # type: ignore[no-untyped-def]
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

    # --- writing ------------------------------------------------------------------------------

    def _rows(self, docs: Iterable[SearchDoc], vocabulary: Counter[str] | None) -> Iterator[dict]:
        for doc in docs:
            created = doc.created_at
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            terms, vocab = document_terms(doc)
            if vocabulary is not None:
                vocabulary.update(vocab)
            cats = [int(c) for c in doc.category_ids]
            yield {
                "id": int(doc.id),
                "stamp": doc_stamp(doc),
                "leaf": cats[0] if cats else None,
                "category_ids": cats,
                "county": _clean(doc.county or ""),
                "sector": _clean(doc.sector or ""),
                "price": int(doc.price_amount),
                "created_at": created,
                "in_stock": bool(doc.in_stock),
                "title": _clean(doc.title),
                "description": _clean(doc.description),
                "category_path": _clean(doc.category_path),
                "seller_name": _clean(doc.seller_name),
                "terms": terms,
                "_vocab": vocab,
            }

    def _insert_sql(self, table: str, upsert: bool) -> sa.TextClause:
        values = ", ".join(
            "array_to_tsvector(CAST(:terms AS text[]))"
            if c == "terms"
            else "CAST(:category_ids AS bigint[])"
            if c == "category_ids"
            else f":{c}"
            for c in _COLUMNS
        )
        sql = f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({values})"
        if upsert:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "id")
            sql += f" ON CONFLICT (id) DO UPDATE SET {updates}"
        return sa.text(sql)

    def index(self, docs: Iterable[SearchDoc], create: bool = True) -> None:
        """See :meth:`app.search.backend.SearchBackend.index` (for an id given twice, the
        last document wins). Rows are written in id order, so concurrent writers lock them in
        the same order and cannot deadlock; new vocabulary is added, never counted again."""
        unique = {doc.id: doc for doc in docs}
        if not unique:
            return
        rows = list(self._rows([unique[k] for k in sorted(unique)], None))
        vocab = sorted({t for r in rows for t in r.pop("_vocab")})
        if create:
            self._ensure_tables()  # otherwise a missing table fails the write: IndexUnavailable
        insert = self._insert_sql(self._doc, upsert=True)
        add_terms = sa.text(
            f"INSERT INTO {self._term} (term, df) VALUES (:term, 1) ON CONFLICT (term) DO NOTHING"
        )

        def work(conn: sa.Connection) -> None:
            for i in range(0, len(rows), _BATCH):
                conn.execute(insert, rows[i : i + _BATCH])
            for i in range(0, len(vocab), _BATCH):
                conn.execute(add_terms, [{"term": t} for t in vocab[i : i + _BATCH]])

        self._write(work)

    def remove(self, ids: Iterable[int]) -> None:
        """See :meth:`app.search.backend.SearchBackend.remove` (no tables: nothing to do).
        The vocabulary keeps the words of removed products until the next rebuild; a "did
        you mean" built on one is dropped because it finds nothing."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return
        with self._reading() as conn:
            if not self._tables_exist(conn):
                return
        delete = sa.text(f"DELETE FROM {self._doc} WHERE id = ANY(CAST(:ids AS bigint[]))")
        self._write(lambda conn: conn.execute(delete, {"ids": wanted}))

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """See :meth:`app.search.backend.SearchBackend.rebuild`.

        One transaction: take the exclusive lock (writers elsewhere wait and then raise
        :class:`IndexBusy`, keeping their products dirty), load ``document_new`` and
        ``term_new``, index and analyse them, drop the live tables and rename the new ones
        into their place. Readers use the old tables until the commit; an error (in ``docs``
        too) rolls everything back and the old index stays.
        """
        count = 0
        vocabulary: Counter[str] = Counter()
        s = self.schema
        try:
            with self.engine.begin() as conn:
                self._lock_exclusive(conn)
                self._prepare_schema(conn)
                conn.execute(sa.text("SET LOCAL maintenance_work_mem = '128MB'"))
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {s}.document_new, {s}.term_new"))
                for stmt in schema_ddl(s, "_new", indexes=False):
                    conn.execute(sa.text(stmt))
                insert = self._insert_sql(f"{s}.document_new", upsert=True)
                batch: list[dict] = []
                for row in self._rows(docs, vocabulary):
                    row.pop("_vocab")
                    batch.append(row)
                    if len(batch) >= _BATCH:
                        conn.execute(insert, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    conn.execute(insert, batch)
                    count += len(batch)
                terms = sorted(vocabulary.items())
                add_terms = sa.text(f"INSERT INTO {s}.term_new (term, df) VALUES (:term, :df)")
                for i in range(0, len(terms), 5 * _BATCH):
                    conn.execute(
                        add_terms, [{"term": t, "df": n} for t, n in terms[i : i + 5 * _BATCH]]
                    )
                # the real count (an id given twice is one row), then the indexes
                count = conn.execute(sa.text(f"SELECT count(*) FROM {s}.document_new")).scalar()
                for stmt in index_ddl(s, "_new"):
                    conn.execute(sa.text(stmt))
                conn.execute(sa.text(f"ANALYZE {s}.document_new"))
                conn.execute(sa.text(f"ANALYZE {s}.term_new"))
                self._swap(conn)
                if self._marked(conn):  # (only an owner may comment: only touch our mark)
                    conn.execute(sa.text(f"COMMENT ON SCHEMA {s} IS NULL"))
        except sa.exc.DBAPIError as exc:
            raise IndexUnavailable(f"rebuilding the search index failed: {exc.orig}") from exc
        self._vacuum()
        return int(count or 0)

    def _swap(self, conn: sa.Connection) -> None:
        s = self.schema
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {self._doc}, {self._term}"))
        conn.execute(sa.text(f"ALTER TABLE {s}.document_new RENAME TO document"))
        conn.execute(sa.text(f"ALTER TABLE {s}.term_new RENAME TO term"))
        conn.execute(
            sa.text(f"ALTER TABLE {self._doc} RENAME CONSTRAINT document_new_pkey TO document_pkey")
        )
        conn.execute(
            sa.text(f"ALTER TABLE {self._term} RENAME CONSTRAINT term_new_pkey TO term_pkey")
        )
        for name in _INDEX_NAMES:
            conn.execute(sa.text(f"ALTER INDEX {s}.document_new_{name} RENAME TO document_{name}"))
        conn.execute(sa.text(f"ALTER INDEX {s}.term_new_trgm_idx RENAME TO term_trgm_idx"))

    def _vacuum(self) -> None:
        """Set the visibility map of the fresh table (counts then skip the heap); best effort:
        autovacuum would do it a little later."""
        with contextlib.suppress(sa.exc.DBAPIError), self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sa.text(f"VACUUM {self._doc}"))

    def clear(self) -> None:
        """See :meth:`app.search.backend.SearchBackend.clear`."""
        self.rebuild([])

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

    # --- search -------------------------------------------------------------------------------

    def search(self, q: SearchQuery) -> SearchResult:
        """See :meth:`app.search.backend.SearchBackend.search`."""
        q = q.clamped()
        qwords = parse_query(q.text)
        words = [_Word(w) for w in qwords]
        with self._reading() as conn:
            self._tune(conn, text=bool(words))
            if words:
                match = _match_all(words)
                if match is None:  # a word too long to be a lexeme: nothing has it
                    result = SearchResult(facets={name: {} for name in FACETS})
                    matched = 0
                else:
                    result, matched = self._run(conn, q, words, match)
            else:
                result, matched = self._run(conn, q, [], None)
            if words and result.total < _SUGGEST_THRESHOLD:
                result.suggestion = self._did_you_mean(conn, words, matched)
        return result

    @staticmethod
    def _tune(conn: sa.Connection, text: bool) -> None:
        """Settings for this transaction's searches (see the module docstring): no JIT, no
        parallel workers, room for the hashes of large match sets and, when the query has
        words, no sequential scan."""
        conn.execute(
            sa.text(
                "SELECT set_config('jit', 'off', true),"
                " set_config('max_parallel_workers_per_gather', '0', true),"
                " set_config('work_mem', '32MB', true),"
                " set_config('enable_seqscan', :seqscan, true)"
            ),
            {"seqscan": "off" if text else "on"},
        )

    def _filters(self, q: SearchQuery, params: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        if q.category is not None:
            if _BIGINT[0] <= q.category <= _BIGINT[1]:
                params["f_cat"] = int(q.category)
                out["category"] = "category_ids @> ARRAY[CAST(:f_cat AS bigint)]"
            else:
                out["category"] = "FALSE"
        if q.county:
            params["f_county"] = _clean(q.county)
            out["county"] = "county = :f_county"
        if q.sector:
            params["f_sector"] = _clean(q.sector)
            out["sector"] = "sector = :f_sector"
        if q.min_price is not None or q.max_price is not None:
            lo = q.min_price if q.min_price is not None else _BIGINT[0]
            hi = q.max_price if q.max_price is not None else _BIGINT[1]
            params["f_lo"] = max(_BIGINT[0], min(_BIGINT[1], int(lo)))
            params["f_hi"] = max(_BIGINT[0], min(_BIGINT[1], int(hi)))
            out["price"] = "price BETWEEN :f_lo AND :f_hi"
        if q.in_stock:
            out["in_stock"] = "in_stock"
        return out

    def _run(  # noqa: C901 (one query plan per search, kept together for the statement's shape)
        self, conn: sa.Connection, q: SearchQuery, words: list[_Word], match: str | None
    ) -> tuple[SearchResult, int]:
        """One statement: the page (ids and display strings), the number of matches with and
        without the filters, and the facet counts, over one materialised set of matches."""
        params: dict[str, Any] = {
            "limit": q.per_page,
            "offset": (q.page - 1) * q.per_page,
        }
        filters = self._filters(q, params)

        def where(skip: str | None = None) -> str:
            conds = [sql for name, sql in filters.items() if name != skip]
            return " AND ".join(conds) if conds else "TRUE"

        ranked = bool(words) and q.sort == "relevance"
        sort = "newest" if q.sort == "relevance" else q.sort
        order = {
            "newest": "created_at DESC, id",
            "price_asc": "price, id",
            "price_desc": "price DESC, id",
        }[sort]
        ctes: list[str] = []
        source = page_source = self._doc
        if words:
            params["match"] = match
            ctes.append(
                "m AS MATERIALIZED (SELECT id, leaf, county, sector, category_ids, price,"
                f" created_at, in_stock FROM {self._doc} WHERE terms @@ CAST(:match AS tsquery))"
            )
            source = page_source = "m"
            if ranked and len(words) == 1:
                # one word: its products are the matches, and each of its tiers is one exact
                # index lookup, hashed once (an uncorrelated IN) and probed by every match in
                # tier order; a product's tier is the first it is in (0.5 when none: it matched
                # some other way)
                whens = []
                for k, (weight, tq) in enumerate(words[0].tiers):
                    params[f"t0_{k}"] = tq
                    whens.append(
                        f"WHEN m.id IN (SELECT id FROM {self._doc}"
                        f" WHERE terms @@ CAST(:t0_{k} AS tsquery)) THEN {weight}"
                    )
                score = f"CASE {' '.join(whens)} ELSE 0.5 END" if whens else "0.5"
                order = f"{score} DESC, m.created_at DESC, m.id"
            elif ranked:
                # several words: the products that have them all are usually far fewer than
                # those of any one word, so each is scored from its own terms (decompressed
                # once: OFFSET 0 keeps the copy from being inlined into every test), each word
                # weighed by its rarity, as in the Whoosh backend
                idf = self._idf(conn, words)
                cases, score = [], []
                for i, w in enumerate(words):
                    whens = []
                    for k, (weight, tq) in enumerate(w.tiers):
                        params[f"t{i}_{k}"] = tq
                        whens.append(f"WHEN t.v @@ CAST(:t{i}_{k} AS tsquery) THEN {weight}")
                    cases.append(f"CASE {' '.join(whens)} ELSE 0.5 END" if whens else "0.5")
                    params[f"idf{i}"] = idf[i]
                    score.append(f"CAST(:idf{i} AS float8) * {cases[-1]}")
                ctes.append(
                    f"r AS MATERIALIZED (SELECT m.id, m.created_at, {' + '.join(score)} AS score"
                    f" FROM m CROSS JOIN LATERAL (SELECT terms || CAST('' AS tsvector) AS v"
                    f" FROM {self._doc} AS d WHERE d.id = m.id OFFSET 0) AS t WHERE {where()})"
                )
                page_source = source = "r"
                order = "round(CAST(score AS numeric), 9) DESC, created_at DESC, id"
        # the page, and in one pass over the matches (a grouping set per facet, each count
        # with every other filter): the facets, the total and the number of matches
        page_sql = (
            "SELECT 'p' AS kind, s.id AS id, NULL::text AS leaf, NULL::text AS county,"
            " NULL::text AS sector, NULL::int AS g, s.rn AS c_category, NULL::bigint AS c_county,"
            " NULL::bigint AS c_sector, NULL::bigint AS c_total, NULL::bigint AS c_all,"
            " d.title AS title, left(d.description, 2000) AS description"
            f" FROM (SELECT id, row_number() OVER () AS rn FROM (SELECT {source}.id FROM"
            f" {page_source} WHERE {'TRUE' if source == 'r' else where()} ORDER BY {order}"
            " LIMIT :limit OFFSET :offset) AS o) AS s"
            f" JOIN {self._doc} AS d ON d.id = s.id"
        )
        counts_sql = (
            "SELECT 'c', NULL, leaf::text, county, sector, GROUPING(leaf, county, sector),"
            f" count(*) FILTER (WHERE {where('category')}),"
            f" count(*) FILTER (WHERE {where('county')}),"
            f" count(*) FILTER (WHERE {where('sector')}),"
            f" count(*) FILTER (WHERE {where()}), count(*), NULL, NULL"
            f" FROM {'m' if words else self._doc}"
            " GROUP BY GROUPING SETS ((leaf), (county), (sector), ())"
        )
        sql = ("WITH " + ", ".join(ctes) + " " if ctes else "") + (
            f"({page_sql}) UNION ALL ({counts_sql})"
        )
        rows = conn.execute(sa.text(sql), params).all()

        page: list[tuple[int, int, str, str]] = []
        facets: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
        total = matched = 0
        for (
            kind,
            pid,
            leaf,
            county,
            sector,
            g,
            c_cat,
            c_county,
            c_sector,
            c_total,
            c_all,
            *text,
        ) in rows:
            if kind == "p":
                page.append((int(c_cat), int(pid), text[0], text[1]))
            elif g == 0b011 and leaf is not None and c_cat:  # grouped by leaf only
                facets["category"][leaf] += int(c_cat)
            elif g == 0b101 and county and c_county:
                facets["county"][county] += int(c_county)
            elif g == 0b110 and sector and c_sector:
                facets["sector"][sector] += int(c_sector)
            elif g == 0b111:
                total, matched = int(c_total), int(c_all)
        page.sort()
        result = SearchResult(
            ids=[pid for _, pid, _, _ in page],
            total=total,
            facets={
                name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
                for name, counts in facets.items()
            },
        )
        if words:
            qwords = [w.query for w in words]
            for _, pid, title, description in page:
                result.highlights[pid] = excerpt(title, description, qwords)
        return result, matched if words else total

    def _idf(self, conn: sa.Connection, words: list[_Word]) -> list[float]:
        """Each word's rarity, ``ln(1 + N / (1 + df))`` as in the Whoosh backend, from the
        planner's row estimates (its statistics of the terms column): exact counts of common
        words cost more than the rest of the search, and a weight needs no exactness. The
        estimates change only when the table is analysed, so pages of one search agree."""

        def rows(where: str, params: dict[str, Any]) -> float:
            plan = conn.execute(
                sa.text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {self._doc} WHERE {where}"), params
            ).scalar()
            if isinstance(plan, str):
                plan = json.loads(plan)
            return float(plan[0]["Plan"]["Plan Rows"])

        total = max(1.0, rows("TRUE", {}))
        out = []
        for w in words:
            df = rows("terms @@ CAST(:q AS tsquery)", {"q": w.match}) if w.match else 0.0
            out.append(math.log(1.0 + total / (1.0 + min(df, total))))
        return out

    # --- did you mean -------------------------------------------------------------------------

    def _did_you_mean(self, conn: sa.Connection, words: list[_Word], found: int) -> str | None:
        """A query with unknown words replaced by the most frequent indexed title or
        category/seller word within one (two, for words of five letters or more) edits and
        with the same first letter, if it finds more than ``found``. Only the unknown words that
        :func:`typo_words` allows (not too long) and :func:`typo_budget` keeps are looked up,
        so a query of long or many words costs what a short one does."""
        out = [w.query.word for w in words]
        candidates = typo_words(out)[:8]
        if not candidates:
            return None
        known = self._known(conn, [words[i] for i in candidates])
        unknown = [i for i, is_known in zip(candidates, known, strict=True) if not is_known]
        changed = False
        for i in typo_budget(out, unknown):
            fix = self._closest_term(conn, out[i])
            if fix is not None:
                out[i], changed = fix, True
        if not changed:
            return None
        suggestion = " ".join(out)
        match = _match_all([_Word(w) for w in parse_query(suggestion)])
        if match is None:
            return None
        better = conn.execute(
            sa.text(f"SELECT count(*) FROM {self._doc} WHERE terms @@ CAST(:q AS tsquery)"),
            {"q": match},
        ).scalar()
        return suggestion if (better or 0) > found else None

    def _known(self, conn: sa.Connection, words: list[_Word]) -> list[bool]:
        """Whether each word occurs (in any form) in any product."""
        params: dict[str, Any] = {}
        cols = []
        for i, w in enumerate(words):
            if w.match is None:
                cols.append("FALSE")
                continue
            params[f"k{i}"] = w.match
            cols.append(f"EXISTS (SELECT 1 FROM {self._doc} WHERE terms @@ CAST(:k{i} AS tsquery))")
        row = conn.execute(sa.text(f"SELECT {', '.join(cols)}"), params).one()
        return [bool(v) for v in row]

    def _closest_term(self, conn: sa.Connection, word: str) -> str | None:
        """The most frequent vocabulary term within 1 edit of ``word`` (2 for words of five
        letters or more) that starts with the same letter; trigram similarity finds the
        candidates through the index, the edit distance decides."""
        conn.execute(sa.text("SELECT set_config('pg_trgm.similarity_threshold', '0.2', true)"))
        rows = conn.execute(
            sa.text(
                f"SELECT term, df FROM {self._term} WHERE term % :w AND left(term, 1) = :first"
                " ORDER BY similarity(term, :w) DESC, term LIMIT 200"
            ),
            {"w": word, "first": word[0]},
        ).all()
        for maxdist in (1, 2) if len(word) >= 5 else (1,):
            counts = {
                term: int(df)
                for term, df in rows
                if term != word and _distance(term, word, maxdist) <= maxdist
            }
            if counts:
                return max(sorted(counts), key=counts.__getitem__)
        return None

    # --- completion ---------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """See :meth:`app.search.backend.SearchBackend.suggest`.

        The last word (unless followed by a space) is a prefix of at least two letters of a
        title or category/seller term (a tsquery prefix match); the words before it must
        occur. Candidates are the category names, seller names and titles of up to 100
        matching products (newest first), ranked as
        :func:`app.search.normalize.rank_completions` does.
        """
        parsed = completion_prefix(prefix)
        if parsed is None or limit <= 0:
            return []
        norm, head, last = parsed
        head_words = [_Word(w) for w in head]
        operands = [w.match for w in head_words]
        if last:
            operands.append(_or(_tagged(TITLE + META, [last], ":*")))
        if not operands or any(op is None for op in operands):
            return []
        with self._reading() as conn:
            self._tune(conn, text=True)
            # materialised: the matches come from the index, then the newest of them
            # (rather than walking the newest products, reading each one's terms, until 100 match)
            rows = conn.execute(
                sa.text(
                    f"WITH c AS MATERIALIZED (SELECT id, created_at FROM {self._doc}"
                    " WHERE terms @@ CAST(:q AS tsquery))"
                    " SELECT d.title, d.category_path, d.seller_name FROM"
                    " (SELECT id FROM c ORDER BY created_at DESC, id LIMIT 100) AS n"
                    f" JOIN {self._doc} AS d ON d.id = n.id ORDER BY d.created_at DESC, d.id"
                ),
                {"q": " & ".join(op for op in operands if op is not None)},
            ).all()
        return rank_completions([tuple(r) for r in rows], head, last, norm, limit)
