"""The PostgreSQL search backend: full-text search in the shop's own database.

For a shop that runs on several machines: every web worker and every ``flask search`` command
reads and writes the same tables, so there is no index directory to share or copy, and
PostgreSQL's row locks replace the single writer of the embedded backend.

Tables (in their own schema, ``search`` by default, outside the application's models: the
backend owns them, ``flask search reindex`` rebuilds them, and migration 0004 creates them for
deployments that run migrations)::

    search.document   one row per indexed product: the filter and sort columns, the display
                      strings (for highlights and completions), the doc_stamp, and ``terms``
    search.term       the vocabulary of titles, category paths and seller names with its
                      document frequency (for "did you mean"), under a trigram index

``terms`` is a ``tsvector`` built in Python from :func:`app.search.normalize.index_forms`, the
normaliser the Whoosh backend uses, and handed to PostgreSQL as an array of finished lexemes
(``array_to_tsvector``, not ``to_tsvector``: PostgreSQL's parser would split «500گرم» and knows
no Persian rules, whereas these terms are final). Each lexeme is tagged with where the term
comes from — ``T`` title, ``M`` category path and seller name, ``B`` description, ``U`` stem of
a title term, ``S`` stem of any other term, ``H`` the title's head, its first word
(:func:`app.search.normalize.title_heads`); an upper-case letter, which the normaliser never
leaves in a term — so an exact form and a stem of the same letters stay apart and exact matches
can rank first, as in the Whoosh backend. Tags rather than tsvector weights (A/B/C): the GIN
index stores no weights, so every match of a weighted query is rechecked against the row's
tsvector (decompressed, or read from TOAST, once per test), which made a common word cost a
second on 10,000 products; a tagged lexeme is answered by the index alone. For the same reason
rows are kept narrow where PostgreSQL lets us: ``toast_tuple_target = 128`` moves the tsvector
and the display strings of every row over the 2 kB TOAST threshold out of line, while the small
columns read for every match (filters, facets) are ``STORAGE PLAIN`` and always stay in the row.

Queries are built the same way: :func:`app.search.normalize.parse_query` gives the words, and
each word becomes a tsquery of its tagged, quoted forms, sent as a bound parameter and cast —
the user's text is never parsed as query syntax. A product matches when every word occurs in
some form. Ranking reproduces the Whoosh backend's tiers per word (the title's head 5, exact
title term 4, title
term of a compound 3.5, title stem or category/seller term 2, description term 1, anything else
0.5), weighted by the word's rarity when there are several words; ties go to the newest
product. With one word each tier is one index lookup, hashed and probed by the matches; with
several, the products that have them all (usually few) are scored from their own terms, and a
word's rarity comes from the planner's estimate (see :meth:`PostgresBackend._idf`).

One statement per search returns the page and, in one pass over the materialised matches
(grouping sets), the total and the three facet counts, each with every *other* filter applied,
so they agree with each other. Text searches run with sequential scans, JIT and parallel
workers off: a scan would read every row's tsvector where the index answers exactly, and
compiling or starting workers costs more than these queries. :meth:`PostgresBackend.rebuild`
fills new tables inside one transaction and swaps them in with renames: readers see the old
tables until the commit, then the new ones, never an empty index, and a failed rebuild leaves
nothing behind. Writers (:meth:`~PostgresBackend.index`, :meth:`~PostgresBackend.remove`) take a
shared advisory lock, so any number of processes write at once while a rebuild, which takes it
exclusively, makes them wait and then raise :class:`IndexBusy` (their callers keep the products
dirty, as with the Whoosh writer lock): a write into tables that are about to be replaced would
be lost.

"Did you mean" looks up unknown words in ``search.term`` with ``pg_trgm`` similarity and keeps
the most frequent term within one (two, for words of five letters or more) edits sharing the
first letter. ``pg_trgm`` only sees Persian letters as letters when the database's ``LC_CTYPE``
is not ``C`` (``C.UTF-8`` and the usual locales are fine).

The package: :mod:`~app.search.postgres.schema` (the tables' statements),
:mod:`~app.search.postgres.terms` (tagged lexemes and tsqueries),
:mod:`~app.search.postgres.store` (engine, connections, locks, state),
:mod:`~app.search.postgres.writer` (index, remove, rebuild and swap),
:mod:`~app.search.postgres.statement` (the SQL of one search) and
:mod:`~app.search.postgres.reader` (search, "did you mean", completion).
"""

from __future__ import annotations

from app.search.postgres.reader import _PostgresReader
from app.search.postgres.schema import schema_ddl
from app.search.postgres.terms import document_terms
from app.search.postgres.writer import _PostgresWriter

__all__ = ["PostgresBackend", "document_terms", "schema_ddl"]


class PostgresBackend(_PostgresWriter, _PostgresReader):
    """:class:`app.search.backend.SearchBackend` on PostgreSQL tables in ``schema``.

    ``engine`` is a SQLAlchemy engine (the application's ``db.engine``) or a database URL
    (the backend then owns an engine, disposed by :meth:`close`). Thread-safe and cheap: each
    call takes a pooled connection for one short transaction. ``lock_timeout`` is how long a
    writer waits for a rebuild elsewhere (and a rebuild for the writers) before raising
    :class:`IndexBusy`.
    """
