"""What people type, read into values: the one place for digits of any script, whole numbers,
amounts of money, dates, mobile numbers, postal codes and registration codes.

People in Iran type Persian digits (``۱۲۳``), Arabic-Indic digits (``١٢٣``) or Latin ones, and
group thousands with ``٬``, ``،``, ``,`` or a space. Every form, route and service that reads such
input calls these functions, so the same text means the same value everywhere.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import jdatetime

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


# Money is typed in the unit the market shows (app.core.formatting.format_money): Iranian rials
# in toman (1 toman = 10 rials, a whole number), as prices in Iran are spoken; any other currency
# in its major unit with at most two decimals, stored in its minor unit (cents).
TOMAN_RIALS: Final = 10
MINOR_DIGITS: Final = 2
DECIMAL_POINTS: Final = (".", "\u066b")  # Latin full stop, Arabic decimal separator


def money_unit(currency: str) -> int:
    """How many of ``currency``'s stored units one typed unit is: 10 for IRR (toman typed,
    rials stored), 100 for any other currency (major unit typed, minor unit stored)."""
    return TOMAN_RIALS if currency.upper() == "IRR" else 10**MINOR_DIGITS


def parse_money(text: object, currency: str, *, max_digits: int = MAX_DIGITS) -> int:
    """An amount a person typed, as an integer in ``currency``'s stored unit.

    IRR: a whole number of toman in any digits with any separators, in rials (``"۱۲٬۵۰۰"`` →
    125000). Other currencies: the major unit with at most two decimals after ``.`` or ``٫``
    (``"1,250.5"`` → 125050). A leading sign is kept (callers check the range). Raises
    ValueError for anything else (an empty text, letters, more than ``max_digits`` digits
    before the decimal point, a part of a toman).
    """
    unit = money_unit(currency)
    if unit == TOMAN_RIALS:
        return parse_local_int(text, max_digits=max_digits) * TOMAN_RIALS
    raw = ascii_digits(text).strip()
    for point in DECIMAL_POINTS[1:]:
        raw = raw.replace(point, DECIMAL_POINTS[0])
    whole, point, fraction = raw.partition(DECIMAL_POINTS[0])
    if point and not (fraction.isascii() and fraction.isdigit() and len(fraction) <= MINOR_DIGITS):
        raise ValueError(text)
    major = parse_local_int(whole, max_digits=max_digits)
    amount = abs(major) * unit + int(fraction.ljust(MINOR_DIGITS, "0") if point else 0)
    return -amount if whole.lstrip().startswith("-") else amount


def optional_money(text: object, currency: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """Like :func:`parse_money`, but an empty text is None (a field left blank)."""
    if text is None or not str(text).strip():
        return None
    return parse_money(text, currency, max_digits=max_digits)


_DATE: Final = re.compile(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})")
JALALI_BEFORE: Final = 1700  # a typed year below this is Jalali


def parse_date(text: object) -> date:
    """A day typed as Jalali (``۱۴۰۵/۰۹/۰۱``, ``1405-9-1``) or Gregorian (``2026-11-22``): a
    four-digit year, month and day, separated by ``/``, ``-`` or ``.``, in any digits. A year
    below 1700 is Jalali (certificates and receipts in Iran are dated so). Raises ValueError for
    anything else, a day that does not exist included."""
    found = _DATE.fullmatch(ascii_digits(text).strip())
    if found is None:
        raise ValueError(text)
    year, month, day = (int(part) for part in found.groups())
    if year < JALALI_BEFORE:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)


def optional_date(text: object) -> date | None:
    """Like :func:`parse_date`, but an empty text is None (a field left blank)."""
    if text is None or not str(text).strip():
        return None
    return parse_date(text)


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
