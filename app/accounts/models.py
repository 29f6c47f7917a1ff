from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, enum_column
from app.extensions import db
from app.timeutil import utcnow


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    SELLER = "seller"
    STAFF = "staff"


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    locale: Mapped[str] = mapped_column(sa.String(5), default="fa")
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.CUSTOMER)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change: sessions made before it stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
