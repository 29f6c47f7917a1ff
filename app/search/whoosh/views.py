"""In-memory views of an open Whoosh index: its per-document values as arrays, its posting
lists decoded (and cached), its leaf readers.

A :class:`_View` is what a search reads: one searcher, the values of the ``attrs`` column of
every segment end to end (indexed by global docnum), the live documents, and the posting lists
through a bounded per-process :class:`_PostingCache`. The backend builds one per commit or swap
(:mod:`app.search.whoosh.store`), reusing what it read of unchanged segments.
"""

from __future__ import annotations

import sys
from array import array
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache, partial
from typing import Any

from whoosh import index
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from app.search.backend import IndexUnavailable, OptionPair, option_pairs
from app.search.whoosh.facets import _count_facets
from app.search.whoosh.fields import _ATTRS, _OPT_PAIR, _OPT_SEP, _SEP
from app.search.whoosh.internals import _NO_POSTINGS, _column_values, _read_postings

_POSTINGS_CACHE = 4_000_000  # postings (4 bytes each) the decoded posting cache may hold
_ENTRY_COST = 32  # what an entry of the cache counts for, besides its postings


class _PostingCache:
    """Decoded posting lists, the least recently used dropped beyond ``limit`` postings.

    Finding and decoding a posting list (a hash look-up and a few reads in the terms file,
    then zlib and unpickling per block) was half the time of a query, and shoppers' words
    recur. Keys are ``(segment key, field, term)`` → the segment's docnums: a segment
    never changes once written (deletions are kept apart), so an entry is valid for as
    long as its segment is open; terms a segment lacks are remembered too. An index of
    several segments also keeps its lists with global docnums under the key of the whole
    view (concatenating them was most of a query's time on two segments).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._entries: OrderedDict[tuple[str, str, str], array[int]] = OrderedDict()
        self._size = 0

    def get(self, key: tuple[str, str, str], load: Callable[[], array[int]]) -> array[int]:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = load()
        cost = len(found) + _ENTRY_COST
        if cost <= self.limit:
            self._entries[key] = found
            self._size += cost
            while self._size > self.limit:
                _key, old = self._entries.popitem(last=False)
                self._size -= len(old) + _ENTRY_COST
        return found

    def retain(self, owners: Collection[str]) -> None:
        """Forget the entries of segments and views not in ``owners``."""
        if any(key[0] not in owners for key in self._entries):
            kept = [(k, v) for k, v in self._entries.items() if k[0] in owners]
            self._entries = OrderedDict(kept)
            self._size = sum(len(v) + _ENTRY_COST for _k, v in kept)


@dataclass(slots=True)
class _Columns:
    """Per-document values, indexed by docnum (a segment's local one, or a view's global one)."""

    ids: list[int]
    leaf: list[str]
    county: list[str]
    sector: list[str]
    cats: list[frozenset[str]]
    price: list[int]
    created: list[int]
    stock: list[bool]
    stamp: list[str]
    combo: list[tuple[str, str, str]]  # (leaf, county, sector), shared tuples: one facet pass
    opts: list[tuple[OptionPair, ...]]  # the option pairs of each document (most: none)


@dataclass(slots=True)
class _Segment(_Columns):
    """Per-document values of one segment, indexed by the segment's local docnum."""

    @classmethod
    def load(cls, reader: IndexReader) -> _Segment:
        """Read the ``attrs`` column of a segment (column-wise: ``zip`` and ``map`` do the
        per-document work in C, which matters at 100,000 documents)."""
        n = reader.doc_count_all()
        empty = ("0", "", "", "", "", "0", "0", "0", "", "")
        rows: list[Sequence[str]] = []
        if n and reader.has_column("attrs"):
            rows = [raw.decode().split(_SEP) for raw in _column_values(reader, "attrs")]
            rows = [
                r if len(r) == _ATTRS else (*r, "") if len(r) == _ATTRS - 1 else empty for r in rows
            ]
        if len(rows) != n:
            raise IndexUnavailable("index column does not match its segment")
        if not rows:
            return cls([], [], [], [], [], [], [], [], [], [], [])
        cols = list(zip(*rows, strict=True))
        leaf = list(map(sys.intern, cols[1]))
        county = list(map(sys.intern, cols[2]))
        sector = list(map(sys.intern, cols[3]))
        shared: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        return cls(
            ids=list(map(int, cols[0])),
            leaf=leaf,
            county=county,
            sector=sector,
            cats=list(map(_category_set, cols[4])),
            price=list(map(int, cols[5])),
            created=list(map(int, cols[6])),
            stock=[v == "1" for v in cols[7]],
            stamp=list(cols[8]),
            combo=[shared.setdefault(t, t) for t in zip(leaf, county, sector, strict=True)],
            opts=list(map(_option_set, cols[9])),
        )


@lru_cache(maxsize=4096)
def _option_set(value: str) -> tuple[OptionPair, ...]:
    if not value:
        return ()
    pairs = [item.split(_OPT_PAIR, 1) for item in value.split(_OPT_SEP)]
    return option_pairs((p[0], p[1]) for p in pairs if len(p) == 2)


@lru_cache(maxsize=4096)
def _category_set(value: str) -> frozenset[str]:
    return frozenset(filter(None, value.split(",")))


