"""Aware UTC times; the only clock the services read; the market's time zones.

Shown times (pages, e-mails, exports) are in :func:`market_timezone`, the ``DEFAULT_TIMEZONE``
setting. The programme's reports count sales and page views per local day of
:data:`REPORT_TIMEZONE` (Tehran, the programme's calendar): those days are stored in the
database, so they do not move with the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

DEFAULT_TIMEZONE_NAME = "Asia/Tehran"
REPORT_TIMEZONE = ZoneInfo(DEFAULT_TIMEZONE_NAME)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes for aware columns; treat them as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def market_timezone() -> ZoneInfo:
    """The zone shown times are in: the app's ``DEFAULT_TIMEZONE`` (config key
    ``BABEL_DEFAULT_TIMEZONE``), Asia/Tehran outside an app."""
    if has_app_context():
        return timezone_of(current_app.config)
    return REPORT_TIMEZONE


def timezone_of(config: Mapping[str, Any]) -> ZoneInfo:
    """The market's zone as the app config ``config`` sets it (for code that runs outside an
    app context with the app at hand, such as WSGI middleware)."""
    return _zone(config.get("BABEL_DEFAULT_TIMEZONE") or DEFAULT_TIMEZONE_NAME)


def check_timezone(name: str) -> None:
    """Raise ValueError naming ``DEFAULT_TIMEZONE`` unless ``name`` is a known time zone."""
    try:
        _zone(name)
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ValueError(f"DEFAULT_TIMEZONE {name!r} is not a known time zone") from exc
