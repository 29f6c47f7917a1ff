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

**Ezafe** after a long vowel («خرمای», «داروی»: :func:`ezafe_base`) indexes and queries the
word under it as an exact term too, so «خرمای مضافتی» ranks like «خرما مضافتی»; a title's first
word is its head (:func:`title_heads`; «شیرهٔ خرما» is syrup, «خرمای مضافتی» dates).

**Forgiving queries.** :func:`parse_query` takes staff-edited synonyms (applied at query
time); :func:`transliterate` spells Latin-script Persian («khorma») in Persian letters; a
backend widens a word (:func:`widen`) or replaces an unknown one by its correction
(:func:`word_for`).

**Highlighting** (:func:`highlight`, :func:`snippet`, :func:`excerpt`) marks matches on the
*original* text, found with the same normalisation and stems, and HTML-escapes everything else.

This package's names are the whole interface; its modules, each using only those above it:
:mod:`~app.search.normalize.tables` (the character tables and word lists),
:mod:`~app.search.normalize.chars` (the normaliser), :mod:`~app.search.normalize.tokens`
(words, parts, stems), :mod:`~app.search.normalize.query` (index terms and query words),
:mod:`~app.search.normalize.highlight`, :mod:`~app.search.normalize.completion` and
:mod:`~app.search.normalize.latin` (transliteration).
"""

from app.search.normalize.chars import fold, fold_pairs, normalize
from app.search.normalize.completion import (
    COMPLETION_PREFIX_MIN,
    completion_prefix,
    rank_completions,
)
from app.search.normalize.highlight import excerpt, highlight, matched_words, snippet
from app.search.normalize.latin import is_latin, transliterate
from app.search.normalize.query import (
    HEAD,
    MAX_QUERY_WORDS,
    MAX_TYPO_CHARS,
    MAX_TYPO_LETTERS,
    MAX_TYPO_WORDS,
    QueryWord,
    analyze,
    analyze_query,
    index_forms,
    parse_query,
    title_heads,
    typo_budget,
    typo_words,
    widen,
    word_for,
)
from app.search.normalize.tables import STOPWORDS
from app.search.normalize.tokens import Part, ezafe_base, parts, stems, words

__all__ = [
    "COMPLETION_PREFIX_MIN",
    "HEAD",
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
    "ezafe_base",
    "fold",
    "fold_pairs",
    "highlight",
    "index_forms",
    "is_latin",
    "matched_words",
    "normalize",
    "parse_query",
    "parts",
    "rank_completions",
    "snippet",
    "stems",
    "title_heads",
    "transliterate",
    "typo_budget",
    "typo_words",
    "widen",
    "word_for",
    "words",
]
