"""What a staff account may see: the whole province, one county (a county officer) or the sellers
one support organisation assists (a training centre's or an NGO's staff).

A :class:`Scope` is a filter on sellers; every service that staff pages read takes one and puts
:meth:`Scope.sellers` into its own query (never only the route), so a county officer's list,
report or export holds their county's rows only, and an object of another county is not found
(404) rather than forbidden. Province staff have :data:`PROVINCE`, which filters nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalog.models import Seller, StaffScope, SupportOrganisation
from app.core.db import transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.extensions import db
from app.reference.models import County


@dataclass(frozen=True)
class Scope:
    county_id: int | None = None
    organisation_id: int | None = None

    @property
    def is_province(self) -> bool:
        return self.county_id is None and self.organisation_id is None

    def sellers(self, seller: Any = Seller) -> list[Any]:
        """The conditions that keep a query to this scope's sellers (``seller``: the Seller
        entity or an alias of it in the query)."""
        if self.county_id is not None:
            return [seller.county_id == self.county_id]
        if self.organisation_id is not None:
            return [seller.support_organisation_id == self.organisation_id]
        return []

    def seller_ids(self) -> Any:
        """A subquery of this scope's seller ids, for queries that hold a seller id but no
        seller row (orders, off-line sales, summary rows)."""
        return sa.select(Seller.id).where(*self.sellers()).scalar_subquery()

    def holds(self, seller: Seller | None) -> bool:
        """Whether ``seller`` is within this scope."""
        if seller is None:
            return False
        if self.county_id is not None:
            return seller.county_id == self.county_id
        if self.organisation_id is not None:
            return seller.support_organisation_id == self.organisation_id
        return True

    def holds_county(self, county_id: int) -> bool:
        """Whether this scope may read county ``county_id``'s reports (an organisation's
        scope reads none: its sellers are a cohort, not a county)."""
        if self.organisation_id is not None:
            return False
        return self.county_id is None or self.county_id == county_id


PROVINCE = Scope()


def of(user: User) -> Scope:
    """The scope of a staff account (province staff: :data:`PROVINCE`)."""
    row = db.session.get(StaffScope, user.id)
    if row is None:
        return PROVINCE
    return Scope(county_id=row.county_id, organisation_id=row.organisation_id)


def seller_in(scope: Scope, seller_id: int) -> Seller:
    """The seller ``seller_id`` if it is within ``scope``; NotFound otherwise."""
    seller = db.session.scalar(sa.select(Seller).where(Seller.id == seller_id, *scope.sellers()))
    if seller is None:
        raise NotFound(f"seller {seller_id}")
    return seller


def organisation_named(name: str) -> SupportOrganisation:
    """The support organisation of that name, made when missing."""
    clean = " ".join(name.split())
    if not clean or len(clean) > 160:
        raise ValidationFailed({"organisation": ["required" if not clean else "too_long"]})
    with transaction():
        row = db.session.scalar(
            sa.select(SupportOrganisation).where(SupportOrganisation.name == clean)
        )
        if row is None:
            row = SupportOrganisation(name=clean)
            db.session.add(row)
            db.session.flush()
    return row


def set_scope(
    user: User, *, county_slug: str | None = None, organisation: str | None = None
) -> Scope:
    """Make ``user`` (staff) a county officer of ``county_slug``, or staff of the support
    organisation ``organisation``, or (neither) province staff again."""
    if user.role != Role.STAFF:
        raise ValidationFailed({"user": ["not_staff"]})
    if county_slug and organisation:
        raise ValidationFailed({"scope": ["one_scope"]})
    county_id = organisation_id = None
    if county_slug:
        county_id = db.session.scalar(sa.select(County.id).where(County.slug == county_slug))
        if county_id is None:
            raise ValidationFailed({"county": ["unknown_county"]})
    if organisation:
        organisation_id = organisation_named(organisation).id
    with transaction():
        db.session.execute(sa.delete(StaffScope).where(StaffScope.user_id == user.id))
        if county_id is not None or organisation_id is not None:
            db.session.add(
                StaffScope(user_id=user.id, county_id=county_id, organisation_id=organisation_id)
            )
    return Scope(county_id=county_id, organisation_id=organisation_id)


def assign_organisation(seller_id: int, organisation: str | None) -> None:
    """Record that ``organisation`` (made if new; ``None``: none) assists seller ``seller_id``."""
    organisation_id = organisation_named(organisation).id if organisation else None
    with transaction():
        changed = db.session.execute(
            sa.update(Seller)
            .where(Seller.id == seller_id)
            .values(support_organisation_id=organisation_id)
            .execution_options(synchronize_session=False)
        )
        if cast("sa.CursorResult[Any]", changed).rowcount != 1:
            raise NotFound(f"seller {seller_id}")
