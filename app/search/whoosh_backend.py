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

Why not Whoosh's own ``Or``/``And``/``Term`` queries and its BM25F scorer: a first version
used them, and on the benchmark's 10,000 products its p95 was 74 ms against 17 ms for SQLite
FTS5 (Python calls per document per sub-matcher), while the field-length statistics BM25F
needs made the build several times slower. So the backend reads the posting blocks directly
(term-at-a-time, set operations), and no field is scored by Whoosh (no length columns).
Decoded posting lists are kept in a bounded cache per process (:class:`_PostingCache`).

:meth:`WhooshBackend.rebuild` does not use Whoosh's writer either (a call per posting and a
sorting pool for some ten million postings made most of a 150-second build of the benchmark's
100,000 products): :class:`_BulkWriter` inverts the analysed terms in memory and writes each
posting list a block at a time, into segments in Whoosh's own format.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import logging
import math
import multiprocessing
import os
import queue
import secrets
import shutil
import sys
import threading
import time
import traceback
import warnings
from array import array
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from itertools import accumulate, groupby, product

from whoosh import columns, formats, index
from whoosh.analysis import Token, Tokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, FieldType, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.filelock import try_for
from whoosh.writing import SegmentWriter

from app.search.backend import (
    FACETS,
    IndexBusy,
    IndexUnavailable,
    SearchDoc,
    SearchError,
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

__all__ = ["PersianTokenizer", "WhooshBackend", "make_schema"]

log = logging.getLogger(__name__)

_POINTER = "CURRENT"
_DEGRADED = "DEGRADED"  # written by mark_degraded, removed by the swap of a rebuild
_LOCK_NAME = "WRITE.lock"
_SEP = "\x1f"
_ATTRS = 9
_SUGGEST_THRESHOLD = 3


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


_COMPRESS_MIN = 32  # postings in a block worth compressing


class _PostingsWriter(W3PostingsWriter):
    """Whoosh's posting writer, writing the same bytes, plus :meth:`add_ids`: a whole posting
    list of weight 1 and no value a block at a time (building the index writes some ten
    million postings, and one call per posting was most of the build time)."""

    def add_ids(self, ids: array) -> None:
        """Add the postings of ``ids`` (ascending docnums) to the term just started."""
        if len(self._ids):
            raise RuntimeError("add_ids() needs a term without postings")
        limit = self._blocklimit
        for start in range(0, len(ids), limit):
            if start:
                self._write_block()
            block = ids[start : start + limit]
            self._ids = block
            self._weights = array("f", [1.0]) * len(block)
            self._maxweight = 1.0

    def _write_block(self, last: bool = False) -> None:
        # zlib costs some twenty microseconds a call whatever the size, and most terms have
        # a handful of postings: small blocks are stored as they are (each block says
        # whether it is compressed, readers take both)
        compression = self._compression
        if len(self._ids) < _COMPRESS_MIN:
            self._compression = 0
        try:
            super()._write_block(last)
        finally:
            self._compression = compression

    def _mini_weights(self):
        weights = self._weights
        if weights.count(1.0) == len(weights):
            return None
        return super()._mini_weights()


class _Codec(W3Codec):
    """Whoosh's default codec minus the per-field length statistics (no field is scored by
    Whoosh, and collecting lengths costs a column look-up for every posting written), with
    posting blocks of 1,024 documents (postings are always read whole here)."""

    length_stats = False

    def __init__(self, blocklimit: int = 1024, compression: int = 3, inlinelimit: int = 1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids: bool = False) -> _PostingsWriter:
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


def _open_index(directory: str) -> index.Index:
    """Open an index without memory-mapping its files: a file truncated or rewritten in
    place under a memory map kills the process with SIGBUS; read errors can be handled."""
    return FileStorage(directory, supports_mmap=False).open_index()


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


# --- building ----------------------------------------------------------------------------------

_BATCH = 256  # documents sent to a build process at a time
# what a segment being built costs in memory, per posting and per distinct term (measured:
# the arrays, the term dictionaries and what analysing the documents leaves on the heap)
_POSTING_BYTES = 10
_TERM_BYTES = 400


def _bulk_terms(field: FieldType) -> bool:
    """Whether :class:`_BulkWriter` inverts ``field`` itself: presence-only terms analysed
    by the backend (a list of terms as the value), nothing per posting but the docnum."""
    fmt = field.format
    return (
        type(fmt) is formats.Existence
        and fmt.field_boost == 1.0
        and isinstance(field.analyzer, PersianTokenizer)
        and not field.scorable
    )


class _BulkWriter(SegmentWriter):
    """Writes one new segment of a fresh index, for :meth:`WhooshBackend.rebuild`.

    Takes the fields :func:`_doc_fields` makes. The term fields are inverted in memory (term
    → array of docnums) and written whole at the end, a posting block at a time; the few
    other indexed fields go through ``FieldType.index`` like Whoosh's own writer, and stored
    values and columns through the same per-document writer, so the segment holds what
    Whoosh's writer would write. It is not committed: :meth:`finish` returns it and the
    caller commits all segments of the build at once. Whoosh's writer sends every posting
    through a sorting pool and a method call or two (about 1.3 ms of CPU per benchmark
    product, analysis aside); this writer takes about a quarter of that.
    """

    def __init__(self, ix: index.Index) -> None:
        # no lock of its own: the writer that commits the build holds the index's lock
        super().__init__(ix, _lk=False, codec=_Codec())
        for name, fieldobj in self.schema.items():
            if fieldobj.vector or fieldobj.separate_spelling():
                raise ValueError(f"field {name!r}: vectors and spelling are not supported")
        self._plan = {name: _bulk_terms(f) for name, f in self.schema.items()}
        self._terms: dict[str, defaultdict[str, array]] = {
            name: defaultdict(partial(array, "I")) for name, bulk in self._plan.items() if bulk
        }
        self._seen: dict[tuple[str, str], list[tuple[bytes, int, float, bytes]]] = {}
        self._other: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}
        self._postings = 0

    def add_document(self, **fields: object) -> None:
        """Add one document (the fields of :func:`_doc_fields`; no boosts)."""
        self._check_state()
        schema = self.schema
        perdoc = self.perdocwriter
        docnum = self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                fieldobj = schema[name]
                length = 0
                if fieldobj.indexed:
                    if self._plan[name] and isinstance(value, list | tuple):
                        post = self._terms[name]
                        terms = set(value)
                        for term in terms:
                            post[term].append(docnum)
                        self._postings += len(terms)
                    else:
                        other = self._other.setdefault(name, {})
                        for tbytes, freq, weight, vbytes in self._analysed(name, value):
                            if fieldobj.scorable:
                                length += freq
                            other.setdefault(tbytes, []).append((docnum, weight, vbytes))
                            self._postings += 1
                perdoc.add_field(name, fieldobj, value if fieldobj.stored else None, length)
                column = fieldobj.column_type
                if column:
                    perdoc.add_column_value(name, column, fieldobj.to_column_value(value))
        except BaseException:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _analysed(self, name: str, value: object) -> list[tuple[bytes, int, float, bytes]]:
        """``FieldType.index`` of a value, remembered for the first few thousand values (a
        county, sector or category recurs in thousands of documents)."""
        key = (name, value) if isinstance(value, str) else None
        found = self._seen.get(key) if key is not None else None
        if found is None:
            found = list(self.schema[name].index(value))
            if key is not None and len(self._seen) < 4096:
                self._seen[key] = found
        return found

    def memory(self) -> int:
        """About how many bytes of memory the segment being built takes."""
        terms = sum(map(len, self._terms.values())) + sum(map(len, self._other.values()))
        return _POSTING_BYTES * self._postings + _TERM_BYTES * terms

    def _flush_segment(self) -> None:
        # Called by _finalize_segment(): the postings of every field, fields in name order
        # and terms in byte order (the order Whoosh's own writer uses)
        self.perdocwriter.close()
        fw = self.fieldwriter
        fields = [name for name, post in self._terms.items() if post]
        for name in sorted([*fields, *self._other]):
            fw.start_field(name, self.schema[name])
            if name in self._terms:
                post = self._terms.pop(name)
                for tbytes, ids in sorted(
                    (term.encode("utf-8"), ids) for term, ids in post.items()
                ):
                    fw.start_term(tbytes)
                    postwriter = getattr(fw, "_postwriter", None)
                    if isinstance(postwriter, _PostingsWriter):
                        postwriter.add_ids(ids)
                    else:
                        for docnum in ids:
                            fw.add(docnum, 1.0, b"", 0)
                    fw.finish_term()
            else:
                other = self._other.pop(name)
                for tbytes in sorted(other):
                    fw.start_term(tbytes)
                    for docnum, weight, vbytes in other[tbytes]:
                        fw.add(docnum, weight, vbytes or b"", 0)
                    fw.finish_term()
            fw.finish_field()
        fw.close()

    def finish(self) -> object:
        """Write the segment out and return it (to be committed by the caller)."""
        segment = self._finalize_segment()
        self.is_closed = True
        return segment

    def abandon(self) -> None:
        """Close the segment's files without writing it (the build directory is deleted)."""
        if not self.is_closed:
            self._close_segment()
            self.is_closed = True


