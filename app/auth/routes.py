from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import services as accounts
from app.auth import bp
from app.auth.forms import ChangePasswordForm, LoginForm, RegisterForm
from app.errors import ValidationFailed
from app.extensions import limiter
from app.messages import apply_errors
from app.orders.cart import merge_guest_cart
from app.web import safe_next


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("shop.home"))
    form = RegisterForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.register_user(
                form.email.data, form.password.data, form.name.data, locale=_current_locale()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            login_user(user)
            merge_guest_cart(user, session.pop("cart", None))
            session.pop("_flashes", None)
            flash(_("Welcome to Bazarche, %(name)s!", name=user.name), "success")
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.AuthenticationFailed:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            login_user(user, remember=form.remember.data)
            merge_guest_cart(user, session.pop("cart", None))
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("shop.home"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            # The session carries the new version. The real user, not the proxy: a proxy in
            # g._login_user would resolve to itself on the next use of current_user.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("shop.home"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/password.html", form=form), status


def _current_locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "fa")
