"""The account pages, ``/auth/…``: register, log in and out, password change, re-authentication."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import routes  # noqa: E402,F401
