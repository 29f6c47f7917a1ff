"""``flask orders …`` and ``flask payments …`` commands (being written)."""

from flask import Flask


def register(app: Flask) -> None:
    pass
