"""Searching the Whoosh index: one query's matches, filters, facets, page and highlights,
"did you mean", and completion.

The matching and ranking run over the view's posting lists (:mod:`app.search.whoosh.matching`);
the fuzzy term lookup of "did you mean" (:func:`_closest_term`) reads Whoosh's term graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection
from dataclasses import replace

from app.search.backend import SUGGEST_BELOW, SearchQuery, SearchResult
from app.search.normalize import (
    QueryWord,
    completion_prefix,
    excerpt,
    is_latin,
    parse_query,
    rank_completions,
    transliterate,
    typo_budget,
    typo_words,
    widen,
    word_for,
)
from app.search.whoosh.facets import _apply, _count_facets, _facets_of
from app.search.whoosh.matching import (
    _filter_masks,
    _matching,
    _option_facets,
    _rank,
    _sorted_page,
    _Word,
)
from app.search.whoosh.store import _WhooshStore
from app.search.whoosh.views import _View


class _WhooshReader(_WhooshStore):
    """Searching the open view: :meth:`search` and :meth:`suggest`."""

    def search(self, q: SearchQuery) -> SearchResult:
        """See :meth:`app.search.backend.SearchBackend.search`."""
        q = q.clamped()
        qwords = parse_query(q.text, synonyms=q.synonyms)
        with self._reading() as view:
            result = self._search(view, q, qwords)
            if result.total == 0 and result.suggestion and not q.exact:
                # nothing found: answer with the correction at once
                fixed = replace(q, text=result.suggestion, exact=True)
                qwords = parse_query(fixed.text, synonyms=q.synonyms)
                again = self._search(view, fixed, qwords)
                if again.total:
                    again.corrected = result.suggestion
                    return again
            return result

    def _forgive(
        self, view: _View, q: SearchQuery, words: list[_Word]
    ) -> tuple[list[_Word], str | None, set[str]]:
        """Words the index does not know: a Latin one also as its Persian spellings the
        vocabulary (title, category and seller terms) holds, the most frequent as the word;
        unless ``q.exact``, one of four letters or more as its closest vocabulary term (one
        edit, same first letter), within :func:`typo_budget`. Also the corrected query when a
        typo was corrected, and the words looked up in vain."""
        out = list(words)
        for i, w in enumerate(words):
            if w.tiers or not is_latin(w.query.word):
                continue
            found = {t: n for t in transliterate(w.query.word) if (n := _vocabulary_count(view, t))}
            if found:
                best = max(sorted(found), key=found.__getitem__)
                out[i] = _Word.lookup(
                    view, widen(word_for(best, q.synonyms), [*sorted(found), w.query.word])
                )
        if q.exact:
            return out, None, set()
        texts = [w.query.word for w in out]
        unknown = [i for i in typo_words(texts) if not out[i].tiers and len(texts[i]) >= 4]
        changed = False
        tried: set[str] = set()
        for i in typo_budget(texts, unknown):
            fix = _closest_term(view, texts[i], 1)
            if fix is not None:
                out[i] = _Word.lookup(view, word_for(fix, q.synonyms))
                texts[i], changed = fix, True
            else:
                tried.add(texts[i])
        return out, " ".join(texts) if changed else None, tried

    def _search(self, view: _View, q: SearchQuery, qwords: list[QueryWord]) -> SearchResult:
        # ``matched`` is a list (all live documents) or a set (documents with every word);
        # sets are only iterated while unchanged, so masks built over one stay aligned
        matched: Collection[int] = view.live
        with_words: set[int] | None = None  # ``matched`` when it is the set
        words: list[_Word] = []
        corrected = None
        tried: set[str] = set()
        if qwords:
            words = [_Word.lookup(view, w) for w in qwords]
            if not all(w.tiers for w in words):
                words, corrected, tried = self._forgive(view, q, words)
                qwords = [w.query for w in words]
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
        result = SearchResult(
            ids=[view.ids[d] for d in page_docs],
            total=len(final),
            facets=facets,
            options=_option_facets(view, matched, q),
        )
        if corrected is not None and len(final):
            result.corrected = corrected
        if qwords:
            for d in page_docs:
                title, description = view.searcher.stored_fields(d)["doc"][:2]
                result.highlights[view.ids[d]] = excerpt(title, description, qwords)
            if len(final) < SUGGEST_BELOW and result.corrected is None:
                result.suggestion = self._did_you_mean(view, words, len(matched), tried)
        return result

    def _did_you_mean(
        self, view: _View, words: list[_Word], found: int, tried: set[str]
    ) -> str | None:
        """A query with unknown words replaced by the most frequent indexed word within one
        (two, for words of five letters or more) edits, if it finds more than ``found``. Only
        unknown words that :func:`typo_words` allows (not too long) and :func:`typo_budget`
        keeps (a few, of few letters in all) are looked up: the fuzzy lookup costs in
        proportion to a word's length. Words in ``tried`` are known to have no term one edit
        away."""
        out = [w.query.word for w in words]
        unknown = typo_budget(out, (i for i in typo_words(out) if not words[i].tiers))
        changed = False
        for i in unknown:
            word = out[i]
            fix = None if word in tried else _closest_term(view, word, 1)
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


def _vocabulary_count(view: _View, term: str) -> int:
    """How many products have ``term`` among their title or category/seller terms (the
    vocabulary corrections and transliterations are taken from, as in the PostgreSQL
    backend)."""
    return len(set(view.postings("title", term)).union(view.postings("meta", term)))


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
