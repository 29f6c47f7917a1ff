"""Words, parts and light stemming: the tokeniser both documents and queries go through.

A *word* is a run of letters and digits possibly joined by ZWNJ; its *parts* are the pieces
between joiners (see :mod:`app.search.normalize`). :func:`stems` gives the reduced forms the
index stores besides the exact ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from app.search.normalize.chars import _PIECE, _WORD, normalize
from app.search.normalize.tables import (
    _MIN_ADJ_STEM,
    _MIN_PLURAL_STEM,
    _PLURALS,
    _PROTECTED,
    ZWNJ,
)


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a word: its normalised ``text``, its ``start``/``end`` offsets in the
    normalised string, whether it begins a word (``word_start``) and a run (``run_start``)."""

    text: str
    start: int
    end: int
    word_start: bool
    run_start: bool


_RawPart = tuple[str, int, int, bool, bool]


def _scan(text: str) -> list[_RawPart]:
    """Parts of character-mapped ``text`` as ``(text, start, end, word_start, run_start)``.

    Works on normalised text and on mapped text that still has repeated spaces or loose
    joiners (the highlighter's input): a joiner only continues a word between two parts.
    Space-separated chunks made only of letters (or only of digits) take a fast path.
    """
    out: list[_RawPart] = []
    run_start = True
    pos = 0
    for chunk in text.split(" "):
        if chunk:
            if chunk.isalpha() or chunk.isdecimal():
                out.append((chunk, pos, pos + len(chunk), True, run_start))
                run_start = False
            else:
                run_start = _scan_chunk(chunk, pos, run_start, out)
        pos += len(chunk) + 1
    return out


def _scan_chunk(chunk: str, offset: int, run_start: bool, out: list[_RawPart]) -> bool:
    word_start = True
    for m in _PIECE.finditer(chunk):
        kind = m.lastindex
        if kind == 1:
            start = offset + m.start()
            out.append((m.group(1), start, offset + m.end(), word_start, run_start))
            word_start = run_start = False
        elif kind != 2:
            word_start = run_start = True
    return run_start


def parts(text: str) -> list[Part]:
    """The parts of the normalised ``text``, in order (offsets refer to ``normalize(text)``)."""
    return [Part(*p) for p in _scan(normalize(text))]


def words(text: str) -> list[str]:
    """The words of ``text`` with joiners removed: «نام‌نویسی ها!» → [``نامنویسی``, ``ها``]."""
    return [m.group().replace(ZWNJ, "") for m in _WORD.finditer(normalize(text))]


# --- stemming ------------------------------------------------------------------------------------


def _english_singular(token: str) -> tuple[str, ...]:
    """The singular of an English plural (category names and English titles: «soaps»,
    «dates», «potteries»); ``()`` when the word does not look like one."""
    if len(token) < 4 or not token.endswith("s") or token.endswith(("ss", "us", "is")):
        return ()
    if token.endswith("ies") and len(token) > 4:
        return (token[:-3] + "y",)
    if token.endswith(("ches", "shes", "xes", "ses", "zes")):
        return (token[:-2],)
    return (token[:-1],)


@lru_cache(maxsize=65536)
def _stems(token: str) -> tuple[str, ...]:
    if token.isascii():
        return _english_singular(token) if token.isalpha() else ()
    if token in _PROTECTED:
        return ()
    out: list[str] = []
    base = token
    for suffix in _PLURALS:
        if token.endswith(suffix):
            if len(token) - len(suffix) < _MIN_PLURAL_STEM:
                return ()  # «بها», «رهای»: too short to be a trustworthy plural
            base = token[: -len(suffix)]
            out.append(base)
            break
    if base in _PROTECTED or not base.endswith("ی"):
        return tuple(out)
    if base.endswith("یی") and len(base) >= 4 and base[-3] in "او":
        out.append(base[:-2])  # خرمایی → خرما, دارویی → دارو
    elif len(base) >= 3 and base[-2] in "او":
        out.append(base[:-1])  # خرمای → خرما (ezafe / indefinite after a vowel)
    elif len(base) - 1 >= _MIN_ADJ_STEM and base[-2] != "ی":
        out.append(base[:-1])  # سفالی → سفال, گیاهی → گیاه, خانهی → خانه
    return tuple(out)


@lru_cache(maxsize=65536)
def ezafe_base(token: str) -> str | None:
    """The word an ezafe or indefinite «ی» after a long vowel is written on: «خرمای» →
    «خرما», «داروی» → «دارو»; ``None`` for any other token (at least three letters must
    remain, and protected words such as «چای» are kept). «شیرهٔ» and «خانه‌ی» need no rule:
    the normaliser drops the hamza and the joined «ی» is a bound suffix."""
    if len(token) >= 4 and token[-1] == "ی" and token[-2] in "او" and token not in _PROTECTED:
        return token[:-1]
    return None


def stems(token: str) -> list[str]:
    """Reduced forms of one normalised, joiner-free ``token``, most specific first.

    The token itself is not included (callers keep it so exact matches can rank first).
    Rules: plural ``هایی``/``های``/``ها`` (stem ≥ 2 letters); then a final ``یی`` or ``ی``
    after ``ا``/``و`` (ezafe, indefinite, adjective: «خرمایی», «خرمای» → «خرما»); then an
    adjectival/ezafe ``ی`` after a consonant when the stem keeps ≥ 3 letters («سفالی» →
    «سفال»). Protected words («ماهی», «قالی», «چای»…) are never reduced. ``ان``/``ات``
    plurals are deliberately not removed (too many false stems).

    >>> stems("کتابهای"), stems("ترشیها"), stems("ماهی")
    (['کتاب'], ['ترشی', 'ترش'], [])
    """
    return list(_stems(token))
