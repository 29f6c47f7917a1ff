"""Form pieces shared by the blueprints."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SEPARATORS = {",", "٬", "،", " ", "\u00a0", "\u202f", "_", "'"}


def parse_local_int(text: str) -> int:
    """``"۱۲٬۵۰۰"`` or ``"12,500"`` → 12500. Raises ValueError for anything but a whole number."""
    cleaned = "".join(ch for ch in text.strip().translate(_DIGITS) if ch not in _SEPARATORS)
    if cleaned.startswith(("+", "-")):
        sign, digits = cleaned[0], cleaned[1:]
    else:
        sign, digits = "", cleaned
    if not digits.isdigit() or not digits.isascii() or len(digits) > 18:
        raise ValueError(text)
    return int(sign + digits)


class LocalIntegerField(IntegerField):
    """An integer field that accepts Persian and Arabic-Indic digits and group separators."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or valuelist[0].strip() == "":
            self.data = None
            return
        try:
            self.data = parse_local_int(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Please enter a whole number.")) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class LocalDateField(StringField):
    """A date typed as Jalali (``۱۴۰۳/۰۵/۱۲``) or Gregorian (``2024-08-02``); stored as a date.

    A year below 1700 is read as Jalali: certificates in Iran are dated in the Jalali calendar.
    """

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_local_date(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a date like 1403/05/12 or 2024-08-02.")) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        import jdatetime

        j = jdatetime.date.fromgregorian(date=self.data)
        return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def parse_local_date(text: str) -> date:
    import jdatetime

    parts = re.split(r"[/\-.]", text.strip().translate(_DIGITS))
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(text)
    year, month, day = (int(p) for p in parts)
    if year < 1700:
        return jdatetime.date(year, month, day).togregorian()
    return date(year, month, day)
