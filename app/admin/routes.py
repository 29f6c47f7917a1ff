"""Staff area: dashboard and the seller review queue."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ReviewForm
from app.admin.moderation_routes import id_arg, iso_time, jalali_time
from app.admin.report_args import filter_choices
from app.catalog import staff_queries
from app.catalog.models import SellerStatus
from app.catalog.moderation import REVIEW, moderation_counts
from app.catalog.sellers import SELLER_MOVES, review_seller
from app.catalog.staff_queries import SellerQueueFilters
from app.core.errors import InvalidTransition, ValidationFailed
from app.orders import lookups as order_lookups
from app.web.access import staff_scope
from app.web.csv_files import staff_csv
from app.web.http import page_arg
from app.web.messages import error_text, status_label

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
def dashboard() -> ResponseReturnValue:
    scope = staff_scope()
    sellers = staff_queries.seller_status_counts(scope)
    counts = {
        "applied": sellers.get(SellerStatus.APPLIED.value, 0),
        "approved": sellers.get(SellerStatus.APPROVED.value, 0),
        "published": staff_queries.published_product_count(scope),
        "orders": order_lookups.order_count(scope),
        "to_review": moderation_counts(scope)[REVIEW],
    }
    return render_template("admin/dashboard.html", counts=counts)


def _queue_filters() -> SellerQueueFilters:
    """The queue's filters (status, text, county, sector) from the query string; an unknown
    status means every status."""
    status = request.args.get("status", SellerStatus.APPLIED.value)
    return SellerQueueFilters(
        status=status if status in {s.value for s in SellerStatus} else "",
        text=request.args.get("q", "").strip()[:100],
        county_id=id_arg(request.args, "county"),
        sector_id=id_arg(request.args, "sector"),
        scope=staff_scope(),
    )


@bp.get("/sellers")
def sellers() -> ResponseReturnValue:
    """The review queue: applications first, then any status by filter, with search."""
    queue = _queue_filters()
    page = staff_queries.seller_queue_page(queue, page_arg(), current_app.config["PAGE_SIZE"])
    filters = {
        "status": queue.status,
        "q": queue.text,
        "county": queue.county_id,
        "sector": queue.sector_id,
    }
    choices = filter_choices()
    return render_template(
        "admin/sellers.html",
        page=page,
        status=queue.status,
        q=queue.text,
        filters=filters,
        args={"status": queue.status or "all"}
        | {k: v for k, v in filters.items() if k != "status" and v},
        counts=staff_queries.seller_status_counts(queue.scope),
        counties=choices["counties"],
        sectors=choices["sectors"],
    )


@bp.get("/sellers.csv")
def sellers_csv() -> ResponseReturnValue:
    """The queue as it is filtered, every page, for a spreadsheet."""
    queue = _queue_filters()
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
        for s in staff_queries.seller_queue_rows(queue)
    ]  # fmt: skip
    return staff_csv(header, rows, f"sellers_{queue.status or 'all'}")


@bp.route("/sellers/<int:seller_id>", methods=["GET", "POST"])
def seller_detail(seller_id: int) -> ResponseReturnValue:
    seller = staff_queries.seller_for_review(seller_id, staff_scope())
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
            review_seller(seller, new, current_user, form.reason.data)
        except ValidationFailed as exc:
            for codes in exc.errors.values():
                form.reason.errors = [*form.reason.errors, *(error_text(c) for c in codes)]
        except InvalidTransition:
            flash(_("That change is not possible from the seller's current status."), "error")
            return redirect(url_for("admin.seller_detail", seller_id=seller.id))
        else:
            flash(
                _("%(name)s: %(status)s.", name=seller.display_name, status=status_label(new)),
                "success",
            )
            return redirect(url_for("admin.seller_detail", seller_id=seller.id))
    products = staff_queries.product_count(seller)
    status = 400 if form.is_submitted() and form.errors else 200
    return (
        render_template(
            "admin/seller_detail.html",
            seller=seller,
            form=form,
            moves=SELLER_MOVES.get(seller.status, {}),
            products=products,
        ),
        status,
    )
