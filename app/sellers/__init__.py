"""The seller area, ``/seller/…``: every view here is for a logged-in seller and their own data.

The gate runs before every view of the blueprint, so a new route is closed by default; only the
application form is open to any logged-in user.
"""

from flask import Blueprint, request

from app.web.access import require_login, require_seller

bp = Blueprint("sellers", __name__)
OPEN_TO_APPLICANTS = frozenset({"sellers.apply"})


@bp.before_request
def gate() -> None:
    if request.endpoint in OPEN_TO_APPLICANTS:
        require_login()
    else:
        require_seller()


from app.sellers import (  # noqa: E402,F401
    booth_routes,
    campaign_routes,
    coupon_routes,
    import_routes,
    messages_routes,
    offline_routes,
    orders_routes,
    price_hint_routes,
    problem_routes,
    review_routes,
    routes,
    sales_routes,
    shipping_routes,
    statement_routes,
)
