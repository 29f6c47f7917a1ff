"""The anonymous lane: cached pages for visitors without any cookie, answered before Flask.

A visitor who sends no cookie cannot be logged in, have a cart, flashed messages or a form
token, so every such visitor of a cached page gets the same bytes. This WSGI middleware answers
them without building Flask's request, running its hooks or rendering anything: one read of the
catalogue and page versions (on the page cache's autocommit connection) and a dictionary lookup.

Only answers the app itself gave go in. A request first passes through Flask (every check runs:
the trusted host, the input guard, the locale, the security headers); when Flask served it as an
anonymous cached page of a view that allows the lane (:func:`app.shop.cache.cached_page`), with
status 200, no cookie set and no form token in it, its status, headers and body are kept under
everything the request could vary them by: the catalogue version and the version of the page's
scope (which the lane learns from Flask's answer for that path), the market's date, the host and
scheme (as the proxy in front reported them), ``Accept-Language``, the path and the query. A
request that differs in any of these goes through Flask again, so a foreign host or a malformed
path never finds a kept answer. Each answer gets its own request id; the latency histogram and
the hit counter count it as Flask's hits are counted.

PostgreSQL only: on SQLite (no autocommit connection to read the version on) every request
passes through. Views with after-request work per visit (the product page counts its views)
stay on the Flask path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from flask import Flask

from app.core import metrics
from app.core.logs import REQUEST_ID_HEADER, request_id_for
from app.core.timeutil import timezone_of, utcnow
from app.shop.cache import (
    LANE_ENDPOINT,
    LRU,
    MAX_ENTRIES,
    SCOPE_KEY,
    VERSION_KEY,
    committed_version,
    version_engine,
)

# What a kept answer may vary by, besides the catalogue version and the date.
_VARIES_BY = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_ACCEPT_LANGUAGE",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
)
_PER_ANSWER = {REQUEST_ID_HEADER.lower(), "x-page-cache"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _Kept(NamedTuple):
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    endpoint: str


class AnonymousLane:
    """Wraps ``app``'s WSGI callable ``inner`` (inside any proxy fix, so the host it keys by
    is the one the proxy reported)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.app = app
        self.inner = inner
        self.kept: LRU[_Kept] = LRU(MAX_ENTRIES)
        # The page scope of each path whose answer was kept (the same path always names the
        # same scope); a path not in here goes through Flask, which names it.
        self.scopes: dict[tuple[str, str], str] = {}

    def clear(self) -> None:
        self.kept.clear()
        self.scopes.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        config = self.app.config
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("HTTP_COOKIE")
            or not config["PAGE_CACHE_ENABLED"]
        ):
            return self.inner(environ, start_response)
        engine = version_engine(self.app)
        if engine is None:
            return self.inner(environ, start_response)
        scope = self.scopes.get((environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")))
        if scope is None:
            return self._through(environ, start_response)
        started = time.perf_counter()
        try:
            version = committed_version(engine, scope)
        except Exception:  # the database is down: the app answers (503) and logs it
            return self.inner(environ, start_response)
        kept = self.kept.get(self._key(version, environ))
        if kept is not None:
            return self._serve(kept, environ, start_response, started)
        # the app's request reads the same versions
        environ[VERSION_KEY], environ[SCOPE_KEY] = version, scope
        return self._through(environ, start_response)

    def _key(self, version: tuple[int, int], environ: dict[str, Any]) -> tuple:
        today = utcnow().astimezone(timezone_of(self.app.config)).date()  # market_today()
        return (*version, today, *map(environ.get, _VARIES_BY))

    def _serve(
        self,
        kept: _Kept,
        environ: dict[str, Any],
        start_response: StartResponse,
        started: float,
    ) -> Iterable[bytes]:
        request_id = request_id_for(
            environ.get("HTTP_X_REQUEST_ID"), trusted=bool(self.app.config.get("PROXY_FIX"))
        )
        start_response(
            kept.status, [*kept.headers, ("X-Page-Cache", "hit"), (REQUEST_ID_HEADER, request_id)]
        )
        metrics.REQUEST_LATENCY.labels(kept.endpoint, "2xx").observe(time.perf_counter() - started)
        metrics.PAGE_CACHE.labels("hit").inc()
        return [kept.body]

    def _through(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answered: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            answered[:] = [status, headers]
            return start_response(status, headers, *exc_info)

        result = self.inner(environ, capture)
        endpoint = environ.get(LANE_ENDPOINT)
        if endpoint is None or not answered or not str(answered[0]).startswith("200 "):
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = answered
        version, scope = environ.get(VERSION_KEY), environ.get(SCOPE_KEY)
        if (
            version is not None
            and scope is not None
            and not any(name.lower() == "set-cookie" for name, _value in headers)
        ):
            kept = [(n, v) for n, v in headers if n.lower() not in _PER_ANSWER]
            self.kept.put(self._key(version, environ), _Kept(status, kept, body, str(endpoint)))
            path = (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""))
            if path not in self.scopes:
                if len(self.scopes) >= MAX_ENTRIES:
                    self.scopes.clear()
                self.scopes[path] = scope
        return [body]


def install(app: Flask) -> AnonymousLane:
    """Put the lane in front of ``app``'s own WSGI callable (call before any proxy fix wraps
    it); kept in ``app.extensions`` so tests can empty it."""
    lane = AnonymousLane(app, app.wsgi_app)
    app.wsgi_app = lane  # type: ignore[method-assign]
    app.extensions["bazarche_anonymous_lane"] = lane
    return lane
