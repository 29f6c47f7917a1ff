"""Matching and ranking over a view's posting lists: which documents have every query word,
in which tier each word reaches them, and the best of them in order.

The tiers and their weights are described in :mod:`app.search.whoosh`; everything here works
on sets and arrays of docnums (term-at-a-time), never per document through Whoosh.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby, product

from app.search.backend import SearchQuery, count_options, options_match, wanted_options
from app.search.normalize import HEAD, QueryWord
from app.search.whoosh.facets import _apply
from app.search.whoosh.views import _View


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
            (5.0, [post("title", HEAD + h) for h in w.heads]),
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
    chosen = wanted_options(q.options)
    if chosen:
        # one mask for every option filter: the option facets leave each name's own filter
        # out themselves (:func:`_option_facets`)
        opts = view.opts
        masks["options"] = [bool(opts[d]) and options_match(opts[d], chosen) for d in docs]
    return masks


def _option_facets(
    view: _View, matched: Collection[int], q: SearchQuery
) -> dict[str, dict[str, int]]:
    """The option facets (:attr:`app.search.SearchResult.options`) of the documents of
    ``matched`` (the view's live list, or a set) that have options and pass every filter but
    the option filters."""
    docs = view.optioned
    if matched is not view.live:
        wanted_docs = matched if isinstance(matched, set) else set(matched)
        docs = [d for d in docs if d in wanted_docs]
    if not docs:
        return {}
    masks = _filter_masks(view, docs, q)
    masks.pop("options", None)
    if masks:
        docs = _apply(docs, list(masks.values()))
    opts = view.opts
    return count_options((opts[d] for d in docs), wanted_options(q.options))


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
