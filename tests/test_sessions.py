"""Logins end on the server: replaying a session or remember cookie after logout logs nobody in."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import LoginSession, Role
from app.catalog.models import Seller
from app.core.extensions import db
from app.core.timeutil import utcnow
from tests import factories


def logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    """A page for any logged-in user answers 200 (anonymous visitors go to the login)."""
    return client.get("/orders").status_code == 200


def remembered_login(client, email: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/login", data={"email": email, "password": factories.PASSWORD, "remember": "y"}
    )


def cookies(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        name: client.get_cookie(name).value
        for name in ("session", "remember_token")
        if client.get_cookie(name) is not None
    }


def replay(app, **values: str):  # type: ignore[no-untyped-def]
    """A new browser holding only the given cookies."""
    browser = app.test_client()
    for name, value in values.items():
        browser.set_cookie(name, value)
    return browser


def a_seller(email: str = "shop@example.com") -> Seller:
    owner = factories.user(Role.SELLER, email=email)
    owner.locale = "en"  # the e-mails it gets are read in English
    seller = factories.seller(owner=owner)
    seller.phone = "09121234567"
    seller.bio = "before"
    db.session.commit()
    return seller


def profile_form(seller: Seller, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "display_name": seller.display_name,
        "slug": seller.slug,
        "bio": seller.bio or "",
        "county_id": seller.county_id,
        "sector_id": seller.sector_id,
        "phone": seller.phone or "",
        "registration_code": seller.registration_code or "",
        "training_completed_on": seller.training_completed_on.isoformat()
        if seller.training_completed_on
        else "",
        "training_provider": seller.training_provider or "",
        "permit_number": seller.permit_number or "",
    }
    data.update(changes)
    return data


def test_logout_ends_the_session_and_the_remember_cookie_on_the_server(app, client):
    seller = a_seller()
    assert remembered_login(client, "shop@example.com").status_code == 302
    saved = cookies(client)
    assert set(saved) == {"session", "remember_token"}
    assert logged_in(replay(app, **saved))

    assert client.post("/auth/logout").status_code == 302
    assert not logged_in(client)

    # The copied cookies, together and one by one, log nobody in any more.
    assert not logged_in(replay(app, **saved))
    assert not logged_in(replay(app, session=saved["session"]))
    assert not logged_in(replay(app, remember_token=saved["remember_token"]))

    # And they cannot change the shop.
    response = replay(app, **saved).post(
        "/seller/profile", data=profile_form(seller, bio="changed by a replayed cookie")
    )
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.get(Seller, seller.id).bio == "before"
    row = db.session.scalar(sa.select(LoginSession))
    assert row.ended_at is not None


def test_each_login_has_its_own_remember_token(app):
    factories.user(email="sara@example.com")
    first, second = app.test_client(), app.test_client()
    remembered_login(first, "sara@example.com")
    remembered_login(second, "sara@example.com")
    assert cookies(first)["remember_token"] != cookies(second)["remember_token"]
    # Logging out one browser leaves the other logged in.
    first.post("/auth/logout")
    assert not logged_in(first)
    assert logged_in(second)
    assert logged_in(replay(app, remember_token=cookies(second)["remember_token"]))


def test_the_remember_cookie_lasts_thirty_days(client):
    factories.user(email="sara@example.com")
    response = remembered_login(client, "sara@example.com")
    header = next(h for h in response.headers.getlist("Set-Cookie") if "remember_token=" in h)
    assert "Expires=" in header
    cookie = client.get_cookie("remember_token")
    lifetime = cookie.expires - utcnow()
    assert timedelta(days=29) < lifetime <= timedelta(days=30)


def test_a_login_older_than_thirty_days_ends_on_the_server(app, client):
    factories.user(email="sara@example.com")
    remembered_login(client, "sara@example.com")
    saved = cookies(client)
    row = db.session.scalar(sa.select(LoginSession))
    row.created_at = utcnow() - timedelta(days=31)
    db.session.commit()
    assert not logged_in(replay(app, **saved))


def test_a_login_records_when_and_from_what_it_was_made(client):
    user = factories.user(email="sara@example.com")
    client.post(
        "/auth/login",
        data={"email": "sara@example.com", "password": factories.PASSWORD},
        headers={"User-Agent": "Test browser 1.0"},
    )
    row = db.session.scalar(sa.select(LoginSession))
    assert row.user_id == user.id
    assert row.user_agent == "Test browser 1.0"
    assert row.created_at is not None and row.ended_at is None
    assert len(row.id) >= 40  # random, not guessable


def test_a_password_change_ends_every_other_login_but_not_this_one(app, client):
    factories.user(email="sara@example.com")
    other = app.test_client()
    remembered_login(other, "sara@example.com")
    other_cookies = cookies(other)
    factories.login(client, "sara@example.com")
    new = "a long enough passphrase"
    response = client.post(
        "/auth/password",
        data={"current_password": factories.PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert logged_in(client)
    assert not logged_in(other)
    assert not logged_in(replay(app, remember_token=other_cookies["remember_token"]))


def test_logins_older_than_their_lifetime_are_dropped_at_the_next_login(client):
    factories.user(email="sara@example.com")
    remembered_login(client, "sara@example.com")
    client.post("/auth/logout")
    old = db.session.scalar(sa.select(LoginSession))
    old.created_at = utcnow() - timedelta(days=31)
    db.session.commit()
    factories.login(client, "sara@example.com")
    client.post("/auth/logout")
    factories.login(client, "sara@example.com")
    rows = db.session.scalars(sa.select(LoginSession)).all()
    # The expired one is gone; the recently ended one stays as a record, the open one is in use.
    assert len(rows) == 2
    assert sorted(r.ended_at is None for r in rows) == [False, True]
