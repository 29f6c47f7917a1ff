"""Each domain signal reaches its e-mail: the accounts, catalog and payment packages send a
signal after their commit, and the receivers that ``create_app`` connects write the message in
the recipient's language. A receiver that fails logs it and lets the sender go on."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import ModuleType

import pytest
from blinker import Signal
from flask import Flask
from flask_babel import force_locale, gettext

from app.accounts.signals import login_locked
from app.catalog.signals import seller_details_changed
from app.core.formatting import persian_digits
from app.core.timeutil import utcnow
from app.notifications import accounts as account_mail
from app.notifications import orders as order_mail
from app.notifications.outbox import SentMail, sent_mail
from app.payments.signals import order_event
from tests import factories
from tests.fake_stripe import card_checkout


def outbox(app) -> list[SentMail]:  # type: ignore[no-untyped-def]
    return sent_mail(app.config["MAIL_DIR"])


def subject_in(language: str, text: str) -> str:
    with force_locale(language):
        return gettext(text)


def test_login_locked_mails_the_owner(app):
    user = factories.user(email="sara@example.com")
    login_locked.send(user_id=user.id, until=utcnow() + timedelta(minutes=15))
    (mail,) = outbox(app)
    assert mail.to == "sara@example.com"
    assert subject_in(mail.language, "Logins to your Bazarche account are paused") in mail.subject


def test_seller_details_changed_mails_the_seller_old_and_new(app):
    seller = factories.seller()
    seller_details_changed.send(
        user_id=seller.user_id, changes=[("phone", "09121112233", "09351112233")]
    )
    (mail,) = outbox(app)
    assert mail.to == seller.user.email
    assert subject_in(mail.language, "Your shop's details were changed") in mail.subject
    digits = persian_digits if mail.language == "fa" else str
    assert digits("09121112233") in mail.text and digits("09351112233") in mail.text


def test_an_order_event_mails_the_customer_and_the_seller(app):
    customer = factories.user(email="mina@example.com")
    product = factories.product(stock=5)
    payment = card_checkout(customer, [(product, 1)])
    order_event.send(kind="paid", order_ids=[o.id for o in payment.orders])
    assert sorted(m.to for m in outbox(app)) == sorted(
        ["mina@example.com", product.seller.user.email]
    )


@pytest.mark.parametrize(
    ("signal", "module", "target", "arguments"),
    [
        (login_locked, account_mail, "send_login_locked", {"user_id": 1, "until": utcnow()}),
        (
            seller_details_changed,
            account_mail,
            "send_account_notice",
            {"user_id": 1, "changes": []},
        ),
        (order_event, order_mail, "send_order_event", {"kind": "paid", "order_ids": [1]}),
    ],
)
def test_a_failing_receiver_logs_and_never_raises(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    signal: Signal,
    module: ModuleType,
    target: str,
    arguments: dict[str, object],
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(module, target, explode)
    with caplog.at_level(logging.ERROR, logger="app.notifications"):
        signal.send(**arguments)
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    assert outbox(app) == []
