"""Searching the Whoosh index: one query's matches, filters, facets, page and highlights,
"did you mean", and completion.

The matching and ranking run over the view's posting lists (:mod:`app.search.whoosh.matching`);
the fuzzy term lookup of "did you mean" (:func:`_closest_term`) reads Whoosh's term graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection

from app.search.backend import SUGGEST_BELOW, SearchQuery, SearchResult
from app.search.normalize import (
    QueryWord,
    completion_prefix,
    excerpt,
    parse_query,
    rank_completions,
    typo_budget,
    typo_words,
)
from app.search.whoosh.facets import _apply, _count_facets, _facets_of
from app.search.whoosh.matching import _filter_masks, _matching, _rank, _sorted_page, _Word
from app.search.whoosh.store import _WhooshStore
from app.search.whoosh.views import _View


class _WhooshReader(_WhooshStore):
    """Searching the open view: :meth:`search` and :meth:`suggest`."""

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
        with_words: set[int] | None = None  # ``matched`` when it is the set
        words: list[_Word] = []
        if qwords:
            words = [_Word.lookup(view, w) for w in qwords]
            matched = with_words = _matching(view, words)
        masks = _filter_masks(view, matched, q)
        final: Collection[int]
        if masks:
            final = _apply(matched, list(masks.values()))
            facets = _count_facets(view, matched, masks)
        else:
            final = matched
            facets = view.all_facets() if with_words is None else _facets_of(view, with_words)
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
            if len(final) < SUGGEST_BELOW:
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
