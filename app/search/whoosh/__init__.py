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
query word occurs in it in some form (exact, compound or stem, in any field; English title
and category path terms are in ``title`` and ``meta`` too). Ranking sums over the query words
the best tier each word reaches — the title's head (its first word, indexed in ``title``
marked with :data:`app.search.normalize.HEAD`) 5, exact title term 4, title term of a
compound 3.5, title stem or category/seller term 2, description term 1, any other stem 0.5 —
weighted by the word's rarity (idf); ties go to the newest product.

Why not Whoosh's own ``Or``/``And``/``Term`` queries and its BM25F scorer: a first version
used them, and on the benchmark's 10,000 products its p95 was 74 ms against 17 ms for SQLite
FTS5 (Python calls per document per sub-matcher), while the field-length statistics BM25F
needs made the build several times slower. So the backend reads the posting blocks directly
(term-at-a-time, set operations), and no field is scored by Whoosh (no length columns).
Decoded posting lists are kept in a bounded cache per process
(:class:`~app.search.whoosh.views._PostingCache`).

:meth:`WhooshBackend.rebuild` does not use Whoosh's writer either (a call per posting and a
sorting pool for some ten million postings made most of a 150-second build of the benchmark's
100,000 products): :class:`~app.search.whoosh.internals._BulkWriter` inverts the analysed terms
in memory and writes each posting list a block at a time, into segments in Whoosh's own format.
Those classes build on Whoosh's internals, which is why whoosh-reloaded is pinned exactly
(see :mod:`app.search.whoosh.internals`).

The package: :mod:`~app.search.whoosh.internals` (subclasses and readers of Whoosh's
internals), :mod:`~app.search.whoosh.fields` (the schema and a document's fields),
:mod:`~app.search.whoosh.building` (segments of a fresh index, in one process or several),
:mod:`~app.search.whoosh.store` (directory, lock, the open view, state),
:mod:`~app.search.whoosh.views` (per-document arrays and cached posting lists),
:mod:`~app.search.whoosh.writer` (index, remove, rebuild and swap),
:mod:`~app.search.whoosh.matching` (matching and ranking), :mod:`~app.search.whoosh.facets`
and :mod:`~app.search.whoosh.reader` (search, "did you mean", completion).
"""

from __future__ import annotations

from app.search.whoosh.fields import make_schema
from app.search.whoosh.internals import PersianTokenizer
from app.search.whoosh.reader import _WhooshReader
from app.search.whoosh.writer import _WhooshWriter

__all__ = ["PersianTokenizer", "WhooshBackend", "make_schema"]


class WhooshBackend(_WhooshWriter, _WhooshReader):
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

    options = True  # filters and counts option values (SearchQuery.options)
