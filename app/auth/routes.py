"""Accounts in the browser: register, log in and out, confirm the password again, change it,
set a new one through an e-mailed link when it is forgotten."""

from __future__ import annotations

import json
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, login_required, login_user, logout_user

from app.accounts import codes, email_links, recovery
from app.accounts import services as accounts
from app.auth import bp, closing, personal_data
from app.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    CodeResetForm,
    DeleteAccountForm,
    EmailForm,
    LoginForm,
    MobileForm,
    ReauthForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.core.links import site_url_for
from app.core.timeutil import utcnow
from app.notifications import preferences, sms
from app.notifications.accounts import send_account_notice
from app.orders import addresses
from app.orders.cart import merge_guest_cart
from app.web.fresh import is_fresh, reauth_redirect
from app.web.http import safe_next
from app.web.messages import apply_errors, error_text


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _user_agent() -> str:
    return request.user_agent.string or ""


def _locked_message(until: datetime) -> str:
    """The answer while an account's attempts are locked, the same for right and wrong passwords."""
    minutes = max(1, -(-int((until - utcnow()).total_seconds()) // 60))
    return _(
        "Too many failed attempts for this account. Please try again in %(minutes)s minutes.",
        minutes=format_number(minutes, _current_locale()),
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register() -> ResponseReturnValue:
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
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    form = LoginForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data, form.password.data, user_agent=_user_agent()
            )
        except accounts.AccountLocked as exc:
            form.password.errors.append(_locked_message(exc.until))
            status = 429
        except accounts.AuthenticationFailed:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            login_user(user, remember=form.remember.data)
            merge_guest_cart(user, session.pop("cart", None))
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template("auth/login.html", form=form), status


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_required
def reauth() -> ResponseReturnValue:
    """Confirm the password (a session restored from a remember cookie is not fresh), then go
    back to the page that asked."""
    form = ReauthForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
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
    if not is_fresh():
        return reauth_redirect(url_for("auth.password"))
    form = ChangePasswordForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except accounts.AccountLocked as exc:
            form.current_password.errors.append(_locked_message(exc.until))
            status = 429
        else:
            send_account_notice("password_changed", current_user.id)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("shop.home"))
    return render_template("auth/password.html", form=form), status


# --- one-time codes by SMS ------------------------------------------------------------------------

_LOGIN_MOBILE = "otp_login_mobile"
_NEW_MOBILE = "otp_new_mobile"


def _otp_limit() -> str:
    return current_app.config["OTP_RATE_LIMIT"]


def _send_code(issued: codes.Issued, user_id: int | None) -> None:
    """Text the code to its number, in this visitor's language."""
    minutes = max(1, round((issued.expires_at - utcnow()).total_seconds() / 60))
    message = sms.compose(
        user_id,
        issued.mobile,
        _current_locale(),
        "login_code",
        {"code": issued.code, "minutes": minutes},
    )
    sms.send([message], "login_code")


def _wait_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return _(
        "A code was sent to this number a moment ago. You can ask for another in %(minutes)s "
        "minutes.",
        minutes=format_number(minutes, _current_locale()),
    )


@bp.route("/mobile", methods=["GET", "POST"])
@limiter.limit(_otp_limit, methods=["POST"])
def mobile_login() -> ResponseReturnValue:
    """Log in with a code texted to the account's verified mobile number. The answer is the same
    whether or not an account has the number (only an account's number gets a text)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    form = MobileForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            number = codes.mobile_number(form.mobile.data or "")
            issued = codes.issue(number, codes.LOGIN)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except codes.SendRefused as refused:
            form.mobile.errors.append(_wait_message(refused.retry_after))
            status = 429
        else:
            user = accounts.user_with_mobile(issued.mobile)
            if user is not None:
                _send_code(issued, user.id)
            session[_LOGIN_MOBILE] = issued.mobile
            return redirect(url_for("auth.mobile_code", next=form.next.data or None))
    return render_template("auth/mobile.html", form=form), status


@bp.route("/mobile/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def mobile_code() -> ResponseReturnValue:
    number = session.get(_LOGIN_MOBILE)
    if not number:
        return redirect(url_for("auth.mobile_login"))
    form = CodeForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            codes.check(number, codes.LOGIN, form.code.data or "")
            user = accounts.log_in_with_mobile(number, user_agent=_user_agent())
            if user is None:  # no account has the number: no code was sent to be right
                raise ValidationFailed({"code": ["code_wrong"]})
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            session.pop(_LOGIN_MOBILE, None)
            login_user(user)
            merge_guest_cart(user, session.pop("cart", None))
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template(
        "auth/mobile_code.html", form=form, number=number, again=url_for("auth.mobile_login")
    ), status


@bp.route("/account/mobile", methods=["GET", "POST"])
@limiter.limit(_otp_limit, methods=["POST"])
@login_required
def account_mobile() -> ResponseReturnValue:
    """Add or change the account's mobile number: a code texted to it proves it (a fresh login
    first; the owner is told by e-mail)."""
    if not is_fresh():
        return reauth_redirect(url_for("auth.account_mobile", next=request.args.get("next")))
    form = MobileForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            number = codes.mobile_number(form.mobile.data or "")
            other = accounts.user_with_mobile(number)
            if other is not None and other.id != user.id:
                raise ValidationFailed({"mobile": ["mobile_taken"]})
            issued = codes.issue(number, codes.verify_purpose(user))
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except codes.SendRefused as refused:
            form.mobile.errors.append(_wait_message(refused.retry_after))
            status = 429
        else:
            _send_code(issued, user.id)
            session[_NEW_MOBILE] = issued.mobile
            return redirect(url_for("auth.account_mobile_code", next=form.next.data or None))
    return render_template("auth/account_mobile.html", form=form), status


@bp.route("/account/mobile/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_required
def account_mobile_code() -> ResponseReturnValue:
    number = session.get(_NEW_MOBILE)
    if not number:
        return redirect(url_for("auth.account_mobile"))
    form = CodeForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            codes.check(number, codes.verify_purpose(user), form.code.data or "")
            before = accounts.set_mobile(user, number)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            session.pop(_NEW_MOBILE, None)
            send_account_notice(
                "mobile_changed", user.id, changes=[("phone", before or "", number)]
            )
            flash(_("Your mobile number is verified. You can log in with it."), "success")
            return redirect(safe_next(form.next.data, url_for("auth.account")))
    return render_template(
        "auth/mobile_code.html", form=form, number=number, again=url_for("auth.account_mobile")
    ), status


# --- the e-mail address ------------------------------------------------------------------------


def _email_link_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _user_key() -> str:
    return f"email-link:{current_user.get_id() if current_user.is_authenticated else ''}"


def _send_email_link(user_id: int, address: str, token: str) -> None:
    link = site_url_for("auth.confirm_email", token=token)
    send_account_notice("email_confirm", user_id, link=link, to=address)


@bp.post("/account/email/verify")
@limiter.limit(_email_link_limit, key_func=_user_key)
@login_required
def verify_email() -> ResponseReturnValue:
    """E-mail the account's own address a link that proves it."""
    user = current_user._get_current_object()
    _send_email_link(user.id, user.email, email_links.link_token(user, user.email))
    flash(
        _(
            "We have e-mailed %(address)s a link. Open it to confirm the address.",
            address=user.email,
        ),
        "info",
    )
    return redirect(url_for("auth.account"))


