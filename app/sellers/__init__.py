"""The seller area, ``/seller/…``: every view here is for a logged-in seller and their own data."""

from flask import Blueprint

from app.access import require_seller

bp = Blueprint("sellers", __name__)
bp.before_request(require_seller)

from app.sellers import routes  # noqa: E402,F401
