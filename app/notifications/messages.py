"""The other party of a conversation hears of a new message, by the channels they chose for the
``messages`` topic (e-mail by default; SMS when they switch it on). The text of the message is
not copied into the notice: it is read on the site, where staff can hide it."""

from __future__ import annotations

from flask_babel import force_locale

from app.accounts.models import User
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import mail, preferences, sms
from app.notifications.accounts import send_account_notice


def send_new_message(recipient_id: int, conversation_id: int, side: str) -> None:
    """Tell ``recipient_id`` (the ``customer`` or the ``seller`` side) that a message waits.
    Call after commit; never raises."""
    endpoint = "shop.conversation" if side == "customer" else "sellers.conversation"
    channels = preferences.channels(recipient_id, "messages")
    if preferences.EMAIL in channels:
        link = site_url_for(endpoint, conversation_id=conversation_id)
        send_account_notice("new_message", recipient_id, link=link)
    if preferences.SMS in channels:
        sms.write_and_send(
            "new_message",
            lambda: _text(recipient_id, endpoint, conversation_id),
            f"write the new-message text to user {recipient_id}",
        )


def _text(recipient_id: int, endpoint: str, conversation_id: int) -> list[sms.Outgoing]:
    recipient = db.session.get(User, recipient_id)
    if recipient is None or not recipient.mobile:
        return []
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        link = site_url_for(endpoint, conversation_id=conversation_id)
        return [sms.compose(recipient.id, recipient.mobile, locale, "new_message", {"link": link})]