def _write_segments(ix: index.Index, docs: Iterable[SearchDoc], budget: int) -> tuple[list, int]:
    """Write ``docs`` into new segments of ``ix`` (another one whenever the segment being
    built takes more than ``budget`` bytes); return the segments and the number of
    documents."""
    segments: list = []
    count = 0
    writer = _BulkWriter(ix)
    try:
        for doc in docs:
            writer.add_document(**_doc_fields(doc))
            count += 1
            if not count % _BATCH and writer.memory() > budget:
                segments.append(writer.finish())
                writer = _BulkWriter(ix)
        if writer.docnum:
            segments.append(writer.finish())
        else:
            writer.abandon()
    except BaseException:
        writer.abandon()
        raise
    return segments, count


class _BuildFailed(RuntimeError):
    """A build process failed or died."""


def _build_worker(directory: str, budget: int, number: int, jobs, results) -> None:
    """A build process: write the documents of the batches on ``jobs`` (until ``None``) into
    segments of the index in ``directory``; put ``(number, segments, count, None)`` or
    ``(number, [], 0, traceback text)`` on ``results``."""
    parent = os.getppid()
    try:

        def docs() -> Iterator[SearchDoc]:
            while True:
                try:
                    batch = jobs.get(timeout=5)
                except queue.Empty:
                    if os.getppid() != parent:  # the building process died: do not linger
                        raise _BuildFailed("the process building the index is gone") from None
                    continue
                if batch is None:
                    return
                yield from batch

        segments, count = _write_segments(FileStorage(directory).open_index(), docs(), budget)
        results.put((number, segments, count, None))
    except BaseException as exc:
        results.put((number, [], 0, "".join(traceback.format_exception(exc))))


