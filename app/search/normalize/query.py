"""Analysis: the index terms of a document's text and the words of a shopper's query.

:func:`index_forms` gives the terms a document is indexed under; :func:`parse_query` the
words a query requires, each with the terms that satisfy it (:class:`QueryWord`). The limits
that bound the work of one query ("did you mean" included) live here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from app.search.normalize.chars import normalize
from app.search.normalize.tables import _BOUND_SUFFIXES, _SPACED_SUFFIXES, STOPWORDS
from app.search.normalize.tokens import _scan, _stems, ezafe_base

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
    concatenation of two neighbouring parts of a run, the joined form of compounds of
    three or more parts, and the word under an ezafe («خرما» of «خرمای», see
    :func:`~app.search.normalize.tokens.ezafe_base`), which ranks like the word itself.
    ``reduced`` holds the stems (:func:`stems`) of the exact terms.
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
            base = ezafe_base(part)
            if base is not None:
                exact.append(base)
        if prev is not None:
            exact.append(prev + part)
        prev = part
        compound.append(part)
    if len(compound) >= 3:
        exact.append("".join(compound))
    reduced = [s for term in exact for s in _stems(term)]
    return exact, reduced


HEAD = "\x01"
"""Marks a title's head terms among its exact terms (see :func:`title_heads`)."""


def title_heads(title: str) -> list[str]:
    """The head of a title: its first word (joined) and first part, each with the word under
    an ezafe. In Persian the head noun comes first («خرمای مضافتی» is dates, «شیرهٔ خرما»
    date syrup), so a query word that is a title's head ranks above one further on."""
    found = _scan(normalize(title[:200]))
    if not found:
        return []
    first = [found[0][0]]
    for part, _s, _e, word_start, _r in found[1:]:
        if word_start:
            break
        first.append(part)
    out = ["".join(first), first[0]]
    out += [b for t in out if (b := ezafe_base(t)) is not None]
    return list(dict.fromkeys(out))


def analyze(text: str) -> list[str]:
    """All index terms of ``text``: exact and compound forms, then stems."""
    exact, reduced = index_forms(text)
    return exact + reduced


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One word of a query and the index terms that satisfy it.

    ``exact``: the word and its concatenations with the neighbouring query words (these count
    as exact matches) and the word under an ezafe; ``loose``: ``exact`` plus their stems,
    synonyms and transliterations; ``heads``: the forms that rank best as a title's head
    (:func:`title_heads`).
    """

    word: str
    exact: tuple[str, ...]
    loose: tuple[str, ...]
    heads: tuple[str, ...] = ()


def word_for(term: str, synonyms: Mapping[str, Sequence[str]] | None = None) -> QueryWord:
    """A query word for one normalised, joiner-free ``term`` (a correction of a typo or a
    transliteration), ranked as if the shopper had typed it (with its ``synonyms``)."""
    return _query_word(term, [term], term, synonyms)


def widen(w: QueryWord, forms: Iterable[str]) -> QueryWord:
    """``w`` also satisfied by ``forms`` (and their stems), which rank as loose matches."""
    loose = list(w.loose)
    for form in forms:
        for t in (form, *_stems(form)):
            if t not in loose:
                loose.append(t)
    return replace(w, loose=tuple(loose))


def _synonyms_of(keys: Iterable[str], synonyms: Mapping[str, Sequence[str]]) -> list[str]:
    out: list[str] = []
    for key in keys:
        out.extend(synonyms.get(key, ()))
    return out


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


def _query_word(
    w: str, exact: list[str], base: str, synonyms: Mapping[str, Sequence[str]] | None
) -> QueryWord:
    """The query word ``w`` with its joined forms ``exact`` and ``base``, the word without the
    suffix glued to it."""
    heads = [w]
    if base != w:
        heads.append(base)  # «خانه ای» also matches «خانه»
    under = ezafe_base(w)
    if under is not None:
        heads.append(under)  # «خرمای» ranks like «خرما»
        exact.insert(1, under)
    exact = list(dict.fromkeys(exact))
    loose = list(exact)
    if base != w:
        loose.append(base)
    for term in [*exact, base]:
        loose.extend(s for s in _stems(term) if s not in loose)
    if synonyms:
        for other in _synonyms_of([w, *heads[1:], *loose[len(exact) :]], synonyms):
            for t in (other, *_stems(other)):
                if t not in loose:
                    loose.append(t)
    return QueryWord(w, tuple(exact), tuple(loose), tuple(dict.fromkeys(heads)))


def parse_query(
    text: str,
    max_words: int = MAX_QUERY_WORDS,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> list[QueryWord]:
    """Turn free text into query words.

    Never raises: punctuation, query-language operators and symbols are ignored, only the
    first 10,000 characters and the first ``max_words`` distinct words count. A suffix part
    («کتاب‌ها», «کتاب ها») is glued to the word before it. Words in :data:`STOPWORDS` («و»,
    «در», «با»…) are dropped unless the query has no other word; their neighbours still get
    the joined forms («سیستان و بلوچستان» also finds «سیستان وبلوچستان»). ``synonyms`` maps
    a normalised word to words that also satisfy it (looked up by the word, its base and
    its stems: «ظرفهای» finds what «ظرف» is a synonym of).
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
        qw = _query_word(w, exact, bases[i], synonyms)
        if qw.exact in seen:
            continue
        seen.add(qw.exact)
        out.append(qw)
        if len(out) >= max_words:
            break
    content = [w for w in out if w.word not in STOPWORDS]
    return content or out


def analyze_query(text: str) -> list[str]:
    """Every index term any word of the query ``text`` may match (flat, de-duplicated)."""
    return list(dict.fromkeys(t for w in parse_query(text) for t in w.loose))
