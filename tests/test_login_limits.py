"""Login limits per account (not only per address) and registration limits.

Behind a proxy (``PROXY_FIX=1``) an attacker can send each attempt from another address; the
per-account lock, kept in the database, still stops them, grows with each lock, refuses the right
password too while it lasts, and tells the owner once per lock.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts import throttle
from app.accounts.models import LoginSession, LoginThrottle, User
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.notifications.outbox import sent_mail
from tests import factories
from tests.conftest import make_app

LOCKED = "Too many failed attempts for this account."
WRONG = "Wrong e-mail or password."


@pytest.fixture
def limited_app(tmp_path):  # type: ignore[no-untyped-def]
    """Rate limits on, one proxy in front (X-Forwarded-For is believed)."""
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, PROXY_FIX=1)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'<p class="error"[^>]*>(.*?)</p>', html, re.S)]


class Attacker:
    """Every attempt from a new address."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.client = app.test_client()
        self.client.set_cookie("locale", "en")
        self.n = 0

    def login(self, email: str, password: str | None = None):  # type: ignore[no-untyped-def]
        self.n += 1
        return self.client.post(
            "/auth/login",
            data={"email": email, "password": password or "wrong password!!"},
            headers={"X-Forwarded-For": f"10.{self.n // 250}.{self.n % 250}.7"},
        )


def lock_mails(app) -> list:  # type: ignore[no-untyped-def]
    return [m for m in sent_mail(app.config["MAIL_DIR"]) if "paused" in m.subject]


def expire_lock(email: str) -> None:
    row = db.session.get(LoginThrottle, email)
    row.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()


def lock_minutes(email: str) -> float:
    db.session.expire_all()
    row = db.session.get(LoginThrottle, email)
    return (row.locked_until - utcnow()).total_seconds() / 60


def test_many_addresses_cannot_guess_one_accounts_password(limited_app):
    user = factories.user(email="sara@example.com")
    user.locale = "en"
    db.session.commit()
    attacker = Attacker(limited_app)
    answers = [attacker.login("sara@example.com") for _ in range(30)]
    # Five attempts are evaluated; from then on the account refuses, whatever the address.
    assert [r.status_code for r in answers[:4]] == [400] * 4
    assert all(r.status_code == 429 for r in answers[5:])
    assert all(LOCKED in " ".join(errors(r)) for r in answers[5:])
    # The right password is refused too while the lock lasts, with the same answer.
    right = attacker.login("sara@example.com", factories.PASSWORD)
    assert right.status_code == 429
    assert errors(right) == errors(answers[-1])
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id))) == 0
    # The owner heard of it once.
    mails = lock_mails(limited_app)
    assert len(mails) == 1 and mails[0].to == "sara@example.com"
    # After the lock, the right password works and clears the record.
    expire_lock("sara@example.com")
    assert attacker.login("sara@example.com", factories.PASSWORD).status_code == 302
    assert db.session.get(LoginThrottle, "sara@example.com") is None


def test_each_lock_in_a_row_lasts_twice_as_long(limited_app):
    factories.user(email="sara@example.com").locale = "en"
    db.session.commit()
    attacker = Attacker(limited_app)
    expected = [1, 2, 4, 8]
    for minutes in expected:
        for _ in range(throttle.MAX_FAILURES):
            attacker.login("sara@example.com")
        assert attacker.login("sara@example.com").status_code == 429
        assert minutes - 0.1 < lock_minutes("sara@example.com") <= minutes
        expire_lock("sara@example.com")
    # One mail per lock, not per refused attempt.
    assert len(lock_mails(limited_app)) == len(expected)
    assert throttle.lock_length(20) == throttle.MAX_LOCK


def test_unknown_addresses_lock_the_same_way(limited_app):
    attacker = Attacker(limited_app)
    answers = [attacker.login("nobody@example.com") for _ in range(6)]
    assert answers[-1].status_code == 429 and LOCKED in " ".join(errors(answers[-1]))
    assert lock_mails(limited_app) == []


