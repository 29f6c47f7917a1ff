"""Account notices, in the owner's own language: logins locked after repeated wrong passwords,
the password changed or a link to reset it, a seller's sensitive shop details changed, and a
seller's application received, approved, rejected, suspended or reinstated (with staff's
reason).

The accounts and catalog packages send signals (:data:`app.accounts.signals.login_locked`,
:data:`app.catalog.signals.seller_details_changed`) that :mod:`app.notifications.receivers`
passes here; the auth blueprint calls :func:`send_account_notice` for a password change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import User
from app.core.extensions import db
from app.core.formatting import format_date, format_number, persian_digits
from app.core.links import site_url_for
from app.notifications import events, mail, sms
from app.reference.models import County

log = logging.getLogger(__name__)

Change = tuple[str, object, object]  # field name, old value, new value


def send_account_notice(
    kind: str,
    user_id: int,
    *,
    until: datetime | None = None,
    changes: list[Change] | None = None,
    link: str | None = None,
    note: str | None = None,
    to: str | None = None,
) -> None:
    """Tell the owner of ``user_id`` about their account, in their language, by the channels
    the event goes by (:mod:`app.notifications.events`):

    * ``login_locked``: repeated wrong passwords locked logins to the account until ``until``;
    * ``password_changed``: the password was changed;
    * ``seller_profile_changed``: ``changes`` (field name, old value, new value) were saved;
    * ``password_reset``: someone asked for a new password; ``link`` sets one;
    * ``seller_applied``, ``seller_approved``, ``seller_rejected``, ``seller_suspended``,
      ``seller_reinstated``: the shop's application or standing; ``note`` is staff's reason and
      ``link`` the page to go on from;
    * ``email_confirm``: ``link`` proves the address ``to`` (the account's own, or the one it
      moves to); ``email_changed``: told to the former address ``to``;
    * ``mobile_changed``: the account's mobile number changed (``changes``).

    Call after commit. Never raises: failures are logged.
    """
    notice = Notice(kind, until, changes, link, note, to)
    events.dispatch(
        kind, partial(_write, user_id, notice), f"write the {kind!r} notice to user {user_id}"
    )


@dataclass(frozen=True)
class Notice:
    kind: str
    until: datetime | None = None
    changes: list[Change] | None = None
    link: str | None = None
    note: str | None = None
    to: str | None = None

    @property
    def event(self) -> tuple[str, str]:
        """The event's name in :data:`app.notifications.events.TABLE` and its audience."""
        if self.kind.startswith("seller_") and self.kind != "seller_profile_changed":
            return f"seller.{self.kind.removeprefix('seller_')}", events.SELLER
        return f"account.{self.kind}", events.OWNER


# The page a notice in the site's list opens, by kind (else the account page).
_NOTICE_PAGES = {
    "seller_applied": "sellers.dashboard",
    "seller_approved": "sellers.dashboard",
    "seller_suspended": "sellers.dashboard",
    "seller_reinstated": "sellers.dashboard",
    "seller_rejected": "sellers.apply",
    "seller_profile_changed": "sellers.profile",
}


def _write(user_id: int, notice: Notice, batch: events.Batch) -> None:
    recipient = db.session.get(User, user_id)
    if recipient is None:
        return
    event, audience = notice.event
    batch.add(
        event,
        audience,
        recipient,
        email=partial(account_message, recipient, notice),
        text=partial(_account_text, recipient, notice),
        notice=partial(_site_notice, recipient, notice),
        address=notice.to,
    )


# The notice of each move of a seller (SellerStatus values: from, to; None: any) and the
# page its link opens.
_SELLER_NOTICES: tuple[tuple[str | None, str, str, str], ...] = (
    (None, "applied", "seller_applied", "sellers.dashboard"),
    ("approved", "suspended", "seller_suspended", "sellers.dashboard"),
    ("suspended", "approved", "seller_reinstated", "sellers.dashboard"),
    (None, "approved", "seller_approved", "sellers.dashboard"),
    (None, "rejected", "seller_rejected", "sellers.apply"),
)


def send_seller_status(user_id: int, status: str, previous: str | None, reason: str | None) -> None:
    """Tell the owner of a shop that its application was received or what staff decided (with
    staff's reason), by the channels of ``seller.<decision>``."""
    for before, after, kind, endpoint in _SELLER_NOTICES:
        if after == status and before in (None, previous):
            send_account_notice(kind, user_id, link=site_url_for(endpoint), note=reason)
            return
    log.warning("no notice for a seller moving from %r to %r", previous, status)


def subject_of(notice: Notice, locale: str) -> str | None:
    texts = _texts(locale, notice.until)
    if notice.kind not in texts:
        log.warning("no notice for account event %r", notice.kind)
        return None
    return texts[notice.kind][0]


def _account_text(recipient: User, notice: Notice, number: str) -> sms.Outgoing:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        link = notice.link or site_url_for(_NOTICE_PAGES.get(notice.kind, "auth.account"))
        context = {"subject": subject_of(notice, locale), "link": link}
        return sms.compose(recipient.id, number, locale, "notice", context)


def _site_notice(recipient: User, notice: Notice) -> tuple[str, str]:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        return str(subject_of(notice, locale)), url_for(
            _NOTICE_PAGES.get(notice.kind, "auth.account")
        )


