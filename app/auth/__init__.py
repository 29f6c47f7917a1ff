"""The account pages, ``/auth/…``: register, log in and out (password or a code by SMS), password
change and reset, re-authentication, and the account page with what hangs from it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import (  # noqa: E402,F401
    account_routes,
    code_routes,
    reset_routes,
    routes,
)
