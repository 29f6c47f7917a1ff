"""Impact: what the market did for each beneficiary, and for groups of them (county, training
cohort, sector, loan purpose), as the funders ask for it.

Every figure is read from the sales summary rows, never from the order lines: counted online
orders (``sales_order``: paid card orders and completed cash orders, neither cancelled nor
refunded) and off-line sales (``sales_daily``, channel ``offline``). Orders flagged for
self-dealing (``app.program.self_dealing``) are left out while the flag is pending or confirmed
and count once staff clear it. The beneficiaries are the sellers staff have approved (the
approval day is where the programme's clock starts for them), suspended ones included.

Per seller, with a month of :data:`MONTH_DAYS` days:

- **months to first sale**: (first counted sale day − approval day) ÷ 30, at least 0; none
  without a sale;
- **sales per month**: counted sales ÷ months since approval (today − approval day) ÷ 30, at
  least one month, so a seller approved last week is not credited with a month's pace;
- **share of repeat buyers**: buyers with two counted online orders or more ÷ buyers;
- **sales per toman of loan**: counted sales ÷ the seller's loans (both in rials: a pure ratio);
- **against the income band**: sales per month ÷ the midpoint of the household's monthly income
  band before the programme (``INCOME_MIDPOINTS``); none for an unknown band or no income.

A group pools its sellers: sales ÷ the sum of their months; repeat buyers ÷ buyers; sales of the
sellers with loans ÷ their loans; the mean of the months to first sale of those who sold, and of
the income ratios of those with a band. A seller with loans of several purposes is in the group
of each purpose with all of their sales and loans, so purpose groups may overlap; sellers without
a loan (or a cohort) form a group of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import sqlalchemy as sa

from app.catalog.models import Seller
from app.catalog.scope import PROVINCE, Scope
from app.core.extensions import db
from app.program.calendar import tehran_day, tehran_today
from app.program.impact_models import (
    INCOME_MIDPOINTS,
    Beneficiary,
    FlagStatus,
    IncomeBand,
    Loan,
    SalesFlag,
)
from app.program.monthly import names_of
from app.program.sales_models import OFFLINE, SalesDaily, SalesOrder
from app.reference.models import County, Sector

MONTH_DAYS = 30
GROUPINGS = ("county", "cohort", "sector", "purpose")


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom else None


@dataclass
class SellerImpact:
    seller_id: int
    name: str
    registration_code: str | None
    county_id: int
    county: str
    sector_id: int
    sector: str
    cohort: str | None
    income_band: str | None
    approved_on: date
    months: float  # since approval, at least 1
    sales: int = 0  # rials: counted online orders and off-line sales
    orders: int = 0  # counted online orders
    buyers: int = 0
    repeat_buyers: int = 0
    first_sale: date | None = None
    loan_total: int = 0
    purposes: list[str] = field(default_factory=list)
    left_out: int = 0  # online orders flagged (pending or confirmed)

    @property
    def months_to_first_sale(self) -> float | None:
        if self.first_sale is None:
            return None
        return max(0, (self.first_sale - self.approved_on).days) / MONTH_DAYS

    @property
    def sales_per_month(self) -> float:
        return self.sales / self.months

    @property
    def repeat_share(self) -> float | None:
        return _ratio(self.repeat_buyers, self.buyers)

    @property
    def sales_per_loan(self) -> float | None:
        return _ratio(self.sales, self.loan_total)

    @property
    def income_ratio(self) -> float | None:
        if not self.income_band:
            return None
        midpoint = INCOME_MIDPOINTS.get(IncomeBand(self.income_band))
        return self.sales_per_month / midpoint if midpoint else None


@dataclass
class GroupImpact:
    key: str | int | None
    name: str
    sellers: int = 0
    with_sale: int = 0
    sales: int = 0
    months: float = 0.0
    buyers: int = 0
    repeat_buyers: int = 0
    loan_total: int = 0
    sales_with_loan: int = 0
    left_out: int = 0
    _to_first: list[float] = field(default_factory=list)
    _income: list[float] = field(default_factory=list)

    def add(self, s: SellerImpact) -> None:
        self.sellers += 1
        self.sales += s.sales
        self.months += s.months
        self.buyers += s.buyers
        self.repeat_buyers += s.repeat_buyers
        self.left_out += s.left_out
        if s.loan_total:
            self.loan_total += s.loan_total
            self.sales_with_loan += s.sales
        if (m := s.months_to_first_sale) is not None:
            self.with_sale += 1
            self._to_first.append(m)
        if (r := s.income_ratio) is not None:
            self._income.append(r)

    @property
    def months_to_first_sale(self) -> float | None:
        return _ratio(sum(self._to_first), len(self._to_first))

    @property
    def sales_per_month(self) -> float | None:
        return _ratio(self.sales, self.months)

    @property
    def repeat_share(self) -> float | None:
        return _ratio(self.repeat_buyers, self.buyers)

    @property
    def sales_per_loan(self) -> float | None:
        return _ratio(self.sales_with_loan, self.loan_total)

    @property
    def income_ratio(self) -> float | None:
        return _ratio(sum(self._income), len(self._income))


def _counted() -> sa.ColumnElement[bool]:
    """Counted online orders that are not held out by a flag."""
    return sa.or_(SalesFlag.order_id.is_(None), SalesFlag.status == FlagStatus.CLEARED)


def _orders_join() -> sa.Select:
    return (
        sa.select()
        .select_from(SalesOrder)
        .outerjoin(SalesFlag, SalesFlag.order_id == SalesOrder.order_id)
    )


def _of_sellers(column: Any, *, only: int | None, scope: Scope) -> sa.ColumnElement[bool]:
    """The condition on a seller id ``column``: that one seller, or ``scope``'s sellers."""
    if only is not None:
        return column == only
    if not scope.is_province:
        return column.in_(scope.seller_ids())
    return sa.true()


