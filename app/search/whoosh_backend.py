"""The embedded search backend: a Whoosh index on the local disk.

Layout of ``path`` (a directory the backend owns)::

    path/CURRENT            name of the live index directory (replaced with os.replace)
    path/index-<stamp>/     a Whoosh index; the previous one is kept for readers still on it
    path/.new-<random>/     an index being rebuilt (renamed to index-<stamp> when complete)
    path/WRITE.lock         taken by every writer (index, remove, rebuild) before Whoosh's own

Fields (all term fields hold terms made by :mod:`app.search.normalize`):

- ``title``, ``meta`` (category path and seller name), ``body`` (description): exact terms
  (parts, compound and joined forms); ``tstem``: stems of the title terms; ``stem``: stems of
  the ``meta`` and ``body`` terms;
- ``county``, ``sector`` (ID) and ``category`` (KEYWORD: the category and its ancestors);
- ``attrs``: one packed per-document column (id, leaf category, county, sector, categories,
  price, creation time, stock, stamp), read into memory once per segment — filters, facet
  counts and sorting run over those arrays; ``doc``: the stored display strings.

User text is never given to a query parser: :func:`app.search.normalize.parse_query` turns it
into words and the backend looks up each word's forms as terms. A product matches when every
query word occurs in it in some form (exact, compound or stem, in any field). Ranking sums over
the query words the best tier each word reaches — exact title term 4, title term of a compound
3.5, title stem or category/seller term 2, description term 1, any other stem 0.5 — weighted
by the word's rarity (idf); ties go to the newest product.

Why not Whoosh's own query objects and BM25F scorer: measured on the benchmark catalogue they
cost 20-75 ms a query at 10,000 products (per-document matcher calls in Python), and the
length statistics they need made building the index several times slower. The backend reads
the posting blocks directly (term-at-a-time) and the fields are unscored (no length columns).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import os
import pickle
import secrets
import shutil
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from whoosh import columns, formats, index
from whoosh.analysis import Token, Tokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.filelock import try_for

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
    fold,
    index_forms,
    matched_words,
    normalize,
    parse_query,
    parts,
    snippet,
)
from app.search.normalize import highlight as highlight_text

__all__ = ["PersianTokenizer", "WhooshBackend", "make_schema"]

log = logging.getLogger(__name__)

_POINTER = "CURRENT"
_LOCK_NAME = "WRITE.lock"
_SEP = "\x1f"
_ATTRS = 9
_SUGGEST_THRESHOLD = 3
_PREFIX_MIN = 2
# errors a damaged or vanished index file raises while reading
_BROKEN = (OSError, EOFError, struct.error, pickle.UnpicklingError, zlib.error, TypeError)


class PersianTokenizer(Tokenizer):
    """A Whoosh tokenizer over :mod:`app.search.normalize`.

    ``mode`` picks the terms: ``exact`` (parts and compound forms) or ``stem`` (their stems).
    A list or tuple value is taken as already analysed terms (the backend analyses each
    document once and hands every field its terms).
    """

    def __init__(self, mode: str = "exact") -> None:
        self.mode = mode

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersianTokenizer) and other.mode == self.mode

    def __hash__(self) -> int:
        return hash((type(self), self.mode))

    def terms(self, value: str) -> list[str]:
        exact, reduced = index_forms(value)
        return reduced if self.mode == "stem" else exact

    def __call__(  # type: ignore[override]
        self,
        value: str | Sequence[str],
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ):
        terms = value if isinstance(value, list | tuple) else self.terms(value)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, term in enumerate(terms):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = term
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(term)
            yield t


class _Codec(W3Codec):
    """Whoosh's default codec minus the per-field length statistics: no field is scored by
    Whoosh, and collecting lengths costs a column look-up for every posting written."""

    length_stats = False


def _term_field(mode: str) -> FieldType:
    return FieldType(formats.Existence(), PersianTokenizer(mode), scorable=False)


def make_schema() -> Schema:
    """The index schema (see the module docstring)."""
    return Schema(
        id=ID(unique=True, stored=True),
        title=_term_field("exact"),
        meta=_term_field("exact"),
        body=_term_field("exact"),
        tstem=_term_field("stem"),
        stem=_term_field("stem"),
        county=ID(),
        sector=ID(),
        category=KEYWORD(),
        attrs=COLUMN(columns.VarBytesColumn()),
        doc=STORED(),
    )


def _doc_fields(doc: SearchDoc) -> dict[str, object]:
    created = doc.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    title_exact, title_stems = index_forms(doc.title)
    meta_exact, meta_stems = index_forms(f"{doc.category_path} ; {doc.seller_name}")
    body_exact, body_stems = index_forms(doc.description)
    cats = [str(c) for c in doc.category_ids]
    attrs = _SEP.join(
        [
            str(int(doc.id)),
            cats[0] if cats else "",
            doc.county or "",
            doc.sector or "",
            ",".join(cats),
            str(int(doc.price_amount)),
            str(int(created.timestamp())),
            "1" if doc.in_stock else "0",
            doc_stamp(doc),
        ]
    )
    fields: dict[str, object] = {
        "id": str(int(doc.id)),
        "title": title_exact,
        "meta": meta_exact,
        "body": body_exact,
        "tstem": title_stems,
        "stem": meta_stems + body_stems,
        "attrs": attrs.encode(),
        "doc": (doc.title, doc.description, doc.category_path, doc.seller_name),
    }
    if doc.county:
        fields["county"] = doc.county
    if doc.sector:
        fields["sector"] = doc.sector
    if cats:
        fields["category"] = " ".join(cats)
    return fields


# --- reading postings --------------------------------------------------------------------------

_FAST_BLOCKS = all(hasattr(W3LeafMatcher, name) for name in ("_read_ids", "_next_block"))


def _matcher_ids(m) -> Sequence[int]:
    """Every docnum of a fresh term matcher, deleted ones included (callers remove those).

    Reads whole posting blocks instead of stepping the matcher one document at a time.
    """
    if isinstance(m, FilterMatcher):
        m = m.child
    if _FAST_BLOCKS and type(m) is W3LeafMatcher:
        ids: list[int] = []
        while not m._atend:
            if m._ids is None:
                m._read_ids()
            ids.extend(m._ids)
            m._next_block()
        return ids
    return list(m.all_ids())


# --- in-memory views of an open index --------------------------------------------------------


@dataclass(slots=True)
class _Segment:
    """Per-document values of one segment, indexed by the segment's local docnum."""

    ids: list[int]
    leaf: list[str]
    county: list[str]
    sector: list[str]
    cats: list[frozenset[str]]
    price: list[int]
    created: list[int]
    stock: list[bool]
    stamp: list[str]

    @classmethod
    def load(cls, reader) -> _Segment:
        n = reader.doc_count_all()
        cols: list[list] = [[] for _ in range(_ATTRS)]
        interned: dict[str, str] = {}
        catsets: dict[str, frozenset[str]] = {}
        empty = ["0", "", "", "", "", "0", "0", "0", ""]
        if n and reader.has_column("attrs"):
            for raw in reader.column_reader("attrs", translate=False):
                f = raw.decode().split(_SEP) if raw else empty
                if len(f) != _ATTRS:
                    f = empty
                cols[0].append(int(f[0]))
                for i in (1, 2, 3):
                    cols[i].append(interned.setdefault(f[i], f[i]))
                cs = catsets.get(f[4])
                if cs is None:
                    cs = catsets[f[4]] = frozenset(filter(None, f[4].split(",")))
                cols[4].append(cs)
                cols[5].append(int(f[5]))
                cols[6].append(int(f[6]))
                cols[7].append(f[7] == "1")
                cols[8].append(f[8])
        if len(cols[0]) != n:
            raise IndexUnavailable("index column does not match its segment")
        return cls(*cols)


