"""The demo's accounts: one shared password, and accounts found or created by e-mail."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.core.extensions import db
from app.core.timeutil import utcnow

DEMO_PASSWORD = "bazarche-demo-1234"  # noqa: S105  (demo accounts only; in the README)


def demo_user(email: str, name: str, role: Role, password_hash: str) -> User:
    """The account of ``email``, created (and flushed, not committed) when missing.

    Written directly, not through ``register_user``: that hashes each password anew (dozens of
    slow hashes) and opens a login session, where every demo account shares one hash and nobody
    is logged in yet.
    """
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        # The demo's addresses count as confirmed (as if each had opened its e-mailed link).
        user = User(
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            locale="fa",
            email_verified_at=utcnow(),
        )
        db.session.add(user)
        db.session.flush()
    return user