def seller_impacts(
    locale: str = "fa",
    as_of: date | None = None,
    seller_id: int | None = None,
    scope: Scope = PROVINCE,
) -> list[SellerImpact]:
    """Every approved seller's figures (by seller id) of ``scope`` (a county officer: their
    county's), or one seller's."""
    today = as_of or tehran_today()
    one = partial(_of_sellers, only=seller_id, scope=scope)

    session = db.session
    out: dict[int, SellerImpact] = {}
    for row in session.execute(
        sa.select(
            Seller.id, Seller.display_name, Seller.registration_code, Seller.approved_at,
            Seller.county_id, names_of(County, locale).label("county"), Seller.sector_id,
            names_of(Sector, locale).label("sector"), Beneficiary.cohort, Beneficiary.income_band,
        )
        .join(County, County.id == Seller.county_id)
        .join(Sector, Sector.id == Seller.sector_id)
        .outerjoin(Beneficiary, Beneficiary.seller_id == Seller.id)
        .where(Seller.approved_at.is_not(None), one(Seller.id), *scope.sellers())
        .order_by(Seller.id)
    ):  # fmt: skip
        approved_on = tehran_day(row.approved_at)
        out[row.id] = SellerImpact(
            seller_id=row.id, name=row.display_name, registration_code=row.registration_code,
            county_id=row.county_id, county=row.county, sector_id=row.sector_id,
            sector=row.sector, cohort=row.cohort,
            income_band=getattr(row.income_band, "value", row.income_band),
            approved_on=approved_on,
            months=max(MONTH_DAYS, (today - approved_on).days) / MONTH_DAYS,
        )  # fmt: skip
    for seller_id, amount, orders, first in session.execute(
        _orders_join()
        .add_columns(SalesOrder.seller_id, sa.func.sum(SalesOrder.amount), sa.func.count(),
                     sa.func.min(SalesOrder.day))
        .where(_counted(), one(SalesOrder.seller_id))
        .group_by(SalesOrder.seller_id)
    ).tuples():  # fmt: skip
        if s := out.get(seller_id):
            s.sales += int(amount or 0)
            s.orders = int(orders)
            s.first_sale = first
    per_buyer = (
        _orders_join()
        .add_columns(SalesOrder.seller_id, SalesOrder.customer_id, sa.func.count().label("n"))
        .where(_counted(), one(SalesOrder.seller_id))
        .group_by(SalesOrder.seller_id, SalesOrder.customer_id)
        .subquery()
    )
    for seller_id, buyers, repeat in session.execute(
        sa.select(
            per_buyer.c.seller_id,
            sa.func.count(),
            sa.func.sum(sa.case((per_buyer.c.n >= 2, 1), else_=0)),
        ).group_by(per_buyer.c.seller_id)
    ).tuples():
        if s := out.get(seller_id):
            s.buyers, s.repeat_buyers = int(buyers), int(repeat or 0)
    for seller_id, amount, first in session.execute(
        sa.select(SalesDaily.seller_id, sa.func.sum(SalesDaily.amount), sa.func.min(SalesDaily.day))
        .where(SalesDaily.channel == OFFLINE, one(SalesDaily.seller_id))
        .group_by(SalesDaily.seller_id)
    ).tuples():
        if s := out.get(seller_id):
            s.sales += int(amount or 0)
            if first is not None and (s.first_sale is None or first < s.first_sale):
                s.first_sale = first
    for seller_id, left in session.execute(
        sa.select(SalesOrder.seller_id, sa.func.count())
        .join(SalesFlag, SalesFlag.order_id == SalesOrder.order_id)
        .where(SalesFlag.status != FlagStatus.CLEARED, one(SalesOrder.seller_id))
        .group_by(SalesOrder.seller_id)
    ).tuples():
        if s := out.get(seller_id):
            s.left_out = int(left)
    for seller_id, purpose, amount in session.execute(
        sa.select(Loan.seller_id, Loan.purpose, sa.func.sum(Loan.amount))
        .where(one(Loan.seller_id))
        .group_by(Loan.seller_id, Loan.purpose)
        .order_by(Loan.seller_id, Loan.purpose)
    ).tuples():
        if s := out.get(seller_id):
            s.loan_total += int(amount or 0)
            s.purposes.append(getattr(purpose, "value", purpose))
    return list(out.values())


