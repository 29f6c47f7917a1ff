"""Facet counts over a view's documents: per category, county and sector, each counted with
every *other* filter applied.

Counted from the view's ``combo`` column (the (category, county, sector) tuple of each
document): facets that count the same documents share one pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING

from app.search.backend import FACETS

if TYPE_CHECKING:  # the view counts its own facets with these functions
    from app.search.whoosh.views import _View

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
