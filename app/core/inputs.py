"""What people type, read into values: the one place for digits of any script, whole numbers,
mobile numbers, postal codes and registration codes.

People in Iran type Persian digits (``۱۲۳``), Arabic-Indic digits (``١٢٣``) or Latin ones, and
group thousands with ``٬``, ``،``, ``,`` or a space. Every form, route and service that reads such
input calls these functions, so the same text means the same value everywhere.
"""

from __future__ import annotations

import re
from typing import Final

LOCAL_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# Thousands separators people type: Latin comma, Arabic thousands separator, Arabic comma,
# spaces (plain, no-break, narrow no-break), underscore and apostrophe.
SEPARATORS: Final = frozenset({",", "\u066c", "\u060c", " ", "\u00a0", "\u202f", "_", "'"})
MAX_DIGITS: Final = 18  # fits a signed 64-bit column

MOBILE: Final = re.compile(r"^09\d{9}$")
POSTAL_CODE: Final = re.compile(r"^\d{10}$")
# Marks that are not part of a phone number or a code but that people type or paste in one
# (spaces, dashes, dots, brackets, and the invisible direction marks of right-to-left text).
_NOISE: Final = re.compile(r"[\s\-\u2010-\u2015.()\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def ascii_digits(text: object) -> str:
    """``text`` with Persian and Arabic-Indic digits replaced by ASCII ones; nothing else changes."""
    return str(text if text is not None else "").translate(LOCAL_DIGITS)


def parse_local_int(text: object, *, max_digits: int = MAX_DIGITS) -> int:
    """``"۱۲٬۵۰۰"``, ``"١٢,٥٠٠"`` or ``"12 500"`` → 12500; an optional leading sign is kept.

    Raises ValueError for anything that is not a whole number (an empty text, a fraction,
    letters, superscripts, more than ``max_digits`` digits).
    """
    raw = ascii_digits(text).strip()
    cleaned = "".join(ch for ch in raw if ch not in SEPARATORS)
    sign, digits = (cleaned[0], cleaned[1:]) if cleaned[:1] in ("+", "-") else ("", cleaned)
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > max_digits:
        raise ValueError(text)
    return int(sign + digits)


def optional_int(text: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """Like :func:`parse_local_int`, but an empty text is None (a field left blank)."""
    if text is None or not str(text).strip():
        return None
    return parse_local_int(text, max_digits=max_digits)


def lenient_int(
    text: object, default: int | None = None, *, max_digits: int = MAX_DIGITS
) -> int | None:
    """A whole number, or ``default`` when the text is empty or not a whole number: for query
    strings, where a wrong value falls back instead of failing."""
    try:
        return parse_local_int(text, max_digits=max_digits)
    except ValueError:
        return default


def normalise_mobile(text: object) -> str:
    """An Iranian mobile number as ``09xxxxxxxxx`` in ASCII digits.

    ``۰۹۱۲ ۱۲۳ ۴۵۶۷``, ``+98 912 123 4567``, ``0098-912-1234567`` and ``9121234567`` all give
    ``09121234567``. Text that is no mobile number comes back cleaned but otherwise as typed;
    check the result with :func:`is_mobile`.
    """
    number = _NOISE.sub("", ascii_digits(text))
    if number.startswith("+98"):
        number = "0" + number[3:]
    elif number.startswith("0098"):
        number = "0" + number[4:]
    elif number.startswith("98") and len(number) == 12:
        number = "0" + number[2:]
    elif number.startswith("9") and len(number) == 10:
        number = "0" + number
    return number


def is_mobile(number: str) -> bool:
    """True for a normalised mobile number (``09`` and nine more ASCII digits)."""
    return bool(MOBILE.match(number))


def normalise_postal_code(text: object) -> str:
    """A postal code in ASCII digits without spaces or dashes (check it with ``POSTAL_CODE``)."""
    return _NOISE.sub("", ascii_digits(text))


def normalise_code(text: object) -> str:
    """A registration or permit number as stored and exported: ASCII digits, no surrounding
    space, inner runs of space made one, Latin letters upper-case (``sb-۱۴۰۳-۰۰۷`` →
    ``SB-1403-007``). Empty text gives ``""``."""
    return " ".join(ascii_digits(text).split()).upper()
