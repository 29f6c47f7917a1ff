"""A fresh login for sensitive changes: a session restored from a remember cookie must confirm
the password first (Flask-Login's ``login_fresh``), on ``/auth/confirm``, or a code texted to the
account's verified number (the only way for an account without a password)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_fresh
from werkzeug.wrappers import Response


def is_fresh() -> bool:
    """True when the password or a texted code was typed in this session (login, registration
    or confirmation), False when the session was restored from a remember cookie."""
    return login_fresh()


def reauth_redirect(next_url: str | None = None) -> Response:
    """Send the visitor to confirm their password (or a texted code), then back to ``next_url``
    (this page)."""
    if getattr(current_user, "has_password", True):
        flash(_("Please confirm your password to make this change."), "info")
    else:
        flash(_("Please confirm it is you to make this change."), "info")
    target = next_url or request.full_path.rstrip("?")
    return redirect(url_for("auth.reauth", next=target))
