"""Persian product search: normalisation, the backend interface and its two backends.

Only this package imports ``whoosh``; it knows nothing of the database models. Callers build
:class:`SearchDoc` values, query with :class:`SearchQuery` and get product ids back.
``WhooshBackend`` (an embedded index on disk) and ``PostgresBackend`` (tables in a PostgreSQL
database, for shops on several machines) are imported on first use, so importing this package
stays cheap and a shop loads only the one it uses.

``app.search.normalize`` is the normalisation module (``from app.search.normalize import
normalize`` for the function); the function is deliberately not re-exported here, where it
would hide the module of the same name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.search.backend import (
    FACETS,
    SORTS,
    IndexBusy,
    IndexUnavailable,
    SearchBackend,
    SearchDoc,
    SearchError,
    SearchQuery,
    SearchResult,
    doc_stamp,
)
from app.search.normalize import analyze, excerpt, fold, highlight, snippet, stems

if TYPE_CHECKING:
    from app.search.postgres import PostgresBackend
    from app.search.whoosh import WhooshBackend

__all__ = [
    "FACETS",
    "SORTS",
    "IndexBusy",
    "IndexUnavailable",
    "PostgresBackend",
    "SearchBackend",
    "SearchDoc",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "WhooshBackend",
    "analyze",
    "doc_stamp",
    "excerpt",
    "fold",
    "highlight",
    "snippet",
    "stems",
]


def __getattr__(name: str) -> Any:
    if name == "WhooshBackend":
        from app.search.whoosh import WhooshBackend

        return WhooshBackend
    if name == "PostgresBackend":
        from app.search.postgres import PostgresBackend

        return PostgresBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
