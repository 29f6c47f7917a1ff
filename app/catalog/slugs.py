"""Slugs: the readable part of storefront addresses, in the language of the name they come from.

A Persian name keeps its Persian letters (``"سوزن‌دوزی گل‌افروز"`` → ``"سوزن-دوزی-گل-افروز"``);
browsers show them as typed and the address is sent percent-encoded (UTF-8), as URLs require.
One spelling per name: Arabic forms of Persian letters (ي ك ة ى) become the Persian ones, Arabic
and Persian digits become Latin ones, Arabic diacritics and the tatweel are dropped, Latin letters
are lower-cased, and every run of spaces, zero-width non-joiners (ZWNJ), dashes and punctuation
becomes one dash. Slugs are at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 60
# Arabic forms → the Persian letters a Persian keyboard types; digits → Latin.
_FOLD = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ة": "ه",
        "ۀ": "ه",
        "أ": "ا",
        "إ": "ا",
        "ٱ": "ا",
        **{chr(0x06F0 + n): str(n) for n in range(10)},  # Persian digits
        **{chr(0x0660 + n): str(n) for n in range(10)},  # Arabic digits
    }
)
# Arabic diacritics (harakat, tanwin, shadda, sukun, superscript alef) and the tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# One slug character: a Latin letter or digit, or a letter of the Arabic script.
_LETTER = re.compile(r"[a-z0-9\u0621-\u063a\u0641-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")
SLUG_RE = re.compile(
    r"^[a-z0-9\u0621-\u06ff](?:[a-z0-9\u0621-\u06ff-]{1,"
    + str(MAX_LENGTH - 2)
    + r"}[a-z0-9\u0621-\u06ff])$"
)
RESERVED = {"admin", "api", "seller", "sellers", "static", "media", "auth", "search", "new", "edit"}


def normalise(text: str) -> str:
    """``text`` as slugs spell it, before dashes: NFKC (presentation forms → letters), Arabic
    letters and digits folded to Persian letters and Latin digits, diacritics dropped,
    lower-cased."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _MARKS.sub("", text).lower()


def slugify(text: str, max_length: int = MAX_LENGTH) -> str:
    """``"سوزن‌دوزی گل بی‌بی"`` → ``"سوزن-دوزی-گل-بی-بی"``; ``"Dates & Co."`` → ``"dates-co"``."""
    out = [ch if _LETTER.match(ch) else "-" for ch in normalise(text)]
    slug = re.sub(r"-{2,}", "-", "".join(out)).strip("-")
    return slug[:max_length].strip("-")


def is_valid_slug(slug: str) -> bool:
    """Is ``slug`` in its normal form (what :func:`slugify` makes of it), 3–60 characters and
    not a reserved word?"""
    return bool(SLUG_RE.match(slug)) and slugify(slug) == slug and slug not in RESERVED
