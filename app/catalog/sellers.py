"""Sellers: the application to sell, the shop profile (its sensitive details need a fresh login
and are audited) and the staff review of sellers.

Each public function that changes something is one unit of work: it validates, then changes and
commits inside :func:`app.core.db.transaction`, or raises a domain error having changed nothing.
Callers (routes, commands) never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit import log as audit
from app.catalog import addresses, signals
from app.catalog.models import Seller, SellerStatus, SellerStatusChange
from app.catalog.rules import fail
from app.catalog.sheba import is_valid_sheba, mask_sheba, normalise_sheba
from app.catalog.signals import seller_details_changed
from app.catalog.slugs import is_valid_slug, slugify
from app.core.db import transaction
from app.core.errors import InvalidTransition, NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.inputs import is_mobile, normalise_code, normalise_mobile
from app.core.timeutil import utcnow
from app.reference.models import County, Sector

log = logging.getLogger(__name__)

# Which review moves staff may make, and whether they need a reason.
SELLER_MOVES: dict[SellerStatus, dict[SellerStatus, bool]] = {
    SellerStatus.APPLIED: {SellerStatus.APPROVED: False, SellerStatus.REJECTED: True},
    SellerStatus.REJECTED: {SellerStatus.APPROVED: False},
    SellerStatus.APPROVED: {SellerStatus.SUSPENDED: True},
    SellerStatus.SUSPENDED: {SellerStatus.APPROVED: False},
}

# Details that identify the seller to the programme (the county feeds the quota reports) and the
# bank account payouts go to: changing them needs the password typed in this session, is audited
# and is mailed to the seller (a Sheba number masked in both).
SENSITIVE_PROFILE_FIELDS = ("county_id", "phone", "registration_code", "permit_number", "sheba")
MASKED_FIELDS = frozenset({"sheba"})


@dataclass
class SellerProfile:
    display_name: str
    slug: str
    bio: str
    county_id: int
    sector_id: int
    phone: str
    registration_code: str | None = None
    training_completed_on: date | None = None
    training_provider: str | None = None
    permit_number: str | None = None
    sheba: str | None = None


class FreshLoginRequired(NotAllowed):
    """The change touches sensitive details and the session was not logged in with the password
    (it came from a remember cookie): confirm the password first. Nothing was changed."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__("a fresh login is needed to change " + ", ".join(fields))
        self.fields = fields


def seller_of(user: User) -> Seller | None:
    return db.session.scalar(sa.select(Seller).where(Seller.user_id == user.id))


def seller_by_slug(slug: str) -> Seller | None:
    """The seller whose shop address is ``slug`` (as typed: spaces and case folded), whatever
    the seller's status."""
    return db.session.scalar(sa.select(Seller).where(Seller.slug == slugify(slug)))


def profile_choices() -> tuple[list[County], list[Sector]]:
    """The counties (by Persian name) and sectors (in their order) a profile may name."""
    counties = list(db.session.scalars(sa.select(County).order_by(County.name_fa)))
    sectors = list(db.session.scalars(sa.select(Sector).order_by(Sector.id)))
    return counties, sectors


def suggest_slug(name: str) -> str:
    """A free storefront slug made from the business name (Persian letters kept)."""
    return addresses.free_slug(addresses.SELLER, name)


