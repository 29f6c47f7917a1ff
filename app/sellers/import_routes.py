"""CSV import of listings in the seller area (preview, then save all or nothing)."""

from app.sellers import bp  # noqa: F401
