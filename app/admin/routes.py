"""Staff area: dashboard and the seller review queue."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app.admin import bp
from app.admin.forms import ReviewForm
from app.admin.moderation_routes import id_arg, iso_time, jalali_time
from app.admin.report_args import filter_choices
from app.catalog import services as catalog
from app.core.errors import InvalidTransition, ValidationFailed
from app.core.extensions import db
from app.core.pagination import contains_pattern, count_rows, page_of
from app.models import (
    Order,
    Product,
    ProductStatus,
    Seller,
    SellerStatus,
    SellerStatusChange,
)
from app.web.http import csv_response, page_arg
from app.web.messages import error_text

ACTIONS = {
    "approve": SellerStatus.APPROVED,
    "reject": SellerStatus.REJECTED,
    "suspend": SellerStatus.SUSPENDED,
    "reinstate": SellerStatus.APPROVED,
}
# Both approve and reinstate lead to "approved"; each only from the statuses its button is for.
ACTION_FROM = {
    "approve": {SellerStatus.APPLIED, SellerStatus.REJECTED},
    "reinstate": {SellerStatus.SUSPENDED},
}


@bp.get("/")
def dashboard():
    counts = {
        "applied": db.session.scalar(
            sa.select(sa.func.count(Seller.id)).where(Seller.status == SellerStatus.APPLIED)
        ),
        "approved": db.session.scalar(
            sa.select(sa.func.count(Seller.id)).where(Seller.status == SellerStatus.APPROVED)
        ),
        "published": db.session.scalar(
            sa.select(sa.func.count(Product.id)).where(Product.status == ProductStatus.PUBLISHED)
        ),
        "orders": db.session.scalar(sa.select(sa.func.count(Order.id))),
        "to_review": catalog.moderation_counts()[catalog.REVIEW],
    }
    return render_template("admin/dashboard.html", counts=counts)


def _seller_queue() -> tuple[sa.Select[tuple[Seller]], dict[str, object]]:
    """The queue's query and its filters (status, text, county, sector) from the query string."""
    status = request.args.get("status", SellerStatus.APPLIED.value)
    text = request.args.get("q", "").strip()[:100]
    county_id = id_arg(request.args, "county")
    sector_id = id_arg(request.args, "sector")
    stmt = sa.select(Seller)
    if status in {s.value for s in SellerStatus}:
        stmt = stmt.where(Seller.status == status)
    else:
        status = ""
    if text:
        pattern = contains_pattern(text)
        stmt = stmt.where(
            sa.or_(
                Seller.display_name.ilike(pattern, escape="\\"),
                Seller.registration_code.ilike(pattern, escape="\\"),
                Seller.slug.ilike(pattern, escape="\\"),
            )
        )
    if county_id is not None:
        stmt = stmt.where(Seller.county_id == county_id)
    if sector_id is not None:
        stmt = stmt.where(Seller.sector_id == sector_id)
    filters = {"status": status, "q": text, "county": county_id, "sector": sector_id}
    return stmt, filters


@bp.get("/sellers")
def sellers():
    """The review queue: applications first, then any status by filter, with search."""
    stmt, filters = _seller_queue()
    stmt = stmt.options(joinedload(Seller.county), joinedload(Seller.sector))
    page = page_of(
        stmt.order_by(Seller.created_at.asc(), Seller.id),
        count_rows(stmt, Seller.id),
        page_arg(),
        current_app.config["PAGE_SIZE"],
    )
    counts = dict(
        db.session.execute(
            sa.select(Seller.status, sa.func.count(Seller.id)).group_by(Seller.status)
        ).all()
    )
    choices = filter_choices()
    return render_template(
        "admin/sellers.html",
        page=page,
        status=filters["status"],
        q=filters["q"],
        filters=filters,
        args={"status": filters["status"] or "all"}
        | {k: v for k, v in filters.items() if k != "status" and v},
        counts={SellerStatus(k).value: v for k, v in counts.items()},
        counties=choices["counties"],
        sectors=choices["sectors"],
    )


@bp.get("/sellers.csv")
def sellers_csv():
    """The queue as it is filtered, every page, for a spreadsheet."""
    stmt, filters = _seller_queue()
    locale = str(get_locale() or "fa")
    header = [
        "seller_id", "registration_code", "business_name", "owner", "email", "county", "sector",
        "status", "status_reason", "applied_at", "applied_at_jalali", "approved_at",
        "approved_at_jalali", "training_completed_on", "permit_number",
    ]  # fmt: skip
    rows = [
        [s.id, s.registration_code, s.display_name, s.user.name, s.user.email,
         s.county.name(locale), s.sector.name(locale), SellerStatus(s.status).value,
         s.status_reason, iso_time(s.created_at), jalali_time(s.created_at), iso_time(s.approved_at),
         jalali_time(s.approved_at),
         s.training_completed_on.isoformat() if s.training_completed_on else None,
         s.permit_number]
        for s in db.session.scalars(
            stmt.options(
                joinedload(Seller.county), joinedload(Seller.sector), joinedload(Seller.user)
            ).order_by(Seller.created_at.asc(), Seller.id)
        )
    ]  # fmt: skip
    return csv_response(header, rows, f"sellers_{filters['status'] or 'all'}.csv")


@bp.route("/sellers/<int:seller_id>", methods=["GET", "POST"])
def seller_detail(seller_id: int):
    seller = db.session.scalar(
        sa.select(Seller)
        .where(Seller.id == seller_id)
        .options(
            joinedload(Seller.user),
            joinedload(Seller.county),
            joinedload(Seller.sector),
            selectinload(Seller.status_changes).joinedload(SellerStatusChange.actor),
        )
    )
    if seller is None:
        abort(404)
    form = ReviewForm()
    if form.validate_on_submit():
        new = ACTIONS.get(form.action.data or "")
        if new is None:
            abort(400)
        try:
            if seller.status not in ACTION_FROM.get(form.action.data, {seller.status}):
                raise InvalidTransition(seller.status, new)
            catalog.review_seller(seller, new, current_user, form.reason.data)
        except ValidationFailed as exc:
            for codes in exc.errors.values():
                form.reason.errors = [*form.reason.errors, *(error_text(c) for c in codes)]
        except InvalidTransition:
            flash(_("That change is not possible from the seller's current status."), "error")
            return redirect(url_for("admin.seller_detail", seller_id=seller.id))
        else:
            flash(
                _("%(name)s: %(status)s.", name=seller.display_name, status=_status_text(new)),
                "success",
            )
            return redirect(url_for("admin.seller_detail", seller_id=seller.id))
    products = db.session.scalar(
        sa.select(sa.func.count(Product.id)).where(Product.seller_id == seller.id)
    )
    status = 400 if form.is_submitted() and form.errors else 200
    return (
        render_template(
            "admin/seller_detail.html",
            seller=seller,
            form=form,
            moves=catalog.SELLER_MOVES.get(seller.status, {}),
            products=products,
        ),
        status,
    )


def _status_text(status: SellerStatus) -> str:
    from app.web.messages import status_label

    return status_label(status)
