"""Market campaigns across shops: staff make and end them, sellers join and leave them.

A campaign takes ``percent`` off (1-90; at most ``cap_amount`` rials a unit when set) the list
price of every listing of a shop that joined it, in its categories and every category below
them (no category: all), on whole market days as a listing's sale does
(:func:`app.catalog.pricing.sale_period`). Every campaign is *opt-in*: a shop's prices change
only once its seller joined (a seller page lists the campaigns open to join), also when the
market pays, so no seller finds their prices changed without having asked; joining and leaving
are free until the campaign ends. While it runs, a covered listing's price now is the lowest of
its list price, its running sale and the campaign's price (:func:`app.catalog.pricing.quote`).

``payer`` says who gives the discount. ``seller``: as a sale, the seller's own. ``market``: the
order line keeps the campaign's part as ``market_discount_amount``; at completion the seller's
ledger is credited it (CAMPAIGN_CREDIT) and the commission is counted on the pre-campaign price
(``app.orders.completion``), so neither the commission nor the payout shrinks because of the
campaign, while the programme's sales figures count what the customer paid.

Prices are read through :func:`offers_for` (registered with ``pricing.use_offers`` at start-up),
which reads the running campaigns once per app context and market day (:func:`running`).
Creating or ending a campaign bumps the whole catalogue's version (rare staff actions; every
cached page is drawn again); joining or leaving bumps the pages of the shop's covered listings
and marks them for the search index (``app.catalog.changes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context

from app.audit import log as audit
from app.catalog import changes, pricing
from app.catalog.models import (
    Campaign,
    CampaignCategory,
    CampaignShop,
    Category,
    Product,
    ProductStatus,
    Seller,
    SellerStatus,
)
from app.catalog.rules import MAX_PRICE_AMOUNT
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.core.reads import read_rows
from app.core.timeutil import utcnow

PAYERS = ("market", "seller")
MAX_PERCENT = 90
MAX_CATEGORIES = 50


@dataclass
class CampaignData:
    name_fa: str
    name_en: str
    percent: int | None
    cap_amount: int | None
    first_day: date | None
    last_day: date | None
    payer: str
    category_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Running:
    """A campaign running now: its offer, the shops that joined it and the categories it
    covers (their whole sub-trees; None: every category)."""

    offer: pricing.Offer
    sellers: frozenset[int]
    categories: frozenset[int] | None

    def covers(self, seller_id: int, category_id: int | None) -> bool:
        return seller_id in self.sellers and (
            self.categories is None or category_id in self.categories
        )


# ---- staff ------------------------------------------------------------------------------------


def _check(data: CampaignData, name_fa: str, name_en: str, ids: list[int]) -> None:
    """ValidationFailed naming each bad field of a new campaign."""
    errors: dict[str, list[str]] = {}
    for key, name in (("name_fa", name_fa), ("name_en", name_en)):
        if not name:
            errors[key] = ["required"]
        elif len(name) > 100:
            errors[key] = ["too_long"]
    if data.percent is None or not (1 <= data.percent <= MAX_PERCENT):
        errors["percent"] = ["campaign_percent_range"]
    if data.cap_amount is not None and not (0 < data.cap_amount <= MAX_PRICE_AMOUNT):
        errors["cap_amount"] = ["out_of_range"]
    if data.payer not in PAYERS:
        errors["payer"] = ["invalid"]
    if data.first_day is None:
        errors["starts_on"] = ["required"]
    if data.last_day is None:
        errors["ends_on"] = ["required"]
    elif data.first_day is not None and data.last_day < data.first_day:
        errors["ends_on"] = ["sale_ends_before_start"]
    elif pricing.day_start(data.last_day + timedelta(days=1)) <= utcnow():
        errors["ends_on"] = ["campaign_in_past"]
    if len(ids) > MAX_CATEGORIES:
        errors["categories"] = ["invalid"]
    elif ids:
        found = set(db.session.scalars(sa.select(Category.id).where(Category.id.in_(ids))))
        if found != set(ids):
            errors["categories"] = ["invalid"]
    if errors:
        raise ValidationFailed(errors)


def create_campaign(staff_id: int, data: CampaignData) -> Campaign:
    """A new campaign (audited); ValidationFailed naming each bad field, nothing made."""
    name_fa = " ".join((data.name_fa or "").split())
    name_en = " ".join((data.name_en or "").split())
    ids = sorted(set(data.category_ids))
    _check(data, name_fa, name_en, ids)
    assert data.first_day is not None and data.last_day is not None and data.percent
    starts, ends = pricing.sale_period(data.first_day, data.last_day)
    with transaction():
        campaign = Campaign(
            name_fa=name_fa,
            name_en=name_en,
            percent=data.percent,
            cap_amount=data.cap_amount,
            payer=data.payer,
            starts_at=starts,
            ends_at=ends,
            created_by_id=staff_id,
        )
        db.session.add(campaign)
        db.session.flush()
        for category_id in ids:
            db.session.add(CampaignCategory(campaign_id=campaign.id, category_id=category_id))
        audit.record(
            staff_id, "campaign.create", "campaign", campaign.id,
            data={"percent": data.percent, "cap": data.cap_amount, "payer": data.payer,
                  "first_day": data.first_day.isoformat(), "last_day": data.last_day.isoformat(),
                  "categories": ids},
        )  # fmt: skip
        changes.mark_catalog_changed(db.session())
    forget()
    return campaign


def end_campaign(staff_id: int, campaign_id: int, reason: str = "") -> Campaign:
    """End a campaign now (audited; NotFound for a missing one). Its shops' covered listings
    go back to their own prices at once: every cached page is drawn again and they are marked
    for the search index. Ending an ended or finished campaign changes nothing."""
    with transaction():
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound("campaign")
        now = utcnow()
        if campaign.ended_at is None and now < campaign.ends_at:
            campaign.ended_at = now
            audit.record(
                staff_id, "campaign.end", "campaign", campaign.id, reason=reason[:500] or None
            )
            sellers = list(
                db.session.scalars(
                    sa.select(CampaignShop.seller_id).where(CampaignShop.campaign_id == campaign.id)
                )
            )
            _mark_dirty(campaign, sellers)
            changes.mark_catalog_changed(db.session())
    forget()
    return campaign


def all_campaigns() -> list[tuple[Campaign, int]]:
    """Every campaign, newest first, with how many shops joined it."""
    joined = (
        sa.select(sa.func.count())
        .where(CampaignShop.campaign_id == Campaign.id)
        .correlate(Campaign)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Campaign, joined).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).tuples()
    return [(c, int(n or 0)) for c, n in rows]


def category_names(campaign: Campaign) -> list[Category]:
    """The categories a campaign names (empty: all)."""
    return list(
        db.session.scalars(
            sa.select(Category)
            .join(CampaignCategory, CampaignCategory.category_id == Category.id)
            .where(CampaignCategory.campaign_id == campaign.id)
            .order_by(Category.position, Category.id)
        )
    )


def category_choices() -> list[tuple[int, str]]:
    """Every category as (id, its path in Persian), for the campaign form."""
    rows = list(db.session.scalars(sa.select(Category).order_by(Category.position, Category.id)))
    by_id = {c.id: c for c in rows}
    out = []
    for c in rows:
        names: list[str] = []
        seen: set[int] = set()
        node: Category | None = c
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name_fa)
            node = by_id.get(node.parent_id) if node.parent_id else None
        out.append((c.id, " › ".join(reversed(names))))
    return out


def is_over(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether the campaign has ended (early or by its last day)."""
    return campaign.ended_at is not None or (now or utcnow()) >= campaign.ends_at


