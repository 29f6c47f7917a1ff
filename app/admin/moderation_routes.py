"""Staff pages: the listing moderation queue and the audit log."""

from __future__ import annotations

from app.admin import bp  # noqa: F401
