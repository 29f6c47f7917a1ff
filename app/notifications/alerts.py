"""Alerts the customer asked for: a sold-out product is back in stock (``product.back_in_stock``
to the customer, topic ``alerts``), by e-mail, SMS and in the site's list, in their language.

:mod:`app.notifications.receivers` calls :func:`send_back_in_stock` when
:data:`app.catalog.signals.back_in_stock` is sent (after the alerts were claimed and committed,
so each alert is told once).
"""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app.catalog import variants
from app.catalog.models import StockAlert
from app.core.extensions import db
from app.core.links import site_url_for
from app.notifications import events, mail, sms

EVENT = "product.back_in_stock"


def send_back_in_stock(product_id: int, alert_ids: list[int]) -> None:
    """Tell the owner of each alert in ``alert_ids`` that ``product_id`` is back. Never raises:
    failures are logged."""
    events.dispatch(
        "back_in_stock",
        partial(_write, alert_ids),
        f"write the back-in-stock alerts of product {product_id}",
    )


def _write(alert_ids: list[int], batch: events.Batch) -> None:
    alerts = list(
        db.session.scalars(
            sa.select(StockAlert)
            .where(StockAlert.id.in_(alert_ids))
            .options(joinedload(StockAlert.user), joinedload(StockAlert.product))
            .order_by(StockAlert.id)
        )
    )
    labels = variants.labels_of([alert.variant_id for alert in alerts])
    for alert in alerts:
        if not alert.user.active:
            continue
        alert_label = labels.get(alert.variant_id) if alert.variant_id is not None else None
        batch.add(
            EVENT,
            events.CUSTOMER,
            alert.user,
            email=partial(_message, alert, alert_label),
            text=partial(_text, alert, alert_label),
            notice=partial(_notice, alert, alert_label),
        )


def _subject(alert: StockAlert, label: str | None) -> str:
    """The message's subject; a variant's names it ("Shirt (سایز: M) is back in stock")."""
    if label:
        return _(
            "%(title)s (%(variant)s) is back in stock", title=alert.product.title, variant=label
        )
    return _("%(title)s is back in stock", title=alert.product.title)


def _message(alert: StockAlert, label: str | None) -> mail.Outgoing:
    recipient = alert.user
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        subject = _subject(alert, label)
        context = {
            "kind": "back_in_stock",
            "recipient": recipient,
            "subject": subject,
            "intro": _(
                "You asked us to tell you when this product is back. It is in stock now, while "
                "it lasts. This alert is done; ask again on the product's page if it sells out."
            ),
            "changes": [],
            "site_link": site_url_for("shop.home"),
            "action_link": site_url_for("shop.product", product_id=alert.product_id),
            "action_text": _("See the product"),
            "note": None,
        }
        return mail.compose(recipient, locale, subject, "account_notice", context)


def _text(alert: StockAlert, label: str | None, number: str) -> sms.Outgoing:
    recipient = alert.user
    locale = mail.recipient_locale(recipient)
    with force_locale(locale), mail.link_context():
        context = {
            "subject": _subject(alert, label),
            "link": site_url_for("shop.product", product_id=alert.product_id),
        }
        return sms.compose(recipient.id, number, locale, "notice", context)


def _notice(alert: StockAlert, label: str | None) -> tuple[str, str]:
    locale = mail.recipient_locale(alert.user)
    with force_locale(locale), mail.link_context():
        return _subject(alert, label), url_for("shop.product", product_id=alert.product_id)
