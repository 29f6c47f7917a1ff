"""Persian written in Latin letters ("Finglish": «khorma», «sabun», «golim»): the Persian
spellings such a word may stand for, most likely first. A backend keeps the candidates its
vocabulary holds and searches them beside the Latin word.

Short vowels are usually not written in Persian, so ``e`` and ``o`` inside a word may give no
letter; letters with several Persian counterparts (``s``: «س ص ث», ``z``: «ز ذ ض ظ», ``t``,
``h``, ``gh``) give each of them. The candidates are bounded (:data:`MAX_CANDIDATES`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice, product

MAX_CANDIDATES = 128
"""At most this many Persian spellings of one Latin word."""
MAX_LATIN_LETTERS = 16
"""Longer Latin words are not transliterated (no Persian word in the catalogue is longer)."""

_CONSONANTS = {
    "kh": ("خ",),
    "sh": ("ش",),
    "ch": ("چ",),
    "gh": ("ق", "غ"),
    "zh": ("ژ",),
    "b": ("ب",),
    "p": ("پ",),
    "t": ("ت", "ط"),
    "s": ("س", "ص", "ث"),
    "j": ("ج",),
    "h": ("ه", "ح"),
    "d": ("د",),
    "z": ("ز", "ذ", "ض", "ظ"),
    "r": ("ر",),
    "f": ("ف",),
    "k": ("ک",),
    "q": ("ق", "غ"),
    "g": ("گ",),
    "l": ("ل",),
    "m": ("م",),
    "n": ("ن",),
    "v": ("و",),
    "w": ("و",),
    "y": ("ی",),
    "c": ("ک", "س"),
    "x": ("کس",),
}
# vowels: (at the start of the word, inside it, at its end)
_VOWELS = {
    "aa": (("ا",), ("ا",), ("ا",)),
    "oo": (("او",), ("و",), ("و",)),
    "ou": (("او",), ("و",), ("و",)),
    "ee": (("ای",), ("ی",), ("ی",)),
    "ei": (("ای",), ("ی",), ("ی",)),
    "ey": (("ای",), ("ی",), ("ی",)),
    "ai": (("ای",), ("ای", "ی"), ("ای", "ی")),
    "ay": (("ای",), ("ای", "ی"), ("ای", "ی")),
    "a": (("ا",), ("ا", ""), ("ا", "ه")),
    "e": (("ا",), ("", "ی"), ("ه", "ی")),
    "o": (("ا", "او"), ("", "و"), ("و", "ه")),
    "u": (("او",), ("و",), ("و",)),
    "i": (("ای",), ("ی",), ("ی",)),
}
_UNITS = sorted([*_CONSONANTS, *_VOWELS], key=len, reverse=True)
_SPLIT = re.compile("|".join(_UNITS))
_LATIN = re.compile("[a-z]+")


def is_latin(word: str) -> bool:
    """Whether ``word`` (normalised) is made only of Latin letters."""
    return bool(_LATIN.fullmatch(word))


@lru_cache(maxsize=1024)
def transliterate(word: str) -> tuple[str, ...]:
    """Persian spellings of the Latin ``word`` (normalised: lower case), most likely first;
    ``()`` for anything else, a word of fewer than three letters or of more than
    :data:`MAX_LATIN_LETTERS`.

    >>> "خرما" in transliterate("khorma"), "صابون" in transliterate("sabun")
    (True, True)
    """
    if not (3 <= len(word) <= MAX_LATIN_LETTERS) or not is_latin(word):
        return ()
    units = _SPLIT.findall(word)
    if "".join(units) != word:
        return ()
    # a doubled consonant is written once («kk» → «ک»)
    units = [u for i, u in enumerate(units) if not (i and u == units[i - 1] and u in _CONSONANTS)]
    options: list[tuple[str, ...]] = []
    last = len(units) - 1
    for i, unit in enumerate(units):
        if unit in _CONSONANTS:
            options.append(_CONSONANTS[unit])
        else:
            start, middle, end = _VOWELS[unit]
            options.append(start if i == 0 else end if i == last else middle)
    out = dict.fromkeys("".join(p) for p in islice(product(*options), MAX_CANDIDATES))
    return tuple(t for t in out if len(t) >= 2)
