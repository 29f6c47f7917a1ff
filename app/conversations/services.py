"""Conversations: start one (about a product, or an order), write in it, read it, report it; staff
hide abusive messages.

Who may do what: the customer and the shop's owner write in their own conversations (a seller
never writes to themselves, staff never write); staff read reported conversations and hide a
message with a reason (audited). One conversation per customer and product (or order): asking
again continues it. A message is up to :data:`MAX_LENGTH` characters and up to
:data:`MAX_PHOTOS` photos (JPEG, PNG or WebP, the limits of every uploaded picture), at least one
of the two. A person writes at most :data:`MAX_PER_HOUR` messages an hour, each photo counting as
one more, counted in the database (every worker shares it). Photos are decoded and stored
(:func:`app.catalog.photos.store_pictures`, the pipeline of problem reports) before any
transaction begins; a message that is then refused removes the files it added. A hidden message
hides its photos from both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import Role, User
from app.audit import log as audit
from app.catalog import photos as photo_files
from app.catalog.models import Product, Seller
from app.conversations.models import Conversation, ConversationMessage, MessagePhoto
from app.core.db import transaction
from app.core.errors import NotAllowed, ValidationFailed
from app.core.extensions import db
from app.core.pagination import Page, paginate
from app.core.timeutil import utcnow
from app.orders.models import Order

MAX_LENGTH = 2000
MAX_PER_HOUR = 30
MAX_PHOTOS = 3
PHOTO_WIDTHS = (320, 1280)  # the thumbnail in the conversation, the photo opened full size
CUSTOMER = "customer"
SELLER = "seller"


@dataclass(frozen=True)
class Posted:
    """A message written: the conversation, who should hear of it (their user id), and their
    side (``customer`` or ``seller``)."""

    conversation_id: int
    recipient_id: int
    recipient_side: str


def side_of(conversation: Conversation, user: User) -> str | None:
    """``customer`` or ``seller`` for a party to the conversation, else None."""
    if conversation.customer_id == user.id:
        return CUSTOMER
    if conversation.seller.user_id == user.id:
        return SELLER
    return None


def _clean(body: str, photos: int) -> str:
    """The message's text (empty only with photos)."""
    text = "\n".join(line.rstrip() for line in (body or "").strip().splitlines()).strip()
    if not text and not photos:
        raise ValidationFailed({"body": ["required"]})
    if len(text) > MAX_LENGTH:
        raise ValidationFailed({"body": ["message_too_long"]})
    if photos > MAX_PHOTOS:
        raise ValidationFailed({"photos": ["too_many_message_photos"]})
    return text


def _check_rate(user: User, photos: int) -> None:
    """Refuse a message of ``photos`` photos that would take the writer past
    :data:`MAX_PER_HOUR` in the last hour (a message counts one, each photo one more)."""
    since = utcnow() - timedelta(hours=1)
    recent = sa.and_(
        ConversationMessage.sender_id == user.id, ConversationMessage.created_at >= since
    )
    messages = db.session.scalar(sa.select(sa.func.count(ConversationMessage.id)).where(recent))
    pictures = db.session.scalar(
        sa.select(sa.func.count(MessagePhoto.id))
        .join(ConversationMessage, ConversationMessage.id == MessagePhoto.message_id)
        .where(recent)
    )
    if (messages or 0) + (pictures or 0) + 1 + photos > MAX_PER_HOUR:
        raise ValidationFailed({"body": ["messages_too_many"]})


def _may_ask(user: User, seller: Seller) -> None:
    if user.role == Role.STAFF:
        raise NotAllowed("staff do not write to sellers")
    if seller.user_id == user.id:
        raise NotAllowed("a seller does not write to their own shop")


def about_product(user: User, product: Product) -> Conversation:
    """The customer's conversation with the product's shop about it (started when new)."""
    _may_ask(user, product.seller)
    with transaction():
        found = db.session.scalar(
            sa.select(Conversation).where(
                Conversation.customer_id == user.id,
                Conversation.product_id == product.id,
                Conversation.order_id.is_(None),
            )
        )
        if found is None:
            found = Conversation(
                customer_id=user.id,
                seller_id=product.seller_id,
                product_id=product.id,
                subject=product.title[:200],
            )
            db.session.add(found)
    return found


def about_order(user: User, order: Order) -> Conversation:
    """The customer's conversation with the order's shop about it (started when new)."""
    if order.customer_id != user.id:
        raise NotAllowed("not the customer's order")
    with transaction():
        found = db.session.scalar(
            sa.select(Conversation).where(
                Conversation.customer_id == user.id, Conversation.order_id == order.id
            )
        )
        if found is None:
            found = Conversation(
                customer_id=user.id, seller_id=order.seller_id, order_id=order.id, subject=""
            )
            db.session.add(found)
    return found