@dataclass
class _View(_Columns):
    """An open searcher, its leaf readers and the concatenated per-document arrays."""

    ix: index.Index
    searcher: Searcher
    name: str
    directory: str
    files: tuple[tuple[str, int, int, int], ...]  # the TOC and segment files, as opened
    leaves: list[tuple[IndexReader, int]]
    keys: list[str | None]  # per leaf: the segment's key in the posting cache
    key: str | None  # the view's own key there (``None``: a segment has no key)
    cache: _PostingCache
    live: list[int]
    deleted: frozenset[int]
    _orders: dict[str, list[int]] = field(default_factory=dict)
    _facets: dict[str, dict[str, int]] | None = None
    _live_set: frozenset[int] | None = None
    _optioned: list[int] | None = None

    def postings(self, fieldname: str, term: str) -> Sequence[int]:
        """Global docnums of documents with ``term`` in ``fieldname``, ascending (deleted
        ones included: callers remove them). Read-only: it may be the cached list itself."""
        if len(self.leaves) == 1 and not self.leaves[0][1]:
            return self._segment_postings(0, fieldname, term)
        if self.key is None or not self.leaves:
            return self._combined(fieldname, term)
        return self.cache.get((self.key, fieldname, term), partial(self._combined, fieldname, term))

    def _segment_postings(self, leaf: int, fieldname: str, term: str) -> array[int]:
        reader = self.leaves[leaf][0]
        key = self.keys[leaf]
        load = partial(_read_postings, reader, fieldname, term)
        return load() if key is None else self.cache.get((key, fieldname, term), load)

    def _combined(self, fieldname: str, term: str) -> array[int]:
        out = array("I")
        for leaf, (_reader, offset) in enumerate(self.leaves):
            ids = self._segment_postings(leaf, fieldname, term)
            out.extend(map(offset.__add__, ids) if offset else ids)
        return out if out else _NO_POSTINGS

    def sort_key(self, sort: str) -> tuple[Callable[[int], int], bool]:
        """``(key, reverse)`` for ``sorted`` in ``sort`` order."""
        if sort == "price_asc":
            return self.price.__getitem__, False
        if sort == "price_desc":
            return self.price.__getitem__, True
        return self.created.__getitem__, True

    def order(self, sort: str) -> list[int]:
        """All live docnums in ``sort`` order (computed once per view)."""
        cached = self._orders.get(sort)
        if cached is None:
            key, reverse = self.sort_key(sort)
            cached = sorted(self.live, key=key, reverse=reverse)
            self._orders[sort] = cached
        return cached

    @property
    def live_set(self) -> frozenset[int]:
        if self._live_set is None:
            self._live_set = frozenset(self.live)
        return self._live_set

    @property
    def optioned(self) -> list[int]:
        """The live documents with options, ascending (computed once per view)."""
        if self._optioned is None:
            opts = self.opts
            self._optioned = [d for d in self.live if opts[d]]
        return self._optioned

    def all_facets(self) -> dict[str, dict[str, int]]:
        if self._facets is None:
            self._facets = _count_facets(self, self.live, {})
        return self._facets


def _concat(segments: list[_Segment]) -> dict[str, Any]:
    """The columns of ``segments`` end to end, by field name (a single segment's own lists)."""
    out: dict[str, Any] = {}
    for column in fields(_Columns):
        if len(segments) == 1:
            out[column.name] = getattr(segments[0], column.name)
            continue
        values: list[Any] = []
        for s in segments:
            values.extend(getattr(s, column.name))
        out[column.name] = values
    return out


@dataclass
class _Leaves:
    """What :func:`_read_leaves` found in a searcher's segments."""

    files: list[str]  # the TOC and the segments' files
    segments: list[_Segment] = field(default_factory=list)
    readers: list[tuple[IndexReader, int]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)
    # what a later view may reuse: the segments' values and live/deleted docnums, by key
    keep: dict[str, _Segment] = field(default_factory=dict)
    lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]] = field(default_factory=dict)


def _read_leaves(
    ix: index.Index,
    searcher: Searcher,
    name: str,
    segments: dict[str, _Segment],
    lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]],
) -> _Leaves:
    """The segments of ``searcher`` (on the index directory ``name``): their values, live and
    deleted documents, reusing what ``segments`` and ``lives`` hold from the previous view."""
    names = ix.storage.list()
    out = _Leaves(files=[f"_{ix.indexname}_{searcher.reader().generation()}.toc"])
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        segment = getattr(reader, "segment", lambda: None)()
        if segment is not None:
            prefix = segment.segment_id() + "."
            out.files.extend(sorted(n for n in names if n.startswith(prefix)))
        key = f"{name}/{segment.segment_id()}" if segment is not None else str(id(reader))
        data = segments.get(key) or _Segment.load(reader)
        out.keep[key] = data
        out.segments.append(data)
        out.readers.append((reader, offset))
        out.keys.append(key if segment is not None else None)
        n = reader.doc_count_all()
        if reader.has_deletions():
            lkey = (key, n - reader.doc_count())
            local = lives.get(lkey)
            if local is None:
                alive = list(reader.all_doc_ids())
                local = (alive, frozenset(range(n)).difference(alive))
            out.lives[lkey] = local
            out.live.extend(map(offset.__add__, local[0]))
            out.deleted.update(map(offset.__add__, local[1]))
        else:
            out.live.extend(range(offset, offset + n))
    return out
