"""The market's logs: one line per event, each naming the request it belongs to.

:func:`install` (called by ``create_app``) gives the root logger one handler of ours writing to
standard error: plain text in development (``time level logger [request id] message``), JSON
lines with ``LOG_FORMAT=json`` (``time`` in UTC ISO 8601, ``level``, ``logger``, ``message``,
``request_id`` and ``exception`` when there is one). ``LOG_LEVEL`` sets the level (``INFO`` by
default). Installing again (several apps in one process) replaces our handler, never stacks a
second one; handlers of others (gunicorn's own loggers, pytest's capture) are left alone, and
under tests (``app.testing``) the root logger's handlers and level are not touched at all.

Every request gets an id, kept in ``flask.g.request_id`` and sent back in the ``X-Request-ID``
response header (cache hits included): a well-formed incoming ``X-Request-ID`` (at most 64 of
``A-Z a-z 0-9 . _ -``) is kept only behind a trusted proxy (``PROXY_FIX``), otherwise a new one is
made (16 hex digits). :class:`RequestIdFilter` puts it on every record (empty outside requests).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_app_context, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_OURS = "_bazarche_handler"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def current_request_id() -> str:
    """The id of the request being served ('' outside a request); made on first use."""
    if not has_request_context():
        return ""
    request_id = g.get("request_id")
    if request_id is None:
        request_id = g.request_id = _incoming_or_new()
    return request_id


def _incoming_or_new() -> str:
    from flask import current_app

    return request_id_for(
        request.headers.get(REQUEST_ID_HEADER), trusted=bool(current_app.config.get("PROXY_FIX"))
    )


def request_id_for(incoming: str | None, *, trusted: bool) -> str:
    """The id of a request that came with ``incoming`` in its ``X-Request-ID`` header: that one
    when the proxy in front is trusted (``PROXY_FIX``) and it is well formed, else a new one."""
    if trusted and incoming and _WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record it sees (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() if has_app_context() else ""
        return True


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message``; records without an id show ``[]``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO 8601), level, logger, message, request_id and
    exception (the traceback text, only when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


_filter = RequestIdFilter()


def make_handler(stream: Any = None, log_format: str = "text") -> logging.Handler:
    """A stream handler (standard error by default) with our formatter and request-id filter."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_filter)
    return handler


def install(app: Flask) -> None:
    """Configure logging for ``app`` (idempotent) and give its requests an id and the
    ``X-Request-ID`` header."""
    root = logging.getLogger()
    if app.testing:
        # pytest owns the root handlers (caplog); only add the id where a handler exists.
        for handler in root.handlers:
            if _filter not in handler.filters:
                handler.addFilter(_filter)
    else:
        log_format = str(app.config.get("LOG_FORMAT") or "text").lower()
        for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
            root.removeHandler(handler)
        handler = make_handler(log_format=log_format)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
        root.setLevel(str(app.config.get("LOG_LEVEL") or "INFO").upper())
        # Flask gives its logger a handler of its own when the root had none yet: one line each.
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)

    hooks = app.before_request_funcs.setdefault(None, [])
    if _start_request not in hooks:
        # First of all (before the page cache answers), so every line of the request has it.
        hooks.insert(0, _start_request)
    if _send_request_id not in app.after_request_funcs.setdefault(None, []):
        app.after_request(_send_request_id)


def _start_request() -> None:
    current_request_id()


def _send_request_id(response: Any) -> Any:
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    return response
