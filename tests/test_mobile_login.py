"""A mobile number on the account, proved by a texted code; then log in with a code by SMS.
Codes: 6 digits, stored hashed, short-lived, single use, few wrong tries; sends to one number wait
longer each time; the log-in form never tells whether a number has an account (any valid number
gets a code: one no account has may sign up, tests/test_mobile_signup.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import sqlalchemy as sa

from app.accounts import codes
from app.accounts.models import OneTimeCode, User
from app.core.extensions import db
from app.core.inputs import ascii_digits
from app.core.timeutil import utcnow
from app.notifications.outbox import sent_mail
from app.notifications.sms_gateway import written_sms
from tests import factories
from tests.test_order_flow import as_user


def texts(app) -> list:  # type: ignore[no-untyped-def]
    return written_sms(app.config["SMS_DIR"])


def last_code(app) -> str:  # type: ignore[no-untyped-def]
    return re.search(r"\d{6}", ascii_digits(texts(app)[0].text)).group(0)


def page_errors(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(
        unescape(m)
        for m in re.findall(
            r'<p class="error"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S
        )
    )


def verified(app, user, typed: str = "۰۹۱۲ ۱۲۳ ۴۵۶۷"):  # type: ignore[no-untyped-def]
    client = as_user(app, user)
    asked = client.post("/auth/account/mobile", data={"mobile": typed})
    assert asked.status_code == 302 and asked.headers["Location"] == "/auth/account/mobile/code"
    done = client.post("/auth/account/mobile/code", data={"code": last_code(app)})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/account"
    return client


def expire_waits() -> None:
    """As if the wait before the next text had passed."""
    db.session.execute(sa.update(OneTimeCode).values(next_send_at=utcnow()))
    db.session.commit()


def test_a_verified_number_logs_in_with_a_texted_code(app):
    mina = factories.user(email="mina@example.com", name="مینا")
    mina.locale = "en"
    db.session.commit()
    verified(app, mina)
    db.session.rollback()
    assert db.session.get(User, mina.id).mobile == "09121234567"
    assert "mobile number" in sent_mail(app.config["MAIL_DIR"])[0].subject.lower()  # told
    stored = db.session.scalars(sa.select(OneTimeCode)).one()
    assert stored.code_hash != last_code(app) and last_code(app) not in stored.code_hash

    visitor = app.test_client()
    visitor.set_cookie("locale", "fa")
    asked = visitor.post("/auth/mobile", data={"mobile": "+98 912 123 4567"})
    assert asked.status_code == 302 and asked.headers["Location"] == "/auth/mobile/code"
    text = texts(app)[0]
    assert text.to == "09121234567" and "بازارچه" in text.text
    assert re.search(r"[۰-۹]{6}", text.text)  # Persian digits in a Persian text
    persian_code = re.search(r"[۰-۹]{6}", text.text).group(0)
    done = visitor.post("/auth/mobile/code", data={"code": persian_code})
    assert done.status_code == 302
    assert visitor.get("/orders").status_code == 200  # logged in
    again = app.test_client().post("/auth/mobile/code", data={"code": persian_code})
    assert again.status_code == 302 and again.headers["Location"] == "/auth/mobile"


def test_a_number_without_an_account_gets_the_same_answer_and_a_code_to_sign_up(app):
    client = app.test_client()
    client.set_cookie("locale", "en")
    asked = client.post("/auth/mobile", data={"mobile": "09351234567"})
    assert asked.status_code == 302 and asked.headers["Location"] == "/auth/mobile/code"
    assert [t.to for t in texts(app)] == ["09351234567"]  # sign-up: tests/test_mobile_signup.py
    page = client.get("/auth/mobile/code").get_data(as_text=True)
    assert "We have texted" in unescape(page)
    right = last_code(app)
    wrong = client.post("/auth/mobile/code", data={"code": "123456" if right != "123456" else "1"})
    assert wrong.status_code == 400 and "not right" in page_errors(wrong)


def test_wrong_codes_count_and_five_end_the_code(app):
    mina = factories.user(email="mina@example.com")
    verified(app, mina)
    client = app.test_client()
    client.set_cookie("locale", "en")
    expire_waits()
    client.post("/auth/mobile", data={"mobile": "09121234567"})
    right = last_code(app)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(codes.MAX_ATTEMPTS):
        response = client.post("/auth/mobile/code", data={"code": wrong})
        assert response.status_code == 400 and "not right" in page_errors(response)
    refused = client.post("/auth/mobile/code", data={"code": right})
    assert refused.status_code == 400 and "expired or was used" in page_errors(refused)


def test_an_expired_code_is_refused(app):
    mina = factories.user(email="mina@example.com")
    verified(app, mina)
    expire_waits()
    client = app.test_client()
    client.set_cookie("locale", "en")
    client.post("/auth/mobile", data={"mobile": "09121234567"})
    db.session.execute(sa.update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    refused = client.post("/auth/mobile/code", data={"code": last_code(app)})
    assert refused.status_code == 400 and "expired" in page_errors(refused)


def test_each_send_waits_longer_and_an_hour_holds_few(app):
    mina = factories.user(email="mina@example.com")
    verified(app, mina)
    client = app.test_client()
    client.set_cookie("locale", "en")

    def send() -> int:
        return client.post("/auth/mobile", data={"mobile": "09121234567"}).status_code

    def wait_now() -> float:
        db.session.rollback()
        row = db.session.scalars(sa.select(OneTimeCode).where(OneTimeCode.purpose == "login")).one()
        return (row.next_send_at - utcnow()).total_seconds()

    assert send() == 302
    waits = [wait_now()]
    soon = client.post("/auth/mobile", data={"mobile": "09121234567"})
    assert soon.status_code == 429 and "in 1 minutes" in page_errors(soon)
    for _ in range(codes.MAX_SENDS_PER_HOUR - 1):
        expire_waits()
        assert send() == 302
        waits.append(wait_now())
    assert waits == sorted(waits) and waits[0] <= 60 < waits[1] < waits[2]
    expire_waits()
    assert send() == 429  # five texts this hour
    sent = [t for t in texts(app) if t.to == "09121234567"]
    assert len(sent) == 1 + codes.MAX_SENDS_PER_HOUR  # the verification and five log-in codes


def test_a_number_on_another_account_is_refused(app):
    mina, sara = factories.user(email="mina@example.com"), factories.user(email="sara@example.com")
    verified(app, mina)
    client = as_user(app, sara)
    refused = client.post("/auth/account/mobile", data={"mobile": "09121234567"})
    assert refused.status_code == 400 and "Another account" in page_errors(refused)
    bad = client.post("/auth/account/mobile", data={"mobile": "02112345678"})
    assert bad.status_code == 400 and "mobile number" in page_errors(bad)


def test_a_code_for_one_account_does_not_verify_the_number_for_another(app):
    mina, sara = factories.user(email="mina@example.com"), factories.user(email="sara@example.com")
    as_user(app, mina).post("/auth/account/mobile", data={"mobile": "09121234567"})
    minas_code = last_code(app)
    sara_client = as_user(app, sara)
    expire_waits()
    sara_client.post("/auth/account/mobile", data={"mobile": "09121234567"})
    saras_code = last_code(app)
    if saras_code != minas_code:
        refused = sara_client.post("/auth/account/mobile/code", data={"code": minas_code})
        assert refused.status_code == 400
    db.session.rollback()
    assert db.session.get(User, sara.id).mobile is None
