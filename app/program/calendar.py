"""The programme's calendar: Tehran days, Jalali months, seasons and years, and the one reader
of the report period a query string asks for.

Report days are local (Tehran) days, because they are stored (``sales_daily.day``); months,
seasons and years are Jalali. A programme year is a Jalali year, from 1 Farvardin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import jdatetime

from app.core.errors import ValidationFailed
from app.core.formatting import (
    JALALI_MONTHS_EN,
    JALALI_MONTHS_FA,
    TEHRAN,
    format_date,
    persian_digits,
)
from app.core.inputs import optional_date, optional_int

SEASONS_FA = ("بهار", "تابستان", "پاییز", "زمستان")
SEASONS_EN = ("Spring", "Summer", "Autumn", "Winter")
PERIOD_KINDS = ("month", "season", "year", "programme", "custom")
MAX_CUSTOM_DAYS = 3 * 366
MIN_PERIOD_YEAR, MAX_PERIOD_YEAR = 1300, 1500
# What parse_period can refuse, in the order it checks (the codes of its ValidationFailed).
PERIOD_ERRORS = ("kind", "year", "month", "season", "dates", "too_long")


# ---- days and months ------------------------------------------------------------------------


def tehran_day(moment: datetime) -> date:
    """The local (Tehran) calendar day of an aware moment (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TEHRAN).date()


def tehran_today() -> date:
    """Today in Tehran."""
    return datetime.now(UTC).astimezone(TEHRAN).date()


def day_start_utc(day: date) -> datetime:
    """Local (Tehran) midnight at the start of ``day``, as a UTC moment."""
    return datetime.combine(day, time(0), tzinfo=TEHRAN).astimezone(UTC)


def as_date(value: Any) -> date | None:
    """A date read back from either database (SQLite may give ``"2026-11-22"``); None stays."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_day(value: Any) -> date:
    """A date read back from either database, where it cannot be NULL."""
    day = as_date(value)
    if day is None:
        raise ValueError("a day was expected")
    return day


def jalali_month_of(day: date) -> tuple[int, int]:
    """(Jalali year, month 1–12) of a Gregorian day."""
    j = jdatetime.date.fromgregorian(date=day)
    return j.year, j.month


def _normal_month(year: int, month: int) -> tuple[int, int]:
    """``(1404, 13)`` → ``(1405, 1)``, ``(1405, 0)`` → ``(1404, 12)``: months counted on."""
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return year, month


def jalali_month_start(year: int, month: int) -> date:
    """The first day of a Jalali month; a month past 12 or below 1 counts on into the next or
    previous year."""
    year, month = _normal_month(year, month)
    return jdatetime.date(year, month, 1).togregorian()


def jalali_month_end(year: int, month: int) -> date:
    """The last day of a Jalali month (months count on as in :func:`jalali_month_start`)."""
    return jalali_month_start(year, month + 1) - timedelta(days=1)


def month_key(year: int, month: int) -> str:
    """The summary rows' key of a Jalali month: ``M140409`` (months count on)."""
    year, month = _normal_month(year, month)
    return f"M{year}{month:02d}"


def month_label(year: int, month: int, locale: str) -> str:
    """``آذر ۱۴۰۵`` in Persian; ``Azar 1405 (Nov 2026)`` in English."""
    if locale == "fa":
        return persian_digits(f"{JALALI_MONTHS_FA[month - 1]} {year}")
    start = jalali_month_start(year, month)
    return f"{JALALI_MONTHS_EN[month - 1]} {year} ({start.strftime('%b %Y')})"


def jalali_iso(day: date | None) -> str:
    """A day as a Jalali ``1405-09-01`` (files), or ``""`` for none."""
    if day is None:
        return ""
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"


def period_keys(day: date) -> tuple[str, str, str]:
    """The keys of the Jalali month, season and year of a day: ``M140409``, ``S14043``, ``Y1404``."""
    year, month = jalali_month_of(day)
    return f"M{year}{month:02d}", f"S{year}{(month - 1) // 3 + 1}", f"Y{year}"


def period_key_bounds(key: str) -> tuple[date, date]:
    """The first and last day of the month, season or year a summary row's key names."""
    year = int(key[1:5])
    if key[0] == "M":
        first, count = int(key[5:]), 1
    elif key[0] == "S":
        first, count = (int(key[5:]) - 1) * 3 + 1, 3
    else:
        first, count = 1, 12
    return jalali_month_start(year, first), jalali_month_end(year, first + count - 1)


