"""Which channels each kind of message goes by, for each user: the defaults, and the user's own
choices (:class:`~app.notifications.models.NotificationSetting`, a row only where they differ).

A topic groups the events a person thinks of as one kind of message (which events belong to
which topic is :data:`app.notifications.events.TABLE`). Account security notices (locked
logins, a changed password, e-mail or mobile number, a reset link) always go and are no topic
here: nobody may switch them off.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.accounts.models import Role, User
from app.core.db import transaction
from app.core.extensions import db
from app.notifications.models import NotificationSetting

EMAIL = "email"
SMS = "sms"
SITE = "site"  # the in-site list of notices (app.notifications.site)
CHANNELS = (EMAIL, SMS, SITE)
CHANNEL_LABELS = {EMAIL: _l("E-mail"), SMS: _l("SMS"), SITE: _l("On the site")}


@dataclass(frozen=True)
class Topic:
    key: str
    label: object  # a lazy translated string
    roles: tuple[Role, ...]  # who can receive it
    defaults: frozenset[str]  # channels on unless the user chose otherwise


TOPICS: tuple[Topic, ...] = (
    Topic(
        "order_updates",
        _l(
            "My orders: placed, paid, confirmed, on their way, delivered, completed, cancelled, "
            "refunded"
        ),
        (Role.CUSTOMER, Role.SELLER),
        frozenset({EMAIL, SMS, SITE}),
    ),
    Topic(
        "messages",
        _l("Messages from sellers and buyers"),
        (Role.CUSTOMER, Role.SELLER),
        frozenset({EMAIL, SITE}),
    ),
    Topic(
        "problems",
        _l("Problems reported on orders: reports, answers and the market's decisions"),
        (Role.CUSTOMER, Role.SELLER),
        frozenset({EMAIL, SITE}),
    ),
    Topic(
        "reviews",
        _l("Reviews: new reviews of my listings, answers to mine"),
        (Role.CUSTOMER, Role.SELLER),
        frozenset({EMAIL, SITE}),
    ),
    Topic(
        "alerts",
        _l("Alerts I asked for: back in stock"),
        (Role.CUSTOMER, Role.SELLER),
        frozenset({EMAIL, SMS, SITE}),
    ),
    Topic(
        "shop_orders",
        _l("My shop's orders: new, paid, delivered, completed, cancelled, refunded"),
        (Role.SELLER,),
        frozenset({EMAIL, SMS, SITE}),
    ),
    Topic(
        "shop",
        _l("My shop: the application, staff's decisions, listings hidden or released"),
        (Role.SELLER,),
        frozenset({EMAIL, SMS, SITE}),
    ),
    Topic(
        "payouts",
        _l("Payouts to my shop's bank account"),
        (Role.SELLER,),
        frozenset({EMAIL, SMS, SITE}),
    ),
    Topic(
        "programme",
        _l("The programme: the weekly early-warning digest of my county"),
        (Role.STAFF,),
        frozenset({EMAIL, SITE}),
    ),
)
BY_KEY = {topic.key: topic for topic in TOPICS}


def topics_for(user: User) -> list[Topic]:
    return [topic for topic in TOPICS if user.role in topic.roles]


def choices(user_id: int) -> dict[tuple[str, str], bool]:
    """The user's own choices: (topic, channel) -> on."""
    rows = db.session.execute(
        sa.select(
            NotificationSetting.topic, NotificationSetting.channel, NotificationSetting.enabled
        ).where(NotificationSetting.user_id == user_id)
    )
    return {(topic, channel): enabled for topic, channel, enabled in rows}


def channels(user_id: int, topic: str) -> set[str]:
    """The channels the user gets ``topic`` by (one read of their choices)."""
    chosen = choices(user_id)
    return {
        channel
        for channel in CHANNELS
        if chosen.get((topic, channel), channel in BY_KEY[topic].defaults)
    }


def wants(user_id: int, topic: str, channel: str) -> bool:
    """Does the user get ``topic`` by ``channel``?"""
    return channel in channels(user_id, topic)


def save(user: User, wanted: set[tuple[str, str]]) -> None:
    """Keep ``wanted`` (the (topic, channel) pairs switched on) as the user's choices for their
    topics; a pair that matches the default keeps no row."""
    with transaction():
        db.session.execute(
            sa.delete(NotificationSetting).where(NotificationSetting.user_id == user.id)
        )
        for topic in topics_for(user):
            for channel in CHANNELS:
                on = (topic.key, channel) in wanted
                if on != (channel in topic.defaults):
                    db.session.add(
                        NotificationSetting(
                            user_id=user.id, topic=topic.key, channel=channel, enabled=on
                        )
                    )
