"""The storefront, ``/…``: browsing, search, product and shop pages, cart, checkout, my orders."""

from flask import Blueprint

bp = Blueprint("shop", __name__)

from app.shop import (  # noqa: E402,F401
    cart_routes,
    crawl_routes,
    favourites_routes,
    messages_routes,
    notices_routes,
    orders_routes,
    pages_routes,
    payments_routes,
    problem_routes,
    review_routes,
    routes,
    stock_alert_routes,
)
