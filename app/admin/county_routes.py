"""Staff pages: counties and the province, quotas."""

from __future__ import annotations

from app.admin import bp  # noqa: F401
