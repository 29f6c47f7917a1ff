"""Accounts in the browser: register, log in and out, confirm the password again, change it.
The other account pages: :mod:`app.auth.account_routes` (the account page, e-mail address,
messages, addresses, data, deletion), :mod:`app.auth.code_routes` (codes by SMS: mobile number,
log-in, password reset), :mod:`app.auth.reset_routes` (password reset by e-mail)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, login_required, login_user, logout_user

from app.accounts import services as accounts
from app.auth import bp
from app.auth.common import current_locale, login_limit, register_limit, user_agent
from app.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ReauthForm,
    RegisterForm,
    SetPasswordForm,
)
from app.catalog import favourites
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.core.timeutil import utcnow
from app.notifications.accounts import send_account_notice
from app.orders.cart import merge_guest_cart
from app.web.fresh import is_fresh, reauth_redirect
from app.web.http import safe_next
from app.web.messages import apply_errors


def _locked_message(until: datetime) -> str:
    """The answer while an account's attempts are locked, the same for right and wrong passwords."""
    minutes = max(1, -(-int((until - utcnow()).total_seconds()) // 60))
    return _(
        "Too many failed attempts for this account. Please try again in %(minutes)s minutes.",
        minutes=format_number(minutes, current_locale()),
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(register_limit, methods=["POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("shop.home"))
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.register_user(
                form.email.data, form.password.data, form.name.data, locale=current_locale()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            login_user(user)
            merge_guest_cart(user, session.pop("cart", None))
            favourites.merge_guest(user, session.pop(favourites.SESSION_KEY, None))
            session.pop("_flashes", None)
            flash(_("Welcome to Bazarche, %(name)s!", name=user.name), "success")
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    form = LoginForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data, form.password.data, user_agent=user_agent()
            )
        except accounts.AccountLocked as exc:
            form.password.errors.append(_locked_message(exc.until))
            status = 429
        except accounts.AuthenticationFailed:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            login_user(user, remember=form.remember.data)
            merge_guest_cart(user, session.pop("cart", None))
            favourites.merge_guest(user, session.pop(favourites.SESSION_KEY, None))
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template("auth/login.html", form=form), status


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@login_required
def reauth() -> ResponseReturnValue:
    """Confirm the password (a session restored from a remember cookie is not fresh), or a code
    texted to the account's verified number (:func:`app.auth.code_routes.reauth_mobile`: the
    only way for an account without a password), then go back to the page that asked."""
    form = ReauthForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if not current_user.has_password:
        if form.is_submitted():  # no password to confirm: a code by SMS only
            form.password.errors = [_("The password is not correct.")]
        return render_template("auth/reauth.html", form=form), status
    if form.validate_on_submit():
        try:
            confirmed = accounts.confirm_password(current_user, form.password.data)
        except accounts.AccountLocked as exc:
            form.password.errors.append(_locked_message(exc.until))
            status = 429
        else:
            if confirmed:
                confirm_login()
                return redirect(safe_next(form.next.data, url_for("shop.home")))
            form.password.errors.append(_("The password is not correct."))
    return render_template("auth/reauth.html", form=form), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out: the login row ends, so neither the session nor the remember cookie works again."""
    if current_user.is_authenticated:
        accounts.logout(current_user._get_current_object())
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("shop.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> ResponseReturnValue:
    """Change the password, or choose a first one (an account made with a mobile number: a
    fresh login stands for the current password)."""
    if not is_fresh():
        return reauth_redirect(url_for("auth.password"))
    first = not current_user.has_password
    form = SetPasswordForm() if first else ChangePasswordForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                None if first else form.current_password.data,
                form.new_password.data,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except accounts.AccountLocked as exc:
            form.current_password.errors.append(_locked_message(exc.until))
            status = 429
        else:
            send_account_notice("password_changed", current_user.id)
            flash(
                _("Your password is set. You can log in with it too.")
                if first
                else _("Your password has been changed."),
                "success",
            )
            return redirect(url_for("shop.home"))
    return render_template("auth/password.html", form=form, first=first), status
