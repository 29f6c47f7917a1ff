"""A listing's price now: its sale price while its sale period runs, its list price otherwise.

Computed on the server from the product row and the clock, by every reader that shows or
charges a price (cards, the product page, the cart, checkout and the orders it makes). A sale
runs on whole market days: ``sale_starts_at`` is the start of its first day and
``sale_ends_at`` the start of the day after its last, in the market's time zone, so a sale
starts and ends when the market's date changes, which every cached page's key holds
(``app.shop.cache``, ``app.shop.lane``): no cached page outlives a sale boundary.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.core.timeutil import market_timezone, utcnow


def sale_running(
    sale_price: int | None,
    starts: datetime | None,
    ends: datetime | None,
    now: datetime | None = None,
) -> bool:
    """Whether a sale of ``sale_price`` over ``[starts, ends)`` runs at ``now``."""
    if sale_price is None or sale_price <= 0 or starts is None or ends is None:
        return False
    moment = now or utcnow()
    return starts <= moment < ends


def price_now(
    price: int,
    sale_price: int | None,
    starts: datetime | None,
    ends: datetime | None,
    now: datetime | None = None,
) -> int:
    """What one unit costs at ``now``: the sale price while the sale runs (never more than the
    list price, should the seller have lowered that below it since), else the list price."""
    if sale_price is not None and sale_running(sale_price, starts, ends, now):
        return min(price, sale_price)
    return price


def day_start(day: date) -> datetime:
    """The moment (aware UTC) the market day ``day`` starts."""
    return datetime.combine(day, time(0), tzinfo=market_timezone()).astimezone(UTC)


def sale_period(first: date, last: date) -> tuple[datetime, datetime]:
    """The stored period of a sale running from market day ``first`` to ``last`` inclusive."""
    return day_start(first), day_start(last + timedelta(days=1))


def market_day(moment: datetime) -> date:
    """The market date of a stored moment (a sale boundary)."""
    return moment.astimezone(market_timezone()).date()
