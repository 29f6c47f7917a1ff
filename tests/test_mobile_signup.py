"""Sign up by mobile: any valid number gets a log-in code; a number no account has, once proved,
opens a customer account on /auth/mobile/welcome (a name, an e-mail address if one likes, no
password). An account without a password logs in by code only, confirms a login by a texted
code and may choose a password without a current one; an account without an address gets no
mail (and that is no failure)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts import codes
from app.accounts.models import OneTimeCode, Role, User
from app.core import metrics
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.notifications import mail
from app.notifications.accounts import send_account_notice
from app.notifications.outbox import sent_mail
from app.orders.models import CartLine
from tests import factories
from tests.test_mobile_login import expire_waits, last_code, page_errors, texts

NUMBER = "09351234567"
PROOF = "otp_signup"


def visitor(app):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.set_cookie("locale", "en")
    return client


def proved(app, client, typed: str = NUMBER, next_url: str | None = None):  # type: ignore[no-untyped-def]
    """``client`` has proved the number with a texted code; the answer (to the welcome page)."""
    query = f"?next={next_url}" if next_url else ""
    asked = client.post(f"/auth/mobile{query}", data={"mobile": typed, "next": next_url or ""})
    assert asked.status_code == 302
    done = client.post(
        asked.headers["Location"], data={"code": last_code(app), "next": next_url or ""}
    )
    assert done.status_code == 302 and done.headers["Location"].startswith("/auth/mobile/welcome")
    return done


def the_form(html: str) -> str:
    """The page's own form (the layout has others: search, language)."""
    return re.search(r'<form method="post" novalidate>(.*?)</form>', html, re.S).group(1)


def users_with(number: str) -> list[User]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(User).where(User.mobile == number)))


def logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/orders").status_code == 200


def passwordless(app, email: str | None = None, number: str = NUMBER) -> User:  # type: ignore[no-untyped-def]
    user = factories.user(email=email)
    user.email, user.password_hash = email, None
    db.session.commit()
    return factories.with_mobile(user, number)


def as_client(app, user: User, fresh: bool = True):  # type: ignore[no-untyped-def]
    """A client logged in as ``user``: by a texted code (a fresh login), or as if from a
    remember cookie (not fresh)."""
    client = visitor(app)
    if fresh:
        expire_waits()
        client.post("/auth/mobile", data={"mobile": user.mobile})
        done = client.post("/auth/mobile/code", data={"code": last_code(app)})
        assert done.status_code == 302 and done.headers["Location"] == "/"
        return client
    with client.session_transaction() as sess:
        sess["_user_id"] = factories.login_id(user)
        sess["_fresh"] = fresh
    return client


# --- signing up ----------------------------------------------------------------------------------


def test_sign_up_by_mobile_end_to_end(app):
    goods = factories.product()
    client = visitor(app)
    client.post("/cart/add", data={"product_id": goods.id, "quantity": 2})
    page = client.get("/auth/mobile").get_data(as_text=True)
    assert 'name="mobile"' in the_form(page) and the_form(page).count('type="submit"') == 1
    done = proved(app, client, next_url="/cart")
    assert done.headers["Location"] == "/auth/mobile/welcome?next=/cart"
    assert [t.to for t in texts(app)] == [NUMBER]
    welcome = client.get(done.headers["Location"])
    html = unescape(welcome.get_data(as_text=True))
    assert welcome.status_code == 200 and "0935" in html
    form = the_form(html)
    assert 'name="name"' in form and 'name="email"' in form and form.count('type="submit"') == 1
    made = client.post(
        done.headers["Location"],
        data={"name": "  Mina   Ahmadi ", "email": "Mina@Example.com", "next": "/cart"},
    )
    assert made.status_code == 302 and made.headers["Location"] == "/cart"
    [user] = users_with(NUMBER)
    assert user.name == "Mina Ahmadi" and user.email is None  # the address waits for its link
    assert user.password_hash is None and not user.has_password
    assert user.mobile_verified_at is not None and user.role == "customer"
    assert logged_in(client)
    db.session.expire_all()
    lines = db.session.scalars(sa.select(CartLine).where(CartLine.user_id == user.id)).all()
    assert [(line.product_id, line.quantity) for line in lines] == [(goods.id, 2)]  # merged
    [letter] = sent_mail(app.config["MAIL_DIR"])
    assert letter.to == "mina@example.com"
    link = re.search(r"https?://[^/\s]+(/auth/email/[^\s\"<]+)", letter.text).group(1)
    assert client.get(link).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.email == "mina@example.com" and user.email_verified_at is not None
    # the welcome page is spent: the number is an account's now
    assert client.get("/auth/mobile/welcome").status_code == 302


