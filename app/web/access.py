"""Access rules as one-line, deny-by-default checks for views.

Every view in the seller and staff areas is protected by the blueprint itself (``before_request``),
so a new route is closed until someone opens it on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g, request
from flask_login import current_user

from app.accounts.models import Role
from app.catalog import scope as scopes
from app.core.extensions import db, login_manager

F = TypeVar("F", bound=Callable[..., Any])


def require_login() -> None:

    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def require_staff() -> None:
    """401/redirect for visitors, 403 for anyone who is not staff."""
    require_login()
    if current_user.role != Role.STAFF:
        abort(403)


def staff_scope() -> scopes.Scope:
    """What the staff member of this request may see (read once per request)."""
    if "staff_scope" not in g:
        g.staff_scope = scopes.of(current_user._get_current_object())
    return g.staff_scope


def require_scoped_staff(open_to_scoped: frozenset[str]) -> None:
    """Staff only; staff with a scope (a county officer, a support organisation) only on the
    endpoints of ``open_to_scoped`` (403 elsewhere: the province's own pages)."""
    require_staff()
    if not staff_scope().is_province and request.endpoint not in open_to_scoped:
        abort(403)


def require_seller() -> None:
    """Only users with a seller account (any status) pass."""
    require_login()
    if current_user.role != Role.SELLER:
        abort(403)


def staff_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        require_staff()
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def owned_or_404(model: Any, object_id: int, *, seller_id: int, options: tuple = ()) -> Any:
    """The row ``object_id`` of ``model`` if it belongs to ``seller_id``, else 404.

    The one lookup the seller area uses for anything a seller owns: another seller's row is
    indistinguishable from a missing one.
    """

    owner_column = model.seller_id
    row = db.session.scalar(
        sa.select(model).where(model.id == object_id, owner_column == seller_id).options(*options)
    )
    if row is None:
        abort(404)
    return row
