"""Money, numbers and dates as each locale reads them; the template filters in real pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.core.formatting import format_date, format_money, format_number, persian_digits
from app.core.inputs import (
    is_mobile,
    lenient_int,
    normalise_code,
    normalise_mobile,
    normalise_postal_code,
    optional_int,
    parse_local_int,
)
from app.core.inputs import parse_local_int as forms_parse
from tests import factories

# --- money --------------------------------------------------------------------------------------


def test_rials_are_shown_in_toman_with_persian_digits_and_separator():
    assert format_money(1_250_000, "IRR", "fa") == "۱۲۵٬۰۰۰ تومان"


def test_rials_are_shown_in_toman_in_english():
    assert format_money(1_250_000, "IRR", "en") == "125,000 toman"


def test_zero():
    assert format_money(0, "IRR", "fa") == "۰ تومان"
    assert format_money(0, "IRR", "en") == "0 toman"


def test_large_amounts_are_grouped():
    # 12.5 billion toman: more than a 32-bit integer holds, as BigInteger columns allow.
    assert format_money(125_000_000_000, "IRR", "en") == "12,500,000,000 toman"
    assert format_money(125_000_000_000, "IRR", "fa") == "۱۲٬۵۰۰٬۰۰۰٬۰۰۰ تومان"


@pytest.mark.parametrize(
    ("rials", "toman"),
    [(4, "0"), (5, "1"), (14, "1"), (15, "2"), (1_250_004, "125,000"), (1_250_005, "125,001")],
)
def test_rials_round_half_up_to_toman(rials, toman):
    assert format_money(rials, "IRR", "en") == f"{toman} toman"


def test_negative_amounts_round_symmetrically():
    assert format_money(-15, "IRR", "en") == "-2 toman"
    assert format_money(-14, "IRR", "en") == "-1 toman"


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        format_money(1250.0, "IRR", "fa")  # type: ignore[arg-type]


def test_other_currencies_show_two_minor_digits():
    assert format_money(12345, "USD", "en") == "123.45 USD"
    assert format_money(12345, "USD", "fa") == "۱۲۳٫۴۵ USD"


def test_numbers_and_digits():
    assert format_number(1_250_000, "fa") == "۱٬۲۵۰٬۰۰۰"
    assert format_number(1_250_000, "en") == "1,250,000"
    assert persian_digits("0123456789") == "۰۱۲۳۴۵۶۷۸۹"
    assert persian_digits(2026) == "۲۰۲۶"
    assert persian_digits("Page 3 of 12") == "Page ۳ of ۱۲"


# --- dates --------------------------------------------------------------------------------------


def test_nowruz_1405():
    assert format_date(date(2026, 3, 21), "fa") == "۱ فروردین ۱۴۰۵"
    assert format_date(date(2026, 3, 20), "fa") == "۲۹ اسفند ۱۴۰۴"


def test_a_utc_time_before_midnight_is_already_the_next_day_in_tehran():
    # 20:45 UTC is 00:15 in Tehran (UTC+03:30): New Year's Day there.
    moment = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)
    assert format_date(moment, "fa") == "۱ فروردین ۱۴۰۵"
    assert format_date(moment, "fa", with_time=True) == "۱ فروردین ۱۴۰۵، ۰۰:۱۵"
    # Fifteen minutes before Tehran's midnight it is still the last day of 1404.
    assert format_date(moment - timedelta(minutes=30), "fa") == "۲۹ اسفند ۱۴۰۴"


def test_times_in_other_zones_are_converted_too():
    plus_one = timezone(timedelta(hours=1))
    assert format_date(datetime(2026, 3, 20, 21, 45, tzinfo=plus_one), "fa") == "۱ فروردین ۱۴۰۵"


def test_english_dates_are_gregorian():
    assert format_date(date(2026, 3, 21), "en") == "21 Mar 2026"
    moment = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)
    assert format_date(moment, "en") == "21 Mar 2026"
    assert format_date(moment, "en", with_time=True) == "21 Mar 2026, 00:15"


def test_no_date():
    assert format_date(None, "fa") == ""


# --- the filters in real pages ------------------------------------------------------------------


def test_money_and_date_filters_render_in_both_locales(client):
    item = factories.product(price_amount=1_250_000)
    seller_slug = item.seller.slug  # trained on 2025-05-01 = 11 Ordibehesht 1404
    product_url = f"/p/{item.id}"

    html = client.get(product_url).get_data(as_text=True)
    assert "۱۲۵٬۰۰۰ تومان" in html
    html = client.get(f"/s/{seller_slug}").get_data(as_text=True)
    assert "۱۱ اردیبهشت ۱۴۰۴" in html
    assert "۱۲۵٬۰۰۰ تومان" in html

    response = client.get(f"/lang/en?next={product_url}")
    assert response.headers["Location"] == product_url
    html = client.get(product_url).get_data(as_text=True)
    assert 'lang="en"' in html
    assert "125,000 toman" in html and "تومان" not in html
    html = client.get(f"/s/{seller_slug}").get_data(as_text=True)
    assert "01 May 2025" in html and "اردیبهشت" not in html

    client.get("/lang/fa")
    assert "۱۲۵٬۰۰۰ تومان" in client.get(product_url).get_data(as_text=True)


def test_templates_follow_the_locale_in_force_within_one_request(app):
    """Templates' messages and filters follow ``force_locale`` (an e-mail in its recipient's
    language) and ``refresh()`` inside a request, and go back after."""
    from flask import session
    from flask_babel import force_locale, refresh

    page = app.jinja_env.from_string("{{ _('Cart') }} {{ 1250000|money }} {{ 12|digits }}")
    with app.test_request_context("/"):
        assert page.render() == "سبد خرید ۱۲۵٬۰۰۰ تومان ۱۲"
        with force_locale("en"):
            assert page.render() == "Cart 125,000 toman 12"
        assert page.render() == "سبد خرید ۱۲۵٬۰۰۰ تومان ۱۲"
        session["locale"] = "en"
        refresh()
        assert page.render() == "Cart 125,000 toman 12"


def test_template_messages_take_their_values_escaped(app):
    page = app.jinja_env.from_string(
        "{{ _('Page %(page)s of %(pages)s', page=value, pages=2) }} | "
        "{{ ngettext('%(num)s county falls behind:', '%(num)s counties fall behind:', n) }}"
    )
    with app.test_request_context("/"):
        from flask_babel import force_locale

        with force_locale("en"):
            assert page.render(value="<b>", n=3) == (
                "Page &lt;b&gt; of 2 | 3 counties fall behind:"
            )
            assert page.render(value="1", n=1).endswith("| 1 county falls behind:")
        # Numbers are the caller's to format (the num filter); the message itself is Persian.
        assert page.render(value="<b>", n=3).startswith("صفحهٔ &lt;b&gt; از 2 | ")


# --- what people type: one reader of digits, numbers, mobile numbers and codes ----------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("۱۲۰٬۰۰۰", 120_000),
        ("١٢٠,٠٠٠", 120_000),
        ("120,000", 120_000),
        ("۱۲۰ ۰۰۰", 120_000),
        ("۱۲۰\u00a0۰۰۰", 120_000),
        ("۱۲۰،۰۰۰", 120_000),
        (" ۳ ", 3),
        ("0", 0),
        ("-۵", -5),
    ],
)
def test_whole_numbers_are_read_in_any_digits_with_any_separator(typed, value):
    assert parse_local_int(typed) == value
    assert forms_parse(typed) == value  # the forms use the same reader


@pytest.mark.parametrize("typed", ["", " ", "۱٫۵", "1.5", "12a", "²", "١٢x", "-", "9" * 19, "۱۲-"])
def test_anything_but_a_whole_number_is_refused(typed):
    with pytest.raises(ValueError):
        parse_local_int(typed)
    assert lenient_int(typed, 7) == 7


def test_an_empty_field_is_none_and_a_bad_one_an_error():
    assert optional_int("  ") is None
    assert optional_int("۴۲") == 42
    with pytest.raises(ValueError):
        optional_int("چهل")


@pytest.mark.parametrize(
    "typed",
    [
        "09121234567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "۰۹۱۲ ۱۲۳ ۴۵۶۷",
        "0912-123-4567",
        "+989121234567",
        "+98 912 123 4567",
        "00989121234567",
        "989121234567",
        "9121234567",
        "\u200e۰۹۱۲۱۲۳۴۵۶۷\u200f",
    ],
)
def test_every_way_of_typing_a_mobile_number_gives_one_form(typed):
    assert normalise_mobile(typed) == "09121234567"
    assert is_mobile(normalise_mobile(typed))


@pytest.mark.parametrize("typed", ["12345", "0912123456", "۰۸۱۲۱۲۳۴۵۶۷", "091212345678", "abc"])
def test_a_wrong_mobile_number_stays_wrong(typed):
    assert not is_mobile(normalise_mobile(typed))


def test_codes_are_stored_in_one_form():
    assert normalise_code("  sb-۱۴۰۳-۰۰۷ ") == "SB-1403-007"
    assert normalise_code("SB-1403-007") == "SB-1403-007"
    assert normalise_code("p  ۷۷۸۱") == "P 7781"
    assert normalise_code("") == ""
    assert normalise_postal_code("۱۲۳۴۵-۶۷۸۹۰") == "1234567890"


def test_no_other_digit_table_or_integer_reader_is_left_in_the_app():
    """Persian digits are made ASCII in app/inputs.py only; every other module calls it."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name == "inputs.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩" in text or "٠١٢٣٤٥٦٧٨٩" in text:
            offenders.append(f"{path.relative_to(ROOT)}: a digit table of its own")
        if re.search(r"type\s*=\s*int\b", text):
            offenders.append(f"{path.relative_to(ROOT)}: request.args.get(..., type=int)")
    assert not offenders, "\n".join(offenders)


def test_no_form_field_or_template_input_is_a_number_input():
    """Chromium empties ``<input type="number">`` typed with Persian digits."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if re.search(r"""type\s*=\s*["']?number""", path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "app").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path != ROOT / "app" / "web" / "forms.py" and re.search(
            r"\b(IntegerField|DecimalField|FloatField|NumberInput|IntegerRangeField)\b", text
        ):
            offenders.append(f"{path.relative_to(ROOT)}: a wtforms number field")
    assert not offenders, "\n".join(offenders)


def test_a_local_integer_field_is_a_text_input_that_shows_the_pages_digits(app):
    from flask_babel import force_locale

    from app.sellers.forms import ListingForm

    with app.test_request_context("/"):
        with force_locale("fa"):
            form = ListingForm(data={"price_toman": 1_200_000, "stock": 3})  # rials
            html = str(form.price_toman()) + str(form.stock())
        assert 'type="text"' in html and 'inputmode="numeric"' in html
        assert "number" not in html.replace("inputmode", "")
        assert 'value="۱۲۰٬۰۰۰"' in html and 'value="۳"' in html
        with force_locale("en"):
            assert 'value="120000"' in str(
                ListingForm(data={"price_toman": 1_200_000}).price_toman()
            )