@pytest.mark.parametrize(
    "typed", ["۰۹۳۵۱۲۳۴۵۶۷", "+98 935 123 4567", "0098 935 123 4567", "0935-123-4567"]
)
def test_every_form_of_the_number_signs_up_the_same_number(app, typed):
    client = visitor(app)
    done = proved(app, client, typed)
    assert texts(app)[0].to == NUMBER
    made = client.post(done.headers["Location"], data={"name": "سارا"})
    assert made.status_code == 302 and made.headers["Location"] == "/"
    [user] = users_with(NUMBER)
    assert user.email is None and user.name == "سارا"


def test_a_known_number_logs_in_and_opens_no_second_account(app):
    mina = factories.with_mobile(factories.user(email="mina@example.com"), NUMBER)
    client = visitor(app)
    client.post("/auth/mobile", data={"mobile": NUMBER})
    done = client.post("/auth/mobile/code", data={"code": last_code(app)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert logged_in(client) and [u.id for u in users_with(NUMBER)] == [mina.id]


def test_a_wrong_replayed_or_expired_code_opens_nothing(app):
    client = visitor(app)
    client.post("/auth/mobile", data={"mobile": NUMBER})
    right = last_code(app)
    wrong = client.post("/auth/mobile/code", data={"code": "000000" if right != "000000" else "1"})
    assert wrong.status_code == 400 and "not right" in page_errors(wrong)
    assert client.get("/auth/mobile/welcome").status_code == 302  # nothing proved
    assert client.post("/auth/mobile/code", data={"code": right}).status_code == 302
    # the code is spent: another visitor asking for the same number cannot replay it
    expire_waits()
    other = visitor(app)
    other.post("/auth/mobile", data={"mobile": NUMBER})
    fresh_code = last_code(app)
    if fresh_code != right:
        replay = other.post("/auth/mobile/code", data={"code": right})
        assert replay.status_code == 400
    assert other.get("/auth/mobile/welcome").status_code == 302
    # an expired code
    db.session.execute(sa.update(OneTimeCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    late = other.post("/auth/mobile/code", data={"code": fresh_code})
    assert late.status_code == 400 and "expired" in page_errors(late)
    assert other.get("/auth/mobile/welcome").status_code == 302
    assert users_with(NUMBER) == []


def test_the_welcome_page_needs_a_live_proof_of_its_own_number(app):
    client = visitor(app)
    nothing = client.get("/auth/mobile/welcome?next=/cart")
    assert nothing.status_code == 302 and nothing.headers["Location"].startswith("/auth/mobile")
    assert client.post("/auth/mobile/welcome", data={"name": "X"}).status_code == 302
    proved(app, client)
    # the proof changed to name another number: refused
    with client.session_transaction() as sess:
        proof = dict(sess[PROOF])
        sess[PROOF] = {**proof, "m": "09129999999"}
    assert client.post("/auth/mobile/welcome", data={"name": "X"}).status_code == 302
    # a proof kept longer than it lives: refused
    with client.session_transaction() as sess:
        sess[PROOF] = {**proof, "u": int(utcnow().timestamp()) - 1}
    assert client.post("/auth/mobile/welcome", data={"name": "X"}).status_code == 302
    assert codes.proven_number({**proof, "u": proof["u"] + 60}) is None
    assert users_with(NUMBER) == [] and users_with("09129999999") == []
    # asking a code for another number drops the proof of the first
    with client.session_transaction() as sess:
        sess[PROOF] = proof
    assert client.get("/auth/mobile/welcome").status_code == 200
    expire_waits()
    client.post("/auth/mobile", data={"mobile": "09129999999"})
    assert client.get("/auth/mobile/welcome").status_code == 302


def test_a_taken_or_bad_address_is_refused_and_the_proof_stays(app):
    factories.user(email="mina@example.com")
    client = visitor(app)
    done = proved(app, client)
    taken = client.post(
        done.headers["Location"], data={"name": "Mina", "email": "MINA@example.com"}
    )
    assert taken.status_code == 400 and "already uses this address" in page_errors(taken)
    bad = client.post(done.headers["Location"], data={"name": "Mina", "email": "not-an-address"})
    assert bad.status_code == 400 and "valid e-mail" in page_errors(bad)
    nameless = client.post(done.headers["Location"], data={"name": "  ", "email": ""})
    assert nameless.status_code == 400
    assert users_with(NUMBER) == []
    made = client.post(done.headers["Location"], data={"name": "Mina", "email": ""})
    assert made.status_code == 302 and len(users_with(NUMBER)) == 1
    assert sent_mail(app.config["MAIL_DIR"]) == []


def test_a_number_that_got_an_account_meanwhile_is_a_clear_error(app):
    client = visitor(app)
    done = proved(app, client)
    factories.with_mobile(factories.user(email="other@example.com"), NUMBER)
    raced = client.post(done.headers["Location"], data={"name": "Mina"})
    assert raced.status_code == 409
    assert "already uses this mobile number" in unescape(raced.get_data(as_text=True))
    assert len(users_with(NUMBER)) == 1 and not logged_in(client)
    assert client.get("/auth/mobile/welcome").status_code == 302  # the proof is spent


def test_the_unique_number_decides_a_race_the_check_missed(app, monkeypatch):
    """Two sign-ups of one number at once: the check passed for both, the constraint refuses
    the second (a clear error, not a 500)."""
    from app.accounts import services

    client = visitor(app)
    done = proved(app, client)
    factories.with_mobile(factories.user(email="other@example.com"), NUMBER)
    real_scalar = db.session.scalar
    blinded = []

    def blind_scalar(statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        sql = str(statement).replace('"', "")
        if "SELECT user.id" in sql and "user.mobile" in sql:
            blinded.append(sql)
            return None  # as if the other account were not there yet
        return real_scalar(statement, *args, **kwargs)

    monkeypatch.setattr(services.db.session, "scalar", blind_scalar, raising=False)
    raced = client.post(done.headers["Location"], data={"name": "Mina"})
    monkeypatch.undo()
    assert blinded and raced.status_code == 409
    assert len(users_with(NUMBER)) == 1


def test_the_reset_form_still_texts_only_an_accounts_number(app):
    client = visitor(app)
    asked = client.post("/auth/reset/mobile", data={"mobile": NUMBER})
    assert asked.status_code == 302 and texts(app) == []


def test_the_login_and_sign_up_pages_lead_to_the_mobile_way(app):
    client = visitor(app)
    for page in ("/auth/login", "/auth/register"):
        assert 'href="/auth/mobile"' in client.get(page).get_data(as_text=True)


# --- an account without a password ----------------------------------------------------------------


def test_an_account_without_a_password_cannot_log_in_by_password(app):
    passwordless(app, email="mina@example.com")
    client = visitor(app)
    for password in (factories.PASSWORD, "", "None", "!"):
        refused = client.post(
            "/auth/login", data={"email": "mina@example.com", "password": password or "x"}
        )
        unknown = client.post(
            "/auth/login", data={"email": "nobody@example.com", "password": password or "x"}
        )
        assert refused.status_code == unknown.status_code == 400
        assert "Wrong e-mail or password." in unescape(refused.get_data(as_text=True))
    assert not logged_in(client)
    assert sent_mail(app.config["MAIL_DIR"]) == []  # no lock notice either


def test_a_code_confirms_the_login_and_a_first_password_needs_no_current_one(app):
    user = passwordless(app, email="mina@example.com")
    client = as_client(app, user, fresh=False)
    asked = client.get("/auth/password")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/auth/confirm")
    page = unescape(client.get(asked.headers["Location"]).get_data(as_text=True))
    assert "Text me a code" in page and 'name="password"' not in page
    typed = client.post("/auth/confirm", data={"password": factories.PASSWORD})
    assert typed.status_code == 400
    sent = client.post("/auth/confirm/mobile", data={"next": "/auth/password"})
    assert sent.status_code == 302 and sent.headers["Location"].startswith("/auth/confirm/code")
    assert texts(app)[0].to == NUMBER
    wrong = client.post(sent.headers["Location"], data={"code": "x", "next": "/auth/password"})
    assert wrong.status_code == 400
    confirmed = client.post(
        sent.headers["Location"], data={"code": last_code(app), "next": "/auth/password"}
    )
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/auth/password"
    form = unescape(client.get("/auth/password").get_data(as_text=True))
    assert 'name="current_password"' not in form and 'name="new_password"' in form
    new = "a quiet river at dawn"
    done = client.post("/auth/password", data={"new_password": new, "confirm": new})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).has_password
    again = visitor(app)
    assert factories.login(again, "mina@example.com", new).status_code == 302
    # now the current password is asked
    form = client.get("/auth/password").get_data(as_text=True)
    assert 'name="current_password"' in form


def test_an_account_with_a_password_may_confirm_by_code_too(app):
    user = factories.with_mobile(factories.user(email="mina@example.com"), NUMBER)
    client = as_client(app, user, fresh=False)
    page = client.get("/auth/confirm?next=/auth/account/delete").get_data(as_text=True)
    assert 'name="password"' in page and "/auth/confirm/mobile" in page
    client.post("/auth/confirm/mobile", data={"next": "/auth/account/delete"})
    done = client.post(
        "/auth/confirm/code", data={"code": last_code(app), "next": "/auth/account/delete"}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/auth/account/delete"
    assert client.get("/auth/account/delete").status_code == 200


def test_an_account_without_an_address_uses_the_account_pages(app):
    user = passwordless(app)
    client = as_client(app, user)
    page = unescape(client.get("/auth/account").get_data(as_text=True))
    assert "No e-mail yet." in page and 'href="/auth/account/email"' in page
    assert "Choose a password" in page
    verify = client.post("/auth/account/email/verify")
    assert verify.status_code == 302 and verify.headers["Location"] == "/auth/account/email"
    data = client.get("/auth/account/data")
    assert data.status_code == 200 and json.loads(data.get_data())["account"]["email"] is None
    adding = unescape(client.get("/auth/account/email").get_data(as_text=True))
    assert "Add an e-mail address" in adding
    added = client.post("/auth/account/email", data={"email": "sara@example.com"})
    assert added.status_code == 302
    [letter] = sent_mail(app.config["MAIL_DIR"])
    assert letter.to == "sara@example.com"
    deleted = client.post("/auth/account/delete", data={"understood": "y"})
    assert deleted.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).active and users_with(NUMBER) == []


def test_mail_to_an_account_without_an_address_is_not_written_and_is_no_failure(app):
    user = passwordless(app)
    failed = metrics.EMAILS_FAILED._value.get()
    send_account_notice("password_changed", user.id)
    letter = mail.message("", "fa", "subject", "text", "<p>html</p>")
    mail.send([(user.id, letter)], "test")
    assert sent_mail(app.config["MAIL_DIR"]) == []
    assert metrics.EMAILS_FAILED._value.get() == failed
    # an address given for the message (one being proved) is written to
    send_account_notice("email_confirm", user.id, link="https://x.example/", to="sara@example.com")
    assert [m.to for m in sent_mail(app.config["MAIL_DIR"])] == ["sara@example.com"]


def test_staff_pages_show_an_owner_without_an_address(app):
    owner = passwordless(app)
    shop = factories.seller(owner=owner)
    staff = factories.user(Role.STAFF, email="staff@example.com")
    client = visitor(app)
    factories.login(client, staff.email)
    page = client.get(f"/admin/sellers/{shop.id}")
    owner_line = re.search(r"<dd>[^<]*— ([^<]*)</dd>", page.get_data(as_text=True)).group(1)
    assert page.status_code == 200 and owner_line == "09351234567"
    listing = client.get("/admin/sellers.csv")
    assert listing.status_code == 200 and "None" not in listing.get_data(as_text=True)


def test_a_reset_link_is_never_sent_for_an_account_without_an_address(app):
    passwordless(app)
    client = visitor(app)
    for typed in ("", "None", "none@example.com"):
        answer = client.post("/auth/reset", data={"email": typed or "x"})
        assert answer.status_code in (302, 400)
    assert sent_mail(app.config["MAIL_DIR"]) == []
