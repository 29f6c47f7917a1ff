"""The search backend interface and the plain values that cross it.

The search package knows nothing of the database: callers turn products into
:class:`SearchDoc` values, ask with a :class:`SearchQuery` and get product ids back in a
:class:`SearchResult` (plus facet counts, highlights and a spelling suggestion), then load the
rows themselves. Any backend (the embedded Whoosh one, PostgreSQL full-text search, a search
server) implements :class:`SearchBackend`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

SORTS = ("relevance", "newest", "price_asc", "price_desc", "rating")
"""Accepted values of :attr:`SearchQuery.sort`; anything else is treated as ``relevance``.
``rating`` is the caller's to answer (ratings live in the database): a backend is asked for
``relevance`` and the caller orders the best matches by their rating summaries."""

FACETS = ("category", "county", "sector")
"""Keys of :attr:`SearchResult.facets`."""

MAX_PER_PAGE = 100

SUGGEST_BELOW = 3
"""A query with words that finds fewer products than this gets a "did you mean"
:attr:`SearchResult.suggestion` (when a corrected query finds more)."""


class SearchError(Exception):
    """Base class of the errors a backend raises."""


class IndexBusy(SearchError):
    """Another process holds the index writer lock; retry later (the caller keeps its
    "dirty" record so nothing is lost)."""


class IndexUnavailable(SearchError):
    """The index is missing or broken; rebuild it (``flask search reindex``)."""


@dataclass(slots=True)
class SearchDoc:
    """One published product as the index sees it.

    ``category_ids`` lists the product's own category first, then its ancestors (filtering by
    any of them matches); ``category_path`` is the display path, e.g. «صنایع دستی > سوزن‌دوزی»;
    ``title_en`` and ``category_path_en`` are the English title (optional) and category path,
    searchable like their Persian counterparts but not displayed.
    ``county`` and ``sector`` are opaque keys (slug or id as a string). ``price_amount`` is in
    the smallest currency unit. ``created_at`` must be timezone-aware (UTC).
    """

    id: int
    title: str
    description: str = ""
    category_path: str = ""
    category_ids: list[int] = field(default_factory=list)
    seller_name: str = ""
    seller_slug: str = ""
    county: str = ""
    sector: str = ""
    price_amount: int = 0
    created_at: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    in_stock: bool = True
    title_en: str = ""
    category_path_en: str = ""

    @property
    def category_id(self) -> int | None:
        """The product's own (leaf) category, or ``None``."""
        return self.category_ids[0] if self.category_ids else None


@dataclass(slots=True)
class SearchQuery:
    """What the shopper asked for.

    ``text`` is free text (never parsed as a query language). Empty text, or text without
    any searchable word, lists every product that passes the filters. ``category`` matches
    the category or any of its descendants; ``min_price``/``max_price`` are inclusive;
    ``in_stock=True`` keeps only products in stock. ``page`` counts from 1; ``per_page`` is
    clamped to 1..100. ``relevance`` without text sorts newest first.

    ``synonyms`` maps a normalised word to the words that also satisfy it (the staff's list,
    applied at query time). Unless ``exact`` is set, a word the index does not know of four
    letters or more is matched as its closest indexed word (one edit away), and a query that
    finds nothing is answered with its "did you mean" correction
    (:attr:`SearchResult.corrected` says so).
    """

    text: str = ""
    category: int | None = None
    county: str | None = None
    sector: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 24
    exact: bool = False
    synonyms: Mapping[str, Sequence[str]] | None = None

    def clamped(self) -> SearchQuery:
        """A copy with ``sort``, ``page`` and ``per_page`` forced into their valid ranges."""
        return SearchQuery(
            text=self.text or "",
            category=self.category,
            county=self.county or None,
            sector=self.sector or None,
            min_price=self.min_price,
            max_price=self.max_price,
            in_stock=bool(self.in_stock),
            sort=self.sort if self.sort in SORTS else "relevance",
            page=max(1, min(int(self.page or 1), 10_000)),
            per_page=max(1, min(int(self.per_page or 24), MAX_PER_PAGE)),
            exact=bool(self.exact),
            synonyms=self.synonyms,
        )


