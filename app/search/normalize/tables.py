"""The data of the normaliser: which characters fold to what, and the Persian word lists
(plural and bound suffixes, words never stemmed, query stop words).

Only tables here; :mod:`app.search.normalize.chars` applies the character tables and
:mod:`app.search.normalize.tokens` the word lists.
"""

from __future__ import annotations

ZWNJ = "\u200c"

# --- characters --------------------------------------------------------------------------------

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


# --- words -------------------------------------------------------------------------------------

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
