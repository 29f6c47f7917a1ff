"""The PostgreSQL backend's own machinery: its tables and their swap, the writers' lock,
concurrent writers, the migration. Collected only when the suite runs on PostgreSQL (see
``conftest.py``); everything a backend must do is tested in ``test_backends.py``."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.core.extensions import db
from app.search import IndexBusy, IndexUnavailable, SearchDoc, SearchQuery, doc_stamp
from app.search.postgres import PostgresBackend, document_terms
from app.search.postgres.terms import _quote
from tests.conftest import DATABASE_URL, settings
from tests.search.support import DOCS, dispose, make_backend
from tests.test_migrations import keep_logging  # noqa: F401  (a fixture)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[PostgresBackend]:
    b = make_backend("postgres", tmp_path, lock_timeout=0.3)
    assert isinstance(b, PostgresBackend)
    yield b
    dispose(b)


def tables(b: PostgresBackend) -> list[str]:
    with b.engine.connect() as conn:
        return sorted(sa.inspect(conn).get_table_names(schema=b.schema))


@contextlib.contextmanager
def rebuild_elsewhere(b: PostgresBackend) -> Iterator[None]:
    """Hold the lock a rebuild holds, in another connection (as another process would)."""
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": b._lock_key})
            yield
    finally:
        engine.dispose()


# --- documents as lexemes ------------------------------------------------------------------------


def test_document_terms_tag_exact_forms_and_stems_by_place() -> None:
    doc = SearchDoc(
        id=1,
        title="کوزه\u200cهای سفالی",
        description="کوزه برای آب",
        category_path="صنایع دستی > سفال",
        seller_name="سفالگران",
    )
    lexemes, vocabulary = document_terms(doc)
    assert len(lexemes) == len(set(lexemes))
    assert {"Tکوزه", "Tسفالی", "Bکوزه", "Bبرای"} <= set(lexemes)  # title, description
    assert "Mسفال" in lexemes and "Mسفالگران" in lexemes  # category and seller names
    assert "Uسفال" in lexemes  # the stem of the title's «سفالی»
    assert "Tسفال" not in lexemes  # the title has «سفالی», not «سفال»
    assert not [x for x in lexemes if x[1:] == "ها"]  # a bound suffix is not a term
    assert {"کوزه", "سفالی", "سفال", "سفالگران"} <= vocabulary
    assert "برای" not in vocabulary  # description words are not offered as corrections


def test_lexemes_are_quoted_whatever_they_hold() -> None:
    """The normaliser never puts a quote or a backslash in a term, but the quoting must not
    depend on that."""
    engine = sa.create_engine(DATABASE_URL)
    try:
        with engine.connect() as conn:
            for term in ["it's", "a\\b", "x:*", "a | b", "سفال"]:
                literal = _quote(term)
                assert literal is not None
                back = conn.execute(
                    sa.text("SELECT tsvector_to_array(CAST(:t AS tsvector))"), {"t": literal}
                ).scalar()
                assert back == [term]
                assert conn.execute(
                    sa.text("SELECT array_to_tsvector(CAST(:v AS text[])) @@ CAST(:q AS tsquery)"),
                    {"v": [term], "q": literal},
                ).scalar()
    finally:
        engine.dispose()
    assert _quote("ب" * 1500) is None  # longer than a lexeme may be


# --- tables, rebuild, swap ----------------------------------------------------------------------


def test_rebuild_swaps_tables_and_leaves_nothing_behind(fresh: PostgresBackend) -> None:
    assert tables(fresh) == []
    fresh.index(DOCS[:5])
    assert tables(fresh) == ["document", "term"]
    assert fresh.rebuild(DOCS[:10]) == 10
    assert tables(fresh) == ["document", "term"]
    with fresh.engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("document", schema=fresh.schema)}
    assert indexes == {"document_terms_idx", "document_category_idx", "document_created_idx"}

    def broken() -> Iterator[SearchDoc]:
        yield DOCS[0]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        fresh.rebuild(broken())
    assert tables(fresh) == ["document", "term"]  # no document_new left
    assert fresh.health()["docs"] == 10


def test_rebuild_keeps_the_last_of_an_id_given_twice(fresh: PostgresBackend) -> None:
    assert fresh.rebuild([DOCS[0], replace(DOCS[0], title="کوزه آبی"), DOCS[1]]) == 2
    assert fresh.search(SearchQuery(text="کوزه")).ids == [1]


def test_readers_never_see_an_empty_index_during_rebuilds(fresh: PostgresBackend) -> None:
    fresh.rebuild(DOCS[:30])
    reader = PostgresBackend(DATABASE_URL, schema=fresh.schema)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                seen.append(reader.search(SearchQuery(text="سوزن دوزی")).total)
                seen.append(reader.search(SearchQuery()).total)
            except BaseException as exc:  # noqa: BLE001  (reported below)
                errors.append(exc)
                return

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for size in (40, 30, 60, 30):
            assert fresh.rebuild(DOCS[:size]) == size
    finally:
        stop.set()
        thread.join(timeout=30)
        reader.close()
    assert not errors, errors
    assert seen and 0 not in seen
    assert set(seen) <= {8, 9, 30, 40, 60}


def test_a_dropped_table_is_unavailable_until_written_again(fresh: PostgresBackend) -> None:
    fresh.rebuild(DOCS[:5])
    with fresh.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {fresh.schema}.document"))
    assert fresh.exists() is False
    health = fresh.health()
    assert health["ok"] is False and health["error"]
    with pytest.raises(IndexUnavailable):
        fresh.search(SearchQuery(text="سوزندوزی"))
    with pytest.raises(IndexUnavailable):
        fresh.suggest("سوز")
    fresh.index(DOCS[:2])  # a writer creates the tables again
    assert fresh.search(SearchQuery()).total == 2
    assert fresh.rebuild(DOCS[:5]) == 5


def test_an_unreachable_database_is_unavailable() -> None:
    url = sa.engine.make_url(DATABASE_URL).set(host="127.0.0.1", port=9)
    b = PostgresBackend(url.render_as_string(hide_password=False))
    try:
        assert b.exists() is False
        assert b.health()["ok"] is False
        with pytest.raises(IndexUnavailable):
            b.search(SearchQuery(text="سفال"))
        with pytest.raises(IndexUnavailable):
            b.index(DOCS[:1])
    finally:
        b.close()


def test_only_plain_schema_names() -> None:
    with pytest.raises(ValueError):
        PostgresBackend(DATABASE_URL, schema='search"; drop table x; --')


def test_a_sqlite_engine_is_refused() -> None:
    engine = sa.create_engine("sqlite://")
    with pytest.raises(IndexUnavailable):
        PostgresBackend(engine)
    engine.dispose()


def test_health_reports_the_size(fresh: PostgresBackend) -> None:
    fresh.rebuild(DOCS)
    health = fresh.health()
    assert health["ok"] is True and health["docs"] == len(DOCS)
    assert isinstance(health["size"], int) and health["size"] > 0
    assert health["size"] == fresh.index_size()
    assert "password" not in str(health["path"])


# --- writers ----------------------------------------------------------------------------------


def test_writers_wait_for_a_rebuild_elsewhere_then_give_up(fresh: PostgresBackend) -> None:
    fresh.index(DOCS[:3])
    with rebuild_elsewhere(fresh):
        with pytest.raises(IndexBusy):
            fresh.index(DOCS[3:4])
        with pytest.raises(IndexBusy):
            fresh.remove([1])
        with pytest.raises(IndexBusy):
            fresh.rebuild(DOCS)
        assert fresh.search(SearchQuery()).total == 3  # reading still works
    fresh.index(DOCS[3:4])
    assert fresh.search(SearchQuery()).total == 4
    assert fresh.rebuild(DOCS) == len(DOCS)


def test_concurrent_writers_lose_nothing(fresh: PostgresBackend) -> None:
    """Several writers at once (each with its own connections, as separate processes would
    have), writing overlapping batches in different orders: none is refused, nothing is
    lost, the index ends with one of the written versions of every product."""
    fresh.rebuild([])
    writers = 4
    marks = ["کهربا", "فیروزه", "یاقوت", "زمرد"]
    versions = {
        n: [replace(d, title=f"{d.title} {marks[n]}", price_amount=n) for d in DOCS]
        for n in range(writers)
    }
    errors: list[BaseException] = []

    def write(n: int) -> None:
        b = PostgresBackend(DATABASE_URL, schema=fresh.schema, lock_timeout=5)
        try:
            docs = versions[n] if n % 2 else list(reversed(versions[n]))
            for i in range(0, len(docs), 7):
                b.index(docs[i : i + 7])
            b.remove([10_000 + n])
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            b.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    stamps = fresh.all_ids_with_stamp()
    assert set(stamps) == {d.id for d in DOCS}
    for doc in DOCS:
        assert stamps[doc.id] in {doc_stamp(versions[n][doc.id - 1]) for n in range(writers)}
    # each row is one version throughout: found by its title's mark, with its stamp
    for n in range(writers):
        result = fresh.search(SearchQuery(text=marks[n], per_page=100))
        assert all(stamps[i] == doc_stamp(versions[n][i - 1]) for i in result.ids)


def test_new_words_can_be_suggested_before_a_rebuild(fresh: PostgresBackend) -> None:
    fresh.rebuild(DOCS[:5])
    assert fresh.search(SearchQuery(text="زعفرن", exact=True)).suggestion is None
    fresh.index([d for d in DOCS if d.id == 33])  # «بسته ۵۰۰ گرمی زعفران»
    assert fresh.search(SearchQuery(text="زعفرن", exact=True)).suggestion == "زعفران"
    fresh.remove([33])
    assert fresh.search(SearchQuery(text="زعفرن", exact=True)).suggestion is None  # finds nothing


# --- the migration ------------------------------------------------------------------------------


def describe(conn: sa.Connection, schema: str) -> dict[str, object]:
    inspector = sa.inspect(conn)
    out: dict[str, object] = {}
    for table in inspector.get_table_names(schema=schema):
        out[table] = (
            [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(table, schema)
            ],
            inspector.get_pk_constraint(table, schema),
            conn.execute(
                sa.text(
                    "SELECT attname, attstorage FROM pg_attribute"
                    " WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 ORDER BY attnum"
                ),
                {"t": f"{schema}.{table}"},
            ).all(),
            conn.execute(
                sa.text("SELECT reloptions FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": f"{schema}.{table}"},
            ).scalar(),
            sorted(
                conn.execute(
                    sa.text(
                        "SELECT indexname, replace(indexdef, :s || '.', '') FROM pg_indexes"
                        " WHERE schemaname = :s AND tablename = :t"
                    ),
                    {"s": schema, "t": table},
                ).all()
            ),
        )
    return out


@pytest.fixture
def migrated_database() -> Iterator[str]:
    server = sa.engine.make_url(DATABASE_URL)
    name = f"bazarche_pgs_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_the_migration_creates_the_tables_the_backend_creates(
    tmp_path: Path,
    migrated_database: str,
    keep_logging: None,  # noqa: F811
) -> None:
    app = create_app(settings(tmp_path, SQLALCHEMY_DATABASE_URI=migrated_database))
    with app.app_context():
        flask_migrate.upgrade()
        backend = PostgresBackend(db.engine)
        assert backend.exists()  # the migration made an empty index
        assert backend.search(SearchQuery(text="سفال")).total == 0
        other = PostgresBackend(db.engine, schema="made_by_the_backend")
        other.clear()
        with db.engine.connect() as conn:
            made = describe(conn, "made_by_the_backend")
            assert describe(conn, "search") == made
        # and the migrated tables work as the backend's own
        assert backend.rebuild(DOCS) == len(DOCS)
        assert (
            backend.search(SearchQuery(text="سوزندوزی")).total == 10
        )  # the needlework category (9) and a workshop
        flask_migrate.downgrade(revision="0003")
        assert not backend.exists()
        other.drop()
        db.session.remove()
        db.engine.dispose()
