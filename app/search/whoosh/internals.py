"""Where the Whoosh backend reaches into Whoosh itself: its tokenizer, a posting writer and a
codec, a segment writer for bulk builds, and fast readers of posting blocks and columns.

These subclass Whoosh's classes and read and set their private attributes (the posting
writer's ``_ids``, ``_weights``, ``_compression`` and ``_write_block``; the segment writer's
per-document and field writers and ``_finalize_segment``; the leaf matcher's ``_data``,
``_read_data`` and ``_next_block``; the column reader's ``_lengths``, ``_dbfile`` and
``_basepos``). Nothing guarantees those between releases, which is why ``pyproject.toml`` pins
whoosh-reloaded to exactly 2.7.5: before moving the pin, run ``tests/search`` (the bulk build
must write what Whoosh's own writer writes) and ``bench/search.py``. Where a reader of
internals finds them missing (:data:`_FAST_BLOCKS`, :func:`_column_values`), it falls back to
Whoosh's public API, slower but right.

The rest of the backend uses Whoosh through these and through its public API only.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from functools import partial
from itertools import accumulate

from whoosh import formats, index
from whoosh.analysis import Token, Tokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher, W3PostingsWriter
from whoosh.fields import FieldType
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.matching import Matcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader, TermNotFound
from whoosh.writing import SegmentWriter

from app.search.normalize import index_forms

# --- analysis ----------------------------------------------------------------------------------


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

    def __call__(
        self,
        value: str | list[str] | tuple[str, ...],
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
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


# --- writing postings ----------------------------------------------------------------------------

_COMPRESS_MIN = 32  # postings in a block worth compressing


class _PostingsWriter(W3PostingsWriter):
    """Whoosh's posting writer, writing the same bytes, plus :meth:`add_ids`: a whole posting
    list of weight 1 and no value a block at a time (building the index writes some ten
    million postings, and one call per posting was most of the build time)."""

    # set by W3PostingsWriter (declared for the type checker only)
    _ids: Sequence[int]
    _weights: array[float]
    _maxweight: float
    _blocklimit: int
    _compression: int

    def add_ids(self, ids: array[int]) -> None:
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

    def _mini_weights(self) -> float | tuple[float, ...] | None:
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

    def postings_writer(self, dbfile: StructFile, byteids: bool = False) -> _PostingsWriter:
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


# --- building segments -------------------------------------------------------------------------

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
        self._terms: dict[str, defaultdict[str, array[int]]] = {
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


# --- reading postings and columns --------------------------------------------------------------

_FAST_BLOCKS = all(hasattr(W3LeafMatcher, name) for name in ("_read_data", "_next_block"))


def _add_matcher_ids(m: Matcher, out: list[int] | array[int], offset: int) -> None:
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


_NO_POSTINGS = array("I")  # shared by every term a segment lacks: never modified


def _read_postings(reader: IndexReader, fieldname: str, term: str) -> array[int]:
    """The docnums of a segment's posting list, deleted documents included."""
    try:
        m = reader.postings(fieldname, term)
    except TermNotFound:
        return _NO_POSTINGS
    out = array("I")
    _add_matcher_ids(m, out, 0)
    return out


def _column_values(reader: IndexReader, fieldname: str) -> list[bytes]:
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
