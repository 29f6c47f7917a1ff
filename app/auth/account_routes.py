"""The account page and what hangs from it: the e-mail address, messages (channels), saved
addresses, the download of one's data, and deleting the account."""

from __future__ import annotations

import json

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from app.accounts import email_links
from app.accounts.models import User
from app.auth import bp, closing, personal_data
from app.auth.forms import (
    DeleteAccountForm,
    EmailForm,
)
from app.core.errors import ValidationFailed
from app.core.extensions import limiter
from app.core.links import site_url_for
from app.core.timeutil import utcnow
from app.notifications import preferences
from app.notifications.accounts import send_account_notice
from app.orders import addresses
from app.web.fresh import is_fresh, reauth_redirect
from app.web.messages import apply_errors, error_text

# --- the e-mail address ------------------------------------------------------------------------


def _email_link_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _user_key() -> str:
    return f"email-link:{current_user.get_id() if current_user.is_authenticated else ''}"


def send_email_link(user: User, address: str) -> None:
    """E-mail ``address`` the link that proves it for ``user`` (their own address: verification;
    another, or a first one: the account moves to it once opened)."""
    link = site_url_for("auth.confirm_email", token=email_links.link_token(user, address))
    send_account_notice("email_confirm", user.id, link=link, to=address)


@bp.post("/account/email/verify")
@limiter.limit(_email_link_limit, key_func=_user_key)
@login_required
def verify_email() -> ResponseReturnValue:
    """E-mail the account's own address a link that proves it."""
    user = current_user._get_current_object()
    if not user.email:  # nothing to confirm yet: add one
        return redirect(url_for("auth.change_email"))
    send_email_link(user, user.email)
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
            send_email_link(user, address)
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
    """Choose, per kind of message, whether it comes by e-mail, by SMS and in the site's list."""
    user = current_user._get_current_object()
    topics = preferences.topics_for(user)
    if request.method == "POST":
        known = {(t.key, c) for t in topics for c in preferences.CHANNELS}
        ticked = set()
        for value in request.form.getlist("on")[: len(known)]:
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
        channel_labels=preferences.CHANNEL_LABELS,
        on={(t.key, c) for t in topics for c in preferences.channels(user.id, t.key)},
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
