"""Links to the carriers' public tracking pages (setting ``TRACKING_URL_TEMPLATES``)."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from app.shipping.models import carrier_of


def tracking_url(carrier: str | None, code: str | None) -> str | None:
    """The carrier's tracking page for ``code``, or None when the carrier is not known, has no
    page set, or the set page is not an https address with a ``{code}`` place."""
    known = carrier_of(carrier)
    text = (code or "").strip()
    if known is None or not text:
        return None
    template = str(current_app.config.get("TRACKING_URL_TEMPLATES", {}).get(known.value) or "")
    if not template.startswith("https://") or "{code}" not in template:
        return None
    return template.replace("{code}", quote(text, safe=""))
