"""Analysis: the index terms of a document's text and the words of a shopper's query.

:func:`index_forms` gives the terms a document is indexed under; :func:`parse_query` the
words a query requires, each with the terms that satisfy it (:class:`QueryWord`). The limits
that bound the work of one query ("did you mean" included) live here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.search.normalize.chars import normalize
from app.search.normalize.tables import _BOUND_SUFFIXES, _SPACED_SUFFIXES, STOPWORDS
from app.search.normalize.tokens import _scan, _stems

MAX_QUERY_WORDS = 32
"""At most this many words of a query are used; the rest is ignored."""
MAX_TYPO_CHARS = 24
""""Did you mean" looks only at words of at most this many letters: no misspelling of an
indexed word is longer, and the fuzzy term lookup costs in proportion to the word's length."""
MAX_TYPO_WORDS = 4
"""…at most this many unknown words of a query…"""
MAX_TYPO_LETTERS = 24
"""…with at most this many letters in all, so any query costs about what one typo does."""


def index_forms(text: str) -> tuple[list[str], list[str]]:
    """Index terms of ``text``: ``(exact, reduced)``.

    ``exact`` holds every part (except bound suffixes such as the «ها» of «کتاب‌ها»), every
    concatenation of two neighbouring parts of a run, and the joined form of compounds of
    three or more parts. ``reduced`` holds the stems (:func:`stems`) of the exact terms.
    """
    exact: list[str] = []
    compound: list[str] = []
    prev: str | None = None
    for part, _s, _e, word_start, run_start in _scan(normalize(text)):
        if run_start:
            prev = None
        if word_start:
            if len(compound) >= 3:
                exact.append("".join(compound))
            compound = []
        if word_start or part not in _BOUND_SUFFIXES:
            exact.append(part)
        if prev is not None:
            exact.append(prev + part)
        prev = part
        compound.append(part)
    if len(compound) >= 3:
        exact.append("".join(compound))
    reduced = [s for term in exact for s in _stems(term)]
    return exact, reduced


def analyze(text: str) -> list[str]:
    """All index terms of ``text``: exact and compound forms, then stems."""
    exact, reduced = index_forms(text)
    return exact + reduced


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One word of a query and the index terms that satisfy it.

    ``exact``: the word and its concatenations with the neighbouring query words (these count
    as exact matches); ``loose``: ``exact`` plus their stems.
    """

    word: str
    exact: tuple[str, ...]
    loose: tuple[str, ...]


def typo_words(words: Iterable[str]) -> list[int]:
    """Positions of the words "did you mean" may correct: of three to :data:`MAX_TYPO_CHARS`
    letters and not a number. Of those it does not know, a backend looks up only the ones
    :func:`typo_budget` keeps."""
    return [i for i, w in enumerate(words) if 3 <= len(w) <= MAX_TYPO_CHARS and not w.isdecimal()]


def typo_budget(words: Sequence[str], positions: Iterable[int]) -> list[int]:
    """The first of ``positions`` (unknown words) that "did you mean" looks up: at most
    :data:`MAX_TYPO_WORDS` of them with at most :data:`MAX_TYPO_LETTERS` letters in all (a
    word that does not fit is skipped). The fuzzy lookup costs in proportion to the letters,
    so this bounds the work of any query."""
    out: list[int] = []
    letters = 0
    for i in positions:
        if len(out) >= MAX_TYPO_WORDS:
            break
        if letters + len(words[i]) <= MAX_TYPO_LETTERS:
            out.append(i)
            letters += len(words[i])
    return out


def parse_query(text: str, max_words: int = MAX_QUERY_WORDS) -> list[QueryWord]:
    """Turn free text into query words.

    Never raises: punctuation, query-language operators and symbols are ignored, only the
    first 10,000 characters and the first ``max_words`` distinct words count. A suffix part
    («کتاب‌ها», «کتاب ها») is glued to the word before it. Words in :data:`STOPWORDS` («و»,
    «در», «با»…) are dropped unless the query has no other word; their neighbours still get
    the joined forms («سیستان و بلوچستان» also finds «سیستان وبلوچستان»).
    """
    seq: list[str] = []
    bases: list[str] = []  # each word without the suffix glued to it
    joined: list[bool] = []  # whether the word continues the run of the word before it
    for part, _s, _e, word_start, run_start in _scan(normalize(text[:10_000])):
        glued = not word_start or part in _SPACED_SUFFIXES
        if seq and not run_start and part in _BOUND_SUFFIXES and glued:
            seq[-1] += part
            continue
        if len(seq) > 4 * max_words:
            break
        seq.append(part)
        bases.append(part)
        joined.append(not run_start)
    out: list[QueryWord] = []
    seen: set[tuple[str, ...]] = set()
    for i, w in enumerate(seq):
        exact = [w]
        if i > 0 and joined[i]:
            exact.append(seq[i - 1] + w)
        if i + 1 < len(seq) and joined[i + 1]:
            exact.append(w + seq[i + 1])
        exact = list(dict.fromkeys(exact))
        loose = list(exact)
        if bases[i] != w:
            loose.append(bases[i])  # «خانه ای» also matches «خانه»
        for term in [*exact, bases[i]]:
            loose.extend(s for s in _stems(term) if s not in loose)
        key = tuple(exact)
        if key in seen:
            continue
        seen.add(key)
        out.append(QueryWord(w, key, tuple(loose)))
        if len(out) >= max_words:
            break
    content = [w for w in out if w.word not in STOPWORDS]
    return content or out


def analyze_query(text: str) -> list[str]:
    """Every index term any word of the query ``text`` may match (flat, de-duplicated)."""
    return list(dict.fromkeys(t for w in parse_query(text) for t in w.loose))
