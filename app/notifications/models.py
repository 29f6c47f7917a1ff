"""E-mails waiting for the job worker (when a queue runs the tasks): one row per message, kept
after it is sent, with its attempts and the last error."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.dbtypes import UTCDateTime
from app.core.extensions import Model
from app.core.timeutil import utcnow


class OutgoingMail(Model):
    __tablename__ = "outgoing_mail"
    __table_args__ = (sa.Index("ix_outgoing_mail_sent_created", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60))
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    to: Mapped[str] = mapped_column(sa.String(254))
    locale: Mapped[str] = mapped_column(sa.String(10))
    subject: Mapped[str] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutgoingSms(Model):
    """A text message waiting for the job worker (when a queue runs the tasks), kept after it
    is sent (with the provider's message id) or given up (``failed_at``: the provider refused
    it for good, e.g. a number it does not serve)."""

    __tablename__ = "outgoing_sms"
    __table_args__ = (sa.Index("ix_outgoing_sms_sent_created", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60))
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    to: Mapped[str] = mapped_column(sa.String(20))
    locale: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    provider_id: Mapped[str | None] = mapped_column(sa.String(100))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationSetting(Model):
    """A user's choice for one kind of message and one channel, where it differs from the
    default (:data:`app.notifications.preferences.TOPICS`): no row, the default holds."""

    __tablename__ = "notification_setting"
    __table_args__ = (sa.UniqueConstraint("user_id", "topic", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str] = mapped_column(sa.String(10))
    enabled: Mapped[bool]


class Notice(Model):
    """One line of a user's in-site list of what happened (an order moved, a message came, staff
    decided…): its title in the recipient's language when it was written, the page it opens
    (a path on this site) and when it was read (None: unread)."""

    __tablename__ = "notice"
    __table_args__ = (
        sa.Index("ix_notice_user_created", "user_id", "created_at"),
        sa.Index("ix_notice_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(60))
    title: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
