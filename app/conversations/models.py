"""A conversation between one customer and one shop, about a product or an order, its messages
and their photos."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.catalog.models import Product, Seller
from app.catalog.photos import refers_to_files
from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow


class Conversation(Model):
    __tablename__ = "conversation"
    __table_args__ = (
        sa.Index("ix_conversation_customer_updated", "customer_id", "updated_at"),
        sa.Index("ix_conversation_seller_updated", "seller_id", "updated_at"),
        sa.Index("ix_conversation_reported", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    seller_id: Mapped[int] = mapped_column(sa.ForeignKey("seller.id"))
    # What it is about (either may be gone later: the conversation stays).
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shop_order.id"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Each side's last reading: messages after it are unread for that side.
    customer_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seller_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reported_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    report_reason: Mapped[str | None] = mapped_column(sa.Text)

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    seller: Mapped[Seller] = relationship()
    product: Mapped[Product | None] = relationship()
    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="conversation", order_by="ConversationMessage.id"
    )


class ConversationMessage(Model):
    __tablename__ = "conversation_message"
    __table_args__ = (
        sa.Index("ix_conversation_message_sender_created", "sender_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("conversation.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(sa.Text)  # empty for a message of photos only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Hidden by staff (abuse): the text is not shown to either side; kept for the record.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    # Hidden with the message (staff still see them).
    photos: Mapped[list[MessagePhoto]] = relationship(
        cascade="all, delete-orphan", order_by="MessagePhoto.position"
    )


class MessagePhoto(Model):
    """A photo of a message: the storage keys of its variants (content addressed, so possibly
    shared with another row: see :func:`app.catalog.photos.unused_keys`)."""

    __tablename__ = "message_photo"
    __table_args__ = (sa.UniqueConstraint("message_id", "position", name="message_photo_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("conversation_message.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    # Smallest first (the thumbnail); the largest opens on click.
    small_key: Mapped[str] = mapped_column(sa.String(255))
    large_key: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


refers_to_files(MessagePhoto.small_key, MessagePhoto.large_key)