@dataclass(slots=True)
class SearchResult:
    """One page of results.

    ``ids``: product ids of the page, in order. ``total``: number of matching products.
    ``facets``: ``{"category": {leaf category id (str): count}, "county": {...},
    "sector": {...}}``, each facet counted over the matches with every *other* filter
    applied (so the shopper can switch county without losing the other counties' counts).
    ``highlights``: product id → HTML-escaped snippet with ``<mark>`` around the matched words
    (from the description, or the title when the description does not match), for the ids
    of the page. ``suggestion``: a corrected query ("did you mean") or ``None``.
    ``corrected``: when the results are those of a corrected query (a typo matched as the
    closest indexed word, or a query that found nothing answered with its "did you mean"),
    that query; ``None`` when they are the shopper's own.
    """

    ids: list[int] = field(default_factory=list)
    total: int = 0
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    highlights: dict[int, str] = field(default_factory=dict)
    suggestion: str | None = None
    corrected: str | None = None


@runtime_checkable
class SearchBackend(Protocol):
    """What the application needs from a search engine."""

    def index(self, docs: Iterable[SearchDoc], create: bool = True) -> None:
        """Add or replace these documents (by id). Raises :class:`IndexBusy` when another
        process is writing. When there is no index it creates an empty one first, or, with
        ``create=False``, raises :class:`IndexUnavailable` and writes nothing (the shop's sync:
        a lost index is rebuilt from the database, never replaced by an empty one)."""

    def remove(self, ids: Iterable[int]) -> None:
        """Remove these product ids (unknown ids are ignored). Raises :class:`IndexBusy`."""

    def search(self, q: SearchQuery) -> SearchResult:
        """Run a query. Never raises for odd user input; raises :class:`IndexUnavailable`
        when the index is missing or broken."""

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions (product titles, category names, seller names, as displayed) for what
        the shopper has typed so far; ``[]`` for an empty or unusable prefix."""

    def all_ids_with_stamp(self) -> dict[int, str]:
        """Every indexed product id with the :func:`doc_stamp` it was indexed with."""

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Build a fresh index from ``docs`` and swap it in atomically; return the number of
        documents. Searches keep working on the old index until the swap, which also clears
        the mark of :meth:`mark_degraded`."""

    def clear(self) -> None:
        """Replace the index with an empty one."""

    def exists(self) -> bool:
        """Whether a usable index is present."""

    def mark_degraded(self, reason: str) -> None:
        """Record, for every process using this index, that it can no longer be trusted (a
        write failed half-way, say); :meth:`degraded` then returns ``reason`` until
        :meth:`rebuild` swaps in a fresh index. Never raises: when even this fails (no index
        left at all), the index is unavailable anyway."""

    def degraded(self) -> str | None:
        """The reason recorded by :meth:`mark_degraded` since the last :meth:`rebuild`, or
        ``None``. Never raises."""

    def health(self) -> dict[str, object]:
        """``{"ok": bool, "docs": int, "path": str, "error": str | None, ...}``."""


def doc_stamp(doc: SearchDoc) -> str:
    """A short content hash of everything the index stores about ``doc``.

    Equal stamps mean the indexed copy is current; ``flask search verify`` compares the
    stamps in the index with freshly computed ones to find stale or missing entries.
    """
    created = doc.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    payload = [
        doc.id,
        doc.title,
        doc.description,
        doc.category_path,
        list(doc.category_ids),
        doc.seller_name,
        doc.seller_slug,
        doc.county,
        doc.sector,
        int(doc.price_amount),
        created.astimezone(UTC).isoformat(),
        bool(doc.in_stock),
    ]
    if doc.title_en or doc.category_path_en:
        payload += [doc.title_en, doc.category_path_en]
    payload.append(2)  # the analysis' version: English fields, ezafe, title heads
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()
