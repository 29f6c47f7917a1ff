"""Highlighting: the words of a text that match a query, marked on the *original* text
(found with the same normalisation and stems as the search), everything else HTML-escaped.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from app.search.normalize.chars import _NEEDS_MAP, _TABLE
from app.search.normalize.query import QueryWord, parse_query
from app.search.normalize.tables import ZWNJ
from app.search.normalize.tokens import _scan, _stems


def _mapped_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Character-mapped ``text`` (no clean-up) and, per output character, its source index
    (``None`` when every character maps to exactly one character)."""
    needy = [(m.start(), _TABLE[ord(m.group())]) for m in _NEEDS_MAP.finditer(text)]
    if all(len(v) == 1 for _, v in needy):
        return (text.translate(_TABLE) if needy else text), None
    pieces: list[str] = []
    src: list[int] = []
    pos = 0
    for i, value in needy:
        pieces.append(text[pos:i])
        src.extend(range(pos, i))
        pieces.append(value)
        src.extend([i] * len(value))
        pos = i + 1
    pieces.append(text[pos:])
    src.extend(range(pos, len(text)))
    return "".join(pieces), src


def _match_spans(text: str, query: Iterable[QueryWord]) -> list[tuple[int, int]]:
    """Spans of ``text`` (original offsets) whose words match the query."""
    return _matches(text, query)[0]


def matched_words(text: str, query: str | Iterable[QueryWord]) -> int:
    """How many distinct words of ``query`` occur (in any form) in ``text``."""
    q = parse_query(query) if isinstance(query, str) else list(query)
    return len(_matches(text, q)[1])


@lru_cache(maxsize=256)
def _wanted(query: tuple[QueryWord, ...]) -> tuple[dict[str, set[int]], set[str], list[str]]:
    """For a query: each wanted term and the words it stands for; the first two letters of
    the wanted terms (every candidate key — a form or one of its stems, which are prefixes of
    at least two letters — starts with them), and those heads as they may appear in text (a
    space or joiner may split a two-letter head: the end of one word and the start of the
    next form a compound)."""
    owner: dict[str, set[int]] = {}
    for n, w in enumerate(query):
        for form in w.loose:
            owner.setdefault(form, set()).add(n)
    heads = {term[:2] for term in owner}
    variants = list(heads)
    for h in heads:
        if len(h) == 2:
            variants += [h[0] + " " + h[1], h[0] + ZWNJ + h[1]]
    return owner, heads, variants


def _matches(text: str, query: Iterable[QueryWord]) -> tuple[list[tuple[int, int]], set[int]]:
    owner, heads, variants = _wanted(tuple(query))
    wanted = owner.keys()
    which: set[int] = set()
    if not owner or not text:
        return [], which
    mapped, src = _mapped_with_offsets(text)
    if not any(h in mapped for h in variants):
        return [], which  # no word of the text can start like a wanted term
    found = _scan(mapped)
    hits: set[int] = set()
    last = len(found) - 1
    for i, (part, _s, _e, _ws, run_start) in enumerate(found):
        prev = found[i - 1][0] if i > 0 and not run_start else ""
        if len(part) > 1 and part[:2] not in heads and (not prev or (prev + part)[:2] not in heads):
            continue  # no form of this part can match (the common case)
        forms = [part]
        if prev:
            forms.append(prev + part)
        if i < last and not found[i + 1][4]:
            forms.append(part + found[i + 1][0])
        for form in forms:
            if form[:2] not in heads:
                continue
            for key in (form, *_stems(form)):
                if key in wanted:
                    hits.add(i)
                    which.update(owner[key])
    spans: list[tuple[int, int]] = []
    for i in sorted(hits):
        start, end = found[i][1], found[i][2]
        if src is not None:
            start, end = src[start], src[end - 1] + 1
        # extend over marks that follow the last letter (diacritics, tatweel…)
        while end < len(text) and _TABLE[ord(text[end])] == "":
            end += 1
        if spans and _only_joiners(text[spans[-1][1] : start]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans, which


def _only_joiners(gap: str) -> bool:
    return all(_TABLE[ord(c)] in ("", ZWNJ) for c in gap)


def _render(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> str:
    out: list[str] = []
    pos = lo
    for start, end in spans:
        if end <= lo or start >= hi:
            continue
        start, end = max(start, lo), min(end, hi)
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:hi]))
    return "".join(out)


def highlight(text: str, query: str | Iterable[QueryWord]) -> str:
    """``text`` HTML-escaped, with the words matching ``query`` wrapped in ``<mark>``.

    Matching uses the same normalisation and stems as the search, on the original text, so
    «سوزن‌دوزی» is marked for the query «سوزندوزی» and «ترشی‌ها» for «ترشی».
    """
    q = parse_query(query) if isinstance(query, str) else list(query)
    return _render(text, _match_spans(text, q), 0, len(text))


def snippet(text: str, query: str | Iterable[QueryWord], max_chars: int = 160) -> str | None:
    """An HTML-escaped excerpt of about ``max_chars`` characters around the first match in
    ``text``, matches wrapped in ``<mark>``, ``…`` where cut; ``None`` when nothing matches."""
    q = parse_query(query) if isinstance(query, str) else list(query)
    return _snippet(text, _match_spans(text, q), max_chars)


_JOINING = "\u200c\u200d\u034f\u00ad\u0640"


def _inside_word(text: str, i: int) -> bool:
    """Whether a cut before ``text[i]`` would split a word."""

    def letter(c: str) -> bool:
        return c.isalnum() or c in _JOINING or unicodedata.category(c) == "Mn"

    return 0 < i < len(text) and letter(text[i - 1]) and letter(text[i])


def _word_start(text: str, i: int, floor: int) -> int:
    """``i`` moved back to the start of its word (forward to its end when the word starts
    before ``floor``... or is absurdly long)."""
    j = i
    while j > floor and _inside_word(text, j):
        j -= 1
    if not _inside_word(text, j):
        return j
    while _inside_word(text, i):
        i += 1
    return i


def _snippet(text: str, spans: list[tuple[int, int]], max_chars: int) -> str | None:
    """The part of ``text`` around the first span, cut only between words."""
    if not spans:
        return None
    first = spans[0][0]
    lo = max(0, first - max_chars // 4)
    if lo > 0:
        lo = min(_word_start(text, lo, max(0, lo - 20)), first)
    hi = min(len(text), lo + max_chars)
    if hi < len(text) and _inside_word(text, hi):
        end = hi
        while end < min(len(text), hi + 20) and _inside_word(text, end):
            end += 1
        if _inside_word(text, end):  # a very long word: cut before it
            while hi > lo and _inside_word(text, hi):
                hi -= 1
            hi = hi if hi > lo else end
        else:
            hi = end
    body = _render(text, spans, lo, hi).strip()
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")


def excerpt(
    title: str, description: str, query: str | Iterable[QueryWord], max_chars: int = 160
) -> str:
    r"""What a result list shows under a product: the :func:`snippet` of the description when
    it matches as many query words as the title does, otherwise the :func:`highlight`\ ed
    title. Only the first 2,000 characters of the description are considered."""
    q = parse_query(query) if isinstance(query, str) else list(query)
    description = description[:2000]
    d_spans, d_words = _matches(description, q)
    t_spans, t_words = _matches(title, q)
    if d_spans and len(d_words) >= len(t_words):
        out = _snippet(description, d_spans, max_chars)
        if out is not None:
            return out
    return _render(title, t_spans, 0, len(title))
