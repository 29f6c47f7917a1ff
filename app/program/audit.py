"""The audit log: one row per staff (or system) action, written in the action's transaction."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.program.models import AuditEvent


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
