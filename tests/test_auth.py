"""Accounts through the web: registration, login, logout, password change, limits and cookies."""

from __future__ import annotations

import os
import re
from html import unescape

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.core.extensions import db
from app.notifications.outbox import sent_mail
from tests import factories
from tests.conftest import make_app, settings

STRONG = "a long enough passphrase"


def english(client):  # type: ignore[no-untyped-def]
    """Messages are compared in English, whatever the Persian catalogue says."""
    client.set_cookie("locale", "en")
    return client


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The field error texts a form page shows."""
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)]


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    """A page only a logged-in user may see answers 200 (else it redirects to the login)."""
    return client.get("/auth/password").status_code == 200


def register(client, **fields: str):  # type: ignore[no-untyped-def]
    data = {"name": "مریم احمدی", "email": "maryam@example.com", "password": STRONG}
    data["confirm"] = data["password"]
    data.update(fields)
    return client.post("/auth/register", data=data)


# --- registration -------------------------------------------------------------------------------


def test_register_creates_the_account_and_logs_in(client):
    response = register(client, email="Maryam@Example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.session.scalar(sa.select(User))
    assert user.email == "maryam@example.com"
    assert user.role == Role.CUSTOMER
    assert logged_in(client)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short pw 11", "confirm": "short pw 11"}, "Use at least 12 characters."),
        ({"confirm": STRONG + "x"}, "The passwords differ."),
        ({"email": "not-an-address"}, "Please enter a valid e-mail address."),
        ({"email": "two@@example.com"}, "Please enter a valid e-mail address."),
    ],
    ids=["short-password", "mismatched-confirmation", "invalid-email", "double-at"],
)
def test_register_rejects_bad_input_with_a_clear_message(client, fields, message):
    response = register(english(client), **fields)
    assert response.status_code == 400
    assert message in errors(response)
    assert user_count() == 0
    assert not logged_in(client)


def test_register_refuses_a_taken_email_in_any_case_without_confirming_it(client):
    factories.user(email="maryam@example.com")
    response = register(english(client), email="  MARYAM@example.com ")
    assert response.status_code == 400
    assert errors(response) == [
        "We could not create an account with these details. "
        "If you already have an account, log in instead."
    ]
    assert "already exists" not in response.get_data(as_text=True)
    assert user_count() == 1
    assert not logged_in(client)


def test_passwords_are_stored_with_scrypt(client):
    register(client)
    user = db.session.scalar(sa.select(User))
    assert user.password_hash.startswith("scrypt:")
    assert STRONG not in user.password_hash


# --- login and logout ---------------------------------------------------------------------------


def test_login_succeeds_with_the_right_password(client):
    user = factories.user(email="sara@example.com")
    response = factories.login(client, "Sara@Example.com")
    assert response.status_code == 302
    assert logged_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_failure_says_the_same_for_unknown_email_and_wrong_password(client, app):
    factories.user(email="sara@example.com")
    unknown = factories.login(english(app.test_client()), "nobody@example.com")
    wrong = factories.login(english(app.test_client()), "sara@example.com", "wrong password!!")
    assert unknown.status_code == wrong.status_code == 400
    assert errors(unknown) == errors(wrong) == ["Wrong e-mail or password."]
    assert not logged_in(client)


def test_login_of_a_deactivated_account_fails_like_a_wrong_password(client):
    user = factories.user(email="gone@example.com")
    user.active = False
    db.session.commit()
    response = factories.login(english(client), "gone@example.com")
    assert response.status_code == 400
    assert errors(response) == ["Wrong e-mail or password."]


def test_logout_is_post_only(client):
    factories.user(email="sara@example.com")
    factories.login(client, "sara@example.com")
    assert client.get("/auth/logout").status_code == 405
    assert logged_in(client)
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert not logged_in(client)


# --- password change ----------------------------------------------------------------------------


def test_password_change_refuses_a_wrong_current_password(client):
    user = factories.user(email="sara@example.com")
    old_hash = user.password_hash
    factories.login(english(client), "sara@example.com")
    response = client.post(
        "/auth/password",
        data={"current_password": "not my password", "new_password": STRONG, "confirm": STRONG},
    )
    assert response.status_code == 400
    assert "The current password is not correct." in errors(response)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_password_change_ends_the_other_sessions(app, client):
    user = factories.user(email="sara@example.com")
    other = app.test_client()
    factories.login(client, "sara@example.com")
    factories.login(other, "sara@example.com")
    assert logged_in(other)

    response = client.post(
        "/auth/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": STRONG,
            "confirm": STRONG,
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.session_version == 2
    # The client that changed it stays logged in; the other one's cookie no longer works.
    assert logged_in(client)
    response = other.get("/auth/password")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    # The old password is gone, the new one works.
    assert factories.login(app.test_client(), "sara@example.com").status_code == 400
    assert factories.login(app.test_client(), "sara@example.com", STRONG).status_code == 302
    # The owner is told.
    mails = sent_mail(app.config["MAIL_DIR"])
    assert [m.to for m in mails] == ["sara@example.com"]


def test_remember_cookie_stops_working_after_a_password_change(app, client):
    factories.user(email="sara@example.com")
    remembered = app.test_client()
    remembered.post(
        "/auth/login",
        data={"email": "sara@example.com", "password": factories.PASSWORD, "remember": "y"},
    )
    assert remembered.get_cookie("remember_token") is not None
    factories.login(client, "sara@example.com")
    client.post(
        "/auth/password",
        data={"current_password": factories.PASSWORD, "new_password": STRONG, "confirm": STRONG},
    )
    # Drop the session cookie: only the remember cookie could log this browser back in.
    remembered.delete_cookie("session")
    assert not logged_in(remembered)


# --- rate limit ---------------------------------------------------------------------------------


def test_the_eleventh_login_attempt_in_a_minute_is_refused(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    client = english(app.test_client())
    with app.app_context():
        # Ten different accounts: the per-account lock (tests/test_login_limits.py) stays out.
        for n in range(10):
            response = factories.login(client, f"nobody{n}@example.com", "wrong password!!")
            assert response.status_code == 400
        response = factories.login(client, "nobody10@example.com", "wrong password!!")
        assert response.status_code == 429
        html = response.get_data(as_text=True)
        assert "Too many attempts. Please wait a minute and try again." in html
        assert "<main" in html  # the site's own page, not a bare error
        # Reading the form is not limited.
        assert client.get("/auth/login").status_code == 200
        db.session.remove()
        db.engine.dispose()


# --- cookies ------------------------------------------------------------------------------------


def _session_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers, "the login sets the session cookie"
    return headers[-1]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    factories.user(email="sara@example.com")
    header = _session_cookie_header(factories.login(client, "sara@example.com"))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header


@pytest.mark.skipif(
    any(os.environ.get(name) for name in ("FLASK_DEBUG", "SESSION_COOKIE_SECURE")),
    reason="the environment overrides the production cookie settings",
)
def test_session_cookie_is_secure_in_production(tmp_path):
    overrides = settings(tmp_path)
    for name in ("TESTING", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        overrides.pop(name)  # as production has them: the defaults of config.py
    schema = make_app(tmp_path)  # the schema and an empty database
    with schema.app_context():
        db.engine.dispose()
    app = create_app(overrides)
    assert not app.debug and not app.testing
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        factories.user(email="sara@example.com")
        client = app.test_client()
        response = client.post(
            "/auth/login",
            data={"email": "sara@example.com", "password": factories.PASSWORD, "remember": "y"},
            base_url="https://localhost",
        )
        assert response.status_code == 302
        header = _session_cookie_header(response)
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
        remember = [h for h in response.headers.getlist("Set-Cookie") if "remember_token=" in h]
        assert remember and "Secure" in remember[0] and "HttpOnly" in remember[0]
        db.session.remove()
        db.engine.dispose()


# --- staff accounts from the command line -------------------------------------------------------


def test_create_staff_generates_and_prints_a_password(app, runner):
    result = runner.invoke(args=["create-staff", "boss@example.com", "--generate"])
    assert result.exit_code == 0, result.output
    match = re.search(r"Generated password: (\S+)", result.output)
    assert match
    user = db.session.scalar(sa.select(User).where(User.email == "boss@example.com"))
    assert user.role == Role.STAFF
    assert user.password_hash.startswith("scrypt:")
    assert factories.login(app.test_client(), "boss@example.com", match.group(1)).status_code == 302
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.action, event.target_id, event.actor_id) == ("user.make_staff", user.id, None)


def test_create_staff_with_a_typed_password(app, runner):
    result = runner.invoke(args=["create-staff", "boss@example.com"], input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "Generated password" not in result.output
    assert factories.login(app.test_client(), "boss@example.com", STRONG).status_code == 302


def test_create_staff_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-staff", "boss@example.com"], input="pw\npw\n")
    assert result.exit_code != 0
    assert "Not created" in result.output
    assert "at least 12 characters" in result.output
    assert user_count() == 0