def groups(
    sellers: list[SellerImpact], by: str, names: dict[str, str] | None = None
) -> list[GroupImpact]:
    """``sellers`` grouped ``by`` one of :data:`GROUPINGS`; the group of none (no cohort, no
    loan) last, under ``names[""]``. ``names`` names purposes (value -> label)."""
    names = names or {}
    found: dict[str | int | None, GroupImpact] = {}

    def group(key: str | int | None, name: str) -> GroupImpact:
        if key not in found:
            found[key] = GroupImpact(key, name)
        return found[key]

    for s in sellers:
        if by == "county":
            group(s.county_id, s.county).add(s)
        elif by == "sector":
            group(s.sector_id, s.sector).add(s)
        elif by == "cohort":
            group(s.cohort, s.cohort or names.get("", "")).add(s)
        elif by == "purpose":
            for purpose in s.purposes or [""]:
                group(purpose or None, names.get(purpose, purpose)).add(s)
        else:
            raise ValueError(by)
    return sorted(found.values(), key=lambda g: (g.key is None, g.name, str(g.key)))


def totals(sellers: list[SellerImpact], name: str) -> GroupImpact:
    """Every seller as one group (the province)."""
    whole = GroupImpact(None, name)
    for s in sellers:
        whole.add(s)
    return whole


def seller_impact(seller_id: int, locale: str = "fa") -> SellerImpact | None:
    """One seller's figures (the seller's own page and the staff record)."""
    found = seller_impacts(locale, seller_id=seller_id)
    return found[0] if found else None