def _check_profile(data: SellerProfile, seller_id: int | None) -> SellerProfile:
    errors: dict[str, list[str]] = {}
    data.display_name = data.display_name.strip()
    # One spelling: what a seller types with spaces or Arabic letters is the address they mean.
    data.slug = slugify(data.slug)
    if not data.display_name:
        errors.setdefault("display_name", []).append("required")
    if not is_valid_slug(data.slug):
        errors.setdefault("slug", []).append("slug_invalid")
    else:
        owner = db.session.scalar(sa.select(Seller.id).where(Seller.slug == data.slug))
        if owner is not None and owner != seller_id:
            errors.setdefault("slug", []).append("slug_taken")
    if db.session.get(County, data.county_id) is None:
        errors.setdefault("county_id", []).append("required")
    if db.session.get(Sector, data.sector_id) is None:
        errors.setdefault("sector_id", []).append("required")
    # What people type in Persian digits is stored as the ministry reads it: one form per value.
    data.phone = normalise_mobile(data.phone) if data.phone.strip() else ""
    if data.phone and not is_mobile(data.phone):
        errors.setdefault("phone", []).append("mobile_invalid")
    data.registration_code = normalise_code(data.registration_code) or None
    data.permit_number = normalise_code(data.permit_number) or None
    if data.registration_code:
        owner = db.session.scalar(
            sa.select(Seller.id).where(Seller.registration_code == data.registration_code)
        )
        if owner is not None and owner != seller_id:
            errors.setdefault("registration_code", []).append("code_taken")
    data.sheba = normalise_sheba(data.sheba) or None
    if data.sheba and not is_valid_sheba(data.sheba):
        errors.setdefault("sheba", []).append("sheba_invalid")
    if data.training_completed_on and data.training_completed_on > date.today():
        errors.setdefault("training_completed_on", []).append("future_date")
    if errors:
        raise ValidationFailed(errors)
    return data


def _apply_profile(seller: Seller, data: SellerProfile) -> None:
    seller.display_name = data.display_name[:120]
    if seller.id is not None and seller.slug and seller.slug != data.slug:
        addresses.remember(addresses.SELLER, seller.slug, seller.id)  # old links lead on
    seller.slug = data.slug
    seller.bio = data.bio.strip()
    seller.county_id = data.county_id
    seller.sector_id = data.sector_id
    seller.phone = data.phone.strip() or None
    seller.registration_code = data.registration_code or None
    seller.training_completed_on = data.training_completed_on
    seller.training_provider = (data.training_provider or "").strip() or None
    seller.permit_number = (data.permit_number or "").strip() or None
    seller.sheba = data.sheba or None


def apply_to_sell(user: User, data: SellerProfile, logo_key: str | None = None) -> Seller:
    """File an application; it waits in the staff queue. A rejected applicant may apply again.
    The applicant's mobile number must be verified first (ValidationFailed ``mobile:
    mobile_unverified``): staff and customers reach the shop by it."""
    if user.role == Role.STAFF:
        raise NotAllowed("staff accounts do not sell")
    if not user.mobile or user.mobile_verified_at is None:
        raise fail("mobile", "mobile_unverified")
    seller = seller_of(user)
    if seller is not None and seller.status != SellerStatus.REJECTED:
        raise NotAllowed("already a seller")
    _check_profile(data, seller.id if seller else None)
    previous = seller.status.value if seller is not None else None
    try:
        with transaction():
            seller = _file_application(user, seller, data, logo_key)
    except sa.exc.IntegrityError as exc:  # a concurrent application took the slug or the code
        raise fail("slug", "slug_taken") from exc
    signals.seller_status_changed.send(
        user_id=user.id, status=SellerStatus.APPLIED.value, previous=previous, reason=None
    )
    return seller


def _file_application(
    user: User, seller: Seller | None, data: SellerProfile, logo_key: str | None
) -> Seller:
    if seller is None:
        seller = Seller(user_id=user.id, status=SellerStatus.APPLIED)
        db.session.add(seller)
        previous = None
    else:
        previous = seller.status
        seller.status = SellerStatus.APPLIED
        seller.status_reason = None
    _apply_profile(seller, data)
    if logo_key:
        seller.logo_key = logo_key
    user.role = Role.SELLER
    db.session.flush()
    db.session.add(
        SellerStatusChange(
            seller_id=seller.id,
            from_status=previous,
            to_status=SellerStatus.APPLIED,
            actor_id=user.id,
        )
    )
    return seller


def _sensitive(seller: Seller) -> dict[str, object]:
    return {field: getattr(seller, field) for field in SENSITIVE_PROFILE_FIELDS}


