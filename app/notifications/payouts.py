"""Payout notices: each seller paid in a settlement batch hears how much went to which Sheba
account, by the channels of ``payout.made``, in their own language.

:mod:`app.notifications.receivers` calls :func:`send_payout_made` when
:data:`app.payouts.signals.payout_made` is sent (after the batch was marked paid).
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.catalog.models import Seller
from app.core.extensions import db
from app.core.formatting import format_money
from app.core.links import site_url_for
from app.notifications import events, mail, sms
from app.notifications.orders import mobile_or_none
from app.payouts.models import SettlementLine

CURRENCY = "IRR"


def send_payout_made(batch_id: int) -> None:
    """Tell every seller paid in batch ``batch_id``. Never raises: failures are logged."""
    events.dispatch(
        "payout_made", partial(_write, batch_id), f"write the payout notices of batch {batch_id}"
    )


def _write(batch_id: int, batch: events.Batch) -> None:
    lines = db.session.scalars(
        sa.select(SettlementLine)
        .where(SettlementLine.batch_id == batch_id, SettlementLine.skip_reason.is_(None))
        .options(joinedload(SettlementLine.seller).joinedload(Seller.user))
        .order_by(SettlementLine.id)
    )
    for line in lines:
        recipient = line.seller.user
        batch.add(
            "payout.made",
            events.SELLER,
            recipient,
            email=partial(_message, line),
            text=partial(_text, line),
            notice=partial(_notice, line),
            # The owner's verified mobile, else the shop's phone.
            number=mobile_or_none(recipient.mobile) or mobile_or_none(line.seller.phone),
        )


def _subject(line: SettlementLine, locale: str) -> str:
    return _(
        "Bazarche paid %(amount)s to your bank account",
        amount=format_money(line.amount, CURRENCY, locale),
    )


def _message(line: SettlementLine) -> mail.Outgoing:
    recipient = line.seller.user
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        subject = _subject(line, locale)
        context = {
            "kind": "payout_made",
            "recipient": recipient,
            "subject": subject,
            "intro": _(
                "Your balance for the sales completed up to this payout was transferred to your "
                "shop's Sheba account. Every entry is in your shop's statement."
            ),
            "changes": [],
            "site_link": site_url_for("shop.home"),
            "action_link": site_url_for("sellers.statement"),
            "action_text": _("Open my statement"),
            "note": None,
        }
        return mail.compose(recipient, locale, subject, "account_notice", context)


def _text(line: SettlementLine, number: str) -> sms.Outgoing:
    recipient = line.seller.user
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        context = {"subject": _subject(line, locale), "link": site_url_for("sellers.statement")}
        return sms.compose(recipient.id, number, locale, "notice", context)


def _notice(line: SettlementLine) -> tuple[str, str]:
    locale = mail.recipient_locale(line.seller.user)
    with force_locale(locale), mail.link_context():
        return _subject(line, locale), url_for("sellers.statement")
