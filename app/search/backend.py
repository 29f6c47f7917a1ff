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

from app.search.normalize import fold

SORTS = ("relevance", "newest", "price_asc", "price_desc", "rating")
"""Accepted values of :attr:`SearchQuery.sort`; anything else is treated as ``relevance``.
``rating`` is the caller's to answer (ratings live in the database): a backend is asked for
``relevance`` and the caller orders the best matches by their rating summaries."""

FACETS = ("category", "county", "sector")
"""Keys of :attr:`SearchResult.facets`."""

MAX_OPTION_FILTERS = 6
"""Option names a query may filter by (more are ignored); each with at most
:data:`MAX_OPTION_VALUES` values of at most :data:`MAX_OPTION_CHARS` characters."""
MAX_OPTION_VALUES = 20
MAX_OPTION_CHARS = 40
MAX_OPTION_FACETS = 10
"""Option names :attr:`SearchResult.options` counts (the most common), each with at most
:data:`MAX_OPTION_FACET_VALUES` values."""
MAX_OPTION_FACET_VALUES = 30

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
    ``options`` holds the ``(option name, value)`` pairs of the product's offered variants, as
    the seller wrote them (empty for a product without options): the values are searchable
    words and the pairs the option filters and facets (compared as :func:`option_key`).
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
    options: list[tuple[str, str]] = field(default_factory=list)

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

    ``options`` maps an option name to the values wanted (a product's variant must have one of
    them: OR within a name, AND across names), compared folded (:func:`option_key`).
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
    options: Mapping[str, Sequence[str]] | None = None

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
            options=clamp_options(self.options),
        )


def clamp_options(options: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    """``options`` bounded (:data:`MAX_OPTION_FILTERS` names, :data:`MAX_OPTION_VALUES` values
    each, every text at most :data:`MAX_OPTION_CHARS` characters, blanks dropped), or ``None``
    when nothing is left."""
    out: dict[str, list[str]] = {}
    for name, values in (options or {}).items():
        name = " ".join(str(name).split())[:MAX_OPTION_CHARS]
        kept = [" ".join(str(v).split())[:MAX_OPTION_CHARS] for v in values]
        kept = list(dict.fromkeys(v for v in kept if v))[:MAX_OPTION_VALUES]
        if not name or not kept:
            continue
        if name not in out and len(out) >= MAX_OPTION_FILTERS:
            continue
        out[name] = list(dict.fromkeys([*out.get(name, []), *kept]))[:MAX_OPTION_VALUES]
    return out or None


def option_key(name: str, value: str) -> tuple[str, str]:
    """An option name and value as filters and facets compare them: folded by the search
    normaliser («آبي» is «آبی», «۴۲» is «42»), Latin case-folded, spaces collapsed."""
    return (" ".join(fold(name).split()), " ".join(fold(value).split()))


def wanted_options(
    options: Mapping[str, Sequence[str]] | None,
) -> dict[str, frozenset[str]]:
    """A query's option filters as :func:`option_key` compares them: folded name → folded
    values (names that fold equal are merged)."""
    out: dict[str, set[str]] = {}
    for name, values in (options or {}).items():
        for value in values:
            key_name, key_value = option_key(name, value)
            if key_name and key_value:
                out.setdefault(key_name, set()).add(key_value)
    return {name: frozenset(values) for name, values in out.items()}


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
    ``options``: option name → value → number of matching products with an offered variant of
    that value (names and values as a seller wrote them), each name counted with every filter
    but its own applied; the most common :data:`MAX_OPTION_FACETS` names.
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
    options: dict[str, dict[str, int]] = field(default_factory=dict)


@runtime_checkable
class SearchBackend(Protocol):
    """What the application needs from a search engine. A backend that filters by and counts
    option values (:attr:`SearchQuery.options`, :attr:`SearchResult.options`) says so with a
    true class attribute ``options``; the caller answers option filters from the database
    for one that does not."""

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
    if doc.options:
        payload.append([list(pair) for pair in doc.options])
    payload.append(2)  # the analysis' version: English fields, ezafe, title heads
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


OptionPair = tuple[str, str, str, str]
"""One option value of a product: folded name, folded value (:func:`option_key`), and the
name and value as written."""


def option_pairs(options: Iterable[tuple[str, str]]) -> tuple[OptionPair, ...]:
    """A product's ``(name, value)`` pairs as :data:`OptionPair` values, each folded pair once."""
    out: dict[tuple[str, str], OptionPair] = {}
    for name, value in options:
        key = option_key(name, value)
        if key[0] and key[1] and key not in out:
            out[key] = (key[0], key[1], name, value)
    return tuple(out.values())


def options_match(pairs: Iterable[OptionPair], wanted: Mapping[str, frozenset[str]]) -> bool:
    """Whether a product with ``pairs`` passes every option filter of ``wanted``."""
    return not _failing(pairs, wanted)


def _failing(pairs: Iterable[OptionPair], wanted: Mapping[str, frozenset[str]]) -> set[str]:
    have: dict[str, set[str]] = {}
    for pair in pairs:
        have.setdefault(pair[0], set()).add(pair[1])
    return {name for name, values in wanted.items() if not (have.get(name, set()) & values)}


def count_options(
    docs: Iterable[Sequence[OptionPair]], wanted: Mapping[str, frozenset[str]]
) -> dict[str, dict[str, int]]:
    """:attr:`SearchResult.options` over ``docs`` (the option pairs of each product that passes
    every filter but the option filters): a product counts for an option's values when it
    passes the filters of every *other* option."""
    counts: dict[tuple[str, str], int] = {}
    shown: dict[tuple[str, str], tuple[str, str]] = {}
    for pairs in docs:
        if not pairs:
            continue
        failing = _failing(pairs, wanted) if wanted else set()
        if len(failing) > 1:
            continue
        for pair in pairs:
            if failing and pair[0] not in failing:
                continue
            key = (pair[0], pair[1])
            counts[key] = counts.get(key, 0) + 1
            shown.setdefault(key, (pair[2], pair[3]))
    totals: dict[str, int] = {}
    names: dict[str, str] = {}
    for (name, value), n in counts.items():
        totals[name] = totals.get(name, 0) + n
        names.setdefault(name, shown[(name, value)][0])
    out: dict[str, dict[str, int]] = {}
    for name in sorted(totals, key=lambda k: (-totals[k], k))[:MAX_OPTION_FACETS]:
        values = sorted(
            ((key, n) for key, n in counts.items() if key[0] == name),
            key=lambda row: (-row[1], row[0][1]),
        )[:MAX_OPTION_FACET_VALUES]
        out[names[name]] = {shown[key][1]: n for key, n in values}
    return out
