"""A listing's price now: the lowest of its list price, its sale price while its sale period
runs, and the price of a market campaign its shop joined while the campaign runs.

Computed on the server by :func:`quote` from plain values (a product's or a variant's own list
and sale prices, the sale period, the campaign offers that cover it) and the clock, by every
reader that shows, sorts or charges a price (cards, the product page, the cart, checkout and
the orders it makes, the API, the search index). A sale and a campaign never stack: the lower
one wins (a shop coupon still comes off at checkout). :func:`sql_price_now` is the same rule as
a SQL expression for sorting and filtering lists. A sale
runs on whole market days: ``sale_starts_at`` is the start of its first day and
``sale_ends_at`` the start of the day after its last, in the market's time zone, so a sale
starts and ends when the market's date changes, which every cached page's key holds
(``app.shop.cache``, ``app.shop.lane``): no cached page outlives a sale boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from app.core.timeutil import market_timezone, utcnow


@dataclass(frozen=True)
class Offer:
    """A running market campaign as it prices one listing: ``percent`` off the list price, at
    most ``cap_amount`` rials a unit (None: no cap), paid by ``payer`` (market or seller)."""

    campaign_id: int
    name_fa: str
    name_en: str
    percent: int
    cap_amount: int | None
    payer: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fa

    def price(self, list_price: int) -> int:
        """The campaign's price of a unit listed at ``list_price`` (rounded in the buyer's
        favour to whole rials: the discount is rounded down)."""
        off = list_price * self.percent // 100
        if self.cap_amount is not None:
            off = min(off, self.cap_amount)
        return list_price - off


@dataclass(frozen=True)
class Quote:
    """A unit's price now (``amount``), its list price, and where a discount came from:
    ``source`` None, ``"sale"`` or ``"campaign"`` (then ``campaign`` is the offer)."""

    amount: int
    list_amount: int
    source: str | None = None
    campaign: Offer | None = None

    @property
    def discount(self) -> int:
        return self.list_amount - self.amount


# Where the running campaign offers of a shop and category come from (set at start-up by
# app.catalog.campaigns through use_offers; none before that).
def _no_offers(_seller: int, _category: int | None) -> Sequence[Offer]:
    return ()


_offers: Callable[[int, int | None], Sequence[Offer]] = _no_offers


def use_offers(source: Callable[[int, int | None], Sequence[Offer]]) -> None:
    """Register the function giving the running campaign offers of (seller id, category id)."""
    global _offers  # noqa: PLW0603 - one source, set once at start-up
    _offers = source


def offers_for(seller_id: int, category_id: int | None) -> Sequence[Offer]:
    """The running campaign offers that cover a listing of ``seller_id`` in ``category_id``."""
    return _offers(seller_id, category_id)


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


def quote(
    price: int,
    sale_price: int | None,
    starts: datetime | None,
    ends: datetime | None,
    offers: Sequence[Offer] = (),
    now: datetime | None = None,
) -> Quote:
    """What one unit listed at ``price`` costs at ``now`` and why: the lowest of the list
    price, the sale price while the sale runs (never more than the list price, should the
    seller have lowered that below it since) and each running campaign ``offers``' price (the
    caller passes only the offers running at ``now``). A tie between a sale and a campaign goes
    to the sale (the seller's own discount). Works for a product or a variant: every input is a
    plain value."""
    best = Quote(price, price)
    running = sale_price is not None and sale_running(sale_price, starts, ends, now)
    if running and sale_price is not None and sale_price < price:
        best = Quote(sale_price, price, "sale")
    for offer in offers:
        amount = offer.price(price)
        if amount < best.amount:
            best = Quote(amount, price, "campaign", offer)
    return best


class Priced(Protocol):
    """A row with a list price, a sale and its place in the market (a product, a card)."""

    @property
    def price_amount(self) -> int: ...
    @property
    def sale_price_amount(self) -> int | None: ...
    @property
    def sale_starts_at(self) -> datetime | None: ...
    @property
    def sale_ends_at(self) -> datetime | None: ...
    @property
    def seller_id(self) -> int: ...
    @property
    def category_id(self) -> int | None: ...


def quote_of(row: Priced) -> Quote:
    """:func:`quote` of a listing ``row``: its own price and sale, and the campaign offers
    running on its shop and category."""
    return quote(
        row.price_amount,
        row.sale_price_amount,
        row.sale_starts_at,
        row.sale_ends_at,
        offers_for(row.seller_id, row.category_id),
    )


def price_now(
    price: int,
    sale_price: int | None,
    starts: datetime | None,
    ends: datetime | None,
    now: datetime | None = None,
    *,
    offers: Sequence[Offer] = (),
) -> int:
    """What one unit costs at ``now`` (:func:`quote`'s amount)."""
    return quote(price, sale_price, starts, ends, offers, now).amount


def _least(a: Any, b: Any) -> Any:
    return sa.case((b < a, b), else_=a)


def sql_price_now(
    price: Any,
    sale_price: Any,
    starts: Any,
    ends: Any,
    seller_id: Any,
    category_id: Any,
    campaigns: Sequence[tuple[Offer, Sequence[int], Sequence[int] | None]],
    now: Any,
) -> Any:
    """:func:`quote`'s amount as a SQL expression over a listing's columns, for sorting and
    filtering lists at ``now`` (a moment, or a bound parameter of one): ``campaigns`` are the running ones as (offer, the ids of the
    shops that joined, the ids of the categories covered or None for all)."""
    moment = sa.literal(now, starts.type) if isinstance(now, datetime) else now
    running = sa.and_(
        sale_price.is_not(None),
        sale_price > 0,
        starts <= moment,
        ends > moment,
    )
    expr: Any = sa.case((sa.and_(running, sale_price < price), sale_price), else_=price)
    for offer, sellers, categories in campaigns:
        if not sellers:
            continue
        off: Any = price * offer.percent // 100
        if offer.cap_amount is not None:
            off = _least(off, sa.literal(offer.cap_amount, sa.BigInteger))
        covered = seller_id.in_(list(sellers))
        if categories is not None:
            covered = sa.and_(covered, category_id.in_(list(categories)))
        expr = _least(expr, sa.case((covered, price - off), else_=price))
    return expr


def day_start(day: date) -> datetime:
    """The moment (aware UTC) the market day ``day`` starts."""
    return datetime.combine(day, time(0), tzinfo=market_timezone()).astimezone(UTC)


def sale_period(first: date, last: date) -> tuple[datetime, datetime]:
    """The stored period of a sale running from market day ``first`` to ``last`` inclusive."""
    return day_start(first), day_start(last + timedelta(days=1))


def market_day(moment: datetime) -> date:
    """The market date of a stored moment (a sale boundary)."""
    return moment.astimezone(market_timezone()).date()