def is_running(campaign: Campaign, now: datetime | None = None) -> bool:
    moment = now or utcnow()
    return not is_over(campaign, moment) and campaign.starts_at <= moment


def last_day(campaign: Campaign) -> date:
    """The campaign's last market day (its stored end is the start of the day after)."""
    return pricing.market_day(campaign.ends_at) - timedelta(days=1)


# ---- sellers ----------------------------------------------------------------------------------


def open_to_join(seller: Seller) -> list[tuple[Campaign, bool]]:
    """The campaigns not over yet, soonest first, each with whether ``seller`` joined it."""
    now = utcnow()
    joined = set(
        db.session.scalars(
            sa.select(CampaignShop.campaign_id).where(CampaignShop.seller_id == seller.id)
        )
    )
    rows = db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.ended_at.is_(None), Campaign.ends_at > now)
        .order_by(Campaign.starts_at, Campaign.id)
    )
    return [(c, c.id in joined) for c in rows]


def set_joined(seller: Seller, campaign_id: int, join: bool) -> bool:
    """Join (``join``) or leave a campaign that is not over; True when that changed anything.
    NotFound for a missing campaign, ValidationFailed({"campaign": ["campaign_over"]}) for one
    over, ({"campaign": ["campaign_shop_not_approved"]}) for a shop that may not trade. The shop's
    covered listings' pages are drawn again and they are marked for the search index."""
    with transaction():
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound("campaign")
        if is_over(campaign):
            raise ValidationFailed({"campaign": ["campaign_over"]})
        if join and seller.status != SellerStatus.APPROVED:
            raise ValidationFailed({"campaign": ["campaign_shop_not_approved"]})
        row = db.session.get(CampaignShop, (campaign.id, seller.id))
        if (row is not None) == join:
            return False
        if join:
            db.session.add(CampaignShop(campaign_id=campaign.id, seller_id=seller.id))
        else:
            db.session.delete(row)
        db.session.flush()
        audit.record(
            seller.user_id, "campaign.join" if join else "campaign.leave", "campaign", campaign.id,
            data={"seller": seller.id},
        )  # fmt: skip
        if campaign.starts_at <= utcnow():  # running: prices change now
            _mark_dirty(campaign, [seller.id])
        else:  # the seller's page of campaigns only
            _mark_dirty(campaign, [seller.id], pages=False)
    forget()
    return True


