"""A fresh login for sensitive changes: a session restored from a remember cookie must confirm
the password first (Flask-Login's ``login_fresh``), on ``/auth/confirm``."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_fresh
from werkzeug.wrappers import Response


def is_fresh() -> bool:
    """True when the password was typed in this session (login, registration or confirmation),
    False when the session was restored from a remember cookie."""
    return login_fresh()


def reauth_redirect(next_url: str | None = None) -> Response:
    """Send the visitor to confirm their password, then back to ``next_url`` (this page)."""
    flash(_("Please confirm your password to make this change."), "info")
    target = next_url or request.full_path.rstrip("?")
    return redirect(url_for("auth.reauth", next=target))
