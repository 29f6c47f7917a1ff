"""An account's e-mail address: confirmed by a link sent to it; moved to another address only by
a link sent there, after a fresh login, the old address told; links that are spent, forged or
old do nothing."""

from __future__ import annotations

import re

from app.accounts import email_links
from app.accounts.models import User
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from tests import factories
from tests.helpers import flashes
from tests.test_order_flow import as_user


def link_in(app, to: str) -> str:  # type: ignore[no-untyped-def]
    mail = next(m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == to)
    return re.search(r"http://localhost(/auth/email/\S+)", mail.text).group(1)


def account(user_id: int) -> User:
    db.session.rollback()
    return db.session.get(User, user_id)


def test_the_own_address_is_confirmed_by_the_link_sent_to_it(app):
    mina = factories.user(email="mina@example.com")
    client = as_user(app, mina)
    assert "not confirmed" in client.get("/auth/account").get_data(as_text=True)
    assert client.post("/auth/account/email/verify").status_code == 302
    done = client.get(link_in(app, "mina@example.com"), follow_redirects=True)
    assert flashes(done, "success") == ["Your e-mail address is confirmed."]
    assert account(mina.id).email_verified_at is not None


def test_moving_to_a_new_address_needs_its_link_and_tells_the_old_one(app):
    mina = factories.user(email="mina@example.com")
    client = as_user(app, mina)
    asked = client.post("/auth/account/email", data={"email": "Mina.New@Example.com"})
    assert asked.status_code == 302
    assert account(mina.id).email == "mina@example.com"  # nothing moves before the link
    link = link_in(app, "mina.new@example.com")

    done = app.test_client().get(link, follow_redirects=True)  # any browser: the link proves it
    assert done.request.path == "/auth/login"
    moved = account(mina.id)
    assert moved.email == "mina.new@example.com" and moved.email_verified_at is not None
    told = [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to == "mina@example.com"]
    assert [m.subject.strip() for m in told] == ["تغییر نشانی ایمیل حساب شما در بازارچه"]
    assert factories.login(app.test_client(), "mina.new@example.com").status_code == 302

    again = client.get(link)  # spent: the address changed since
    assert again.status_code == 400 and "expired or was replaced" in again.get_data(as_text=True)


def test_a_taken_own_or_malformed_address_is_refused_and_nothing_is_sent(app):
    mina = factories.user(email="mina@example.com")
    factories.user(email="sara@example.com")
    client = as_user(app, mina)
    for typed, message in (
        ("sara@example.com", "Another account already uses this address."),
        ("MINA@example.com", "This is already your address."),
        ("not an address", "valid e-mail"),
    ):
        response = client.post("/auth/account/email", data={"email": typed})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert sent_mail(app.config["MAIL_DIR"]) == []


def test_a_link_for_an_address_taken_meanwhile_or_forged_changes_nothing(app):
    mina = factories.user(email="mina@example.com")
    token = email_links.link_token(mina, "free@example.com")
    factories.user(email="free@example.com")  # another account took it since
    client = as_user(app, mina)
    refused = client.get(f"/auth/email/{token}")
    assert refused.status_code == 400 and "expired or was replaced" in refused.get_data(
        as_text=True
    )
    assert client.get(f"/auth/email/{token[:-3]}abc").status_code == 400
    assert account(mina.id).email == "mina@example.com"


def test_changing_the_address_asks_for_the_password_after_a_remembered_login(app):
    factories.user(email="mina@example.com")
    client = app.test_client()
    client.post(
        "/auth/login",
        data={"email": "mina@example.com", "password": factories.PASSWORD, "remember": "y"},
    )
    client.delete_cookie("session")
    response = client.get("/auth/account/email")
    assert response.status_code == 302 and "/auth/confirm" in response.headers["Location"]
