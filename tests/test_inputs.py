"""Amounts of money and dates as people type them: ``app.core.inputs.parse_money`` and
``parse_date``, the one reader of each that every form, query string and import uses."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from app.core.inputs import money_unit, optional_date, optional_money, parse_date, parse_money
from app.sellers.forms import QuickEditForm


@pytest.mark.parametrize(
    ("typed", "rials"),
    [
        ("12500", 125_000),
        ("۱۲٬۵۰۰", 125_000),  # Persian digits, Persian thousands separator
        ("١٢,٥٠٠", 125_000),  # Arabic-Indic digits, Latin comma
        (" 1 250 000 ", 12_500_000),
        ("0", 0),
        ("-5", -50),  # the sign is kept: callers refuse it as out of range
    ],
)
def test_rials_are_typed_in_toman(typed, rials):
    assert parse_money(typed, "IRR") == rials
    assert parse_money(typed, "irr") == rials


@pytest.mark.parametrize("typed", ["", "  ", "12.5", "۱۲٫۵", "12 toman", "x", "²", "1" * 19])
def test_a_toman_amount_is_a_whole_number(typed):
    with pytest.raises(ValueError):
        parse_money(typed, "IRR")


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12.05", 1205),
        ("1,250.75", 125_075),
        ("۱۲٫۵۰", 1250),  # Persian digits and the Arabic decimal separator
        ("-0.50", -50),
        ("0.01", 1),
    ],
)
def test_other_currencies_are_typed_in_their_major_unit_with_two_decimals(typed, cents):
    assert parse_money(typed, "EUR") == cents
    assert parse_money(typed, "USD") == cents


@pytest.mark.parametrize("typed", ["", "12.505", "12.", ".5", "12.5.1", "1.x", "12,5.0 €"])
def test_other_currencies_refuse_what_is_no_amount(typed):
    with pytest.raises(ValueError):
        parse_money(typed, "EUR")


def test_the_typed_unit_follows_the_market_currency():
    assert money_unit("IRR") == 10
    assert money_unit("EUR") == 100
    assert optional_money("", "IRR") is None
    assert optional_money(None, "EUR") is None
    assert optional_money("۳۰٬۰۰۰", "IRR") == 300_000


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-11-22", date(2026, 11, 22)),
        ("1405/09/01", date(2026, 11, 22)),  # Jalali: a year below 1700
        ("۱۴۰۵/۰۹/۰۱", date(2026, 11, 22)),
        ("1405-9-1", date(2026, 11, 22)),
        ("1405.09.01", date(2026, 11, 22)),
        (" 1403/05/12 ", date(2024, 8, 2)),
        ("1404/12/29", date(2026, 3, 20)),
    ],
)
def test_dates_are_read_in_either_calendar_and_any_digits(typed, day):
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    "typed",
    ["", "x", "1405/13/01", "1405/09/32", "2026-02-30", "03/05/12", "1405/09", "9" * 5000,
     "1405/09/01/02", "۱۴۰۵/۰۹/۰۱x"],
)  # fmt: skip
def test_anything_but_a_day_is_refused(typed):
    with pytest.raises(ValueError):
        parse_date(typed)


def test_an_empty_date_is_none():
    assert optional_date("") is None
    assert optional_date(None) is None
    assert optional_date("2026-11-22") == date(2026, 11, 22)


def test_a_money_field_reads_the_market_unit_and_holds_the_stored_one(app):
    def typed(text: str) -> QuickEditForm:
        with app.test_request_context("/", method="POST", data={"price_toman": text}):
            form = QuickEditForm(meta={"csrf": False})
            form.validate()
            return form

    assert typed("۱۲۰٬۰۰۰").price_toman.data == 1_200_000  # 120,000 toman, in rials
    refused = typed("12.5")  # no part of a toman
    assert refused.price_toman.data is None and refused.price_toman.errors
    with app.test_request_context("/"), force_locale("fa"):
        shown = str(QuickEditForm(data={"price_toman": 1_200_000}).price_toman())
        assert 'value="۱۲۰٬۰۰۰"' in shown
    app.config["MARKET_CURRENCY"] = "EUR"
    try:
        assert typed("12.5").price_toman.data == 1250  # euros typed, cents held
        with app.test_request_context("/"), force_locale("en"):
            assert 'value="12.50"' in str(QuickEditForm(data={"price_toman": 1250}).price_toman())
    finally:
        app.config["MARKET_CURRENCY"] = "IRR"