def _covered_category_ids(campaign_id: int) -> set[int] | None:
    named = set(
        db.session.scalars(
            sa.select(CampaignCategory.category_id).where(
                CampaignCategory.campaign_id == campaign_id
            )
        )
    )
    if not named:
        return None
    return _subtrees(named, _category_parents())


def _mark_dirty(campaign: Campaign, seller_ids: Sequence[int], *, pages: bool = True) -> None:
    """Mark the covered listings of ``seller_ids`` for the search index and (``pages``) bump
    their product pages and the lists that show them."""
    if not seller_ids:
        return
    covered: Any = Product.seller_id.in_(list(seller_ids))
    categories = _covered_category_ids(campaign.id)
    if categories is not None:
        covered = sa.and_(covered, Product.category_id.in_(sorted(categories)))
    rows = db.session.execute(
        sa.select(Product.id, Product.category_id).where(
            covered, Product.status == ProductStatus.PUBLISHED
        )
    ).all()
    if not rows:
        return
    ids = [pid for pid, _ in rows]
    db.session.execute(
        sa.update(Product)
        .where(Product.id.in_(ids))
        .values(search_dirty=True)
        .execution_options(synchronize_session=False)
    )
    db.session.info["catalog_changed"] = True
    if pages:
        changes.mark_products_changed(
            db.session(), ids, seller_ids, {c for _, c in rows if c is not None}
        )


# ---- the search index at market-day boundaries -----------------------------------------------


def mark_price_boundaries(
    now: datetime | None = None, window: timedelta = timedelta(hours=3)
) -> int:
    """Mark for the search index every published listing whose price now changed at a
    market-day boundary within ``window`` before ``now``: a sale that started or ended there,
    or a campaign that started or ended there (its shops' covered listings). Run every hour
    by the job worker (a lost or late run is covered by the next, marking twice is harmless);
    the regular search sync then writes the index. Returns how many were marked."""
    moment = now or utcnow()
    since = moment - window
    ids: set[int] = set()
    with transaction():
        for column in (Product.sale_starts_at, Product.sale_ends_at):
            ids.update(
                db.session.scalars(
                    sa.select(Product.id).where(
                        Product.status == ProductStatus.PUBLISHED,
                        Product.sale_price_amount.is_not(None),
                        column > since,
                        column <= moment,
                    )
                )
            )
        boundary = sa.or_(
            sa.and_(Campaign.starts_at > since, Campaign.starts_at <= moment),
            sa.and_(
                Campaign.ends_at > since, Campaign.ends_at <= moment, Campaign.ended_at.is_(None)
            ),
        )
        for campaign in db.session.scalars(sa.select(Campaign).where(boundary)):
            sellers = list(
                db.session.scalars(
                    sa.select(CampaignShop.seller_id).where(CampaignShop.campaign_id == campaign.id)
                )
            )
            if not sellers:
                continue
            covered = sa.and_(
                Product.seller_id.in_(sellers), Product.status == ProductStatus.PUBLISHED
            )
            categories = _covered_category_ids(campaign.id)
            if categories is not None:
                covered = sa.and_(covered, Product.category_id.in_(sorted(categories)))
            ids.update(db.session.scalars(sa.select(Product.id).where(covered)))
        if ids:
            db.session.execute(
                sa.update(Product)
                .where(Product.id.in_(sorted(ids)))
                .values(search_dirty=True)
                .execution_options(synchronize_session=False)
            )
    return len(ids)


# ---- prices -----------------------------------------------------------------------------------

_CACHE = "bazarche_campaigns"
_generation = 0