@dataclass
class _View:
    """An open searcher, its leaf readers and the concatenated per-document arrays."""

    ix: index.Index
    searcher: object
    name: str
    leaves: list[tuple[object, int]]
    ids: list[int]
    leaf: list[str]
    county: list[str]
    sector: list[str]
    cats: list[frozenset[str]]
    price: list[int]
    created: list[int]
    stock: list[bool]
    stamp: list[str]
    live: list[int]
    deleted: frozenset[int]
    _orders: dict[str, list[int]] = field(default_factory=dict)
    _facets: dict[str, dict[str, int]] | None = None

    def postings(self, fieldname: str, term: str) -> Sequence[int]:
        """Global docnums of documents with ``term`` in ``fieldname`` (deleted included)."""
        out: list[int] = []
        for reader, offset in self.leaves:
            try:
                m = reader.postings(fieldname, term)
            except TermNotFound:
                continue
            ids = _matcher_ids(m)
            if offset:
                out.extend(map(offset.__add__, ids))
            elif not out:
                out = ids if isinstance(ids, list) else list(ids)
            else:
                out.extend(ids)
        return out

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

    def all_facets(self) -> dict[str, dict[str, int]]:
        if self._facets is None:
            self._facets = _count_facets(self, self.live, {})
        return self._facets