def test_a_right_password_before_the_limit_clears_the_count(limited_app):
    factories.user(email="sara@example.com")
    attacker = Attacker(limited_app)
    for _ in range(4):
        assert attacker.login("sara@example.com").status_code == 400
    # The fifth attempt is the owner's, right: it logs in although it started a lock.
    assert attacker.login("sara@example.com", factories.PASSWORD).status_code == 302
    assert db.session.get(LoginThrottle, "sara@example.com") is None
    assert lock_mails(limited_app) == []


def test_the_lock_is_shared_by_every_worker(limited_app, tmp_path):
    """Another app instance (another worker or machine) on the same database sees the lock."""
    from app import create_app
    from tests.conftest import settings

    factories.user(email="sara@example.com")
    attacker = Attacker(limited_app)
    for _ in range(throttle.MAX_FAILURES):
        attacker.login("sara@example.com")
    other = create_app(settings(tmp_path, RATELIMIT_ENABLED=True, PROXY_FIX=1))
    with other.app_context():
        response = Attacker(other).login("sara@example.com", factories.PASSWORD)
        assert response.status_code == 429
        db.session.remove()
        db.engine.dispose()


# --- registration ---------------------------------------------------------------------------------


def register(client, email: str):  # type: ignore[no-untyped-def]
    """One probe from the same address (a successful one logs the prober in: log out first)."""
    client.post("/auth/logout")
    password = "a long enough passphrase"
    return client.post(
        "/auth/register",
        data={"name": "Probe", "email": email, "password": password, "confirm": password},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )


def test_registration_probes_are_limited_and_do_not_confirm_an_address(limited_app):
    factories.user(email="sara@example.com")
    client = limited_app.test_client()
    client.set_cookie("locale", "en")
    taken = register(client, "sara@example.com")
    new = register(client, "someone.new@example.com")
    # A taken address gets the neutral answer, not "this account exists".
    assert taken.status_code == 400
    assert errors(taken) == [
        "We could not create an account with these details. "
        "If you already have an account, log in instead."
    ]
    assert "already exists" not in taken.get_data(as_text=True)
    assert new.status_code == 302  # a real new user is not blocked
    # Probing many addresses from one address is cut off.
    statuses = [register(client, f"probe{n}@example.com").status_code for n in range(60)]
    assert statuses[:3] == [302, 302, 302]
    assert statuses.count(429) >= 55
    assert db.session.scalar(sa.select(sa.func.count(User.id))) <= 6


# --- the reported attack, against a real server with several workers --------------------------


@pytest.fixture(scope="module")
def server_settings() -> dict[str, object]:
    return {"RATELIMIT_ENABLED": True, "PROXY_FIX": 1}


@pytest.mark.slow
def test_a_burst_from_many_addresses_across_workers_gets_five_guesses(live):  # type: ignore[no-untyped-def]
    from tests.live_server import Browser, burst

    user = factories.user(email="sara@example.com")
    user.locale = "en"
    db.session.commit()

    def attempt(n: int, password: str | None = None):  # type: ignore[no-untyped-def]
        return Browser(live.url).request(
            "POST",
            "/auth/login",
            form={"email": "sara@example.com", "password": password or "wrong password!!"},
            headers={"X-Forwarded-For": f"10.20.{n // 250}.{n % 250 + 1}"},
        )

    replies = burst([lambda n=n: attempt(n) for n in range(40)])
    statuses = sorted(r.status for r in replies)
    assert statuses.count(400) == throttle.MAX_FAILURES, statuses
    assert statuses.count(429) == 40 - throttle.MAX_FAILURES, statuses
    assert attempt(99, factories.PASSWORD).status == 429
    mails = [m for m in sent_mail(live.mail_dir) if m.to == "sara@example.com"]
    assert len(mails) == 1 and "paused" in mails[0].subject


def test_records_of_accounts_nobody_tried_for_a_day_are_dropped(limited_app):
    factories.user(email="sara@example.com")
    attacker = Attacker(limited_app)
    attacker.login("old@example.com")
    row = db.session.get(LoginThrottle, "old@example.com")
    row.last_attempt_at = utcnow() - timedelta(days=2)
    db.session.commit()
    attacker.login("recent@example.com")
    assert attacker.login("sara@example.com", factories.PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginThrottle, "old@example.com") is None
    assert db.session.get(LoginThrottle, "recent@example.com") is not None
