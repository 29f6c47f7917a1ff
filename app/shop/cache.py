"""A cache of the pages anonymous visitors see, made stale by any catalogue change.

Entries are keyed by the catalogue version (one primary-key read per request), the locale and the
full path, so a change in price, stock or status is never shown stale: the transaction that made
it also bumped the version. Each worker keeps its own bounded LRU in memory. Pages carry per-visitor
pieces as markers that are filled in when served (the CSRF token of the add-to-cart form).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.catalog.changes import current_version
from app.extensions import db

CSRF_MARKER = "__bazarche_csrf_token__"
MAX_ENTRIES = 2000


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[tuple, tuple[bytes, int, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, int, str] | None:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: tuple, value: tuple[bytes, int, str]) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_pages = _LRU(MAX_ENTRIES)


def clear() -> None:
    _pages.clear()


def csrf_field() -> str:
    """The CSRF token to put in a form of a cacheable page (a marker while caching)."""
    if g.get("page_cache_rendering"):
        return CSRF_MARKER
    return generate_csrf()


def _cacheable() -> bool:
    return (
        current_app.config["PAGE_CACHE_ENABLED"]
        and request.method == "GET"
        and not current_user.is_authenticated
        and not session.get("_flashes")
        and not session.get("cart")
    )


def _fill(body: bytes) -> bytes:
    if CSRF_MARKER.encode() in body:
        body = body.replace(CSRF_MARKER.encode(), generate_csrf().encode())
    return body


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve ``view`` from the cache for anonymous visitors; render and store on a miss."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not _cacheable():
            return view(*args, **kwargs)
        from flask_babel import get_locale

        key = (current_version(db.session), str(get_locale()), request.full_path)
        hit = _pages.get(key)
        if hit is not None:
            body, status, mimetype = hit
            response = make_response(_fill(body), status)
            response.mimetype = mimetype
            response.headers["X-Page-Cache"] = "hit"
            return response
        g.page_cache_rendering = True
        try:
            response = current_app.make_response(view(*args, **kwargs))
        finally:
            g.page_cache_rendering = False
        if response.status_code in (200, 404) and not response.direct_passthrough:
            body = response.get_data()
            _pages.put(key, (body, response.status_code, response.mimetype))
            response = Response(_fill(body), response.status_code, mimetype=response.mimetype)
        response.headers["X-Page-Cache"] = "miss"
        return response

    return wrapped
