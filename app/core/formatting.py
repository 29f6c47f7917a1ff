"""How numbers, money and dates read in each locale. Formatting happens only at the edge.

Persian readers see Persian digits, the Persian thousands separator (U+066C) and Jalali dates;
money stored in rials is shown in toman (1 toman = 10 rials).
"""

from __future__ import annotations

from datetime import date, datetime

import jdatetime

from app.core.timeutil import REPORT_TIMEZONE, market_timezone

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
PERSIAN_SEPARATOR = "\u066c"  # ٬ ARABIC THOUSANDS SEPARATOR, as Persian typography uses
# The programme's reporting day (see app.timeutil); shown times use market_timezone().
TEHRAN = REPORT_TIMEZONE

JALALI_MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
JALALI_MONTHS_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip


def persian_digits(text: object) -> str:
    return str(text).translate(PERSIAN_DIGITS)


def format_number(value: int, locale: str) -> str:
    """Grouped integer: ``1,250,000`` in English, ``۱٬۲۵۰٬۰۰۰`` in Persian."""
    grouped = f"{value:,}"
    if locale == "fa":
        return persian_digits(grouped.replace(",", PERSIAN_SEPARATOR))
    return grouped


def format_rating(value: float, locale: str) -> str:
    """An average of stars with one decimal: ``4.5`` in English, ``۴٫۵`` in Persian."""
    text = f"{value:.1f}"
    if locale == "fa":
        return persian_digits(text.replace(".", "\u066b"))
    return text


def format_money(amount: int, currency: str, locale: str) -> str:
    """An integer amount in the currency's smallest unit, as a reader of ``locale`` expects.

    IRR is shown in toman in both languages (prices in Iran are spoken in toman); a part of a
    toman is never shown, rounding towards zero is wrong for prices, so amounts are rounded half up.
    """
    if isinstance(amount, float):
        raise TypeError("money is never a float")
    if currency == "IRR":
        toman = (abs(amount) + 5) // 10 * (1 if amount >= 0 else -1)
        number = format_number(toman, locale)
        return f"{number} تومان" if locale == "fa" else f"{number} toman"
    # Other currencies: two minor digits.
    major, minor = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    text = f"{sign}{format_number(major, locale)}.{minor:02d}"
    if locale == "fa":
        text = persian_digits(text).replace(".", "\u066b")
    return f"{text} {currency}"


def to_local(value: datetime) -> datetime:
    """``value`` in the market's time zone (``DEFAULT_TIMEZONE``)."""
    return value.astimezone(market_timezone())


def format_date(value: date | datetime | None, locale: str, *, with_time: bool = False) -> str:
    """Jalali for Persian (``۵ آذر ۱۴۰۵``), Gregorian for English (``26 Nov 2026``); in the market's
    time zone (``DEFAULT_TIMEZONE``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    if locale == "fa":
        if isinstance(value, datetime):
            j = jdatetime.datetime.fromgregorian(datetime=value)
        else:
            j = jdatetime.date.fromgregorian(date=value)
        text = f"{j.day} {JALALI_MONTHS_FA[j.month - 1]} {j.year}"
        if with_time and isinstance(value, datetime):
            text += f"، {value.hour:02d}:{value.minute:02d}"
        return persian_digits(text)
    if isinstance(value, datetime):
        text = value.strftime("%d %b %Y")
        if with_time:
            text += value.strftime(", %H:%M")
        return text
    return value.strftime("%d %b %Y")


def format_digits(value: object, locale: str) -> str:
    """An id, a year or a code in the locale's digits, not grouped: ``۱۴۰۵`` / ``1405``."""
    return persian_digits(value) if locale == "fa" else str(value)


class LocalNumber(int):
    """An integer that writes itself in the language of the moment it is shown.

    For messages whose numbers are put in by ``%`` after the call: ``ngettext(…, LocalNumber(n))``
    (flask-babel fills ``%(num)s`` from the count itself and takes no formatted ``num``), lazy
    messages made at import time (``_l("Use at least %(n)s characters.", n=LocalNumber(12))``)
    and messages built from error codes later. It still counts as the int it is (plural forms,
    comparisons); only ``str()`` and ``format()`` give the reader's digits.
    """

    def __str__(self) -> str:
        from flask import has_app_context
        from flask_babel import get_locale

        locale = str(get_locale() or "fa") if has_app_context() else "en"
        return format_number(int(self), locale)

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int(self).__format__(spec)

    def __repr__(self) -> str:
        return f"LocalNumber({int(self)!r})"


def format_month(value: date | datetime | None, locale: str) -> str:
    """The Jalali month and year of ``value`` in the market's time zone: ``آذر ۱۴۰۵`` /
    ``Azar 1405``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    j = jdatetime.date.fromgregorian(date=value)
    if locale == "fa":
        return persian_digits(f"{JALALI_MONTHS_FA[j.month - 1]} {j.year}")
    return f"{JALALI_MONTHS_EN[j.month - 1]} {j.year}"
