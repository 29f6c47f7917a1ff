"""Persian text normalisation, tokenising, light stemming and highlighting.

Pure functions, no index library: the same code prepares documents for the index and queries
for the search, so whatever a shopper types meets the catalogue on equal terms.

**Normalisation** (:func:`normalize`) folds the spellings people actually type:

- Arabic yeh/alef maksura ``ي ى`` (and yeh with hamza ``ئ``) → ``ی``; Arabic kaf ``ك`` → ``ک``;
  teh marbuta ``ة``, ``ۀ``, ``ە``, ``ہ``, ``ھ`` → ``ه``; ``أ إ ٱ آ`` → ``ا``; ``ؤ`` → ``و``.
- Diacritics (harakat U+064B–U+065F, superscript alef U+0670, Quranic marks, and every other
  non-spacing mark, which also folds Latin accents) and tatweel U+0640 are removed.
- Persian ``۰–۹`` and Arabic-Indic ``٠–٩`` digits → ASCII digits.
- Arabic presentation forms (U+FB50–U+FEFF) and other compatibility characters → base letters
  (Unicode compatibility decomposition); Latin is case-folded.
- Joiners — ZWNJ U+200C, ZWJ U+200D, combining grapheme joiner U+034F, soft hyphen U+00AD,
  word joiner U+2060, U+FEFF — become one ZWNJ *between two letters*; a joiner next to a space
  or at a word edge («نرم͏ افزار») is dropped. Bidi marks are removed.
- No-break and other odd spaces (U+00A0, U+2000–U+200B, U+202F, U+205F, U+3000, controls)
  become one ASCII space; the result is stripped.

**Words, parts and compounds.** A *word* is a run of letters and digits possibly joined by
ZWNJ; its *parts* are the pieces between joiners (a switch between digits and letters is also
a part boundary: «۵۰۰گرم» → ``500`` + ``گرم``). Neighbouring words separated only by spaces
form a *run*; punctuation ends a run.

**Joined, half-joined and spaced compounds** («نام‌نویسی», «نامنویسی», «نام نویسی») find each
other both ways:

- *documents* index every part, every concatenation of two neighbouring parts in a run
  (within a word or across a space: «نام نویسی» and «نام‌نویسی» both give ``نامنویسی``) and the
  whole joined form of a compound of three or more parts;
- *queries* require each word, where a word is also satisfied by its concatenation with the
  word before or after it; so the query «نام نویسی» finds a document spelled «نامنویسی», and
  the query «نامنویسی» finds documents spelled «نام نویسی» or «نام‌نویسی». A standalone plural
  or ezafe suffix in a query («کتاب ها», «خانه ای») is glued to the word before it, and
  function words (:data:`STOPWORDS`: «و», «در», «با»…) are not required.

**Light stemming** (:func:`stems`) removes plural ``ها/های/هایی`` and a final ezafe, indefinite
or adjectival ``ی``/``یی``, with minimum stem lengths and a short list of words that are never
reduced («ماهی» stays fish). Stems are *additional* index terms: the backend indexes the exact
forms in their own fields and boosts them, so an exact match always ranks above a stem match.

**Highlighting** (:func:`highlight`, :func:`snippet`, :func:`excerpt`) marks matches on the
*original* text, found with the same normalisation and stems, and HTML-escapes everything else.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "COMPLETION_PREFIX_MIN",
    "MAX_QUERY_WORDS",
    "MAX_TYPO_CHARS",
    "MAX_TYPO_LETTERS",
    "MAX_TYPO_WORDS",
    "Part",
    "QueryWord",
    "STOPWORDS",
    "analyze",
    "analyze_query",
    "completion_prefix",
    "excerpt",
    "fold",
    "highlight",
    "index_forms",
    "matched_words",
    "normalize",
    "parse_query",
    "parts",
    "rank_completions",
    "snippet",
    "stems",
    "typo_budget",
    "typo_words",
    "words",
]

ZWNJ = "\u200c"
MAX_QUERY_WORDS = 32
"""At most this many words of a query are used; the rest is ignored."""
MAX_TYPO_CHARS = 24
""""Did you mean" looks only at words of at most this many letters: no misspelling of an
indexed word is longer, and the fuzzy term lookup costs in proportion to the word's length."""
MAX_TYPO_WORDS = 4
"""…at most this many unknown words of a query…"""
MAX_TYPO_LETTERS = 24
"""…with at most this many letters in all, so any query costs about what one typo does."""