# ---- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A span of local days, ``start`` to ``end`` inclusive, and how it was chosen."""

    kind: str
    start: date
    end: date
    year: int | None = None  # Jalali year (month, season, year, programme)
    number: int | None = None  # Jalali month 1–12 or season 1–4

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(
            "month", jalali_month_start(year, month), jalali_month_end(year, month), year, month
        )

    @classmethod
    def season(cls, year: int, season: int) -> Period:
        first = (season - 1) * 3 + 1
        return cls(
            "season",
            jalali_month_start(year, first),
            jalali_month_end(year, first + 2),
            year,
            season,
        )

    @classmethod
    def jalali_year(cls, year: int, kind: str = "year") -> Period:
        """A Jalali year; the programme year is the Jalali year (from 1 Farvardin)."""
        return cls(kind, jalali_month_start(year, 1), jalali_month_end(year, 12), year)

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        """The days from ``start`` to ``end`` (either order), cut to ``MAX_CUSTOM_DAYS``."""
        if end < start:
            start, end = end, start
        end = min(end, start + timedelta(days=MAX_CUSTOM_DAYS))
        return cls("custom", start, end)

    @property
    def key(self) -> str | None:
        """The ``sales_period`` key of a month, season or (programme) year; None for custom."""
        if self.kind == "month":
            return f"M{self.year}{self.number:02d}"
        if self.kind == "season":
            return f"S{self.year}{self.number}"
        if self.kind in ("year", "programme"):
            return f"Y{self.year}"
        return None

    def bounds_utc(self) -> tuple[datetime, datetime]:
        """[start, end) as UTC moments: local midnight of ``start`` to that after ``end``."""
        return day_start_utc(self.start), day_start_utc(self.end + timedelta(days=1))

    def months(self) -> list[tuple[int, int]]:
        """The Jalali months the period touches, in order."""
        out = []
        year, month = jalali_month_of(self.start)
        while jalali_month_start(year, month) <= self.end:
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def is_whole_months(self) -> bool:
        """True when the period starts on a month's first day and ends on a month's last."""
        months = self.months()
        return (
            jalali_month_start(*months[0]) == self.start
            and jalali_month_end(*months[-1]) == self.end
        )

    def query_args(self) -> dict[str, str]:
        """The query string that :func:`parse_period` reads back as this period."""
        args = {"period": self.kind}
        if self.kind == "custom":
            args.update(start=self.start.isoformat(), end=self.end.isoformat())
        else:
            args["y"] = str(self.year)
            if self.kind == "month":
                args["m"] = str(self.number)
            elif self.kind == "season":
                args["s"] = str(self.number)
        return args

    def label(self, locale: str) -> str:
        """Jalali with Persian digits in ``fa``; Gregorian dates in ``en``."""
        if locale == "fa":
            if self.kind == "month":
                return month_label(self.year or 0, self.number or 1, "fa")
            if self.kind == "season":
                return persian_digits(f"{SEASONS_FA[(self.number or 1) - 1]} {self.year}")
            if self.kind == "year":
                return persian_digits(f"سال {self.year}")
            if self.kind == "programme":
                return persian_digits(f"سال برنامه {self.year}")
        return f"{format_date(self.start, locale)} – {format_date(self.end, locale)}"

    def file_slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def programme_year_of(period: Period) -> int:
    """The programme year (Jalali year, from 1 Farvardin) holding the period's last day."""
    return jalali_month_of(period.end)[0]


def series_months(period: Period) -> list[tuple[int, int]]:
    """The months of the period; for a period within one month, the 12 months ending with it."""
    months = period.months()
    if len(months) >= 2:
        return months
    year, month = months[-1]
    return [_normal_month(year, month - back) for back in range(11, -1, -1)]


def _period_number(args: Mapping[str, Any], name: str, default: int, high: tuple[int, int]) -> int:
    """``args[name]`` as a whole number within ``high`` (low, high), ``default`` when absent.
    Raises ValueError for anything else."""
    try:
        value = optional_int(args.get(name), max_digits=6)
    except ValueError:
        value = high[0] - 1
    if value is None:
        return default
    if not high[0] <= value <= high[1]:
        raise ValueError(name)
    return value


def _custom_period(args: Mapping[str, Any]) -> Period:
    try:
        start, end = optional_date(args.get("start")), optional_date(args.get("end"))
    except ValueError:
        start = end = None
    if start is None or end is None:
        raise ValidationFailed({"period": ["dates"]})
    if end < start:
        start, end = end, start
    if (end - start).days > MAX_CUSTOM_DAYS:
        raise ValidationFailed({"period": ["too_long"]})
    return Period.custom(start, end)


def parse_period(args: Mapping[str, Any], today: date | None = None) -> Period:
    """The period a query string asks for (``period`` = month, season, year, programme or
    custom, with ``y`` and ``m`` or ``s``, or ``start`` and ``end``); what it leaves out is this
    Jalali month's (year, month, season).

    Nothing wrong is replaced silently, since a report that shows another period than the one
    asked for misleads: raises ValidationFailed ``{"period": [code]}`` with the code of the
    first problem (``PERIOD_ERRORS``: kind, year, month, season, dates, too_long).
    """
    today = today or tehran_today()
    this_year, this_month = jalali_month_of(today)
    kind = str(args.get("period") or "month")
    if kind not in PERIOD_KINDS:
        raise ValidationFailed({"period": ["kind"]})
    if kind == "custom":
        return _custom_period(args)
    try:
        year = _period_number(args, "y", this_year, (MIN_PERIOD_YEAR, MAX_PERIOD_YEAR))
    except ValueError:
        raise ValidationFailed({"period": ["year"]}) from None
    try:
        if kind == "month":
            return Period.month(year, _period_number(args, "m", this_month, (1, 12)))
        if kind == "season":
            season = _period_number(args, "s", (this_month - 1) // 3 + 1, (1, 4))
            return Period.season(year, season)
    except ValueError:
        raise ValidationFailed({"period": [kind]}) from None
    return Period.jalali_year(year, kind)
