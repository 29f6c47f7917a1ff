"""The staff area, ``/admin/…``: closed to everyone but staff, for every route, by default."""

from flask import Blueprint

from app.access import require_staff

bp = Blueprint("admin", __name__)
bp.before_request(require_staff)

from app.admin import county_routes, moderation_routes, routes, sales_routes  # noqa: E402,F401
