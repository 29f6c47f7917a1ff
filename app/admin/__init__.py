"""The staff area, ``/admin/…``: closed to everyone but staff, for every route, by default."""

from flask import Blueprint

from app.web.access import require_scoped_staff, staff_scope

bp = Blueprint("admin", __name__)

# What staff with a scope (a county officer, a support organisation) may open, each page
# showing their own sellers' rows only (the services filter by app.catalog.scope); every other
# page of the staff area is the province's (403 for them).
OPEN_TO_SCOPED = frozenset(
    {
        "admin.dashboard",
        "admin.sellers",
        "admin.sellers_csv",
        "admin.seller_detail",
        "admin.listings",
        "admin.listings_csv",
        "admin.listing_detail",
        "admin.hide_listing",
        "admin.release_listing",
        "admin.order_invoice",
        "admin.sales_report",
        "admin.sales_csv",
        "admin.sales_seller",
        "admin.offline_sales",
        "admin.offline_sales_csv",
        "admin.new_offline_sale",
        "admin.delete_offline_sale",
        "admin.booth_page",
        "admin.booth_entry",
        "admin.booth_worker",
        "admin.counties_report",
        "admin.county_detail",
        "admin.county_sellers_csv",
        "admin.county_monthly_csv",
        "admin.county_categories_csv",
        "admin.problems",
        "admin.problem_detail",
        "admin.early_warnings",
        "admin.impact_report",
        "admin.impact_csv",
        "admin.impact_xlsx",
        "admin.assist",
        "admin.assist_ask",
        "admin.assist_confirm",
        "admin.assist_new_listing",
        "admin.assist_edit_listing",
        "admin.assist_quick_edit",
        "admin.assist_stage_photo",
        "admin.assist_price_hint",
    }
)


@bp.before_request
def gate() -> None:
    require_scoped_staff(OPEN_TO_SCOPED)


@bp.context_processor
def scope_of_page() -> dict[str, object]:
    """What the staff area's menu shows: the province's own pages for province staff only."""
    scope = staff_scope()
    return {
        "staff_province": scope.is_province,
        "staff_organisation": scope.organisation_id is not None,
    }


from app.admin import (  # noqa: E402,F401
    assist_routes,
    campaign_routes,
    conversation_routes,
    county_routes,
    impact_routes,
    jobs_routes,
    moderation_routes,
    money_routes,
    pages_routes,
    payments_routes,
    problem_routes,
    review_routes,
    routes,
    sales_routes,
    search_routes,
    warning_routes,
)
