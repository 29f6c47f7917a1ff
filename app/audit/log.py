"""The audit log: one row per staff (or system) action, written in the action's transaction.

Actions are named ``<thing>.<verb>`` (``seller.approved``, ``listing.hide``,
``offline_sale.delete``…); the target is a (type, id) pair, so a row outlives the thing it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.audit.models import AuditEvent
from app.core.extensions import db
from app.core.pagination import Page, page_of

SYSTEM = "system"  # the actor filter's value for rows without a person (commands, jobs)


def record(
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | None,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit row to the current transaction (the caller commits)."""
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        data=data,
    )
    db.session.add(event)
    return event


# ---- reading ------------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """What the audit page and its CSV show. ``None`` means "any"."""

    actor_id: int | None = None
    system: bool = False  # only rows without an actor
    action: str | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None  # inclusive, aware UTC
    until: datetime | None = None  # exclusive, aware UTC


def _conditions(filters: AuditFilters) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if filters.system:
        out.append(AuditEvent.actor_id.is_(None))
    elif filters.actor_id is not None:
        out.append(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        out.append(AuditEvent.action == filters.action)
    if filters.target_type:
        out.append(AuditEvent.target_type == filters.target_type)
    if filters.target_id is not None:
        out.append(AuditEvent.target_id == filters.target_id)
    if filters.since is not None:
        out.append(AuditEvent.created_at >= filters.since)
    if filters.until is not None:
        out.append(AuditEvent.created_at < filters.until)
    return out


def events(filters: AuditFilters) -> sa.Select[tuple[AuditEvent]]:
    """Matching rows, newest first, with their actors loaded."""
    return (
        sa.select(AuditEvent)
        .where(*_conditions(filters))
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )


def count(filters: AuditFilters) -> int:
    return (
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(*_conditions(filters))) or 0
    )


def for_target(target_type: str, target_id: int) -> list[AuditEvent]:
    """The history of one thing, newest first."""
    return list(
        db.session.scalars(
            events(AuditFilters(target_type=target_type, target_id=target_id))
        ).unique()
    )


def latest_data(target_type: str, target_id: int, action: str) -> dict[str, Any] | None:
    """The ``data`` of the newest ``action`` row about a thing (None if there is none)."""
    return db.session.scalar(
        sa.select(AuditEvent.data)
        .where(
            AuditEvent.target_type == target_type,
            AuditEvent.target_id == target_id,
            AuditEvent.action == action,
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )


def choices() -> dict[str, list]:
    """The values the filters offer: who has acted, which actions and target types exist."""
    # The user model through the event's relationship: the audit trail sits below the accounts
    # package, which writes to it, so it never imports it.
    User = AuditEvent.actor.property.mapper.class_
    actors = db.session.execute(
        sa.select(User.id, User.name, User.email)
        .where(User.id.in_(sa.select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None))))
        .order_by(User.name, User.id)
    ).all()
    return {
        "actors": list(actors),
        "actions": list(
            db.session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
        ),
        "target_types": list(
            db.session.scalars(
                sa.select(AuditEvent.target_type).distinct().order_by(AuditEvent.target_type)
            )
        ),
    }


def page(filters: AuditFilters, number: int, per_page: int) -> Page:
    """Page ``number`` of the matching rows, newest first, with their actors loaded."""
    return page_of(events(filters), count(filters), number, per_page, unique=True)


def export(filters: AuditFilters, limit: int) -> list[AuditEvent]:
    """The newest ``limit`` matching rows, with their actors loaded, for a spreadsheet."""
    return list(db.session.scalars(events(filters).limit(limit)).unique())