def send_login_locked(user_id: int, until: datetime) -> None:
    """Tell the owner that logins to their account are locked until ``until`` (once per lock)."""
    send_account_notice("login_locked", user_id, until=until)


def account_message(recipient: User, notice: Notice) -> mail.Outgoing:
    locale = mail.recipient_locale(recipient)
    kind = notice.kind
    with force_locale(locale), mail.link_context():
        subject, intro = _texts(locale, notice.until)[kind]
        context = {
            "kind": kind,
            "recipient": recipient,
            "subject": subject,
            "intro": intro,
            "changes": [
                (
                    _change_label(field),
                    _change_value(field, old, locale),
                    _change_value(field, new, locale),
                )
                for field, old, new in notice.changes or []
            ],
            "site_link": site_url_for("shop.home"),
            "action_link": notice.link,
            "action_text": _action_text(kind),
            "note": notice.note,
        }
        return mail.compose(recipient, locale, subject, "account_notice", context, to=notice.to)


def _texts(locale: str, until: datetime | None) -> dict[str, tuple[str, str]]:
    """Subject and opening paragraph of each notice, in the current language."""
    return {
        "login_locked": (
            _("Logins to your Bazarche account are paused"),
            _(
                "Someone typed a wrong password for your account several times, so we paused "
                "logins to it until %(time)s. If it was you, wait and try again. If not, your "
                "password kept the account safe; choose a long one that you use nowhere else.",
                time=format_date(until, locale, with_time=True) if until else "",
            ),
        ),
        "password_changed": (
            _("Your Bazarche password was changed"),
            _(
                "The password of your account was changed and your other logins were ended. "
                "If you did not do this, contact programme staff at once."
            ),
        ),
        "password_reset": (
            _("Choose a new Bazarche password"),
            _(
                "Someone asked for a new password for your account. If it was you, open the "
                "link below within %(minutes)s minutes; it works once. If not, ignore this "
                "e-mail: your password stays as it is.",
                minutes=format_number(current_app.config["PASSWORD_RESET_MINUTES"], locale),
            ),
        ),
        "new_message": (
            _("A new message on Bazarche"),
            _("You have a new message in a conversation with a seller or a buyer."),
        ),
        "email_confirm": (
            _("Confirm your e-mail address for Bazarche"),
            _(
                "Open the link below to confirm that this address is yours and use it for "
                "your Bazarche account. If you did not ask for this, ignore this e-mail."
            ),
        ),
        "email_changed": (
            _("The e-mail address of your Bazarche account was changed"),
            _(
                "Your account now uses another e-mail address; messages no longer come to this "
                "one. If you did not do this, contact programme staff at once."
            ),
        ),
        "mobile_changed": (
            _("Your mobile number on Bazarche was changed"),
            _(
                "The mobile number of your account was changed: the account can now log in "
                "with codes sent to the new number. If you did not do this, change your "
                "password and contact programme staff at once."
            ),
        ),
        "seller_applied": (
            _("We received your application to sell on Bazarche"),
            _(
                "Thank you for applying. Programme staff will review your shop's details and "
                "tell you their decision by e-mail. Meanwhile you can prepare your listings."
            ),
        ),
        "seller_approved": (
            _("Your shop on Bazarche is approved"),
            _(
                "Programme staff approved your shop. Your published listings are now in the "
                "market and customers can order from you."
            ),
        ),
        "seller_rejected": (
            _("Your application to sell on Bazarche was not approved"),
            _(
                "Programme staff could not approve your application. Their reason is below; "
                "you can correct your details and apply again."
            ),
        ),
        "seller_suspended": (
            _("Your shop on Bazarche is suspended"),
            _(
                "Programme staff suspended your shop: your listings are hidden from the market "
                "and no new orders can be placed. Their reason is below; contact them to "
                "resolve it."
            ),
        ),
        "seller_reinstated": (
            _("Your shop on Bazarche is open again"),
            _(
                "Programme staff reinstated your shop. Your published listings are back in the "
                "market."
            ),
        ),
        "seller_profile_changed": (
            _("Your shop's details were changed"),
            _(
                "These details of your shop were changed. If you did not do this, change "
                "your password and contact programme staff at once."
            ),
        ),
    }


def _action_text(kind: str) -> str:
    """The text of the notice's button (its ``link``)."""
    if kind == "password_reset":
        return _("Choose a new password")
    if kind == "seller_rejected":
        return _("Apply again")
    if kind == "email_confirm":
        return _("Confirm this address")
    if kind == "new_message":
        return _("Read and answer")
    return _("Go to your shop")


def _change_label(field: str) -> str:
    labels = {
        "county_id": _("County"),
        "phone": _("Mobile number"),
        "registration_code": _("Programme registration code"),
        "permit_number": _("Permit number"),
        "sheba": _("Sheba number"),
    }
    return labels.get(field, field)


def _change_value(field: str, value: object, locale: str) -> str:
    if value is None or value == "":
        return ""
    if field == "county_id":
        county = db.session.get(County, value)
        return county.name(locale) if county is not None else str(value)
    if field == "phone" and locale == "fa":
        return persian_digits(value)
    return str(value)