def post(
    conversation: Conversation,
    user: User,
    body: str,
    uploads: Sequence[photo_files.Upload] = (),
) -> Posted:
    """Write ``body`` with the photos ``uploads`` in the conversation as ``user`` (a party to
    it). Raises NotAllowed for anyone else, ValidationFailed for a message without text or
    photo, a too long text, too many photos, a picture that is refused, or too many messages;
    then nothing is stored, files included."""
    side = side_of(conversation, user)
    if side is None or user.role == Role.STAFF:
        raise NotAllowed("not a party to the conversation")
    text = _clean(body, len(uploads))
    _check_rate(user, len(uploads))  # before decoding anything (checked again when writing)
    stored, written = photo_files.store_pictures(uploads, widths=PHOTO_WIDTHS)
    try:
        with transaction():
            _check_rate(user, len(uploads))
            now = utcnow()
            db.session.add(
                ConversationMessage(
                    conversation_id=conversation.id,
                    sender_id=user.id,
                    body=text,
                    photos=[
                        MessagePhoto(position=i, small_key=p.smallest.key, large_key=p.largest.key)
                        for i, p in enumerate(stored)
                    ],
                )
            )
            conversation.updated_at = now
            if side == CUSTOMER:
                conversation.customer_read_at = now
            else:
                conversation.seller_read_at = now
    except BaseException:
        photo_files.discard_written(written)
        raise
    other = conversation.seller.user_id if side == CUSTOMER else conversation.customer_id
    return Posted(conversation.id, other, SELLER if side == CUSTOMER else CUSTOMER)


def mark_read(conversation: Conversation, user: User) -> None:
    side = side_of(conversation, user)
    if side is None:
        return
    with transaction():
        if side == CUSTOMER:
            conversation.customer_read_at = utcnow()
        else:
            conversation.seller_read_at = utcnow()


def report(conversation: Conversation, user: User, reason: str) -> None:
    """A party asks staff to read the conversation (once; later reports keep the first)."""
    if side_of(conversation, user) is None:
        raise NotAllowed("not a party to the conversation")
    text = (reason or "").strip()[:1000]
    if not text:
        raise ValidationFailed({"reason": ["reason_required"]})
    with transaction():
        if conversation.reported_at is None:
            conversation.reported_at = utcnow()
            conversation.reported_by = user.id
            conversation.report_reason = text


def hide_message(staff: User, message: ConversationMessage, reason: str) -> None:
    """Staff hide an abusive message of a reported conversation (audited)."""
    if staff.role != Role.STAFF:
        raise NotAllowed("only staff hide messages")
    text = (reason or "").strip()[:1000]
    if not text:
        raise ValidationFailed({"reason": ["reason_required"]})
    message_id = message.id
    with transaction():
        message.hidden_at = utcnow()
        message.hidden_by = staff.id
        message.hidden_reason = text
        audit.record(
            staff.id, "conversation.message_hidden", "conversation_message", message_id, reason=text
        )


def get(conversation_id: int) -> Conversation | None:
    return db.session.scalar(
        sa.select(Conversation)
        .where(Conversation.id == conversation_id)
        .options(
            joinedload(Conversation.seller),
            joinedload(Conversation.customer),
            selectinload(Conversation.messages).selectinload(ConversationMessage.photos),
        )
    )


def _newest_first(stmt: sa.Select, order: Any, page: int, per_page: int) -> Page:
    return paginate(stmt, Conversation.id, (order.desc(), Conversation.id.desc()), page, per_page)


def of_customer(user: User, page: int, per_page: int) -> Page:
    stmt = (
        sa.select(Conversation)
        .where(Conversation.customer_id == user.id)
        .options(joinedload(Conversation.seller))
    )
    return _newest_first(stmt, Conversation.updated_at, page, per_page)


def of_seller(seller: Seller, page: int, per_page: int) -> Page:
    stmt = (
        sa.select(Conversation)
        .where(Conversation.seller_id == seller.id)
        .options(joinedload(Conversation.customer))
    )
    return _newest_first(stmt, Conversation.updated_at, page, per_page)


def reported(page: int, per_page: int) -> Page:
    stmt = (
        sa.select(Conversation)
        .where(Conversation.reported_at.is_not(None))
        .options(joinedload(Conversation.seller), joinedload(Conversation.customer))
    )
    return _newest_first(stmt, Conversation.reported_at, page, per_page)


def is_unread(conversation: Conversation, side: str) -> bool:
    """Has the other side written since ``side`` last read? (A message moves ``updated_at``;
    writing one also marks the writer's side read at that same moment.)"""
    read_at = conversation.customer_read_at if side == CUSTOMER else conversation.seller_read_at
    written = conversation.updated_at > conversation.created_at
    return written and (read_at is None or conversation.updated_at > read_at)
