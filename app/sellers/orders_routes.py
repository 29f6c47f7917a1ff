"""(being written)"""

from app.sellers import bp  # noqa: F401
