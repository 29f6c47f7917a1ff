"""A forgotten password, reset by a link e-mailed to the account's address."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from app.accounts import recovery
from app.auth import bp
from app.auth.common import current_locale, login_limit
from app.auth.forms import (
    ResetPasswordForm,
    ResetRequestForm,
)
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.core.links import site_url_for
from app.notifications.accounts import send_account_notice
from app.web.messages import apply_errors, error_text


def _reset_rate_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_email_key() -> str:
    """The address a reset is asked for (each account gets few links, from any address)."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@limiter.limit(_reset_rate_limit, methods=["POST"], key_func=_reset_email_key)
def reset_request() -> ResponseReturnValue:
    """Ask for a link to choose a new password. The answer is the same whether or not an
    account uses the address."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = recovery.account_for_email(form.email.data or "")
        if user is not None and recovery.may_reset_by_email(user):
            link = site_url_for("auth.reset_password", token=recovery.reset_token(user))
            send_account_notice("password_reset", user.id, link=link)
        flash(
            _(
                "If an account uses this address, we have e-mailed it a link to choose a new "
                "password. The link works once, for %(minutes)s minutes.",
                minutes=format_number(
                    current_app.config["PASSWORD_RESET_MINUTES"], current_locale()
                ),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password with an e-mailed link; every login of the account ends."""
    if recovery.account_for_token(token[:1000]) is None:
        return _reset_link_invalid()
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = recovery.reset_password(token, form.new_password.data or "")
        except ValidationFailed as exc:
            if recovery.INVALID in exc.errors.get("token", ()):
                return _reset_link_invalid()
            apply_errors(form, exc)
        else:
            if current_user.is_authenticated:
                logout_user()  # its login ended with the others
            send_account_notice("password_changed", user.id)
            flash(_("Your password has been changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status


def _reset_link_invalid() -> ResponseReturnValue:
    flash(error_text(recovery.INVALID), "error")
    return render_template("auth/reset_request.html", form=ResetRequestForm()), 400
