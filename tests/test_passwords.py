"""Passwords: common and trivial ones are refused, hashes are strong and upgraded at login, and
Persian text typed on an Arabic keyboard (or with other digits) is the same password."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.accounts import passwords
from app.accounts.models import User
from app.accounts.services import change_password, create_staff
from app.core.errors import ValidationFailed
from app.core.extensions import db
from tests import factories

PERSIAN = "کتابخانه‌ی کوچک من ۱۴۰۳"  # Persian kaf and yeh, a half-space, Persian digits
ARABIC = "كتابخانهي كوچك من ١٤٠٣"  # the same typed on an Arabic layout: ك ي, no half-space


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)]


def register(client, password: str, email: str = "maryam.ahmadi@example.com"):  # type: ignore[no-untyped-def]
    client.set_cookie("locale", "en")
    return client.post(
        "/auth/register",
        data={"name": "Maryam", "email": email, "password": password, "confirm": password},
    )


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1234", "This password is too common. Choose one that others do not use."),
        ("Password1234", "This password is too common. Choose one that others do not use."),
        ("qwertyuiop123", "This password is too common. Choose one that others do not use."),
        ("123456789012", "This password is too simple"),
        ("۱۲۳۴۵۶۷۸۹۰۱۲", "This password is too simple"),
        ("aaaaaaaaaaaa", "This password is too simple"),
        ("abcabcabcabc", "This password is too simple"),
        ("abcdefghijklm", "This password is too simple"),
        ("maryam.ahmadi!", "The password must not be made of your e-mail address."),
    ],
)
def test_common_and_trivial_passwords_are_refused(client, password, message):
    response = register(client, password)
    assert response.status_code == 400
    assert any(e.startswith(message) for e in errors(response)), errors(response)
    assert user_count() == 0


def test_a_good_password_is_accepted(client):
    assert register(client, "three camels under a red tent").status_code == 302
    assert user_count() == 1


def test_the_same_rules_hold_for_a_password_change_and_staff_accounts(app):
    user = factories.user(email="sara@example.com")
    with pytest.raises(ValidationFailed) as caught:
        change_password(user, factories.PASSWORD, "aaaaaaaaaaaa")
    assert caught.value.errors == {"password": ["password_simple"]}
    with pytest.raises(ValidationFailed):
        create_staff("boss@example.com", "password1234")


def test_the_bundled_list_has_thousands_of_common_passwords():
    listed = passwords.common_passwords()
    assert len(listed) > 5000
    assert "password1234" in listed and "qwertyuiop" in listed


def test_new_hashes_use_scrypt_with_n_of_2_to_the_17_by_default(app):
    app.config["PASSWORD_HASH_METHOD"] = None  # as in production
    stored = passwords.hash_password("three camels under a red tent")
    assert stored.startswith("scrypt:131072:8:1$")
    assert passwords.verify(stored, "three camels under a red tent") == (True, False)


def test_login_rehashes_a_hash_made_with_older_parameters(app, client):
    user = factories.user(email="sara@example.com")
    user.password_hash = generate_password_hash(factories.PASSWORD, method="scrypt:2048:8:1")
    db.session.commit()
    assert factories.login(client, "sara@example.com").status_code == 302
    db.session.expire_all()
    stored = db.session.get(User, user.id).password_hash
    configured = app.config["PASSWORD_HASH_METHOD"]
    expected = generate_password_hash("x", method=configured).split("$")[0]
    assert stored.split("$")[0] == expected != "scrypt:2048:8:1"
    assert factories.login(app.test_client(), "sara@example.com").status_code == 302


def test_a_persian_password_typed_on_an_arabic_keyboard_logs_in(app, client):
    assert register(client, PERSIAN, email="sara@example.com").status_code == 302
    assert factories.login(app.test_client(), "sara@example.com", ARABIC).status_code == 302
    ascii_digits = PERSIAN.replace("۱۴۰۳", "1403")
    assert factories.login(app.test_client(), "sara@example.com", ascii_digits).status_code == 302
    assert factories.login(app.test_client(), "sara@example.com", "کتابخانه").status_code == 400


def test_a_hash_of_the_raw_text_still_works_and_is_replaced(app):
    """Hashes made before normalisation hold the text as it was typed."""
    user = factories.user(email="sara@example.com")
    user.password_hash = generate_password_hash(ARABIC, method=app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    assert factories.login(app.test_client(), "sara@example.com", ARABIC).status_code == 302
    db.session.expire_all()
    # Replaced by the normalised form: now the Persian spelling works too.
    assert passwords.verify(db.session.get(User, user.id).password_hash, PERSIAN) == (True, False)
    assert factories.login(app.test_client(), "sara@example.com", PERSIAN).status_code == 302


def test_normalisation():
    assert passwords.normalise_password(ARABIC) == passwords.normalise_password(PERSIAN)
    assert passwords.normalise_password("ＡＢＣ１２３") == "ABC123"
    assert passwords.normalise_password("a b") == "a b"  # spaces are kept
