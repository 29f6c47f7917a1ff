"""One-time codes by SMS: log in or sign up with a mobile number, prove a number for the account,
confirm a login (a fresh one) and reset a forgotten password with it. Each form answers the same
whether or not a number has an account: the log-in code goes to any valid number (no account has
it: the proved number may open one, on ``/auth/mobile/welcome``), the reset code only to an
account's number."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import confirm_login, current_user, login_required, login_user, logout_user

from app.accounts import codes, recovery
from app.accounts import services as accounts
from app.auth import bp
from app.auth.account_routes import send_email_link
from app.auth.common import current_locale, login_limit, register_limit, user_agent
from app.auth.forms import (
    CodeForm,
    CodeResetForm,
    MobileForm,
    WelcomeForm,
)
from app.catalog import favourites
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.formatting import format_number
from app.core.inputs import normalise_mobile
from app.core.timeutil import utcnow
from app.notifications import sms
from app.notifications.accounts import send_account_notice
from app.orders.cart import merge_guest_cart
from app.web.fresh import is_fresh, reauth_redirect
from app.web.http import safe_next
from app.web.messages import apply_errors

# --- one-time codes by SMS ------------------------------------------------------------------------

_LOGIN_MOBILE = "otp_login_mobile"
_NEW_MOBILE = "otp_new_mobile"
_SIGNUP = "otp_signup"  # a number a log-in code proved, that no account has (codes.signup_proof)


def _otp_limit() -> str:
    return current_app.config["OTP_RATE_LIMIT"]


def _send_code(issued: codes.Issued, user_id: int | None) -> None:
    """Text the code to its number, in this visitor's language."""
    minutes = max(1, round((issued.expires_at - utcnow()).total_seconds() / 60))
    message = sms.compose(
        user_id,
        issued.mobile,
        current_locale(),
        "login_code",
        {"code": issued.code, "minutes": minutes},
    )
    sms.send([message], "login_code")


