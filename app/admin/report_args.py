"""What the staff report pages (sales, counties, the audit log) read from the query string and
offer in their pickers: the period, read by the one parser (``app.program.calendar``), with a
400 page that says what to fix when it cannot be read; the period picker's choices; the filter
drop-downs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from flask import Response, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from app.core.errors import ValidationFailed
from app.program import reports
from app.program.calendar import (
    SEASONS_EN,
    SEASONS_FA,
    Period,
    jalali_month_of,
    month_label,
    parse_period,
    tehran_today,
)
from app.web.access import staff_scope

PERIOD_MESSAGES: dict[str, Callable[[], str]] = {
    "kind": lambda: _("Choose a month, a season, a year, a programme year or custom dates."),
    "year": lambda: _("The year must be a Jalali year from 1300 to 1500."),
    "month": lambda: _("The month must be a number from 1 to 12."),
    "season": lambda: _("The season must be a number from 1 to 4."),
    "dates": lambda: _("For custom dates enter both days, like 1405/09/01 (Jalali) or 2026-11-22."),
    "too_long": lambda: _("A custom period can be at most three years long."),
}


def page_locale() -> str:
    return str(get_locale() or "fa")


def bad_request(message: str) -> NoReturn:
    """End the request with a 400 page that shows ``message``."""
    abort(
        Response(
            render_template("error.html", code=400, message=message),
            status=400,
            mimetype="text/html",
        )
    )


def period_arg() -> Period:
    """The period the query string asks for; anything malformed is a 400 that says what to fix."""
    try:
        return parse_period(request.args)
    except ValidationFailed as exc:
        bad_request(PERIOD_MESSAGES[exc.errors["period"][0]]())


def period_choices(period: Any) -> dict[str, object]:
    """The period picker's years (this one and five before), months, seasons and chosen year."""
    locale = page_locale()
    this_year, _month = jalali_month_of(tehran_today())
    return {
        "years": list(range(this_year, this_year - 6, -1)),
        "months": [(m, month_label(2000, m, locale).split(" ")[0]) for m in range(1, 13)],
        "seasons": list(enumerate(SEASONS_FA if locale == "fa" else SEASONS_EN, 1)),
        "period_year": period.year or this_year,
    }


def filter_choices() -> dict[str, list[Any]]:
    """Counties, sectors, categories and training years for the filter drop-downs (a county
    officer's counties: their own)."""
    choices = reports.filter_choices(page_locale())
    county_id = staff_scope().county_id
    if county_id is not None:
        choices["counties"] = [c for c in choices["counties"] if c[0] == county_id]
    return choices
