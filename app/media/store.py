"""The media storage the app writes to and serves from (configured by MEDIA_DIR)."""

from __future__ import annotations

from flask import current_app

from app.media.storage import LocalStorage


def storage() -> LocalStorage:
    store = current_app.extensions.get("bazarche_media")
    if store is None:
        store = LocalStorage(current_app.config["MEDIA_DIR"])
        current_app.extensions["bazarche_media"] = store
    return store