def _wait_message(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return _(
        "A code was sent to this number a moment ago. You can ask for another in %(minutes)s "
        "minutes.",
        minutes=format_number(minutes, current_locale()),
    )


def _ask_for_code(
    form: MobileForm,
    purpose: str,
    owner: Callable[[str], int | None],
    session_key: str,
    *,
    anyone: bool = False,
) -> str | int:
    """Handle a posted number: a code for ``purpose``, texted when ``owner(number)`` names the
    account to text (None: nobody is texted, the answer is the same; with ``anyone`` the number
    is texted whether or not an account has it), the number kept in the session under
    ``session_key``. Returns the number, or the status of the form's answer (400 with the
    field's error, 429 while the number must wait)."""
    try:
        issued = codes.issue(form.mobile.data or "", purpose)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return 400
    except codes.SendRefused as refused:
        form.mobile.errors.append(_wait_message(refused.retry_after))
        return 429
    recipient = owner(issued.mobile)
    if recipient is not None or anyone:
        _send_code(issued, recipient)
    session[session_key] = issued.mobile
    return issued.mobile


def _account_of(number: str) -> int | None:
    user = accounts.user_with_mobile(number)
    return user.id if user is not None else None


@bp.route("/mobile", methods=["GET", "POST"])
@limiter.limit(_otp_limit, methods=["POST"])
def mobile_login() -> ResponseReturnValue:
    """Log in or sign up with a mobile number: a code is texted to any valid number (the answer
    is the same whether or not an account has it)."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    form = MobileForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        asked = _ask_for_code(form, codes.LOGIN, _account_of, _LOGIN_MOBILE, anyone=True)
        if isinstance(asked, str):
            session.pop(_SIGNUP, None)  # a number proved before is not this one
            return redirect(url_for("auth.mobile_code", next=form.next.data or None))
        status = asked
    return render_template("auth/mobile.html", form=form), status


@bp.route("/mobile/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def mobile_code() -> ResponseReturnValue:
    """The texted code: the account of the number is logged in; a number no account has may
    open one (on the welcome page, for a few minutes)."""
    number = session.get(_LOGIN_MOBILE)
    if not number:
        return redirect(url_for("auth.mobile_login"))
    form = CodeForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            codes.check(number, codes.LOGIN, form.code.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            session.pop(_LOGIN_MOBILE, None)
            user = accounts.log_in_with_mobile(number, user_agent=user_agent())
            if user is None:  # no account has the number: it may open one
                session[_SIGNUP] = codes.signup_proof(number)
                return redirect(url_for("auth.mobile_welcome", next=form.next.data or None))
            login_user(user)
            merge_guest_cart(user, session.pop("cart", None))
            favourites.merge_guest(user, session.pop(favourites.SESSION_KEY, None))
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template(
        "auth/mobile_code.html", form=form, number=number, again=url_for("auth.mobile_login")
    ), status


@bp.route("/mobile/welcome", methods=["GET", "POST"])
@limiter.limit(register_limit, methods=["POST"])
def mobile_welcome() -> ResponseReturnValue:
    """Open a customer account for the number a log-in code just proved: a name, an e-mail
    address if one likes (a link sent to it proves it), no password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("shop.home")))
    number = codes.proven_number(session.get(_SIGNUP))
    if number is None:
        session.pop(_SIGNUP, None)
        return redirect(url_for("auth.mobile_login", next=request.args.get("next") or None))
    form = WelcomeForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            user, address = accounts.register_with_mobile(
                number,
                form.name.data or "",
                form.email.data,
                locale=current_locale(),
                user_agent=user_agent(),
            )
        except ValidationFailed as exc:
            if "mobile" in exc.errors:  # an account has the number now: log in with it
                session.pop(_SIGNUP, None)
                status = 409
            apply_errors(form, exc)
        else:
            session.pop(_SIGNUP, None)
            login_user(user)
            merge_guest_cart(user, session.pop("cart", None))
            favourites.merge_guest(user, session.pop(favourites.SESSION_KEY, None))
            session.pop("_flashes", None)
            flash(_("Welcome to Bazarche, %(name)s!", name=user.name), "success")
            if address is not None:
                send_email_link(user, address)
                flash(
                    _(
                        "We have e-mailed %(address)s a link. Open it to add the address to "
                        "your account.",
                        address=address,
                    ),
                    "info",
                )
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template(
        "auth/mobile_welcome.html", form=form, number=number, taken=status == 409
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
        other = _account_of(normalise_mobile(form.mobile.data or ""))
        if other is not None and other != user.id:
            apply_errors(form, ValidationFailed({"mobile": ["mobile_taken"]}))
        else:
            asked = _ask_for_code(form, codes.verify_purpose(user), lambda _n: user.id, _NEW_MOBILE)
            if isinstance(asked, str):
                return redirect(url_for("auth.account_mobile_code", next=form.next.data or None))
            status = asked
    return render_template("auth/account_mobile.html", form=form), status


@bp.route("/account/mobile/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
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
                "mobile_changed",
                user.id,
                changes=[("phone", before or "", number)],
                number=before,
            )
            flash(_("Your mobile number is verified. You can log in with it."), "success")
            return redirect(safe_next(form.next.data, url_for("auth.account")))
    return render_template(
        "auth/mobile_code.html", form=form, number=number, again=url_for("auth.account_mobile")
    ), status


# --- a fresh login by a code texted to the account's number ----------------------------------


@bp.post("/confirm/mobile")
@limiter.limit(_otp_limit)
@login_required
def reauth_mobile() -> ResponseReturnValue:
    """Text a code to the account's verified number, to confirm the login with it."""
    user = current_user._get_current_object()
    target = safe_next(request.form.get("next"), url_for("shop.home"))
    if not user.mobile:
        return redirect(url_for("auth.reauth", next=target))
    try:
        issued = codes.issue(user.mobile, codes.confirm_purpose(user))
    except codes.SendRefused as refused:
        flash(_wait_message(refused.retry_after), "error")
    except ValidationFailed:
        return redirect(url_for("auth.reauth", next=target))
    else:
        _send_code(issued, user.id)
    return redirect(url_for("auth.reauth_code", next=target))


@bp.route("/confirm/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@login_required
def reauth_code() -> ResponseReturnValue:
    """Confirm the login with the code texted to the account's number."""
    user = current_user._get_current_object()
    if not user.mobile:
        return redirect(url_for("auth.reauth", next=request.args.get("next") or None))
    form = CodeForm(next=request.args.get("next", ""))
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            codes.check(user.mobile, codes.confirm_purpose(user), form.code.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            confirm_login()
            return redirect(safe_next(form.next.data, url_for("shop.home")))
    return render_template(
        "auth/mobile_code.html",
        form=form,
        number=user.mobile,
        again=url_for("auth.reauth", next=form.next.data or None),
    ), status


_RESET_MOBILE = "otp_reset_mobile"


@bp.route("/reset/mobile", methods=["GET", "POST"])
@limiter.limit(_otp_limit, methods=["POST"])
def reset_by_mobile() -> ResponseReturnValue:
    """A forgotten password, by a code texted to the account's verified mobile number (the
    answer is the same whether or not an account has the number)."""
    form = MobileForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        asked = _ask_for_code(form, codes.RESET, _account_of, _RESET_MOBILE)
        if isinstance(asked, str):
            return redirect(url_for("auth.reset_by_mobile_code"))
        status = asked
    return render_template("auth/reset_mobile.html", form=form), status


@bp.route("/reset/mobile/code", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
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