def _comparable(field: str, value: object) -> object:
    """A sensitive value in the one form it is stored in now, so a value saved before input was
    normalised (Persian digits, spaces) is not taken for a change when it is saved again."""
    if value is None or value == "":
        return None
    if field == "phone":
        return normalise_mobile(str(value))
    if field in ("registration_code", "permit_number"):
        return normalise_code(str(value)) or None
    if field == "sheba":
        return normalise_sheba(value) or None
    return value


def _shown(field: str, value: object) -> object:
    """A sensitive value as the audit row and the e-mail may show it (a Sheba number masked)."""
    return mask_sheba(str(value)) if field in MASKED_FIELDS and value else value


def update_profile(
    seller: Seller, data: SellerProfile, logo_key: str | None = None, *, fresh_login: bool = False
) -> Seller:
    """Save the seller's profile and commit.

    A change of county, phone, registration code, permit number or Sheba number needs
    ``fresh_login`` (the password was typed in this session): otherwise FreshLoginRequired and
    nothing changes. Such a change writes an audit row (``seller.details_change``, before and
    after; a Sheba number masked) in the same transaction, and the seller is e-mailed the old and
    new values (masked likewise) after the commit.
    """
    _check_profile(data, seller.id)
    before = _sensitive(seller)
    try:
        with transaction():
            _apply_profile(seller, data)
            after = _sensitive(seller)
            changed = [
                field
                for field in SENSITIVE_PROFILE_FIELDS
                if _comparable(field, before[field]) != _comparable(field, after[field])
            ]
            if changed and not fresh_login:
                raise FreshLoginRequired(changed)
            if logo_key:
                seller.logo_key = logo_key
            if changed:
                audit.record(
                    seller.user_id,
                    "seller.details_change",
                    "seller",
                    seller.id,
                    data={
                        "before": {field: _shown(field, before[field]) for field in changed},
                        "after": {field: _shown(field, after[field]) for field in changed},
                    },
                )
    except sa.exc.IntegrityError as exc:
        raise fail("slug", "slug_taken") from exc
    if changed:
        seller_details_changed.send(
            user_id=seller.user_id,
            changes=[
                (field, _shown(field, before[field]), _shown(field, after[field]))
                for field in changed
            ],
        )
    return seller


def review_seller(
    seller: Seller, new: SellerStatus, staff: User, reason: str | None = None
) -> None:
    """Approve, reject, suspend or reinstate; recorded with who, when and why.

    Suspension hides the seller's products at once: public queries require an approved seller
    and the catalogue version bump makes every cached page stale in the same transaction.
    """
    if staff.role != Role.STAFF:
        raise NotAllowed("only staff review sellers")
    allowed = SELLER_MOVES.get(seller.status, {})
    if new not in allowed:
        raise InvalidTransition(seller.status, new)
    reason = (reason or "").strip() or None
    if allowed[new] and not reason:
        raise fail("reason", "reason_required")
    previous = seller.status
    seller_id, staff_id, owner_id = seller.id, staff.id, seller.user_id
    with transaction():
        seller.status = new
        seller.status_reason = (
            reason if new in (SellerStatus.REJECTED, SellerStatus.SUSPENDED) else None
        )
        if new == SellerStatus.APPROVED and seller.approved_at is None:
            seller.approved_at = utcnow()
        db.session.add(
            SellerStatusChange(
                seller_id=seller_id,
                from_status=previous,
                to_status=new,
                actor_id=staff_id,
                reason=reason,
            )
        )
        audit.record(
            staff_id,
            f"seller.{new.value}",
            "seller",
            seller_id,
            reason=reason,
            data={"from": previous.value, "to": new.value},
        )
    log.info("seller %s %s -> %s by staff %s", seller_id, previous.value, new.value, staff_id)
    signals.seller_status_changed.send(
        user_id=owner_id, status=new.value, previous=previous.value, reason=reason
    )