@bp.route("/account/email", methods=["GET", "POST"])
@limiter.limit(_email_link_limit, methods=["POST"], key_func=_user_key)
@login_required
def change_email() -> ResponseReturnValue:
    """Move the account to another address: a link sent there proves it (a fresh login first;
    the old address is told once the move is made)."""
    if not is_fresh():
        return reauth_redirect(url_for("auth.change_email"))
    form = EmailForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            address = email_links.new_address(user, form.email.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            _send_email_link(user.id, address, email_links.link_token(user, address))
            flash(
                _(
                    "We have e-mailed %(address)s a link. Your account moves to that address "
                    "when you open it.",
                    address=address,
                ),
                "info",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/change_email.html", form=form), status


@bp.get("/email/<token>")
def confirm_email(token: str) -> ResponseReturnValue:
    """Open an e-mailed link: the address is proved (and the account moved to it)."""
    try:
        user, before = email_links.confirm(token[:2000])
    except ValidationFailed:
        return render_template("error.html", code=400, message=error_text(email_links.INVALID)), 400
    if before is not None:
        send_account_notice("email_changed", user.id, to=before)
        flash(_("Your account now uses %(address)s.", address=user.email), "success")
    else:
        flash(_("Your e-mail address is confirmed."), "success")
    return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))


# --- the account ---------------------------------------------------------------------------------


@bp.get("/account")
@login_required
def account() -> ResponseReturnValue:
    """The account's page: its details, saved addresses and what can be done with it."""
    return render_template("auth/account.html", saved_addresses=addresses.saved(current_user.id))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notification_settings() -> ResponseReturnValue:
    """Choose, per kind of message, whether it comes by e-mail and by SMS."""
    user = current_user._get_current_object()
    topics = preferences.topics_for(user)
    if request.method == "POST":
        known = {(t.key, c) for t in topics for c in preferences.CHANNELS}
        ticked = set()
        for value in request.form.getlist("on")[:20]:
            topic, _sep, channel = str(value).partition(":")
            if (topic, channel) in known:
                ticked.add((topic, channel))
        preferences.save(user, ticked)
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("auth.notification_settings"))
    return render_template(
        "auth/notifications.html",
        topics=topics,
        channels=preferences.CHANNELS,
        on={
            (t.key, c)
            for t in topics
            for c in preferences.CHANNELS
            if preferences.wants(user.id, t.key, c)
        },
    )


