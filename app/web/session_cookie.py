"""Flask's signed-cookie sessions, with the signing serializer made once per key.

Flask builds a new serializer (with its signer settings) for every request that opens or saves
a session; it depends only on the secret key and its fallbacks, so it is made again only when
they change.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    """Flask's ``SecureCookieSessionInterface``; its serializer kept while the keys stay."""

    def __init__(self) -> None:
        self._made: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made = self._made
        if made is None or made[0] != keys:
            made = self._made = (keys, super().get_signing_serializer(app))
        return made[1]
