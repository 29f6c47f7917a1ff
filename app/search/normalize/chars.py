"""The normaliser: one character table applied to any text, then joiner and space clean-up
(:func:`normalize`, :func:`fold`; the rules are listed in :mod:`app.search.normalize`).

The regular expressions the tokeniser and the highlighter share are defined here, beside the
table they assume has been applied.
"""

from __future__ import annotations

import re
import unicodedata

from app.search.normalize.tables import _BIDI, _JOINERS, _LETTERS, _SPACES, ZWNJ


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


class _Table(dict[int, str]):
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


def fold_pairs() -> list[tuple[str, str]]:
    """The single-character rules of :func:`fold` as ``(character, replacement)`` pairs:
    letter foldings, Arabic presentation forms of one letter, digits, and the joiners, bidi
    marks, tatweel and Arabic diacritics that are removed. For code outside Python (the
    database fallback's SQL ``translate``); ligatures and other scripts' accents are left to
    :func:`fold`."""
    pairs = list(_LETTERS.items())
    for code in range(0xFB50, 0xFEFF):  # Arabic presentation forms of one letter
        ch = chr(code)
        mapped = _map_char(ch)
        if len(mapped) == 1 and mapped != ch and mapped.strip():
            pairs.append((ch, mapped))
    gone = _JOINERS + _BIDI + "\u0640\u0670" + "".join(chr(c) for c in range(0x064B, 0x0660))
    pairs += [(ch, "") for ch in gone]
    return pairs
