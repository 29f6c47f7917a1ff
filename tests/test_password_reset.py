"""A forgotten password: a link by e-mail sets a new one, once, for a while, and ends every login;
the form never tells whether an address has an account."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts import recovery
from app.accounts.models import LoginSession, User
from app.core.errors import ValidationFailed
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from tests import factories
from tests.conftest import make_app
from tests.helpers import flashes

NEW = "a long new passphrase 1405"
NEUTRAL = "If an account uses this address, we have e-mailed it a link"
INVALID = "This link has expired or has already been used."


def english(client):  # type: ignore[no-untyped-def]
    client.set_cookie("locale", "en")
    return client


def ask(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/reset", data={"email": email}, follow_redirects=True)


def mailed_link(app, to: str) -> str:  # type: ignore[no-untyped-def]
    found = [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == to]
    assert found, "no e-mail to " + to
    return re.search(r"http://localhost(/auth/reset/\S+)", found[0].text).group(1)


def open_logins(user_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count(LoginSession.id)).where(
            LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
        )
    )


def test_a_link_sets_a_new_password_once_and_ends_every_login(app, client):
    mina = factories.user(email="mina@example.com", name="مینا")
    other_device = app.test_client()
    factories.login(other_device, "mina@example.com")
    assert open_logins(mina.id) == 1

    response = ask(english(client), "Mina@Example.com ")
    assert NEUTRAL in unescape(response.get_data(as_text=True))
    [letter] = sent_mail(app.config["MAIL_DIR"])
    assert letter.to == "mina@example.com" and "رمز" in letter.subject  # her language: Persian
    link = mailed_link(app, "mina@example.com")

    page = client.get(link)
    assert page.status_code == 200 and 'name="new_password"' in page.get_data(as_text=True)
    done = client.post(link, data={"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert open_logins(mina.id) == 0  # the other device is logged out
    assert other_device.get("/orders").status_code == 302
    assert factories.login(client, "mina@example.com").status_code == 400  # the old one: no
    assert factories.login(client, "mina@example.com", NEW).status_code == 302
    assert any("رمز" in m.subject for m in sent_mail(app.config["MAIL_DIR"])[:1])  # told

    again = english(app.test_client()).post(link, data={"new_password": NEW, "confirm": NEW})
    assert again.status_code == 400 and INVALID in flashes(again, "error")[0]


def test_an_address_without_an_account_gets_the_same_answer_and_no_mail(app, client):
    factories.user(email="mina@example.com")
    retired = factories.user(email="old@example.com")
    retired.active = False
    db.session.commit()
    for address in ("nobody@example.com", "old@example.com", "not an address"):
        response = ask(english(client), address)
        assert response.status_code == 200
        assert NEUTRAL in unescape(response.get_data(as_text=True)), address
    assert sent_mail(app.config["MAIL_DIR"]) == []


def test_an_expired_forged_or_superseded_link_is_refused(app, client):
    mina = factories.user(email="mina@example.com")
    first = recovery.reset_token(mina)
    english(client)
    assert client.get("/auth/reset/not-a-token").status_code == 400
    assert client.get(f"/auth/reset/{first[:-2]}xx").status_code == 400
    assert client.get("/auth/reset/" + "x" * 5000).status_code == 400

    app.config["PASSWORD_RESET_MINUTES"] = -1  # every link is older than that
    refused = client.get(f"/auth/reset/{first}")
    assert refused.status_code == 400 and INVALID in flashes(refused, "error")[0]
    app.config["PASSWORD_RESET_MINUTES"] = 60

    second = recovery.reset_token(mina)
    recovery.reset_password(second, NEW)
    assert client.get(f"/auth/reset/{first}").status_code == 400  # the password changed since


def test_a_weak_new_password_is_refused_and_the_link_still_works(app, client):
    mina = factories.user(email="mina@example.com")
    before = mina.password_hash
    link = f"/auth/reset/{recovery.reset_token(mina)}"
    english(client)
    weak = client.post(link, data={"new_password": "123456789012", "confirm": "123456789012"})
    assert weak.status_code == 400 and "too simple" in weak.get_data(as_text=True)
    differ = client.post(link, data={"new_password": NEW, "confirm": NEW + "x"})
    assert differ.status_code == 400 and "The passwords differ." in differ.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, mina.id).password_hash == before
    assert client.post(link, data={"new_password": NEW, "confirm": NEW}).status_code == 302


def test_two_submissions_of_one_link_set_the_password_once(app):
    mina = factories.user(email="mina@example.com")
    token = recovery.reset_token(mina)
    recovery.reset_password(token, NEW)
    with pytest.raises(ValidationFailed) as refused:
        recovery.reset_password(token, NEW + " again")
    assert refused.value.errors == {"token": [recovery.INVALID]}
    assert factories.login(app.test_client(), "mina@example.com", NEW).status_code == 302


def test_few_links_are_mailed_per_account_whatever_the_address(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, PROXY_FIX=1)
    with app.app_context():
        factories.user(email="mina@example.com")
        client = english(app.test_client())
        statuses = [
            client.post(
                "/auth/reset",
                data={"email": "mina@example.com"},
                headers={"X-Forwarded-For": f"10.0.0.{n}"},
            ).status_code
            for n in range(1, 6)
        ]
        assert statuses == [302, 302, 302, 429, 429]
        assert len(sent_mail(app.config["MAIL_DIR"])) == 3
        other = client.post(
            "/auth/reset",
            data={"email": "sara@example.com"},
            headers={"X-Forwarded-For": "10.0.1.1"},
        )
        assert other.status_code == 302  # another address is not held back
        db.session.remove()
        db.engine.dispose()


def test_the_login_page_links_to_the_form(client):
    html = english(client).get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/reset"' in html and "Forgotten your password?" in html


# --- by a code texted to the verified mobile number ----------------------------------------------


def test_a_code_texted_to_the_verified_mobile_sets_a_new_password(app, client):
    from app.core.inputs import ascii_digits
    from app.notifications.sms_gateway import written_sms

    factories.with_mobile(factories.user(email="mina@example.com"), "09121234567")
    other_device = app.test_client()
    factories.login(other_device, "mina@example.com")
    english(client)
    assert 'href="/auth/reset/mobile"' in client.get("/auth/reset").get_data(as_text=True)
    asked = client.post("/auth/reset/mobile", data={"mobile": "۰۹۱۲۱۲۳۴۵۶۷"})
    assert asked.status_code == 302 and asked.headers["Location"] == "/auth/reset/mobile/code"
    code = re.search(r"\d{6}", ascii_digits(written_sms(app.config["SMS_DIR"])[0].text)).group(0)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(
        "/auth/reset/mobile/code", data={"code": wrong, "new_password": NEW, "confirm": NEW}
    )
    assert refused.status_code == 400
    done = client.post(
        "/auth/reset/mobile/code", data={"code": code, "new_password": NEW, "confirm": NEW}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert factories.login(app.test_client(), "mina@example.com", NEW).status_code == 302
    assert other_device.get("/orders").status_code == 302  # every other login ended
    again = client.post(
        "/auth/reset/mobile/code", data={"code": code, "new_password": NEW, "confirm": NEW}
    )
    assert again.status_code == 302 and again.headers["Location"] == "/auth/reset/mobile"


def test_a_number_without_an_account_gets_no_text_but_the_same_answer(app, client):
    from app.notifications.sms_gateway import written_sms

    english(client)
    asked = client.post("/auth/reset/mobile", data={"mobile": "09351234567"})
    assert asked.status_code == 302 and asked.headers["Location"] == "/auth/reset/mobile/code"
    assert written_sms(app.config["SMS_DIR"]) == []
    guessed = client.post(
        "/auth/reset/mobile/code", data={"code": "123456", "new_password": NEW, "confirm": NEW}
    )
    assert guessed.status_code == 400


def test_an_unconfirmed_address_gets_no_link_while_the_account_has_a_verified_number(app, client):
    english(client)
    mina = factories.with_mobile(factories.user(email="mina@example.com"), "09121234567")
    response = ask(client, "mina@example.com")
    assert NEUTRAL in unescape(response.get_data(as_text=True))  # the same answer
    assert sent_mail(app.config["MAIL_DIR"]) == []  # the texted code is the way back
    assert "Get a code by SMS instead" in client.get("/auth/reset").get_data(as_text=True)

    mina.email_verified_at = mina.mobile_verified_at  # confirmed now
    db.session.commit()
    ask(client, "mina@example.com")
    assert len(sent_mail(app.config["MAIL_DIR"])) == 1


def test_without_a_number_the_link_goes_and_opening_it_confirms_the_address(app, client):
    english(client)
    reza = factories.user(email="reza@example.com")
    assert reza.email_verified_at is None
    ask(client, "reza@example.com")
    link = mailed_link(app, "reza@example.com")
    done = client.post(link, data={"new_password": NEW, "confirm": NEW}, follow_redirects=True)
    assert done.status_code == 200
    db.session.rollback()
    assert db.session.get(User, reza.id).email_verified_at is not None