def _build_in_processes(  # noqa: C901 (process pool set-up and clean-up kept in one place)
    directory: str, docs: Iterable[SearchDoc], procs: int, budget: int
) -> tuple[list, int]:
    """:func:`_write_segments` in ``procs`` processes, each taking every ``procs``-th batch
    of documents; the segments in process order.

    The processes are forked, not spawned: a spawned process imports the caller's main
    module again, which runs the code of a script without a ``__main__`` guard a second
    time. (They inherit the write lock's descriptor, but are always ended before the lock
    is released.)
    """
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    queues = [ctx.Queue(maxsize=4) for _ in range(procs)]
    workers = [
        ctx.Process(target=_build_worker, args=(directory, budget, n, q, results), daemon=True)
        for n, q in enumerate(queues)
    ]
    outcomes: dict[int, tuple[list, int]] = {}

    def collect(timeout: float) -> None:
        # take the outcomes reported so far, waiting up to ``timeout`` for the first
        with contextlib.suppress(queue.Empty):
            item = results.get(timeout=timeout)
            while True:
                number, segments, count, error = item
                if error:
                    raise _BuildFailed(f"search index build process {number} failed:\n{error}")
                outcomes[number] = (segments, count)
                item = results.get_nowait()

    def check() -> None:
        collect(0.01)
        dead = [n for n, w in enumerate(workers) if n not in outcomes and w.exitcode is not None]
        if dead:
            collect(1.0)  # what a process reported is in the pipe before it exits
            for n in dead:
                if n not in outcomes:
                    code = workers[n].exitcode
                    raise _BuildFailed(f"search index build process {n} died (exit code {code})")

    def put(n: int, item: list[SearchDoc] | None) -> None:
        while True:
            try:
                queues[n].put(item, timeout=0.5)
                return
            except queue.Full:
                check()

    try:
        for w in workers:
            w.start()
        batch: list[SearchDoc] = []
        sent = 0
        for doc in docs:
            batch.append(doc)
            if len(batch) >= _BATCH:
                put(sent % procs, batch)
                sent += 1
                batch = []
        if batch:
            put(sent % procs, batch)
        for n in range(procs):
            put(n, None)
        while len(outcomes) < procs:
            collect(0.5)
            check()
        for w in workers:
            w.join()
    except BaseException:
        for q in queues:
            # batches no process will read: do not wait for them to be written at exit
            q.cancel_join_thread()
        for w in workers:
            if w.is_alive():
                w.terminate()
        for w in workers:
            if w.pid is not None:
                w.join()
        raise
    finally:
        for q in [*queues, results]:
            q.close()
    ordered = [outcomes[n] for n in range(procs)]
    return [seg for segments, _ in ordered for seg in segments], sum(c for _, c in ordered)


# --- reading postings --------------------------------------------------------------------------

_FAST_BLOCKS = all(hasattr(W3LeafMatcher, name) for name in ("_read_data", "_next_block"))


def _add_matcher_ids(m, out: list[int] | array, offset: int) -> None:
    """Append every docnum of a fresh term matcher (plus ``offset``) to ``out``, deleted ones
    included.

    Reads whole posting blocks (delta-encoded docnums) and decodes them with
    ``itertools.accumulate`` instead of stepping the matcher one document at a time.
    """
    if isinstance(m, FilterMatcher):
        m = m.child
    if _FAST_BLOCKS and type(m) is W3LeafMatcher and not m._byteids:
        while not m._atend:
            if m._data is None:
                m._read_data()
            ids = accumulate(m._data[0])
            out.extend(map(offset.__add__, ids) if offset else ids)
            m._next_block()
        return
    ids = m.all_ids()
    out.extend(map(offset.__add__, ids) if offset else ids)


# --- in-memory views of an open index --------------------------------------------------------

_NO_POSTINGS = array("I")  # shared by every term a segment lacks: never modified
_POSTINGS_CACHE = 4_000_000  # postings (4 bytes each) the decoded posting cache may hold
_ENTRY_COST = 32  # what an entry of the cache counts for, besides its postings


def _read_postings(reader, fieldname: str, term: str) -> array:
    """The docnums of a segment's posting list, deleted documents included."""
    try:
        m = reader.postings(fieldname, term)
    except TermNotFound:
        return _NO_POSTINGS
    out = array("I")
    _add_matcher_ids(m, out, 0)
    return out


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
        self._entries: OrderedDict[tuple[str, str, str], array] = OrderedDict()
        self._size = 0

    def get(self, key: tuple[str, str, str], load: Callable[[], array]) -> array:
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
    combo: list[tuple[str, str, str]]  # (leaf, county, sector), shared tuples: one facet pass

    @classmethod
    def load(cls, reader) -> _Segment:
        """Read the ``attrs`` column of a segment (column-wise: ``zip`` and ``map`` do the
        per-document work in C, which matters at 100,000 documents)."""
        n = reader.doc_count_all()
        empty = ("0", "", "", "", "", "0", "0", "0", "")
        rows: list[Sequence[str]] = []
        if n and reader.has_column("attrs"):
            rows = [raw.decode().split(_SEP) for raw in _column_values(reader, "attrs")]
            rows = [r if len(r) == _ATTRS else empty for r in rows]
        if len(rows) != n:
            raise IndexUnavailable("index column does not match its segment")
        if not rows:
            return cls([], [], [], [], [], [], [], [], [], [])
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
        )


