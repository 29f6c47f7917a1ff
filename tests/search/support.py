"""What the backend test modules share: the catalogue as documents, the backends to test and
how to make one.

Every test of :mod:`tests.search.test_backends` runs on each backend of :data:`KINDS`: the
Whoosh backend always, the PostgreSQL backend when the suite runs on PostgreSQL
(``TEST_DATABASE_URL``); on SQLite it is not generated at all. Each PostgreSQL backend under
test lives in a schema of its own, dropped when the test (or module) ends, so tests never see
each other's documents and leave nothing behind.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from app.search import SearchBackend, SearchDoc, SearchQuery
from tests.conftest import DATABASE_URL
from tests.search.catalogue import PRODUCTS
from tests.search.relevance_cases import SYNONYMS, Case

DOCS = [SearchDoc(**p) for p in PRODUCTS]
ON_POSTGRES = DATABASE_URL.startswith("postgresql")
KINDS = ["whoosh", "postgres"] if ON_POSTGRES else ["whoosh"]


def make_backend(kind: str, where: Path, **options: object) -> SearchBackend:
    """A new, empty backend of ``kind``: a Whoosh index under ``where``, or PostgreSQL
    tables in a new schema of the test database."""
    if kind == "whoosh":
        from app.search.whoosh import WhooshBackend

        return WhooshBackend(str(where / "index"), **options)  # type: ignore[arg-type]
    from app.search.postgres import PostgresBackend

    return PostgresBackend(DATABASE_URL, schema=f"test_{secrets.token_hex(5)}", **options)  # type: ignore[arg-type]


def reopen(backend: SearchBackend) -> SearchBackend:
    """Another instance on the same index, as another process would open it."""
    from app.search.postgres import PostgresBackend
    from app.search.whoosh import WhooshBackend

    if isinstance(backend, WhooshBackend):
        return WhooshBackend(backend.path)
    assert isinstance(backend, PostgresBackend)
    return PostgresBackend(DATABASE_URL, schema=backend.schema)


def dispose(backend: SearchBackend) -> None:
    """Close ``backend`` and delete what it stored in the database (if anything)."""
    from app.search.postgres import PostgresBackend

    if isinstance(backend, PostgresBackend):
        backend.drop()
    backend.close()  # type: ignore[attr-defined]


def all_ids(backend: SearchBackend, **kwargs: object) -> list[int]:
    result = backend.search(SearchQuery(per_page=100, **kwargs))  # type: ignore[arg-type]
    assert len(result.ids) == result.total
    return result.ids


def check_case(backend: SearchBackend, case: Case) -> None:
    result = backend.search(SearchQuery(text=case.query, per_page=100, synonyms=SYNONYMS))
    found = result.ids
    assert result.total == len(found)
    missing = [i for i in case.expected if i not in found]
    assert not missing, f"{case.query!r}: {missing} not in {found}"
    if case.first:
        top = found[: len(case.expected)]
        assert set(top) == set(case.expected), f"{case.query!r}: top {top}, all {found}"
    unwanted = [i for i in case.absent if i in found]
    assert not unwanted, f"{case.query!r}: {unwanted} should not match"


def spy_on_typo_lookups(backend: SearchBackend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The words the backend's fuzzy term lookup ("did you mean") is asked about."""
    from app.search.postgres import PostgresBackend
    from app.search.whoosh import reader as whoosh_backend

    asked: list[str] = []
    if isinstance(backend, PostgresBackend):
        real = PostgresBackend._closest_term

        def pg_spy(self, conn, word, *args):  # type: ignore[no-untyped-def]
            asked.append(word)
            return real(self, conn, word, *args)

        monkeypatch.setattr(PostgresBackend, "_closest_term", pg_spy)
    else:
        real_whoosh = whoosh_backend._closest_term

        def whoosh_spy(view, word, maxdist):  # type: ignore[no-untyped-def]
            asked.append(word)
            return real_whoosh(view, word, maxdist)

        monkeypatch.setattr(whoosh_backend, "_closest_term", whoosh_spy)
    return asked


def drop_postgres_search() -> None:
    """Drop the PostgreSQL search backend's tables (they are not among the tables emptied
    after each test)."""
    from app.core.extensions import db
    from app.search import PostgresBackend

    PostgresBackend(db.engine).drop()


def search_cleanup(kind: str):  # type: ignore[no-untyped-def]
    """What a test app searching with ``kind`` must undo when its test ends."""
    return drop_postgres_search if kind == "postgres" else None
