"""Which event goes to whom by which channels: the one table (:data:`TABLE`), and the batch the
subject modules fill with each recipient's messages.

A row names an event (``<subject>.<kind>``, e.g. ``order.shipped``), who hears of it (the
``customer`` or the ``seller`` of an order, a shop's owner, an account's owner), the topic under
which the recipient chooses its channels (:mod:`app.notifications.preferences`; None: a notice
about the account's safety, which nobody may switch off) and the channels it can go by. What a
recipient gets is the row's channels that their choices (or the topic's defaults) leave on; an
account without an e-mail address gets what would have been e-mailed by SMS instead. ``tests/test_notification_table.py`` fires every row's event and checks the table holds.

A subject module writes one event's messages inside :func:`dispatch`: for each recipient it
calls :meth:`Batch.add` with a builder per channel (each called only when that channel is on,
inside the caller's reading transaction); :func:`dispatch` then sends the e-mails, the texts and
stores the in-site notices after the transaction ended. One recipient's failure is logged and is
not another's; nothing here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from app.accounts.models import User
from app.core import metrics
from app.core.db import write_intent
from app.notifications import mail, preferences, site, sms
from app.notifications.preferences import EMAIL, SITE, SMS

log = logging.getLogger(__name__)

CUSTOMER = "customer"  # the customer of an order, a conversation, a reported problem
SELLER = "seller"  # the shop's owner: of an order, a listing, a payout, an application
OWNER = "owner"  # the account's owner
STAFF = "staff"  # a programme staff member (a county officer: their county's digest)

ALL = frozenset({EMAIL, SMS, SITE})


@dataclass(frozen=True)
class Route:
    event: str
    audience: str
    topic: str | None
    channels: frozenset[str]


def _routes(
    subject: str,
    kinds: tuple[str, ...],
    audience: str,
    topic: str | None,
    channels: frozenset[str] | set[str] = ALL,
) -> tuple[Route, ...]:
    return tuple(Route(f"{subject}.{kind}", audience, topic, frozenset(channels)) for kind in kinds)


TABLE: tuple[Route, ...] = (
    # Orders: every step to the customer; to the seller those they did not take themselves
    # (and delivery and completion, from which the order counts as a sale).
    *_routes(
        "order",
        (
            "placed",
            "paid",
            "confirmed",
            "shipped",
            "delivered",
            "completed",
            "cancelled",
            "refunded",
            "expired",
            "late_payment_refunded",
        ),
        CUSTOMER,
        "order_updates",
    ),
    *_routes(
        "order",
        (
            "placed",
            "paid",
            "delivered",
            "completed",
            "cancelled",
            "refunded",
            "late_payment_refunded",
        ),
        SELLER,
        "shop_orders",
    ),
    # Reported problems on orders.
    *_routes("problem", ("reported", "escalated", "decided"), SELLER, "problems"),
    *_routes("problem", ("answered", "escalated", "decided"), CUSTOMER, "problems"),
    # A shop's standing: the application, staff's decisions on it and on its listings.
    *_routes(
        "seller", ("applied", "approved", "rejected", "suspended", "reinstated"), SELLER, "shop"
    ),
    *_routes("listing", ("hidden", "released_published", "released_draft"), SELLER, "shop"),
    *_routes("payout", ("made",), SELLER, "payouts"),
    # Reviews: the seller of a new review, the customer of the answer and of staff hiding it.
    *_routes("review", ("new",), SELLER, "reviews"),
    *_routes("review", ("answered", "hidden"), CUSTOMER, "reviews"),
    # Alerts the customer asked for: a sold-out product is back (once per alert).
    *_routes("product", ("back_in_stock",), CUSTOMER, "alerts"),
    # Conversations: the other party of a new message.
    *_routes("message", ("new",), CUSTOMER, "messages"),
    *_routes("message", ("new",), SELLER, "messages"),
    # The programme: each county officer's weekly early-warning digest.
    *_routes("warning", ("digest",), STAFF, "programme", {EMAIL, SITE}),
    # The account's safety: always told, by e-mail (by SMS without an address) and in the list.
    *_routes(
        "account",
        (
            "login_locked",
            "password_changed",
            "email_changed",
            "seller_profile_changed",
        ),
        OWNER,
        None,
        {EMAIL, SITE},
    ),
    # A changed mobile number: the former number is texted too.
    *_routes("account", ("mobile_changed",), OWNER, None),
    # Links that prove an address or reset a password go to that address only.
    *_routes("account", ("password_reset", "email_confirm"), OWNER, None, {EMAIL}),
)
ROUTES: dict[tuple[str, str], Route] = {(r.event, r.audience): r for r in TABLE}


def route(event: str, audience: str) -> Route | None:
    return ROUTES.get((event, audience))


def channels_of(event: str, audience: str, recipient: User, address: str | None = None) -> set[str]:
    """The channels ``recipient`` gets ``event`` by, as ``audience``: the row's channels that
    their choices leave on, the e-mail turned into SMS when they have no address (and the
    e-mail is not for another ``address``)."""
    found = route(event, audience)
    if found is None:
        log.warning("no route for %s to the %s", event, audience)
        return set()
    if found.topic is None:
        chosen = set(found.channels)
    else:
        chosen = set(found.channels & preferences.channels(recipient.id, found.topic))
    if EMAIL in chosen and not (address or recipient.email):
        chosen.discard(EMAIL)
        chosen.add(SMS)
    return chosen


Notice = Callable[[], tuple[str, str]]  # -> (title, path on the site)
Mail = Callable[[], mail.Outgoing]
Text = Callable[[str], sms.Outgoing]  # (number) -> the text


@dataclass
class Batch:
    """The messages of one event, by channel, written while the caller reads."""

    mails: list[mail.Outgoing] = field(default_factory=list)
    texts: list[sms.Outgoing] = field(default_factory=list)
    notices: list[site.Outgoing] = field(default_factory=list)

    def add(
        self,
        event: str,
        audience: str,
        recipient: User,
        *,
        notice: Notice | None = None,
        email: Mail | None = None,
        text: Text | None = None,
        number: str | None = None,
        address: str | None = None,
    ) -> set[str]:
        """Write ``recipient``'s messages of ``event`` by the channels they get it by: a
        text goes to ``number`` (else their verified mobile; none: no text), an e-mail to
        ``address`` when the builder writes to another address than theirs. Returns the
        channels written."""
        written: set[str] = set()
        for channel in sorted(channels_of(event, audience, recipient, address)):
            try:
                if channel == EMAIL and email is not None:
                    self.mails.append(email())
                elif channel == SMS and text is not None and (number or recipient.mobile):
                    self.texts.append(text(number or recipient.mobile or ""))
                elif channel == SITE and notice is not None:
                    title, link = notice()
                    self.notices.append((recipient.id, event, title, link))
                else:
                    continue
            except Exception:
                log.exception("could not write the %s %s to user %s", event, channel, recipient.id)
                continue
            written.add(channel)
        return written


def dispatch(kind: str, write: Callable[[Batch], None], what: str) -> None:
    """Write the messages of one event into a batch (reading only), then send the e-mails and
    texts and keep the notices. Never raises: a failure to read is logged as ``could not
    <what>`` and nothing is sent (a recipient's message that cannot be written is logged by
    :meth:`Batch.add` and the others go)."""
    batch = Batch()
    try:
        with write_intent(False):
            write(batch)
    except Exception:
        log.exception("could not %s", what)
        metrics.EMAILS_FAILED.inc()
        mail.end_failed_read()
        return
    mail.send(batch.mails, kind)
    sms.send(batch.texts, kind)
    site.store(batch.notices, kind)
