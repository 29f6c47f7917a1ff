"""(being written)"""

from app.shop import bp  # noqa: F401