@bp.post("/account/addresses/<int:address_id>/remove")
@login_required
def remove_address(address_id: int) -> ResponseReturnValue:
    if not addresses.forget(current_user.id, address_id):
        abort(404)
    flash(_("The address is removed."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account() -> ResponseReturnValue:
    """Delete the account (a fresh login first; the page says what stays and what goes)."""
    if not is_fresh():
        return reauth_redirect(url_for("auth.delete_account"))
    form = DeleteAccountForm()
    user = current_user._get_current_object()
    refused = closing.refusal(user)
    status = 400 if form.is_submitted() else 200
    if refused is None and form.validate_on_submit():
        try:
            closing.delete_account(user)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            logout_user()
            session.clear()
            flash(_("Your account is deleted. Thank you for shopping at Bazarche."), "info")
            return redirect(url_for("shop.home"))
    return render_template(
        "auth/delete_account.html",
        form=form,
        refused=error_text(refused) if refused else None,
    ), status


@bp.get("/account/data")
@login_required
def account_data() -> ResponseReturnValue:
    """Download everything the market keeps about this account, as JSON (a fresh login first:
    it holds addresses and phone numbers)."""
    if not is_fresh():
        return reauth_redirect(url_for("auth.account"))
    body = json.dumps(
        personal_data.export(current_user._get_current_object()), ensure_ascii=False, indent=2
    )
    name = f"bazarche-data-{current_user.id}-{utcnow():%Y%m%d}.json"
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _reset_rate_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _reset_email_key() -> str:
    """The address a reset is asked for (each account gets few links, from any address)."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_reset_rate_limit, methods=["POST"], key_func=_reset_email_key)
def reset_request() -> ResponseReturnValue:
    """Ask for a link to choose a new password. The answer is the same whether or not an
    account uses the address."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = recovery.account_for_email(form.email.data or "")
        if user is not None:
            link = site_url_for("auth.reset_password", token=recovery.reset_token(user))
            send_account_notice("password_reset", user.id, link=link)
        flash(
            _(
                "If an account uses this address, we have e-mailed it a link to choose a new "
                "password. The link works once, for %(minutes)s minutes.",
                minutes=format_number(
                    current_app.config["PASSWORD_RESET_MINUTES"], _current_locale()
                ),
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
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


_RESET_MOBILE = "otp_reset_mobile"


@bp.route("/reset/mobile", methods=["GET", "POST"])
@limiter.limit(_otp_limit, methods=["POST"])
def reset_by_mobile() -> ResponseReturnValue:
    """A forgotten password, by a code texted to the account's verified mobile number (the
    answer is the same whether or not an account has the number)."""
    form = MobileForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            issued = codes.issue(form.mobile.data or "", codes.RESET)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except codes.SendRefused as refused:
            form.mobile.errors.append(_wait_message(refused.retry_after))
            status = 429
        else:
            user = accounts.user_with_mobile(issued.mobile)
            if user is not None:
                _send_code(issued, user.id)
            session[_RESET_MOBILE] = issued.mobile
            return redirect(url_for("auth.reset_by_mobile_code"))
    return render_template("auth/reset_mobile.html", form=form), status


@bp.route("/reset/mobile/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_by_mobile_code() -> ResponseReturnValue:
    number = session.get(_RESET_MOBILE)
    if not number:
        return redirect(url_for("auth.reset_by_mobile"))
    form = CodeResetForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            codes.check(number, codes.RESET, form.code.data or "")
            user = accounts.user_with_mobile(number)
            if user is None:  # no account has the number: no code was sent to be right
                raise ValidationFailed({"code": ["code_wrong"]})
            recovery.reset_password_of(user, form.new_password.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            session.pop(_RESET_MOBILE, None)
            if current_user.is_authenticated:
                logout_user()
            send_account_notice("password_changed", user.id)
            flash(_("Your password has been changed. Log in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_mobile_code.html", form=form, number=number), status


def _reset_link_invalid() -> ResponseReturnValue:
    flash(error_text(recovery.INVALID), "error")
    return render_template("auth/reset_request.html", form=ResetRequestForm()), 400


def _current_locale() -> str:
    return str(get_locale() or "fa")
