"""The market's own address: every absolute link it sends out, and the hosts it answers to.

A link in an e-mail or a return address handed to the payment provider must never come from the
request (its ``Host`` or ``X-Forwarded-Host`` header is the client's to choose), so they are built
from ``SITE_URL`` alone, inside a request or outside one (commands, jobs). ``MAIL_SITE_URL`` is the
setting's former name and is read when ``SITE_URL`` is empty.

Requests for any other host are refused with 400 (Flask's ``TRUSTED_HOSTS``, derived here from
the site address, the ``ALLOWED_HOSTS`` list and, when debugging or testing, the local names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import SecurityError

DEFAULT_SITE_URL = "http://127.0.0.1:5000"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def configured_site_url(config: Mapping[str, Any]) -> str:
    """``SITE_URL`` (else ``MAIL_SITE_URL``, else the development address), without a trailing
    slash."""
    url = str(config.get("SITE_URL") or config.get("MAIL_SITE_URL") or DEFAULT_SITE_URL).strip()
    return url.rstrip("/")


def site_url() -> str:
    """The current app's site address, e.g. ``https://bazarche.example`` (no trailing slash)."""
    return configured_site_url(current_app.config)


_BUILT_KEY = "bazarche_site_urls"
_MAX_BUILT = 4096


def site_url_for(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` on the site address, whatever host the current request
    (if any) was sent to. ``endpoint`` is a full name (``"shop.order_detail"``).

    An address is a function of the app's URL map (fixed once it is set up), the site address,
    the endpoint and its values: with no URL defaults registered and values that are plain
    strings and whole numbers (a page's canonical and language addresses, its breadcrumbs),
    each one is built once per app and remembered (a bounded table; values come from requests)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    site = site_url()
    if app.url_default_functions or any(type(v) not in (str, int) for v in values.values()):
        return _build_site_url(site, endpoint, values)
    built: dict[tuple[Any, ...], str] = app.extensions.setdefault(_BUILT_KEY, {})
    key = (site, endpoint, *values.items())
    url = built.get(key)
    if url is None:
        url = _build_site_url(site, endpoint, values)
        if len(built) >= _MAX_BUILT:
            built.clear()
        built[key] = url
    return url


def _build_site_url(site: str, endpoint: str, values: dict[str, Any]) -> str:
    parts = urlsplit(site)
    adapter = current_app.url_map.bind(
        parts.netloc,
        script_name=parts.path or "/",
        url_scheme=parts.scheme or "https",
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def _names(value: object) -> list[str]:
    if not value:
        return []
    items: Iterable[object] = value.split(",") if isinstance(value, str) else value  # type: ignore[assignment]
    return [str(item).strip().lower() for item in items if str(item).strip()]


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """The host names requests may be sent to: the site address's, then ``ALLOWED_HOSTS``
    (a list or a comma-separated string; a leading dot admits every subdomain), then, in debug
    or testing mode or while no site address is configured (the development default),
    ``localhost``, ``127.0.0.1`` and ``::1``. Ports are not compared."""
    hosts: list[str] = []
    site_host = urlsplit(configured_site_url(config)).hostname
    candidates = [site_host or "", *_names(config.get("ALLOWED_HOSTS"))]
    configured = config.get("SITE_URL") or config.get("MAIL_SITE_URL")
    if config.get("DEBUG") or config.get("TESTING") or not configured:
        candidates.extend(LOCAL_HOSTS)
    for name in candidates:
        if name and name not in hosts:
            hosts.append(name)
    return hosts


def install_trusted_hosts(app: Flask) -> None:
    """Refuse requests for foreign hosts, before any other ``before_request`` hook (the page
    cache's included) and without rendering a page that could build a link from the host.

    ``TRUSTED_HOSTS`` set explicitly is kept; otherwise it is derived by :func:`trusted_hosts`.
    Raises ValueError at start-up for a site address that is no http(s) URL with a host.
    Call after every blueprint is registered.
    """
    site = configured_site_url(app.config)
    parts = urlsplit(site)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"SITE_URL must look like https://bazarche.example, not {site!r}")
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    configured = app.config.get("SITE_URL") or app.config.get("MAIL_SITE_URL")
    if not (configured or app.debug or app.testing):
        app.logger.warning(
            "SITE_URL is not set: the market answers only to %s and its e-mails link to %s. "
            "Set SITE_URL to the address people use (and ALLOWED_HOSTS for other names).",
            ", ".join(app.config["TRUSTED_HOSTS"]),
            site,
        )
    hooks = app.before_request_funcs.setdefault(None, [])
    if refuse_foreign_host in hooks:
        hooks.remove(refuse_foreign_host)
    hooks.insert(0, refuse_foreign_host)


def refuse_foreign_host() -> Response | tuple[Any, int] | None:
    """``before_request``: 400 for a request whose host is not trusted (Flask found it out while
    routing and kept the error for later)."""
    if not isinstance(request.routing_exception, SecurityError):
        return None
    from flask_babel import gettext as _

    message = _("The request could not be understood.")
    if request.path.startswith("/api/"):
        return {"error": {"status": 400, "message": message}}, 400
    return Response(message, 400, mimetype="text/plain")
