"""The other party of a conversation hears of a new message, by the channels they get
``message.new`` by (e-mail and the site's list by default; SMS when they switch it on). The text
of the message is not copied into the notice: it is read on the site, where staff can hide it."""

from __future__ import annotations

from functools import partial

from flask import url_for
from flask_babel import force_locale

from app.accounts.models import User
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import events, mail, sms
from app.notifications.accounts import Notice, account_message, subject_of


def send_new_message(recipient_id: int, conversation_id: int, side: str) -> None:
    """Tell ``recipient_id`` (the ``customer`` or the ``seller`` side) that a message waits.
    Call after commit; never raises."""
    events.dispatch(
        "new_message",
        partial(_write, recipient_id, conversation_id, side),
        f"write the new-message notice to user {recipient_id}",
    )


def _endpoint(side: str) -> str:
    return "shop.conversation" if side == events.CUSTOMER else "sellers.conversation"


def _write(recipient_id: int, conversation_id: int, side: str, batch: events.Batch) -> None:
    recipient = db.session.get(User, recipient_id)
    if recipient is None:
        return
    endpoint = _endpoint(side)
    with mail.link_context():
        link = site_url_for(endpoint, conversation_id=conversation_id)
    notice = Notice("new_message", link=link)
    batch.add(
        "message.new",
        side,
        recipient,
        email=partial(account_message, recipient, notice),
        text=partial(_text, recipient, endpoint, conversation_id),
        notice=partial(_site_notice, recipient, notice, endpoint, conversation_id),
    )


def _text(recipient: User, endpoint: str, conversation_id: int, number: str) -> sms.Outgoing:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        link = site_url_for(endpoint, conversation_id=conversation_id)
        return sms.compose(recipient.id, number, locale, "new_message", {"link": link})


def _site_notice(
    recipient: User, notice: Notice, endpoint: str, conversation_id: int
) -> tuple[str, str]:
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        return str(subject_of(notice, locale)), url_for(endpoint, conversation_id=conversation_id)
