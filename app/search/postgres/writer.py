"""Writing the PostgreSQL index: adding and removing documents under the writers' shared lock,
and rebuilding both tables aside, in one transaction, then swapping them in by renames.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

import sqlalchemy as sa

from app.search.backend import IndexUnavailable, SearchDoc, doc_stamp
from app.search.postgres.schema import _COLUMNS, _INDEX_NAMES, index_ddl, schema_ddl
from app.search.postgres.store import _PostgresStore
from app.search.postgres.terms import _clean, document_terms

_BATCH = 1000


class _PostgresWriter(_PostgresStore):
    """What changes the index: :meth:`index`, :meth:`remove`, :meth:`rebuild`, :meth:`clear`."""

    def _rows(
        self, docs: Iterable[SearchDoc], vocabulary: Counter[str] | None
    ) -> Iterator[dict[str, Any]]:
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
        ``term_new``, index and analyse them, drop the live tables and rename the new ones
        into their place. Readers use the old tables until the commit; an error (in ``docs``
        too) rolls everything back and the old index stays.
        """
        try:
            with self.engine.begin() as conn:
                self._lock_exclusive(conn)
                self._prepare_schema(conn)
                conn.execute(sa.text("SET LOCAL maintenance_work_mem = '128MB'"))
                count = self._fill_new(conn, docs)
                self._swap(conn)
                if self._marked(conn):  # (only an owner may comment: only touch our mark)
                    conn.execute(sa.text(f"COMMENT ON SCHEMA {self.schema} IS NULL"))
        except sa.exc.DBAPIError as exc:
            raise IndexUnavailable(f"rebuilding the search index failed: {exc.orig}") from exc
        self._vacuum()
        return count

    def _fill_new(self, conn: sa.Connection, docs: Iterable[SearchDoc]) -> int:
        """Create ``document_new`` and ``term_new``, load ``docs`` and their vocabulary, then
        index and analyse both; return the number of documents (an id given twice is one)."""
        s = self.schema
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {s}.document_new, {s}.term_new"))
        for stmt in schema_ddl(s, "_new", indexes=False):
            conn.execute(sa.text(stmt))
        insert = self._insert_sql(f"{s}.document_new", upsert=True)
        vocabulary: Counter[str] = Counter()
        batch: list[dict[str, Any]] = []
        for row in self._rows(docs, vocabulary):
            row.pop("_vocab")
            batch.append(row)
            if len(batch) >= _BATCH:
                conn.execute(insert, batch)
                batch = []
        if batch:
            conn.execute(insert, batch)
        terms = sorted(vocabulary.items())
        add_terms = sa.text(f"INSERT INTO {s}.term_new (term, df) VALUES (:term, :df)")
        for i in range(0, len(terms), 5 * _BATCH):
            conn.execute(add_terms, [{"term": t, "df": n} for t, n in terms[i : i + 5 * _BATCH]])
        # the real count (an id given twice is one row), then the indexes
        count = conn.execute(sa.text(f"SELECT count(*) FROM {s}.document_new")).scalar()
        for stmt in index_ddl(s, "_new"):
            conn.execute(sa.text(stmt))
        conn.execute(sa.text(f"ANALYZE {s}.document_new"))
        conn.execute(sa.text(f"ANALYZE {s}.term_new"))
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
