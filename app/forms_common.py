"""Form pieces shared by the blueprints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

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
