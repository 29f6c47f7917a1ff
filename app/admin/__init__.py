"""The staff area, ``/admin/…``: closed to everyone but staff, for every route, by default."""

from flask import Blueprint

from app.web.access import require_staff

bp = Blueprint("admin", __name__)
bp.before_request(require_staff)

from app.admin import (  # noqa: E402,F401
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