def _column_values(reader, fieldname: str) -> list[bytes]:
    """Every value of a bytes column, read in one piece when the column is the usual
    variable-length one (one read instead of one per document)."""
    creader = reader.column_reader(fieldname, translate=False)
    lengths = getattr(creader, "_lengths", None)
    dbfile = getattr(creader, "_dbfile", None)
    if lengths is None or dbfile is None or len(lengths) != reader.doc_count_all():
        return list(creader)
    bounds = list(accumulate(lengths, initial=0))
    blob = bytes(dbfile.get(creader._basepos, bounds[-1]))
    return [blob[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@lru_cache(maxsize=4096)
def _category_set(value: str) -> frozenset[str]:
    return frozenset(filter(None, value.split(",")))


@dataclass
class _View:
    """An open searcher, its leaf readers and the concatenated per-document arrays."""

    ix: index.Index
    searcher: object
    name: str
    directory: str
    files: tuple[tuple[str, int, int, int], ...]  # the TOC and segment files, as opened
    leaves: list[tuple[object, int]]
    keys: list[str | None]  # per leaf: the segment's key in the posting cache
    key: str | None  # the view's own key there (``None``: a segment has no key)
    cache: _PostingCache
    ids: list[int]
    leaf: list[str]
    county: list[str]
    sector: list[str]
    cats: list[frozenset[str]]
    price: list[int]
    created: list[int]
    stock: list[bool]
    stamp: list[str]
    combo: list[tuple[str, str, str]]
    live: list[int]
    deleted: frozenset[int]
    _orders: dict[str, list[int]] = field(default_factory=dict)
    _facets: dict[str, dict[str, int]] | None = None
    _live_set: frozenset[int] | None = None

    def postings(self, fieldname: str, term: str) -> Sequence[int]:
        """Global docnums of documents with ``term`` in ``fieldname``, ascending (deleted
        ones included: callers remove them). Read-only: it may be the cached list itself."""
        if len(self.leaves) == 1 and not self.leaves[0][1]:
            return self._segment_postings(0, fieldname, term)
        if self.key is None or not self.leaves:
            return self._combined(fieldname, term)
        return self.cache.get((self.key, fieldname, term), partial(self._combined, fieldname, term))

    def _segment_postings(self, leaf: int, fieldname: str, term: str) -> array:
        reader = self.leaves[leaf][0]
        key = self.keys[leaf]
        load = partial(_read_postings, reader, fieldname, term)
        return load() if key is None else self.cache.get((key, fieldname, term), load)

    def _combined(self, fieldname: str, term: str) -> array:
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

    def all_facets(self) -> dict[str, dict[str, int]]:
        if self._facets is None:
            self._facets = _count_facets(self, self.live, {})
        return self._facets


_FACET_INDEX = {name: i for i, name in enumerate(FACETS)}


def _count_facets(
    view: _View, docs: Collection[int], masks: dict[str, list[bool]]
) -> dict[str, dict[str, int]]:
    """Facet counts over ``docs``; each facet ignores its own filter's mask. Facets that
    count the same documents are counted in one pass over (category, county, sector)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name in FACETS:
        groups.setdefault(tuple(k for k in masks if k != name), []).append(name)
    out: dict[str, dict[str, int]] = {}
    for key, names in groups.items():
        subset = docs if not key else _apply(docs, [masks[k] for k in key])
        combos = Counter(map(view.combo.__getitem__, subset))
        for name in names:
            i = _FACET_INDEX[name]
            counts: Counter[str] = Counter()
            for combo, n in combos.items():
                counts[combo[i]] += n
            counts.pop("", None)
            out[name] = dict(counts.most_common())
    return {name: out[name] for name in FACETS}


def _facets_of(view: _View, docs: set[int]) -> dict[str, dict[str, int]]:
    """Facet counts of ``docs``; for more than half the catalogue, the counts of the whole
    catalogue minus those of the rest (fewer documents to count; ``Counter`` over the
    values is faster here than intersecting with per-value sets, which allocates)."""
    if len(docs) * 2 <= len(view.live):
        return _count_facets(view, docs, {})
    rest = view.live_set - docs
    rest_counts = _count_facets(view, rest, {})
    out: dict[str, dict[str, int]] = {}
    for name, counts in view.all_facets().items():
        minus = rest_counts[name]
        left = {key: n - minus.get(key, 0) for key, n in counts.items()}
        out[name] = {key: n for key, n in sorted(left.items(), key=lambda kv: -kv[1]) if n}
    return out


def _apply(docs: Collection[int], masks: list[list[bool]]) -> list[int]:
    if len(masks) == 1:
        return [d for d, ok in zip(docs, masks[0], strict=True) if ok]
    return [d for d, *oks in zip(docs, *masks, strict=True) if all(oks)]


# --- the backend -------------------------------------------------------------------------------


class WhooshBackend:
    """:class:`app.search.backend.SearchBackend` on a Whoosh index in the directory ``path``.

    One instance per process is enough: it is thread-safe (reads share one lock; writers
    take the index's file lock), keeps its searcher and per-segment arrays open, and reopens
    them when another process commits or swaps the index. ``lock_timeout`` is how long a
    writer waits for the write lock before raising :class:`IndexBusy`.

    :meth:`rebuild` indexes in ``build_procs`` processes (forked; each takes every
    ``build_procs``-th batch of products and writes its own segments) that share about
    ``build_memory_mb`` of memory for postings; a process starts a new segment whenever its
    share is full (100,000 benchmark products take about 160 MB). Searches keep up to
    ``_POSTINGS_CACHE`` decoded postings (4 bytes each) per instance.
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
        self._cache = _PostingCache(_POSTINGS_CACHE)
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

    @contextlib.contextmanager
    def _reading(self) -> Iterator[_View]:
        """The current view, under the mutex; any failure while reading turns into
        :class:`IndexUnavailable` (a damaged file raises all sorts of errors in Whoosh)."""
        with self._mutex:
            try:
                yield self._open_view()
            except IndexUnavailable:
                raise
            except Exception as exc:
                _release(exc, f"search index at {self.path} failed")
                self._drop()
                raise IndexUnavailable(f"search index at {self.path} is broken: {exc}") from exc

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
            if view.searcher.up_to_date():
                if _file_stats(view.directory, [f[0] for f in view.files]) != view.files:
                    # Whoosh never rewrites a file: the index was damaged in place. Say so
                    # now rather than serve what is cached of it.
                    self._drop()
                    raise IndexUnavailable(f"search index at {self.path} changed on disk")
                return view
            searcher = view.ix.searcher()
            with contextlib.suppress(Exception):
                view.searcher.close()
            return self._build_view(view.ix, searcher, view.name, sig)
        self._drop()
        name = self._current_name()
        if name is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        try:
            ix = _open_index(os.path.join(self.path, name))
            searcher = ix.searcher()
        except Exception as exc:  # any failure to open means the index is unusable
            _release(exc, f"cannot open the search index at {self.path}")
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc
        return self._build_view(ix, searcher, name, sig)

    def _build_view(self, ix: index.Index, searcher, name: str, sig: tuple[int, int]) -> _View:
        try:
            segs: list[_Segment] = []
            leaves: list[tuple[object, int]] = []
            keys: list[str | None] = []
            live: list[int] = []
            deleted: set[int] = set()
            keep: dict[str, _Segment] = {}
            lives: dict[tuple[str, int], tuple[list[int], frozenset[int]]] = {}
            names = ix.storage.list()
            files = [f"_{ix.indexname}_{searcher.reader().generation()}.toc"]
            for sub, offset in searcher.leaf_searchers():
                reader = sub.reader()
                segment = getattr(reader, "segment", lambda: None)()
                if segment is not None:
                    prefix = segment.segment_id() + "."
                    files.extend(sorted(n for n in names if n.startswith(prefix)))
                key = f"{name}/{segment.segment_id()}" if segment is not None else str(id(reader))
                data = self._segments.get(key) or _Segment.load(reader)
                keep[key] = data
                segs.append(data)
                leaves.append((reader, offset))
                keys.append(key if segment is not None else None)
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
        except BaseException:
            with contextlib.suppress(Exception):
                searcher.close()
            self._drop()
            raise
        self._segments = keep
        self._lives = lives
        # the view's key: its segments, in order (another commit makes another view)
        view_key = "|".join(k for k in keys if k is not None) if None not in keys else None
        self._cache.retain({*keep, view_key} if view_key else keep)

        def cat(attr: str) -> list:
            if len(segs) == 1:
                return getattr(segs[0], attr)
            out: list = []
            for s in segs:
                out.extend(getattr(s, attr))
            return out

        directory = os.path.join(self.path, name)
        view = _View(
            ix=ix,
            searcher=searcher,
            name=name,
            directory=directory,
            files=_file_stats(directory, files),
            leaves=leaves,
            keys=keys,
            key=view_key,
            cache=self._cache,
            ids=cat("ids"),
            leaf=cat("leaf"),
            county=cat("county"),
            sector=cat("sector"),
            cats=cat("cats"),
            price=cat("price"),
            created=cat("created"),
            stock=cat("stock"),
            stamp=cat("stamp"),
            combo=cat("combo"),
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
        self._cache.retain(())
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
        with self._reading() as view:
            return self._search(view, q, qwords)

    def _search(self, view: _View, q: SearchQuery, qwords: list[QueryWord]) -> SearchResult:
        # ``matched`` is a list (all live documents) or a set (documents with every word);
        # sets are only iterated while unchanged, so masks built over one stay aligned
        matched: Collection[int] = view.live
        words: list[_Word] = []
        if qwords:
            words = [_Word.lookup(view, w) for w in qwords]
            matched = _matching(view, words)
        masks = _filter_masks(view, matched, q)
        final: Collection[int]
        if masks:
            final = _apply(matched, list(masks.values()))
            facets = _count_facets(view, matched, masks)
        else:
            final = matched
            facets = view.all_facets() if matched is view.live else _facets_of(view, matched)
        start = (q.page - 1) * q.per_page
        stop = start + q.per_page
        page_docs: list[int] = []
        if start < len(final):
            if words and q.sort == "relevance":
                wanted = final if isinstance(final, set) else set(final)
                page_docs = _rank(view, wanted, words, stop)[start:stop]
            else:
                sort = "newest" if q.sort == "relevance" else q.sort
                page_docs = _sorted_page(view, final, sort, stop)[start:stop]
        result = SearchResult(ids=[view.ids[d] for d in page_docs], total=len(final), facets=facets)
        if qwords:
            for d in page_docs:
                title, description = view.searcher.stored_fields(d)["doc"][:2]
                result.highlights[view.ids[d]] = excerpt(title, description, qwords)
            if len(final) < _SUGGEST_THRESHOLD:
                result.suggestion = self._did_you_mean(view, words, len(matched))
        return result

    def _did_you_mean(self, view: _View, words: list[_Word], found: int) -> str | None:
        """A query with unknown words replaced by the most frequent indexed word within one
        (two, for words of five letters or more) edits, if it finds more than ``found``. Only
        unknown words that :func:`typo_words` allows (not too long) and :func:`typo_budget`
        keeps (a few, of few letters in all) are looked up: the fuzzy lookup costs in
        proportion to a word's length."""
        out = [w.query.word for w in words]
        unknown = typo_budget(out, (i for i in typo_words(out) if not words[i].tiers))
        changed = False
        for i in unknown:
            word = out[i]
            fix = _closest_term(view, word, 1)
            if fix is None and len(word) >= 5:
                fix = _closest_term(view, word, 2)
            if fix is not None:
                out[i], changed = fix, True
        if not changed:
            return None
        suggestion = " ".join(out)
        better = len(_matching(view, [_Word.lookup(view, w) for w in parse_query(suggestion)]))
        return suggestion if better > found else None

    # --- completion ---------------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """See :meth:`app.search.backend.SearchBackend.suggest`.

        The last word (unless followed by a space) is a prefix of at least two letters; the
        words before it must occur. Candidates are the category names, seller names and
        titles of up to 100 matching products (newest first). Candidates that start with the
        typed text come first; then category names before seller names before titles, the
        more frequent first.
        """
        if limit <= 0:
            return []
        read = completion_prefix(prefix)
        if read is None:
            return []
        norm, head, last = read
        with self._reading() as view:
            docs = self._suggest_docs(view, head, last)
            stored = [view.searcher.stored_fields(d)["doc"] for d in docs]
        return rank_completions(
            ((title, path, seller) for title, _desc, path, seller in stored),
            head,
            last,
            norm,
            limit,
        )

    def _suggest_docs(self, view: _View, head: list[QueryWord], last: str) -> list[int]:
        words = [_Word.lookup(view, w) for w in head]
        sets: list[set[int]] = []
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
            matched = _matching(view, words)
        else:
            matched = sets[0]
            for w in words:
                matched = w.within(matched)
            if view.deleted:
                matched -= view.deleted
        return heapq.nlargest(100, matched, key=view.created.__getitem__)

    # --- writing ------------------------------------------------------------------------------

    def _ensure_index(self) -> index.Index:
        """The live index for writing (call with the write lock held); creates an empty one."""
        name = self._current_name()
        if name is None:
            name = self._build([], procs=1)[0]
            self._swap(name)
        try:
            return _open_index(os.path.join(self.path, name))
        except Exception as exc:
            _release(exc, f"cannot open the search index at {self.path}")
            raise IndexUnavailable(f"search index at {self.path} is unusable: {exc}") from exc

    def _writer(self, ix: index.Index):
        try:
            return ix.writer(timeout=self.lock_timeout, delay=0.05, limitmb=64, codec=_Codec())
        except index.LockError as exc:
            raise IndexBusy(f"the search index at {self.path} is locked by another writer") from exc

    def index(self, docs: Iterable[SearchDoc], create: bool = True) -> None:
        """See :meth:`app.search.backend.SearchBackend.index` (for an id given twice, the
        last document wins)."""
        docs = list({doc.id: doc for doc in docs}.values())
        if not docs:
            return
        with self._write_lock(), self._failing_writes():
            if not create and self._current_name() is None:
                raise IndexUnavailable(f"no search index at {self.path}; rebuild it")
            writer = self._writer(self._ensure_index())
            try:
                for doc in docs:
                    writer.update_document(**_doc_fields(doc))
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit()

    def remove(self, ids: Iterable[int]) -> None:
        """See :meth:`app.search.backend.SearchBackend.remove`."""
        ids = list(ids)
        if not ids:
            return
        with self._write_lock(), self._failing_writes():
            if self._current_name() is None:
                return
            writer = self._writer(self._ensure_index())
            try:
                for pid in ids:
                    writer.delete_by_term("id", str(int(pid)))
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit()

    @contextlib.contextmanager
    def _failing_writes(self) -> Iterator[None]:
        """Any failure of a write (a damaged index raises all sorts of errors in Whoosh)
        becomes :class:`IndexUnavailable`, and the files it left open are closed now."""
        try:
            yield
        except SearchError:
            raise
        except Exception as exc:
            _release(exc, f"writing to the search index at {self.path} failed")
            raise IndexUnavailable(
                f"writing to the search index at {self.path} failed: {exc!r}"
            ) from None

    def _build(self, docs: Iterable[SearchDoc], procs: int) -> tuple[str, int]:
        """Build a complete index in a fresh directory; return its final name and size."""
        tmp = os.path.join(self.path, ".new-" + secrets.token_hex(6))
        os.makedirs(tmp)
        try:
            ix = index.create_in(tmp, make_schema())
            budget = max(32, self.build_memory_mb // procs) * 2**20
            # this writer only holds the index's lock and commits the segments written by
            # the bulk writers (its own segment stays empty and is not committed)
            writer = ix.writer(codec=_Codec())
            try:
                # (where processes cannot be forked, one process builds the index)
                if procs > 1 and "fork" in multiprocessing.get_all_start_methods():
                    segments, count = _build_in_processes(tmp, docs, procs, budget)
                else:
                    segments, count = _write_segments(ix, docs, budget)
            except BaseException:
                with contextlib.suppress(Exception):  # keep the first error
                    writer.cancel()
                raise
            writer.commit(mergetype=lambda _writer, _existing: segments)
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
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.path, _DEGRADED))
        with self._mutex:
            self._drop()
        return count

    def clear(self) -> None:
        """See :meth:`app.search.backend.SearchBackend.clear`."""
        self.rebuild([])

    # --- state ------------------------------------------------------------------------------

    def mark_degraded(self, reason: str) -> None:
        """See :meth:`app.search.backend.SearchBackend.mark_degraded`: a file next to
        ``CURRENT`` (nothing is written when the index folder itself is gone)."""
        if not os.path.isdir(self.path):
            return
        path = os.path.join(self.path, _DEGRADED)
        tmp = f"{path}.{secrets.token_hex(4)}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(reason.replace("\n", " ")[:1000] + "\n")
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("search: cannot mark the index at %s degraded: %s", self.path, exc)
            with contextlib.suppress(OSError):
                os.remove(tmp)

    def degraded(self) -> str | None:
        """See :meth:`app.search.backend.SearchBackend.degraded`."""
        try:
            with open(os.path.join(self.path, _DEGRADED), encoding="utf-8") as fh:
                return fh.read().strip() or "marked degraded"
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            return f"cannot read the degraded mark: {exc}"

    def exists(self) -> bool:
        """See :meth:`app.search.backend.SearchBackend.exists`."""
        try:
            with self._reading():
                pass
        except IndexUnavailable:
            return False
        return True

    def health(self) -> dict[str, object]:
        """See :meth:`app.search.backend.SearchBackend.health`; also ``index`` (directory
        name), ``segments`` and ``generation``."""
        info: dict[str, object] = {"ok": False, "docs": 0, "path": self.path, "error": None}
        try:
            with self._reading() as view:
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
        with self._reading() as view:
            return {view.ids[d]: view.stamp[d] for d in view.live}

    def index_size(self) -> int:
        """Bytes on disk of the live index (0 when there is none)."""
        name = self._current_name()
        if name is None:
            return 0
        root = os.path.join(self.path, name)
        return sum(os.path.getsize(os.path.join(root, f)) for f in os.listdir(root))


def _release(exc: BaseException, message: str) -> None:
    """Log a failed read, then drop its tracebacks: Whoosh leaves files open in the frames
    when it fails half-way, and they are closed now, quietly, rather than with a
    ResourceWarning whenever the traceback happens to be collected. (The traceback is logged
    as text so that no log record keeps it alive.)"""
    log.warning("%s\n%s", message, "".join(traceback.format_exception(exc)).rstrip())
    seen: set[int] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        chained: BaseException | None = exc
        while chained is not None and id(chained) not in seen:
            seen.add(id(chained))
            traceback.clear_frames(chained.__traceback__)
            chained.__traceback__ = None
            chained = chained.__cause__ or chained.__context__
        gc.collect()


def _file_stats(directory: str, names: Iterable[str]) -> tuple[tuple[str, int, int, int], ...]:
    """``(name, inode, size, mtime)`` of each file of ``names`` in ``directory`` (zeros for
    a missing one)."""
    out = []
    for name in names:
        try:
            st = os.stat(os.path.join(directory, name))
            out.append((name, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((name, 0, 0, 0))
    return tuple(out)


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.path.getmtime(path) > seconds
    except OSError:
        return False


# --- matching and ranking ---------------------------------------------------------------------


@dataclass(slots=True)
class _Word:
    """One query word looked up: the posting lists of its tiers (decreasing weight). Sets
    are built only when needed — the documents of a common word are often only probed
    against the few documents of the other words, and ranking often needs only the first
    tier or two."""

    query: QueryWord
    tiers: list[tuple[float, list[Sequence[int]]]]
    size: int  # postings in all tiers: an upper bound of the number of documents
    _docs: set[int] | None = None
    # what within() found: its candidates and, per tier and list, the candidates in the list
    _found: tuple[set[int], list[list[set[int]]]] | None = None

    @classmethod
    def lookup(cls, view: _View, w: QueryWord) -> _Word:
        post = view.postings
        extra = [f for f in w.loose if f not in w.exact]
        tiers = [
            (4.0, [post("title", w.word)]),
            (3.5, [post("title", f) for f in w.exact if f != w.word]),
            (
                2.0,
                [
                    *(post("title", f) for f in extra),
                    *(post("tstem", f) for f in w.loose),
                    *(post("meta", f) for f in w.exact),
                ],
            ),
            (1.0, [post("body", f) for f in w.exact]),
            (
                0.5,
                [
                    *(post("meta", f) for f in extra),
                    *(post("body", f) for f in extra),
                    *(post("stem", f) for f in w.loose),
                ],
            ),
        ]
        kept = []
        for weight, lists in tiers:
            lists = [ids for ids in lists if ids]
            if lists:
                kept.append((weight, lists))
        return cls(w, kept, sum(len(ids) for _, lists in kept for ids in lists))

    @property
    def docs(self) -> set[int]:
        """Every document with the word (deleted ones included)."""
        if self._docs is None:
            docs: set[int] = set()
            for _, lists in self.tiers:
                for ids in lists:
                    docs.update(ids)
            self._docs = docs
        return self._docs

    def within(self, candidates: set[int]) -> set[int]:
        """The documents of ``candidates`` that have the word."""
        if self._docs is not None:
            return candidates & self._docs
        found = [[candidates.intersection(ids) for ids in lists] for _, lists in self.tiers]
        self._found = (candidates, found)
        return set().union(*(hits for per_list in found for hits in per_list))

    def tier_sets(self, wanted: set[int]) -> Iterator[tuple[float, set[int]]]:
        """``(weight, documents)`` per tier, restricted to ``wanted``, each document in its
        best tier only; lazily, best tier first."""
        # Ranking the documents within() found need not scan the long posting lists of a
        # common word again: the part of each list among the candidates, in the same
        # (ascending) order, gives the same sets, built in the same order.
        found = None
        if self._found is not None and wanted is not self._docs and wanted <= self._found[0]:
            found = self._found[1]
        seen: set[int] = set()
        for tier, (weight, lists) in enumerate(self.tiers):
            if wanted is self._docs:
                hit = set(lists[0]).union(*lists[1:])
            else:
                if found is not None:
                    lists = [sorted(hits) for hits in found[tier]]
                hit = set().union(*(wanted.intersection(ids) for ids in lists))
            hit -= seen
            if hit:
                yield weight, hit
                seen |= hit


def _matching(view: _View, words: list[_Word]) -> set[int]:
    """Live docnums that have every word: the set of the rarest word, narrowed by probing the
    others' posting lists (the set of a single word itself when nothing is deleted: callers
    must not change it)."""
    if not words:
        return set()
    ordered = sorted(words, key=lambda w: w.size)
    common = ordered[0].docs
    for w in ordered[1:]:
        if not common:
            break
        common = w.within(common)
    if view.deleted:
        common = common - view.deleted
    return common


_MAX_COMBOS = 512


def _rank(view: _View, wanted: set[int], words: list[_Word], stop: int) -> list[int]:
    """The ``stop`` best of ``wanted`` (see the module docstring for the scoring).

    Each document reaches exactly one tier per word, so its score is fixed by the
    combination of tiers. Combinations are visited best first and their documents found by
    set intersection; only the last combination needed is cut, newest first. One word: its
    tiers in order, stopping as soon as there are enough. Queries with too many combinations
    (many words) fall back to adding up scores document by document.
    """
    created = view.created
    out: list[int] = []
    if len(words) == 1:
        for _weight, hit in words[0].tier_sets(wanted):
            out.extend(heapq.nlargest(stop - len(out), hit, key=created.__getitem__))
            if len(out) >= stop:
                break
        return out
    total = max(1, len(view.live))
    per_word: list[list[tuple[float, set[int]]]] = []
    for w in words:
        idf = math.log(1.0 + total / (1.0 + min(w.size, total)))
        per_word.append([(weight * idf, hit) for weight, hit in w.tier_sets(wanted)])
    if math.prod(len(t) for t in per_word) > _MAX_COMBOS:
        return _rank_by_document(per_word, wanted, created, stop)
    combos = sorted(
        (
            (round(sum(per_word[i][k][0] for i, k in enumerate(idx)), 9), idx)
            for idx in product(*(range(len(t)) for t in per_word))
        ),
        reverse=True,
    )
    for _score, group in groupby(combos, key=lambda c: c[0]):
        bucket: set[int] = set()
        for _, idx in group:
            sets = sorted((per_word[i][k][1] for i, k in enumerate(idx)), key=len)
            bucket |= sets[0].intersection(*sets[1:])
        if bucket:
            out.extend(heapq.nlargest(stop - len(out), bucket, key=created.__getitem__))
            if len(out) >= stop:
                break
    return out


def _rank_by_document(
    per_word: list[list[tuple[float, set[int]]]],
    docs: Collection[int],
    created: list[int],
    stop: int,
) -> list[int]:
    scores = dict.fromkeys(docs, 0.0)
    for tiers in per_word:
        for weight, tier in tiers:
            for d in tier:
                scores[d] += weight
    key = {d: (round(s, 9), created[d]) for d, s in scores.items()}
    return heapq.nlargest(stop, key, key=key.__getitem__)


def _filter_masks(view: _View, docs: Collection[int], q: SearchQuery) -> dict[str, list[bool]]:
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


def _sorted_page(view: _View, docs: Collection[int], sort: str, stop: int) -> list[int]:
    """The first ``stop`` of ``docs`` in ``sort`` order (ties: lower docnum first)."""
    if docs is view.live:
        return view.order(sort)[:stop]
    if len(docs) > 4 * stop and len(docs) > len(view.live) // 8:
        wanted = docs if isinstance(docs, set) else set(docs)
        out = []
        for d in view.order(sort):
            if d in wanted:
                out.append(d)
                if len(out) >= stop:
                    break
        return out
    key, reverse = view.sort_key(sort)
    return sorted(sorted(docs), key=key, reverse=reverse)[:stop]


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
