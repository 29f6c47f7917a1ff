"""Form pieces shared by the blueprints."""

from __future__ import annotations

from typing import Any

import jdatetime
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.widgets import TextInput

from app.core.db import database_id
from app.core.formatting import format_number, persian_digits
from app.core.inputs import TOMAN_RIALS, money_unit, parse_date, parse_local_int, parse_money

__all__ = [
    "LocalDateField",
    "LocalIntegerField",
    "LocalMoneyField",
    "coerce_id",
]


def coerce_id(value: object) -> int:
    """A SelectField's ``coerce`` for database ids: 0 (nothing chosen) or a whole number up to
    the largest id the database stores; ValueError (the field's error) for anything else."""

    if str(value if value is not None else "").strip() in ("", "0"):
        return 0
    number = database_id(value)
    if number is None:
        raise ValueError(value)
    return number


def _page_locale() -> str:
    from flask import has_request_context
    from flask_babel import get_locale

    return str(get_locale() or "fa") if has_request_context() else "en"


class LocalIntegerField(IntegerField):
    """An integer field that accepts Persian and Arabic-Indic digits and group separators.

    It renders as ``<input type="text" inputmode="numeric">``: a ``type="number"`` input in
    Chromium throws away ``۱۲۰٬۰۰۰`` before the form is sent. The number is shown back in the
    page's digits (Persian digits in the Persian interface) and read by ``parse_local_int``.
    """

    widget = TextInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        render_kw = dict(kwargs.pop("render_kw", None) or {})
        render_kw.setdefault("inputmode", "numeric")
        render_kw.setdefault("autocomplete", "off")
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or valuelist[0].strip() == "":
            self.data = None
            return
        try:
            self.data = self._read(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(self._refusal()) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return self._shown(self.data)

    def _read(self, text: str) -> int:
        return parse_local_int(text)

    def _refusal(self) -> Any:
        return _l("Please enter a whole number.")

    def _shown(self, value: Any) -> str:
        if _page_locale() == "fa" and isinstance(value, int):
            return format_number(value, "fa")
        return str(value)


def _market_currency() -> str:
    return str(current_app.config["MARKET_CURRENCY"]) if has_app_context() else "IRR"


class LocalMoneyField(LocalIntegerField):
    """An amount of money typed in the market's unit, read by ``parse_money``: toman for rials
    (a whole number), the major unit with up to two decimals for any other currency; any digits,
    any separators. ``data`` is the amount in the stored unit (rials, cents), as the database
    keeps it, and is shown back in the typed unit."""

    def _read(self, text: str) -> int:
        return parse_money(text, _market_currency())

    def _refusal(self) -> Any:
        if money_unit(_market_currency()) == TOMAN_RIALS:
            return _l("Please enter a whole number.")
        return _l("Please enter a valid value.")

    def _shown(self, value: Any) -> str:
        unit = money_unit(_market_currency())
        if unit == TOMAN_RIALS:
            return super()._shown(value // unit)
        major, minor = divmod(abs(value), unit)
        text = f"{'-' if value < 0 else ''}{major}.{minor:02d}"
        return persian_digits(text).replace(".", "\u066b") if _page_locale() == "fa" else text


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
            self.data = parse_date(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Enter a date like 1403/05/12 or 2024-08-02.")) from exc

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""

        j = jdatetime.date.fromgregorian(date=self.data)
        text = f"{j.year:04d}/{j.month:02d}/{j.day:02d}"
        return persian_digits(text) if _page_locale() == "fa" else text