def _count_facets(
    view: _View, docs: Sequence[int], masks: dict[str, list[bool]]
) -> dict[str, dict[str, int]]:
    """Facet counts over ``docs``; each facet ignores its own filter's mask."""
    out: dict[str, dict[str, int]] = {}
    arrays = {"category": view.leaf, "county": view.county, "sector": view.sector}
    for name in FACETS:
        others = [m for key, m in masks.items() if key != name]
        subset = docs if not others else _apply(docs, others)
        counts = Counter(map(arrays[name].__getitem__, subset))
        counts.pop("", None)
        out[name] = dict(counts.most_common())
    return out


def _apply(docs: Sequence[int], masks: list[list[bool]]) -> list[int]:
    if len(masks) == 1:
        return [d for d, ok in zip(docs, masks[0], strict=True) if ok]
    return [d for d, *oks in zip(docs, *masks, strict=True) if all(oks)]


# --- the backend -------------------------------------------------------------------------------


class WhooshBackend:
    """:class:`app.search.backend.SearchBackend` on a Whoosh index in the directory ``path``.

    One instance per process is enough: it is thread-safe (one lock around reads and
    writes), keeps its searcher and per-segment arrays open, and reopens them when another
    process commits or swaps the index. ``lock_timeout`` is how long a writer waits for the
    write lock before raising :class:`IndexBusy`. :meth:`rebuild` indexes in ``build_procs``
    processes (each writes one segment) and lets each buffer about ``build_memory_mb`` of
    postings before spilling to disk (spilling makes building about three times slower;
    100,000 products need about 1,800 MB in all).
    """

    def __init__(
        self,
        path: str,
        lock_timeout: float = 1.0,
        build_procs: int = 1,
        build_memory_mb: int = 512,
    ) -> None:
        self.path = os.path.abspath(path)
        self.lock_timeout = lock_timeout
        self.build_procs = max(1, build_procs)
        self.build_memory_mb = build_memory_mb
        self._mutex = threading.RLock()
        self._view_cache: _View | None = None
        self._pointer_sig: tuple[int, int] | None = None
        self._segments: dict[str, _Segment] = {}
        self._lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]] = {}

    # --- locations --------------------------------------------------------------------------

    def _pointer_path(self) -> str:
        return os.path.join(self.path, _POINTER)

    def _current_name(self) -> str | None:
        try:
            with open(self._pointer_path(), encoding="utf-8") as fh:
                name = fh.read().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexUnavailable(f"cannot read {self._pointer_path()}: {exc}") from exc
        if not name.startswith("index-") or "/" in name or os.sep in name:
            raise IndexUnavailable(f"bad index pointer in {self._pointer_path()}")
        return name

    @contextlib.contextmanager
    def _write_lock(self):
        os.makedirs(self.path, exist_ok=True)
        lock = FileStorage(self.path).lock(_LOCK_NAME)
        if not try_for(lock.acquire, timeout=self.lock_timeout, delay=0.05):
            raise IndexBusy(f"the search index at {self.path} is being written by another process")
        try:
            yield
        finally:
            lock.release()

    # --- reading ----------------------------------------------------------------------------

    def _open_view(self) -> _View:
        """The current view, reopened if the index changed (call with the mutex held)."""
        try:
            st = os.stat(self._pointer_path())
            sig = (st.st_ino, st.st_mtime_ns)
        except FileNotFoundError:
            self._drop()
            raise IndexUnavailable(f"no search index at {self.path}") from None
        view = self._view_cache
        if view is not None and sig == self._pointer_sig:
            # A new searcher rather than Searcher.refresh(): refresh() reuses the reader of a
            # segment whose id is unchanged and so keeps serving documents deleted since.
            try:
                if view.searcher.up_to_date():
                    return view
                searcher = view.ix.searcher()
            except _BROKEN as exc:
                self._drop()
                raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc
            with contextlib.suppress(Exception):
                view.searcher.close()
            return self._build_view(view.ix, searcher, view.name, sig)
        self._drop()
        name = self._current_name()
        if name is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        try:
            ix = index.open_dir(os.path.join(self.path, name))
            searcher = ix.searcher()
        except Exception as exc:  # any failure to open means the index is unusable
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc
        return self._build_view(ix, searcher, name, sig)

    def _build_view(self, ix: index.Index, searcher, name: str, sig: tuple[int, int]) -> _View:
        try:
            segs: list[_Segment] = []
            leaves: list[tuple[object, int]] = []
            live: list[int] = []
            deleted: set[int] = set()
            keep: dict[str, _Segment] = {}
            lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]] = {}
            for sub, offset in searcher.leaf_searchers():
                reader = sub.reader()
                segment = getattr(reader, "segment", lambda: None)()
                key = f"{name}/{segment.segment_id()}" if segment is not None else str(id(reader))
                data = self._segments.get(key) or _Segment.load(reader)
                keep[key] = data
                segs.append(data)
                leaves.append((reader, offset))
                n = reader.doc_count_all()
                if reader.has_deletions():
                    lkey = (key, n - reader.doc_count())
                    local = self._lives.get(lkey)
                    if local is None:
                        alive = list(reader.all_doc_ids())
                        local = (alive, frozenset(range(n)).difference(alive))
                    lives[lkey] = local
                    live.extend(map(offset.__add__, local[0]))
                    deleted.update(map(offset.__add__, local[1]))
                else:
                    live.extend(range(offset, offset + n))
        except IndexUnavailable:
            self._drop()
            raise
        except _BROKEN as exc:
            self._drop()
            raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc
        self._segments = keep
        self._lives = lives

        def cat(attr: str) -> list:
            if len(segs) == 1:
                return getattr(segs[0], attr)
            out: list = []
            for s in segs:
                out.extend(getattr(s, attr))
            return out

        view = _View(
            ix=ix,
            searcher=searcher,
            name=name,
            leaves=leaves,
            ids=cat("ids"),
            leaf=cat("leaf"),
            county=cat("county"),
            sector=cat("sector"),
            cats=cat("cats"),
            price=cat("price"),
            created=cat("created"),
            stock=cat("stock"),
            stamp=cat("stamp"),
            live=live,
            deleted=frozenset(deleted),
        )
        self._view_cache = view
        self._pointer_sig = sig
        return view

    def _drop(self) -> None:
        view, self._view_cache, self._pointer_sig = self._view_cache, None, None
        self._segments = {}
        self._lives = {}
        if view is not None:
            with contextlib.suppress(Exception):
                view.searcher.close()

    def close(self) -> None:
        """Close the open searcher (the backend reopens it on the next call)."""
        with self._mutex:
            self._drop()

    # --- search -----------------------------------------------------------------------------

    def search(self, q: SearchQuery) -> SearchResult:
        """See :meth:`app.search.backend.SearchBackend.search`."""
        q = q.clamped()
        qwords = parse_query(q.text)
        with self._mutex:
            view = self._open_view()
            try:
                return self._search(view, q, qwords)
            except _BROKEN as exc:
                self._drop()
                raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc

    def _search(self, view: _View, q: SearchQuery, qwords: list[QueryWord]) -> SearchResult:
        matched: Sequence[int] = view.live
        words: list[_Word] = []
        if qwords:
            words = [_Word.lookup(view, w) for w in qwords]
            matched = _intersect(view, [w.docs for w in words])
        masks = _filter_masks(view, matched, q)
        if masks:
            final = _apply(matched, list(masks.values()))
            facets = _count_facets(view, matched, masks)
        else:
            final = matched
            facets = view.all_facets() if matched is view.live else _count_facets(view, matched, {})
        start = (q.page - 1) * q.per_page
        stop = start + q.per_page
        page_docs: list[int] = []
        if start < len(final):
            if words and q.sort == "relevance":
                page_docs = _rank(view, final, words, stop)[start:stop]
            else:
                sort = "newest" if q.sort == "relevance" else q.sort
                page_docs = _sorted_page(view, final, sort, stop)[start:stop]
        result = SearchResult(ids=[view.ids[d] for d in page_docs], total=len(final), facets=facets)
        if qwords:
            for d in page_docs:
                title, description = view.searcher.stored_fields(d)["doc"][:2]
                result.highlights[view.ids[d]] = _excerpt(title, description, qwords)
            if len(final) < _SUGGEST_THRESHOLD:
                result.suggestion = self._did_you_mean(view, words, len(matched))
        return result

    def _did_you_mean(self, view: _View, words: list[_Word], found: int) -> str | None:
        """A query with unknown words replaced by the most frequent indexed word within one
        (two, for words of five letters or more) edits, if it finds more than ``found``."""
        out: list[str] = []
        changed = False
        for i, w in enumerate(words):
            word = w.query.word
            if i < 8 and not w.docs and len(word) >= 3 and not word.isdecimal():
                fix = _closest_term(view, word, 1)
                if fix is None and len(word) >= 5:
                    fix = _closest_term(view, word, 2)
                if fix is not None:
                    word, changed = fix, True
            out.append(word)
        if not changed:
            return None
        suggestion = " ".join(out)
        fixed = [_Word.lookup(view, w) for w in parse_query(suggestion)]
        better = len(_intersect(view, [w.docs for w in fixed])) if fixed else 0
        return suggestion if better > found else None

    # --- completion ---------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """See :meth:`app.search.backend.SearchBackend.suggest`.

        The last word (unless followed by a space) is a prefix of at least two letters; the
        words before it must occur. Candidates are the category names, seller names and
        titles of up to 100 matching products (newest first); category names come first,
        then sellers, then titles, those starting with the typed text before the others.
        """
        norm = normalize(prefix[:200])
        found = parts(norm)
        if not found or limit <= 0:
            return []
        if prefix != prefix.rstrip():
            head, last = parse_query(norm), ""
        else:
            head, last = parse_query(norm[: found[-1].start]), found[-1].text
            if len(last) < _PREFIX_MIN:
                return []
        head = head[:8]
        with self._mutex:
            view = self._open_view()
            try:
                docs = self._suggest_docs(view, head, last)
                stored = [view.searcher.stored_fields(d)["doc"] for d in docs]
            except _BROKEN as exc:
                self._drop()
                raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc
        head_terms = [set(w.loose) for w in head]
        scores: dict[str, list[float]] = {}
        rejected: set[str] = set()
        folded_prefix = fold(norm)
        for rank, (title, _desc, category_path, seller_name) in enumerate(stored):
            candidates = [(c.strip(), 0) for c in category_path.split(">") if c.strip()]
            if seller_name:
                candidates.append((seller_name, 1))
            candidates.append((title, 2))
            for text, kind in candidates:
                entry = scores.get(text)
                if entry is not None:
                    entry[2] -= 1.0
                elif text not in rejected:
                    if _completes(text, head_terms, last):
                        starts = 0 if fold(text).startswith(folded_prefix) else 1
                        scores[text] = [starts, kind, -1.0, rank, len(text)]
                    else:
                        rejected.add(text)
        ordered = sorted(scores.items(), key=lambda kv: kv[1])
        return [text for text, _ in ordered[:limit]]

    def _suggest_docs(self, view: _View, head: list[QueryWord], last: str) -> list[int]:
        sets = [_Word.lookup(view, w).docs for w in head]
        if last:
            expansions: dict[tuple[str, str], int] = {}
            for fieldname in ("title", "meta"):
                for reader, _offset in view.leaves:
                    for n, bterm in enumerate(reader.expand_prefix(fieldname, last)):
                        if n >= 200:
                            break
                        term = bterm.decode("utf-8")
                        key = (fieldname, term)
                        df = reader.doc_frequency(fieldname, term)
                        expansions[key] = expansions.get(key, 0) + df
            best = heapq.nlargest(40, expansions, key=expansions.__getitem__)
            docs: set[int] = set()
            for fieldname, term in best:
                docs.update(view.postings(fieldname, term))
            sets.append(docs)
        if not sets:
            return []
        matched = _intersect(view, sets)
        return heapq.nlargest(100, matched, key=view.created.__getitem__)

    # --- writing ------------------------------------------------------------------------------

    def _ensure_index(self) -> index.Index:
        """The live index for writing (call with the write lock held); creates an empty one."""
        name = self._current_name()
        if name is None:
            name = self._build([], procs=1)[0]
            self._swap(name)
        try:
            return index.open_dir(os.path.join(self.path, name))
        except Exception as exc:
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc

    def _writer(self, ix: index.Index):
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.05, limitmb=64, codec=_Codec())
        except index.LockError as exc:
            raise IndexBusy(f"the search index at {self.path} is locked by another writer") from exc

    def index(self, docs: Iterable[SearchDoc]) -> None:
        """See :meth:`app.search.backend.SearchBackend.index`."""
        docs = list(docs)
        if not docs:
            return
        with self._write_lock():
            writer = self._writer(self._ensure_index())
            try:
                for doc in docs:
                    writer.update_document(**_doc_fields(doc))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def remove(self, ids: Iterable[int]) -> None:
        """See :meth:`app.search.backend.SearchBackend.remove`."""
        ids = list(ids)
        if not ids:
            return
        with self._write_lock():
            if self._current_name() is None:
                return
            writer = self._writer(self._ensure_index())
            try:
                for pid in ids:
                    writer.delete_by_term("id", str(int(pid)))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()

    def _build(self, docs: Iterable[SearchDoc], procs: int) -> tuple[str, int]:
        """Build a complete index in a fresh directory; return its final name and size."""
        tmp = os.path.join(self.path, ".new-" + secrets.token_hex(6))
        os.makedirs(tmp)
        count = 0
        try:
            ix = index.create_in(tmp, make_schema())
            limitmb = max(32, self.build_memory_mb // procs)
            if procs > 1:
                writer = ix.writer(
                    procs=procs, limitmb=limitmb, multisegment=True, batchsize=256, codec=_Codec()
                )
            else:
                writer = ix.writer(limitmb=limitmb, codec=_Codec())
            try:
                for doc in docs:
                    writer.add_document(**_doc_fields(doc))
                    count += 1
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            ix.close()
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            name = f"index-{stamp}-{secrets.token_hex(3)}"
            os.rename(tmp, os.path.join(self.path, name))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return name, count

    def _swap(self, name: str) -> None:
        """Point CURRENT at ``name`` atomically; delete all indexes but it and the previous."""
        try:
            previous = self._current_name()
        except IndexUnavailable:
            previous = None
        tmp = self._pointer_path() + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._pointer_path())
        for entry in os.listdir(self.path):
            full = os.path.join(self.path, entry)
            stale_build = entry.startswith(".new-") and _older_than(full, 24 * 3600)
            if (entry.startswith("index-") and entry not in (name, previous)) or stale_build:
                shutil.rmtree(full, ignore_errors=True)

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """See :meth:`app.search.backend.SearchBackend.rebuild`.

        Holds the write lock for the whole build, so concurrent :meth:`index` calls raise
        :class:`IndexBusy` (their callers keep their dirty records and replay them) instead
        of writing into an index that is about to be replaced.
        """
        with self._write_lock():
            name, count = self._build(docs, self.build_procs)
            self._swap(name)
        with self._mutex:
            self._drop()
        return count

    def clear(self) -> None:
        """See :meth:`app.search.backend.SearchBackend.clear`."""
        self.rebuild([])

    # --- state ------------------------------------------------------------------------------

    def exists(self) -> bool:
        """See :meth:`app.search.backend.SearchBackend.exists`."""
        try:
            with self._mutex:
                self._open_view()
        except IndexUnavailable:
            return False
        return True

    def health(self) -> dict[str, object]:
        """See :meth:`app.search.backend.SearchBackend.health`; also ``index`` (directory
        name), ``segments`` and ``generation``."""
        info: dict[str, object] = {"ok": False, "docs": 0, "path": self.path, "error": None}
        try:
            with self._mutex:
                view = self._open_view()
                info.update(
                    ok=True,
                    docs=len(view.live),
                    index=view.name,
                    segments=len(view.leaves),
                    generation=view.searcher.reader().generation(),
                )
        except IndexUnavailable as exc:
            info["error"] = str(exc)
        return info

    def all_ids_with_stamp(self) -> dict[int, str]:
        """See :meth:`app.search.backend.SearchBackend.all_ids_with_stamp`."""
        with self._mutex:
            view = self._open_view()
            return {view.ids[d]: view.stamp[d] for d in view.live}

    def index_size(self) -> int:
        """Bytes on disk of the live index (0 when there is none)."""
        name = self._current_name()
        if name is None:
            return 0
        root = os.path.join(self.path, name)
        return sum(os.path.getsize(os.path.join(root, f)) for f in os.listdir(root))


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.path.getmtime(path) > seconds
    except OSError:
        return False


# --- matching and ranking ---------------------------------------------------------------------


@dataclass(slots=True)
class _Word:
    """One query word looked up: its documents, in tiers of decreasing weight."""

    query: QueryWord
    tiers: list[tuple[float, set[int]]]
    docs: set[int]

    @classmethod
    def lookup(cls, view: _View, w: QueryWord) -> _Word:
        post = view.postings
        extra = [f for f in w.loose if f not in w.exact]
        title_word = set(post("title", w.word))
        title_compound = set().union(*(post("title", f) for f in w.exact if f != w.word))
        close = set().union(
            *(post("title", f) for f in extra),
            *(post("tstem", f) for f in w.loose),
            *(post("meta", f) for f in w.exact),
        )
        body = set().union(*(post("body", f) for f in w.exact))
        loose = set().union(
            *(post("meta", f) for f in extra),
            *(post("body", f) for f in extra),
            *(post("stem", f) for f in w.loose),
        )
        tiers = [
            (4.0, title_word),
            (3.5, title_compound),
            (2.0, close),
            (1.0, body),
            (0.5, loose),
        ]
        tiers = [(weight, docs) for weight, docs in tiers if docs]
        return cls(w, tiers, set().union(*(docs for _, docs in tiers)))


def _intersect(view: _View, sets: list[set[int]]) -> list[int]:
    """Sorted live docnums present in every set."""
    if not sets:
        return []
    ordered = sorted(sets, key=len)
    common = ordered[0].intersection(*ordered[1:]) if len(ordered) > 1 else set(ordered[0])
    if view.deleted:
        common -= view.deleted
    return sorted(common)


def _rank(view: _View, docs: Sequence[int], words: list[_Word], stop: int) -> list[int]:
    """The ``stop`` best of ``docs`` (see the module docstring for the scoring)."""
    wanted = set(docs)
    created = view.created
    scores = {d: created[d] * 1e-12 for d in docs}  # ties: newest first
    total = max(1, len(view.live))
    for w in words:
        idf = math.log(1.0 + total / (1.0 + len(w.docs)))
        done: set[int] = set()
        for weight, tier in w.tiers:
            hit = tier & wanted
            if done:
                hit -= done
            if not hit:
                continue
            inc = weight * idf
            for d in hit:
                scores[d] += inc
            done |= hit
    return heapq.nlargest(stop, scores, key=scores.__getitem__)


def _filter_masks(view: _View, docs: Sequence[int], q: SearchQuery) -> dict[str, list[bool]]:
    masks: dict[str, list[bool]] = {}
    if q.category is not None:
        wanted, cats = str(q.category), view.cats
        masks["category"] = [wanted in cats[d] for d in docs]
    if q.county:
        county, values = q.county, view.county
        masks["county"] = [values[d] == county for d in docs]
    if q.sector:
        sector, values = q.sector, view.sector
        masks["sector"] = [values[d] == sector for d in docs]
    if q.min_price is not None or q.max_price is not None:
        lo = q.min_price if q.min_price is not None else -(2**63)
        hi = q.max_price if q.max_price is not None else 2**63
        price = view.price
        masks["price"] = [lo <= price[d] <= hi for d in docs]
    if q.in_stock:
        stock = view.stock
        masks["in_stock"] = [stock[d] for d in docs]
    return masks


def _sorted_page(view: _View, docs: Sequence[int], sort: str, stop: int) -> list[int]:
    """The first ``stop`` of ``docs`` in ``sort`` order (ties: lower docnum first)."""
    if docs is view.live:
        return view.order(sort)[:stop]
    if len(docs) > 4 * stop and len(docs) > len(view.live) // 8:
        wanted = set(docs)
        out = []
        for d in view.order(sort):
            if d in wanted:
                out.append(d)
                if len(out) >= stop:
                    break
        return out
    key, reverse = view.sort_key(sort)
    return sorted(docs, key=key, reverse=reverse)[:stop]


def _closest_term(view: _View, word: str, maxdist: int) -> str | None:
    """The most frequent title/category/seller term within ``maxdist`` edits of ``word``."""
    counts: dict[str, int] = {}
    for fieldname in ("title", "meta"):
        for reader, _offset in view.leaves:
            for term in reader.terms_within(fieldname, word, maxdist, prefix=1):
                if term != word:
                    counts[term] = counts.get(term, 0) + reader.doc_frequency(fieldname, term)
    if not counts:
        return None
    return max(sorted(counts), key=counts.__getitem__)


def _excerpt(title: str, description: str, qwords: list[QueryWord]) -> str:
    """The description snippet when it matches as many query words as the title does,
    otherwise the highlighted title."""
    in_description = matched_words(description[:2000], qwords)
    if in_description and in_description >= matched_words(title, qwords):
        return snippet(description[:2000], qwords) or highlight_text(title, qwords)
    return highlight_text(title, qwords)


def _completes(text: str, head_terms: list[set[str]], last: str) -> bool:
    """Whether display string ``text`` contains every complete word and a word starting with
    ``last`` (all normalised)."""
    exact, reduced = index_forms(text)
    if last and not any(t.startswith(last) for t in exact):
        return False
    have = set(exact).union(reduced)
    return all(terms & have for terms in head_terms)
