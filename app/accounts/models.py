from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.core.dbtypes import UTCDateTime, enum_column
from app.core.extensions import Model
from app.core.timeutil import utcnow


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    SELLER = "seller"
    STAFF = "staff"


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an account made with a mobile number whose owner gave no address (yet): it gets
    # no e-mail. Unique: several NULLs are allowed.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    # When the owner last proved the address is theirs (a link sent to it was opened).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None for an account made with a mobile number that has not chosen a password: it logs in
    # with a code texted to its number, never with a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    # A mobile number (``09xxxxxxxxx``) the owner proved with a code sent to it: one account
    # per number; the account may then log in with a code sent by SMS.
    mobile: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    mobile_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locale: Mapped[str] = mapped_column(sa.String(5), default="fa")
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.CUSTOMER)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on each password change (and staff promotion): how many times the credentials were
    # replaced. Logins themselves end through their LoginSession rows.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.active

    # The login (LoginSession.id) this user object was loaded for or logged in with; not a
    # column. ``get_id`` puts it in the session and the remember cookie.
    login_id = None  # type: str | None

    def get_id(self) -> str:
        """``"<user id>:<login id>"``: what Flask-Login keeps in the session and the remember
        cookie. The loader accepts it only while that login row is open (logout, a password
        change elsewhere or its age end it)."""
        return f"{self.id}:{self.login_id or ''}"

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginSession(Model):
    """One login: made by a successful password check, named by a random id that the session and
    the remember cookie carry. Logging out (or a password change elsewhere) sets ``ended_at``;
    an ended or too old row logs nobody in, whatever cookie is replayed."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))


class LoginThrottle(Model):
    """Failed password attempts per account (the e-mail as typed, normalised), shared by every
    worker and machine through the database. Kept for unknown addresses too, so a lock says
    nothing about whether an account exists."""

    __tablename__ = "login_throttle"

    account: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)  # attempts counted in the current window
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locks: Mapped[int] = mapped_column(default=0)  # locks in a row: the next one lasts longer
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Indexed: rows of accounts nobody tried for a day are deleted (see throttle.prune).
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class OneTimeCode(Model):
    """The code last sent to a mobile number for one purpose (``login``, or ``verify:<user id>``
    for binding the number to that account): only its HMAC is kept, with when it expires, the
    wrong tries against it, when it was used, and how often a code was sent in the current hour
    (the wait before the next send grows with it)."""

    __tablename__ = "one_time_code"
    __table_args__ = (sa.UniqueConstraint("mobile", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(sa.String(11))
    purpose: Mapped[str] = mapped_column(sa.String(40))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sends: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_send_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
