"""Slugs for seller storefront addresses: Persian names transliterated to Latin letters."""

from __future__ import annotations

import re
import unicodedata

_MAP = {
    "ا": "a", "آ": "a", "أ": "a", "إ": "e", "ب": "b", "پ": "p", "ت": "t", "ث": "s", "ج": "j",
    "چ": "ch", "ح": "h", "خ": "kh", "د": "d", "ذ": "z", "ر": "r", "ز": "z", "ژ": "zh", "س": "s",
    "ش": "sh", "ص": "s", "ض": "z", "ط": "t", "ظ": "z", "ع": "", "غ": "gh", "ف": "f", "ق": "gh",
    "ک": "k", "ك": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n", "و": "v", "ه": "h", "ة": "h",
    "ی": "i", "ي": "i", "ى": "i", "ئ": "i", "ؤ": "o", "ء": "", "ۀ": "eh",
    "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4", "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
    "\u200c": "-",
}  # fmt: skip
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,58}[a-z0-9])$")
RESERVED = {"admin", "api", "seller", "sellers", "static", "media", "auth", "search", "new", "edit"}


def slugify(text: str) -> str:
    """``"سوزن‌دوزی گل‌بی‌بی"`` → ``"suzn-duzi-gl-bi-bi"``: lower-case Latin, digits and dashes."""
    out = []
    for ch in unicodedata.normalize("NFKC", text.strip().lower()):
        if ch in _MAP:
            out.append(_MAP[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append("-")
    slug = re.sub(r"-{2,}", "-", "".join(out)).strip("-")
    return slug[:60].strip("-")


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_RE.match(slug)) and slug not in RESERVED