def forget() -> None:
    """Forget the running campaigns read in this process (after a campaign write)."""
    global _generation  # noqa: PLW0603 - a counter every app context compares with
    _generation += 1
    if has_app_context():
        g.pop(_CACHE, None)


def _category_parents() -> dict[int, int | None]:
    return dict(db.session.execute(sa.select(Category.id, Category.parent_id)).tuples().all())


def _subtrees(roots: set[int], parents: dict[int, int | None]) -> set[int]:
    """``roots`` and every category below them."""
    out = set(roots)
    for cat_id in parents:
        node: int | None = cat_id
        seen: set[int] = set()
        while node is not None and node not in seen:
            if node in roots:
                out.add(cat_id)
                break
            seen.add(node)
            node = parents.get(node)
    return out


def _read_running(now: datetime) -> list[Running]:
    # A plain read (no ORM transaction on the public lists' PostgreSQL path): most requests
    # find no campaign running and stop here.
    campaigns = read_rows(
        sa.select(
            Campaign.id,
            Campaign.name_fa,
            Campaign.name_en,
            Campaign.percent,
            Campaign.cap_amount,
            Campaign.payer,
        )
        .where(Campaign.ended_at.is_(None), Campaign.starts_at <= now, Campaign.ends_at > now)
        .order_by(Campaign.id)
    )
    if not campaigns:
        return []
    offers = [pricing.Offer(*row) for row in campaigns]  # (id, names, percent, cap, payer)
    ids = [offer.campaign_id for offer in offers]
    shops: dict[int, set[int]] = {i: set() for i in ids}
    for campaign_id, seller_id in db.session.execute(
        sa.select(CampaignShop.campaign_id, CampaignShop.seller_id)
        .join(Seller, Seller.id == CampaignShop.seller_id)
        .where(CampaignShop.campaign_id.in_(ids), Seller.status == SellerStatus.APPROVED)
    ).tuples():
        shops[campaign_id].add(seller_id)
    named: dict[int, set[int]] = {}
    for campaign_id, category_id in db.session.execute(
        sa.select(CampaignCategory.campaign_id, CampaignCategory.category_id).where(
            CampaignCategory.campaign_id.in_(ids)
        )
    ).tuples():
        named.setdefault(campaign_id, set()).add(category_id)
    parents = _category_parents() if named else {}
    return [
        Running(
            offer,
            frozenset(shops[offer.campaign_id]),
            frozenset(_subtrees(named[offer.campaign_id], parents))
            if offer.campaign_id in named
            else None,
        )
        for offer in offers
    ]


def running(now: datetime | None = None) -> list[Running]:
    """The campaigns running now with their shops and categories: read once per app context
    (a request, a task) and market day, and again after a campaign write in this process."""
    if not has_app_context():
        return _read_running(now or utcnow())
    cached = g.get(_CACHE)
    if now is None and cached is not None and cached[1] == _generation:
        return cached[2]  # asked again in this request: every card of a list asks
    moment = now or utcnow()
    day = pricing.market_day(moment)
    if cached is not None and cached[:2] == (day, _generation):
        return cached[2]
    found = _read_running(moment)
    setattr(g, _CACHE, (day, _generation, found))
    return found


def offers_for(seller_id: int, category_id: int | None) -> list[pricing.Offer]:
    """The running offers covering a listing of ``seller_id`` in ``category_id``."""
    found = running()
    if not found:
        return []
    return [r.offer for r in found if r.covers(seller_id, category_id)]


def sql_key(now: datetime | None = None) -> tuple[Any, ...]:
    """The running campaigns as a hashable value (statements built from them are kept by it)."""
    return tuple(
        (
            r.offer,
            tuple(sorted(r.sellers)),
            None if r.categories is None else tuple(sorted(r.categories)),
        )
        for r in running(now)
    )


def sql_price_now(
    entity: Any = Product, now: Any = None, key: tuple[Any, ...] | None = None
) -> Any:
    """The price now of ``entity`` rows (``Product`` or its table's columns) as a SQL
    expression: lists sort and filter by it. ``now`` is a moment or a bound parameter of one
    (default: the clock); ``key`` the running campaigns (:func:`sql_key`; default: read now)."""
    moment = utcnow() if now is None else now
    campaigns = (
        key if key is not None else sql_key(moment if isinstance(moment, datetime) else None)
    )
    return pricing.sql_price_now(
        entity.price_amount,
        entity.sale_price_amount,
        entity.sale_starts_at,
        entity.sale_ends_at,
        entity.seller_id,
        entity.category_id,
        campaigns,
        moment,
    )
