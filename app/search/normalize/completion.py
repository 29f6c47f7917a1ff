"""Completion: reading what a shopper has typed so far and ranking the display strings
(titles, category names, seller names) that complete it. Pure, so that every backend completes
the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.search.normalize.chars import fold, normalize
from app.search.normalize.query import QueryWord, index_forms, parse_query
from app.search.normalize.tokens import _scan

COMPLETION_PREFIX_MIN = 2
"""The last word of what a search box holds is completed from this many letters on."""


def completion_prefix(prefix: str) -> tuple[str, list[QueryWord], str] | None:
    """Read what a shopper has typed so far: ``(normalised text, the complete words before
    the last one (at most 8), the last word)``. The last word is ``""`` when the text ends
    with a space (every word is then complete). ``None`` when nothing is usable: no word, or
    a last word shorter than :data:`COMPLETION_PREFIX_MIN`. Pure, so that every backend
    completes the same way."""
    norm = normalize(prefix[:200])
    found = _scan(norm)
    if not found:
        return None
    if prefix != prefix.rstrip():
        head, last = parse_query(norm), ""
    else:
        head, last = parse_query(norm[: found[-1][1]]), found[-1][0]
        if len(last) < COMPLETION_PREFIX_MIN:
            return None
    return norm, head[:8], last


def _completes(text: str, head_terms: list[set[str]], last: str) -> bool:
    """Whether display string ``text`` contains every complete word and a word starting with
    ``last`` (all normalised)."""
    exact, reduced = index_forms(text)
    if last and not any(t.startswith(last) for t in exact):
        return False
    have = set(exact).union(reduced)
    return all(terms & have for terms in head_terms)


def rank_completions(
    stored: Iterable[tuple[str, str, str]],
    head: list[QueryWord],
    last: str,
    norm: str,
    limit: int,
) -> list[str]:
    """Completions from the ``(title, category path, seller name)`` of the products that
    match, best product first (see :func:`completion_prefix` for ``head``, ``last`` and
    ``norm``).

    Candidates are each category name of the path, the seller name and the title, kept when
    they hold every complete word and a word starting with ``last``. Those that start with
    the typed text come first; then category names before seller names before titles, the
    more frequent first, then the one of the better product, then the shorter.
    """
    head_terms = [set(w.loose) for w in head]
    scores: dict[str, list[float]] = {}
    rejected: set[str] = set()
    folded_prefix = fold(norm)
    for rank, (title, category_path, seller_name) in enumerate(stored):
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
    return [text for text, _ in ordered[: max(0, limit)]]
