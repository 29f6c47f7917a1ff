"""The event × recipient × channel table (app.notifications.events.TABLE), tested whole: every
row's event is fired through the module that sends it, and each party gets exactly the channels
the table and their choices say (e-mail, SMS, the site's list) and nobody else gets anything.
Then the same with every choice switched off, and for an account without an e-mail address."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalog import scope as scopes
from app.catalog.models import Seller, StockAlert
from app.core.extensions import db
from app.core.timeutil import utcnow
from app.disputes.models import OrderProblem, ProblemKind
from app.notifications import events, preferences
from app.notifications.accounts import send_account_notice, send_seller_status
from app.notifications.alerts import send_back_in_stock
from app.notifications.digests import send_warning_digests
from app.notifications.messages import send_new_message
from app.notifications.models import Notice
from app.notifications.moderation import send_listing_event
from app.notifications.orders import send_order_event
from app.notifications.outbox import sent_mail
from app.notifications.payouts import send_payout_made
from app.notifications.problems import send_problem_event
from app.notifications.reviews import send_review_event
from app.notifications.sms_gateway import written_sms
from app.payouts.models import BatchStatus, SettlementBatch, SettlementLine
from app.reviews.models import Review
from tests import factories
from tests.test_notifications import _place

CUSTOMER_MAIL, CUSTOMER_MOBILE = "mina@example.com", "09121234567"
SELLER_MAIL, SELLER_MOBILE = "shop@example.com", "09351112233"
OFFICER_MAIL, OFFICER_MOBILE = "officer@example.com", "09151234567"


@dataclass
class World:
    customer: User
    seller: Seller
    order_id: int
    product_id: int
    problem_id: int
    batch_id: int
    review_id: int
    alert_id: int
    officer: User  # a county officer of the seller's county

    def user_of(self, audience: str) -> User:
        if audience == events.STAFF:
            return self.officer
        return self.customer if audience == events.CUSTOMER else self.seller.user


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    customer = factories.user(email=CUSTOMER_MAIL, name="مینا")
    factories.with_mobile(customer, CUSTOMER_MOBILE)
    seller = factories.seller(
        owner=factories.user(Role.SELLER, email=SELLER_MAIL), name="کارگاه سوزن‌دوزی"
    )
    factories.with_mobile(seller.user, SELLER_MOBILE)
    seller.sheba = "IR820540102680020817909002"
    product = factories.product(seller, title="رومیزی سوزن‌دوزی", price_amount=1_250_000, stock=5)
    order = _place(customer, product).orders[0]
    problem = OrderProblem(
        order_id=order.id,
        customer_id=customer.id,
        seller_id=seller.id,
        kind=ProblemKind.DAMAGED,
        description="لبه‌اش شکسته بود",
    )
    batch = SettlementBatch(reference="P-1", period_end=utcnow(), status=BatchStatus.PAID)
    db.session.add_all([problem, batch])
    db.session.flush()
    db.session.add(
        SettlementLine(
            batch_id=batch.id,
            seller_id=seller.id,
            amount=1_100_000,
            sheba=seller.sheba,
            account_name="کارگاه",
        )
    )
    review = Review(
        order_line_id=order.lines[0].id,
        product_id=product.id,
        seller_id=seller.id,
        customer_id=customer.id,
        stars=4,
        body="خوب بود",
    )
    db.session.add(review)

    # The customer asked to be told when the product is back (claimed: told when fired).
    alert = StockAlert(user_id=customer.id, product_id=product.id, notified_at=utcnow())
    db.session.add(alert)
    db.session.commit()
    officer = factories.user(Role.STAFF, email=OFFICER_MAIL, name="کارشناس شهرستان")
    factories.with_mobile(officer, OFFICER_MOBILE)
    # Staff of the province (no scope) get no digest; the county's officer does.
    factories.user(Role.STAFF, email="province@example.com")
    county_slug = db.session.get(Seller, seller.id).county.slug
    scopes.set_scope(officer, county_slug=county_slug)
    return World(
        customer, seller, order.id, product.id, problem.id, batch.id, review.id, alert.id, officer
    )


_SELLER_MOVES = {
    "applied": (None, "applied"),
    "approved": ("applied", "approved"),
    "rejected": ("applied", "rejected"),
    "suspended": ("approved", "suspended"),
    "reinstated": ("suspended", "approved"),
}


def _fire(event: str, w: World) -> None:
    subject, _dot, kind = event.partition(".")
    if subject == "order":
        send_order_event(kind, [w.order_id])
    elif subject == "problem":
        send_problem_event(kind, w.problem_id)
    elif subject == "seller":
        previous, status = _SELLER_MOVES[kind]
        send_seller_status(w.seller.user.id, status, previous, "دلیل کارشناس")
    elif subject == "listing":
        send_listing_event(kind, w.product_id, "عکس روشن‌تر")
    elif subject == "review":
        send_review_event(kind, w.review_id)
    elif subject == "payout":
        send_payout_made(w.batch_id)
    elif subject == "product":
        send_back_in_stock(w.product_id, [w.alert_id])
    elif subject == "message":
        # Each side hears of the other's message; both rows are fired.
        send_new_message(w.customer.id, 1, events.CUSTOMER)
        send_new_message(w.seller.user.id, 1, events.SELLER)
    elif subject == "warning":
        send_warning_digests()
    elif subject == "account":
        extra = (
            {"link": "http://localhost/x"} if kind in ("password_reset", "email_confirm") else {}
        )
        for user in (w.customer, w.seller.user):
            if kind == "mobile_changed":  # texted to the former number (here: the same)
                extra = {"number": user.mobile}
            send_account_notice(kind, user.id, **extra)
    else:  # a row this test does not know how to fire: add it above
        raise AssertionError(f"no way to fire {event}")


@dataclass
class Received:
    mails: dict[str, int]
    texts: dict[str, int]
    notices: dict[int, int]


def _received(app) -> Received:  # type: ignore[no-untyped-def]
    mails: dict[str, int] = {}
    for m in sent_mail(app.config["MAIL_DIR"]):
        mails[m.to] = mails.get(m.to, 0) + 1
    texts: dict[str, int] = {}
    for t in written_sms(app.config["SMS_DIR"]):
        texts[t.to] = texts.get(t.to, 0) + 1
    db.session.rollback()
    rows = db.session.execute(
        sa.select(Notice.user_id, sa.func.count()).group_by(Notice.user_id)
    ).all()
    return Received(mails, texts, {uid: n for uid, n in rows})


def _new(before: Received, after: Received) -> tuple[set[str], set[str], set[int]]:
    return (
        {k for k, n in after.mails.items() if n > before.mails.get(k, 0)},
        {k for k, n in after.texts.items() if n > before.texts.get(k, 0)},
        {k for k, n in after.notices.items() if n > before.notices.get(k, 0)},
    )


def _expected(route: events.Route, everything_off: bool) -> frozenset[str]:
    if route.topic is None:
        return route.channels
    if everything_off:
        return frozenset()
    return route.channels & preferences.BY_KEY[route.topic].defaults


def _walk(app, w: World, everything_off: bool = False) -> None:  # type: ignore[no-untyped-def]
    by_event: dict[str, list[events.Route]] = {}
    for route in events.TABLE:
        by_event.setdefault(route.event, []).append(route)
    addresses = {w.customer.id: (CUSTOMER_MAIL, CUSTOMER_MOBILE)}
    addresses[w.seller.user.id] = (SELLER_MAIL, SELLER_MOBILE)
    addresses[w.officer.id] = (OFFICER_MAIL, OFFICER_MOBILE)
    for event, routes in by_event.items():
        before = _received(app)
        _fire(event, w)
        mails, texts, notices = _new(before, _received(app))
        want_mails: set[str] = set()
        want_texts: set[str] = set()
        want_notices: set[int] = set()
        for route in routes:
            user = w.user_of(route.audience) if route.audience != events.OWNER else None
            users = [user] if user else [w.customer, w.seller.user]
            for u in users:
                channels = _expected(route, everything_off)
                mail_to, mobile = addresses[u.id]
                if preferences.EMAIL in channels:
                    want_mails.add(mail_to)
                if preferences.SMS in channels:
                    want_texts.add(mobile)
                if preferences.SITE in channels:
                    want_notices.add(u.id)
        assert (mails, texts, notices) == (want_mails, want_texts, want_notices), event


def test_every_event_reaches_its_parties_by_the_default_channels(app, world):
    _walk(app, world)
    # Each notice is in its recipient's language and opens a page of this site.
    titles = db.session.scalars(sa.select(Notice).where(Notice.user_id == world.customer.id))
    for notice in titles:
        assert notice.link.startswith("/") and not notice.link.startswith("//")
        assert notice.title.strip()


def test_with_every_choice_off_only_the_accounts_safety_notices_come(app, world):
    for user in (world.customer, world.seller.user, world.officer):
        preferences.save(user, set())
    _walk(app, world, everything_off=True)


def test_an_account_without_an_e_mail_address_gets_texts_instead(app, world):
    db.session.execute(sa.update(User).where(User.id == world.customer.id).values(email=None))
    db.session.commit()
    before = written_sms(app.config["SMS_DIR"])
    send_new_message(world.customer.id, 1, events.CUSTOMER)  # e-mail and site by default
    send_account_notice("password_changed", world.customer.id)  # e-mail and site, always
    new = [t for t in written_sms(app.config["SMS_DIR"]) if t not in before]
    assert sorted(t.to for t in new) == [CUSTOMER_MOBILE, CUSTOMER_MOBILE]
    assert not [m for m in sent_mail(app.config["MAIL_DIR"]) if m.to in (None, "", "None")]


def test_the_table_names_known_topics_and_channels_once_per_event_and_audience():
    seen: set[tuple[str, str]] = set()
    for route in events.TABLE:
        assert (route.event, route.audience) not in seen
        seen.add((route.event, route.audience))
        assert route.topic is None or route.topic in preferences.BY_KEY
        assert route.channels <= set(preferences.CHANNELS)
