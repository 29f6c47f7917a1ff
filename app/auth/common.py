"""What the account pages' modules share: their rate limits, the visitor's user agent and locale."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def user_agent() -> str:
    return request.user_agent.string or ""


def current_locale() -> str:
    return str(get_locale() or "fa")