# --- character table ---------------------------------------------------------------------------

_JOINERS = "\u200c\u200d\u034f\u00ad\u2060\ufeff"
_BIDI = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SPACES = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u00a0\u1680\u180e"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_LETTERS = {
    "\u064a": "ی",  # ARABIC LETTER YEH
    "\u0649": "ی",  # ARABIC LETTER ALEF MAKSURA
    "\u0626": "ی",  # YEH WITH HAMZA ABOVE
    "\u06cd": "ی",  # YEH WITH TAIL
    "\u06d0": "ی",  # E
    "\u0643": "ک",  # ARABIC LETTER KAF
    "\u06aa": "ک",  # SWASH KAF
    "\u0629": "ه",  # TEH MARBUTA
    "\u06c0": "ه",  # HEH WITH YEH ABOVE
    "\u06d5": "ه",  # AE
    "\u06c1": "ه",  # HEH GOAL
    "\u06c2": "ه",  # HEH GOAL WITH HAMZA ABOVE
    "\u06be": "ه",  # HEH DOACHASHMEE
    "\u0623": "ا",  # ALEF WITH HAMZA ABOVE
    "\u0625": "ا",  # ALEF WITH HAMZA BELOW
    "\u0671": "ا",  # ALEF WASLA
    "\u0622": "ا",  # ALEF WITH MADDA ABOVE
    "\u0672": "ا",
    "\u0673": "ا",
    "\u0624": "و",  # WAW WITH HAMZA ABOVE
    "\u066b": ".",  # ARABIC DECIMAL SEPARATOR
    "\u066c": ",",  # ARABIC THOUSANDS SEPARATOR
    "\u066a": "%",  # ARABIC PERCENT SIGN
}
for _i in range(10):
    _LETTERS[chr(0x06F0 + _i)] = str(_i)  # Persian digits
    _LETTERS[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits


def _map_char(ch: str) -> str:
    """The normalised replacement for one character (before joiner and space clean-up)."""
    if ch in _JOINERS:
        return ZWNJ
    if ch in _SPACES:
        return " "
    if ch in _BIDI or ch == "\u0640":  # bidi marks, tatweel
        return ""
    mapped = _LETTERS.get(ch)
    if mapped is not None:
        return mapped
    if ch.isascii():
        return ch.lower() if "A" <= ch <= "Z" else ch
    decomposed = unicodedata.normalize("NFKD", ch)
    decomposed = unicodedata.normalize("NFKD", decomposed.casefold())
    out = []
    for c in decomposed:
        cat = unicodedata.category(c)
        if cat == "Mn" or (cat == "Cf" and c != ZWNJ):
            continue  # diacritics, other format characters
        if cat == "Cc" or c in _SPACES:
            out.append(" ")
            continue
        out.append(_LETTERS.get(c, c))
    return "".join(out)


class _Table(dict):
    """``str.translate`` table that fills itself on first sight of each character (up to a
    bound, so that text made of every code point cannot grow it without limit)."""

    def __missing__(self, code: int) -> str:
        value = _map_char(chr(code))
        if len(self) < 50_000:
            self[code] = value
        return value


_TABLE = _Table()

# Characters that normalise to themselves: ASCII lower-case letters, digits, space, common
# punctuation, ZWNJ and the standard Persian letters. Text made only of these is left as is.
_SAFE = (
    "a-z0-9 !-@\\[\\]^_`{|}~\u200c\u0621\u0627\u0628\u062a-\u063a\u0641\u0642\u0644-\u0648"
    "\u067e\u0686\u0698\u06a9\u06af\u06cc\u060c\u061b\u061f\u00ab\u00bb"
)
_NEEDS_MAP = re.compile(f"[^{_SAFE}]")
_W = r"[^\W_]"  # a letter or digit
_SPACE_RUN = re.compile(r" {2,}")
_ZWNJ_RUN = re.compile(ZWNJ + "{2,}")
_LOOSE_ZWNJ = re.compile(rf"(?<!{_W}){ZWNJ}|{ZWNJ}(?!{_W})")
_WORD = re.compile(rf"{_W}+(?:{ZWNJ}+{_W}+)*")
# a part (run of digits or of letters), joiners, or anything else (ends a run)
_PIECE = re.compile(rf"(\d+|[^\W\d_]+)|({ZWNJ}+)|.", re.DOTALL)


def _translate(text: str) -> str:
    return text.translate(_TABLE) if _NEEDS_MAP.search(text) else text


def normalize(text: str) -> str:
    """Return the canonical form of ``text`` (see the module docstring for every rule).

    Word structure is kept: every joiner between two letters becomes one ZWNJ (U+200C), so
    «نام‌نویسی» and «نام͏نویسی» normalise equal; use :func:`fold` to drop joiners too.
    Idempotent: ``normalize(normalize(t)) == normalize(t)``.
    """
    if not text:
        return ""
    s = _translate(text)
    if ZWNJ in s:
        s = _ZWNJ_RUN.sub(ZWNJ, s)
        s = _LOOSE_ZWNJ.sub("", s)
    if "  " in s:
        s = _SPACE_RUN.sub(" ", s)
    return s.strip(" ")


def fold(text: str) -> str:
    """:func:`normalize` and then remove joiners: «نام‌نویسی» and «نامنویسی» fold equal."""
    return normalize(text).replace(ZWNJ, "")


# --- words and parts -----------------------------------------------------------------------------


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

_PLURALS = ("هایی", "های", "ها")
_MIN_PLURAL_STEM = 2
_MIN_ADJ_STEM = 3
_PROTECTED = frozenset(
    {
        "ماهی",  # fish, not «ماه» (moon, month)
        "قالی",  # carpet
        "صندلی",  # chair
        "کشتی",  # ship
        "چای",  # tea
        "سی",
        "نی",
        "پی",
        "بی",
        "کی",
        "وی",
        "ری",
        "دی",
    }
)
# a part that is only a suffix when it follows a joiner inside a word («کتاب‌ها»)
_BOUND_SUFFIXES = frozenset(
    {
        "ها",
        "های",
        "هایی",
        "هایم",
        "هایت",
        "هایش",
        "هایمان",
        "هایتان",
        "هایشان",
        "ی",
        "ای",
        "ایی",
        "یی",
        "ام",
        "ات",
        "اش",
        "مان",
        "تان",
        "شان",
        "تر",
        "ترین",
        "اند",
        "ایم",
        "اید",
    }
)
# a standalone query word that is glued to the word before it («کتاب ها», «خانه ای»)
_SPACED_SUFFIXES = frozenset({"ها", "های", "هایی", "ای", "ی"})
# query words that are not required (unless the query has nothing else); documents keep them
STOPWORDS = frozenset(
    [
        "و",
        "در",
        "به",
        "از",
        "با",
        "که",
        "را",
        "این",
        "ان",
        "برای",
        "تا",
        "یا",
        "هم",
        "بر",
        "است",
        "می",
        "the",
        "a",
        "an",
        "of",
        "and",
        "or",
        "in",
        "on",
        "for",
        "to",
    ]
)


@lru_cache(maxsize=65536)
def _stems(token: str) -> tuple[str, ...]:
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


# --- analysis ------------------------------------------------------------------------------------


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


# --- highlighting --------------------------------------------------------------------------------


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


def _snippet(text: str, spans: list[tuple[int, int]], max_chars: int) -> str | None:
    if not spans:
        return None
    first = spans[0][0]
    lo = max(0, first - max_chars // 4)
    if lo > 0:
        space = text.rfind(" ", 0, lo)
        lo = space + 1 if space >= 0 and lo - space < 20 else lo
    hi = min(len(text), lo + max_chars)
    if hi < len(text):
        space = text.find(" ", hi)
        hi = space if 0 <= space - hi < 20 else hi
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


# --- completion ----------------------------------------------------------------------------------

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
